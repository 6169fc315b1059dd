"""`streamtop produce KEY`: add test sensor events (or given fields) to a stream from a script.

Pipelined through events.xadd_many (1000 XADDs per round trip); with --rate the same path is
paced: each tick sends the events that have fallen due since the last one. stdout carries only the
last ID added, so `id=$(streamtop produce k)` works; the progress bar appears on a terminal only.
Here `-n` is the count, as in redis-benchmark; the database is `--db` (or the URL).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
from collections.abc import Callable, Iterator

import redis

from streamtop import numbers as num
from streamtop.cliargs import UsageError, spec_from_args
from streamtop.commands.shared import connected
from streamtop.events import Fields, sensor_event, xadd_many
from streamtop.pipeline.collector import to_bytes
from streamtop.pipeline.connection import (
    CLUSTER_OUTAGES,
    REDIS_ERRORS,
    AsyncClient,
    ConnectError,
    ConnectionSpec,
    cluster_error_text,
    describe_error,
    reply_error_text,
)
from streamtop.pipeline.model import label

TICK = 0.1  # seconds between paced sends (fewer round trips than one per event at high rates)


# the server refused XADD (WRONGTYPE, OOM, CLUSTERDOWN...) or the cluster cannot route it now
REFUSALS: tuple[type[Exception], ...] = (redis.ResponseError, *CLUSTER_OUTAGES)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("stream_key", metavar="KEY", help="the stream (created by the first XADD)")
    p.add_argument(
        "-n",
        "--count",
        type=num.PRODUCE_COUNT.arg,
        default=1,
        metavar="N",
        help="how many entries to add (default 1)",
    )
    p.add_argument(
        "--rate",
        type=num.PRODUCE_RATE.arg,
        metavar="R",
        help="entries per second (default: as fast as the server takes them)",
    )
    p.add_argument(
        "--maxlen",
        type=num.PRODUCE_MAXLEN.arg,
        metavar="N",
        help="trim the stream to N entries with every XADD (exact unless --approx)",
    )
    p.add_argument(
        "--approx",
        action="store_true",
        help="trim with MAXLEN ~ N (cheaper; whole nodes only, so it may keep more)",
    )
    p.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="K=V",
        help="a field of every entry (repeatable); default: a random sensor event "
        '{"sensor_id", "temp", "humidity"}',
    )


def parse_fields(items: list[str]) -> dict[bytes, bytes]:
    """K=V pairs as the bytes typed (a value may contain '='; the first one splits)."""
    fields: dict[bytes, bytes] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--field {item!r} needs the form NAME=VALUE")
        if not name:
            raise UsageError(f"--field {item!r} has an empty name")
        key = os.fsencode(name)
        if key in fields:
            raise UsageError(f"--field {name!r} is given twice")
        fields[key] = os.fsencode(value)
    return fields


def _events(n: int, fields: dict[bytes, bytes], rng: random.Random) -> Iterator[Fields]:
    for _ in range(n):
        yield fields if fields else sensor_event(rng)


class _Counter:
    """How many entries are in, across paced calls, for the progress bar and error messages."""

    def __init__(self, on_change: Callable[[int], object] | None) -> None:
        self.done = 0
        self.on_change = on_change

    def at(self, base: int) -> Callable[[int], None]:
        def update(added: int) -> None:
            self.done = base + added
            if self.on_change is not None:
                self.on_change(self.done)

        return update


async def _paced(
    client: AsyncClient,
    key: bytes,
    events: Iterator[Fields],
    n: int,
    rate: float,
    counter: _Counter,
    *,
    maxlen: int | None,
    approx: bool,
) -> str | None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent, last_id = 0, None
    while sent < n:
        due = min(n, int(rate * (loop.time() - start)) + 1)  # the first entry goes at once
        if due > sent:
            batch = (next(events) for _ in range(due - sent))
            added, lid = await xadd_many(
                client, key, batch, maxlen=maxlen, approx=approx, progress=counter.at(sent)
            )
            sent += added
            last_id = lid or last_id
        if sent < n:
            next_due = start + sent / rate
            await asyncio.sleep(max(next_due - loop.time(), TICK))
    return last_id


async def produce(
    spec: ConnectionSpec,
    key: bytes,
    n: int,
    fields: dict[bytes, bytes],
    *,
    rate: float | None = None,
    maxlen: int | None = None,
    approx: bool = False,
    progress: Callable[[int], object] | None = None,
) -> str | None:
    """Add n entries; returns the last ID. Raises UsageError (wrong type, refused) or ConnectError."""
    counter = _Counter(progress)
    try:
        async with connected(spec) as conn:  # in a cluster, any node is the seed: the key is routed
            return await _produce(conn.keys, key, n, fields, rate, maxlen, approx, counter)
    except REFUSALS as exc:
        text = reply_error_text(exc)
        after = f" (after adding {counter.done})" if counter.done else ""
        if text.startswith("WRONGTYPE"):
            raise UsageError(f"key '{label(key)}' is not a stream{after}") from None
        if (said := cluster_error_text(exc)) is not None:  # the cluster client refused, not a server
            raise UsageError(f"cannot XADD to '{label(key)}': {said}{after}") from None
        raise UsageError(f"the server refused XADD to '{label(key)}': {text}{after}") from None
    except REDIS_ERRORS as exc:  # RedisClusterException is not a RedisError
        after = f" (after adding {counter.done})" if counter.done else ""
        raise ConnectError(describe_error(exc, spec) + after) from None


async def _produce(
    client: AsyncClient,
    key: bytes,
    n: int,
    fields: dict[bytes, bytes],
    rate: float | None,
    maxlen: int | None,
    approx: bool,
    counter: _Counter,
) -> str | None:
    kind = await client.type(key)
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    if kind not in ("none", "stream"):
        raise UsageError(f"key '{label(key)}' holds a {kind}, not a stream")
    events = _events(n, fields, random.Random())
    if rate is None:
        _added, last_id = await xadd_many(
            client, key, events, maxlen=maxlen, approx=approx, progress=counter.at(0)
        )
        return last_id
    return await _paced(client, key, events, n, rate, counter, maxlen=maxlen, approx=approx)


def run(args: argparse.Namespace) -> int:
    fields = parse_fields(args.field)
    if args.approx and args.maxlen is None:
        raise UsageError("--approx needs --maxlen N")
    spec = spec_from_args(args)
    key = to_bytes(args.stream_key)
    if not key:  # XADD "" would create a key with an empty name
        raise UsageError("KEY is empty: name the stream to add to")

    def add(progress: Callable[[int], object] | None = None) -> str | None:
        return asyncio.run(
            produce(
                spec,
                key,
                args.count,
                fields,
                rate=args.rate,
                maxlen=args.maxlen,
                approx=args.approx,
                progress=progress,
            )
        )

    if sys.stdout.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        # the key goes in as the description, so neither markup nor braces in it are interpreted
        with Progress(
            TextColumn("XADD {task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ) as bar:
            task = bar.add_task(label(key), total=args.count)
            last_id = add(lambda done: bar.update(task, completed=done))
    else:
        last_id = add()
    print(last_id)
    return 0
