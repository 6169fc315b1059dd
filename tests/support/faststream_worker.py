"""A FastStream worker as its own process (so a test can SIGKILL it like a crashed worker):
`python -m tests.support.faststream_worker URL CONSUMER hang|work [RECLAIM_MS]`. It reads stream
`orders` in group `billing` and prints `got <order_id>` for each message; FastStream acknowledges
after the handler returns, which `hang` never does. With RECLAIM_MS it also runs FastStream's own
recovery: a subscriber that XAUTOCLAIMs entries pending longer than that (StreamSub min_idle_time).
Its connections are named after its consumer (`client_name`), as docs/dashboard.md advises."""

from __future__ import annotations

import asyncio
import sys

from faststream.redis import RedisBroker, StreamSub


async def main(url: str, consumer: str, mode: str, reclaim_ms: int | None) -> None:
    broker = RedisBroker(url, client_name=consumer)  # CLIENT LIST then tells when it is gone

    async def handle(msg: dict) -> None:
        print("got", msg["order_id"], flush=True)
        if mode == "hang":
            await asyncio.sleep(3600)

    broker.subscriber(stream=StreamSub("orders", group="billing", consumer=consumer, polling_interval=100))(
        handle
    )
    if reclaim_ms is not None:

        async def reclaimed(msg: dict) -> None:
            await handle(msg)

        broker.subscriber(
            stream=StreamSub(
                "orders", group="billing", consumer=consumer, min_idle_time=reclaim_ms, polling_interval=100
            )
        )(reclaimed)
    async with broker:
        await broker.start()
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else None))
