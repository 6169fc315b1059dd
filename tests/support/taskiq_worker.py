"""A taskiq-redis stream worker as its own process (so a test can SIGKILL it like a crashed worker):
`python -m tests.support.taskiq_worker URL CONSUMER IDLE_TIMEOUT_MS hang|work`. It prints `got <id>`
for each task it receives and `acked <id>` after acknowledging; `hang` never acknowledges."""

from __future__ import annotations

import asyncio
import json
import sys

from taskiq_redis import RedisStreamBroker


async def main(url: str, consumer: str, idle_timeout: int, mode: str) -> None:
    broker = RedisStreamBroker(
        url,
        queue_name="tasks",
        consumer_name=consumer,
        xread_block=200,
        idle_timeout=idle_timeout,
        client_name=consumer,  # named after its consumer: CLIENT LIST then tells when it is gone
    )
    await broker.startup()
    async for message in broker.listen():
        task_id = json.loads(message.data)["task_id"]
        print("got", task_id, flush=True)
        if mode == "hang":
            await asyncio.sleep(3600)
        await message.ack()
        print("acked", task_id, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
