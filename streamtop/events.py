"""Test sensor events, as in the classic walrus tutorial, and the pipelined way to add many.

Shared by the `e`/`E` keys, `streamtop produce`, the demo workload and the benchmarks, so there is
one fast path for writing events.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping

from streamtop.pipeline.connection import Arg, AsyncClient, execute_raw

SENSORS = ("sensor1", "sensor2", "sensor3")
CHUNK = 1000  # XADDs per pipeline round trip


def sensor_event(rng: random.Random | None = None, sensor: str | None = None) -> dict[str, str]:
    """{"sensor_id", "temp", "humidity"}: temp and humidity uniform in [0, 1) (tutorial shape)."""
    choice, uniform = (rng.choice, rng.random) if rng else (random.choice, random.random)
    return {
        "sensor_id": sensor or choice(SENSORS),
        "temp": f"{uniform():.4f}",
        "humidity": f"{uniform():.4f}",
    }


# an entry's fields as given to XADD: names and values all str (sensor_event) or all bytes (--field)
Fields = Mapping[str, str] | Mapping[bytes, bytes]


def xadd_args(key: bytes | str, fields: Fields, maxlen: int | None = None, approx: bool = False) -> list[Arg]:
    """The XADD command as arguments: XADD key [MAXLEN [~|=] N] * f v ..."""
    args: list[Arg] = ["XADD", key]
    if maxlen is not None:
        args += ["MAXLEN", "~" if approx else "=", maxlen]
    args.append("*")
    for f, v in fields.items():
        args += [f, v]
    return args


async def xadd_many(
    client: AsyncClient,
    key: bytes | str,
    events: Iterable[Fields],
    *,
    maxlen: int | None = None,
    approx: bool = False,
    chunk: int = CHUNK,
    progress: Callable[[int], object] | None = None,
) -> tuple[int, str | None]:
    """Add events with pipelined XADDs, `chunk` per round trip (connection.execute_raw: packed
    by hiredis in one write). Returns (added, last ID).

    A server error (WRONGTYPE, NOPERM, OOM) is raised after the chunk it happened in; every entry
    the server did add (earlier chunks, and the replies of this chunk that were IDs) is in the
    stream, and `progress` has been told exactly how many.
    """
    added, last_id = 0, None
    batch: list[list[Arg]] = []

    async def flush() -> None:
        nonlocal added, last_id
        replies = await execute_raw(client, batch)
        batch.clear()
        error: Exception | None = None
        for reply in replies:
            if isinstance(reply, Exception):
                error = error or reply
                continue
            added += 1
            last_id = reply.decode() if isinstance(reply, bytes) else str(reply)
        if progress is not None:
            progress(added)
        if error is not None:
            raise error

    for fields in events:
        batch.append(xadd_args(key, fields, maxlen, approx))
        if len(batch) >= chunk:
            await flush()
    if batch:
        await flush()
    return added, last_id
