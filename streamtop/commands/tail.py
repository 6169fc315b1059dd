"""`streamtop tail KEY`: read a stream from the shell, decoded (kcat / kafka-console-consumer for
Redis Streams).

The last N entries (XREVRANGE, printed oldest first) or every entry from an ID (XRANGE, in pages);
`--follow` then waits for new ones with XREAD BLOCK on a connection whose socket timeout outlasts
the block (redis-py's default 5 s would fail a long block). Each entry is one line: its ID, the
decoder that read it and the telling fields first; `--json` prints one JSON object per line
(`id`, `fields` as [name, value] pairs in the entry's order, repeated names kept, and `format`,
`body`, `headers` where a decoder applied); `--raw` skips decoding. Every string from the server,
in the text and in the JSON (`body` and `headers` too), is in model.label's one escaped form: no
control or bidi character reaches a terminal, even through `jq -r`, and two different byte
strings never print the same (model.unlabel gives the bytes back). A closed pipe (`| head`) ends
quietly; ctrl+c exits 130 (cli), without a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from streamtop import numbers as num
from streamtop.cliargs import UsageError, add_decode_argument, spec_from_args
from streamtop.pipeline.collector import to_bytes
from streamtop.pipeline.connection import (
    REDIS_ERRORS,
    Arg,
    AsyncClient,
    ConnectError,
    ConnectionSpec,
    connect,
    describe_error,
)
from streamtop.pipeline.decode import RAW, Decoded, decode_entry, format_for
from streamtop.pipeline.decode import spec_from_args as decode_spec
from streamtop.pipeline.decode.preview import pairs
from streamtop.pipeline.model import id_key, label
from streamtop.pipeline.parse import Reply, parse_entries, text
from streamtop.pipeline.parse import pairs as reply_pairs
from streamtop.session import check_mode, make_action_client

BLOCK_MS = 5000  # one XREAD BLOCK; the connection's socket timeout is this plus 10 s
BACKOFF = (0.5, 5.0)  # seconds between reconnect attempts with --follow: first, at most
FAILOVER_WAIT = 30.0  # seconds --follow in a cluster waits for a replica to take a dead primary over
PAGE = 1000  # entries per XRANGE with --from
PLAIN = ("text", "bytes")  # field=value entries: the fields say it all, no body repeated
Fields = list[tuple[bytes, bytes]]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("stream_key", metavar="KEY", help="the stream to read")
    p.add_argument(
        "-n",
        "--count",
        type=num.TAIL_COUNT.arg,
        metavar="N",
        help="the last N entries (default 10); with --from, at most N",
    )
    p.add_argument(
        "--from",
        dest="start",
        metavar="ID",
        help="every entry from this ID on (oldest first), instead of the last N; "
        "'-' is the first entry, '(ID' starts after it",
    )
    p.add_argument(
        "-f", "--follow", action="store_true", help="then wait for new entries (XREAD BLOCK) until ctrl+c"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line: id, fields, and format/body/headers when decoded",
    )
    p.add_argument("--raw", action="store_true", help="no decoding: the fields as stored (escaped)")
    add_decode_argument(p)


# one entry as text or JSON ------------------------------------------------------------------------


def _decoded(fields: Fields, fmt: str) -> Decoded | None:
    decoded = decode_entry(tuple(fields), fmt)
    if decoded is None or (decoded.format in PLAIN and fmt not in PLAIN):
        return None
    return decoded


def entry_line(entry_id: str, fields: Fields, fmt: str) -> str:
    """`ID  format  label=value ...  | header=value ...`, every value whole, all on one line."""
    decoded = _decoded(fields, fmt)
    if decoded is None:
        parts = [f"{_name(f)}={label(v)}" for f, v in fields] or ["(deleted)"]
        return "  ".join([entry_id, *parts])
    items = [
        label(value) if name is None else f"{_name(name)}={label(value)}" for name, value in _whole(decoded)
    ]
    if decoded.headers:
        items.append("|  " + "  ".join(f"{label(k)}={label(v)}" for k, v in decoded.headers))
    return "  ".join([entry_id, decoded.format, *items])


def _name(name: bytes | str) -> str:
    """A field name on the line: escaped, and its "=" as \\x3d (the same rule: the byte 0x3d),
    so `name=value` splits at the first "=" whatever the name holds."""
    return label(name).replace("=", "\\x3d")


def _whole(decoded: Decoded) -> list[tuple[str | None, str]]:
    """(name, value) in pairs()' order, but whole: pairs() cuts values for a preview."""
    body = decoded.body
    if not isinstance(body, dict):
        return [(None, body if isinstance(body, str) else _compact(body))]
    keys = [k for k, _ in pairs(decoded)]
    return [(k, body[k] if isinstance(body[k], str) else _compact(body[k])) for k in keys]


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def escaped(value: object) -> object:
    """A decoded body with every string (object keys too) in label's escaped form, as `fields`
    are: `jq -r .body.msg` then prints `\\x1b[2J`, never the escape sequence itself."""
    if isinstance(value, str):
        return label(value)
    if isinstance(value, dict):
        return {label(k): escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escaped(v) for v in value]
    return value


def entry_json(entry_id: str, fields: Fields, fmt: str) -> str:
    """`{"id", "fields": [[name, value], ...]}` in the entry's order (a name may repeat), plus
    `format`, `body` and `headers` ([name, value] pairs) when a decoder read it."""
    doc: dict[str, object] = {"id": entry_id, "fields": [[label(f), label(v)] for f, v in fields]}
    decoded = _decoded(fields, fmt) if fmt != RAW else None
    if decoded is not None:
        headers = [[label(k), label(v)] for k, v in decoded.headers]
        doc.update(format=decoded.format, body=escaped(decoded.body), headers=headers)
    return json.dumps(doc, ensure_ascii=False)


# reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamState:
    """From XINFO STREAM: what tells one stream from another under the same key."""

    last: tuple[int, int] | None  # last-generated-id
    added: int | None  # entries-added (7.0+)
    first: tuple[int, int] | None  # the first entry's ID (None: empty)
    max_deleted: tuple[int, int] | None  # max-deleted-entry-id (7.0+)


class Tail:
    """One tail run: the client, the key, how entries are printed, and where --follow goes on."""

    def __init__(
        self,
        client: AsyncClient,
        key: bytes,
        emit: Callable[[str, Fields], None],
        say: Callable[[str], None] = lambda line: None,
        where: str = "the server",
    ) -> None:
        self.client = client
        self.key = key
        self.emit = emit
        self.say = say  # one line on stderr: the connection lost and back, a stream recreated
        self.where = where
        self.last_id: str | None = None
        self.seen: StreamState | None = None
        self.failover_wait = 0.0  # cluster: how long --follow waits out its node's failure

    async def _call(self, *args: Arg) -> Reply:
        import redis

        try:
            return await self.client.execute_command(*args)
        except (redis.exceptions.ClusterDownError, redis.exceptions.TryAgainError):
            raise  # a cluster between two states (a failover): not a refusal of the command
        except redis.ResponseError as exc:
            text = " ".join(str(exc).split())
            if text.startswith("WRONGTYPE"):
                raise UsageError(f"key '{label(self.key)}' is not a stream") from None
            raise UsageError(f"the server refused {args[0]!s} on '{label(self.key)}': {text}") from None

    def _print(self, entries: list[tuple[str, Fields]]) -> None:
        for entry_id, fields in entries:
            self.emit(entry_id, fields)
            self.last_id = entry_id

    async def last(self, n: int) -> None:
        if n:
            reply = await self._call("XREVRANGE", self.key, "+", "-", "COUNT", n)
            self._print(list(reversed(parse_entries(reply))))

    async def since(self, start: str, n: int | None) -> None:
        left = n
        while left is None or left > 0:
            count = PAGE if left is None else min(PAGE, left)
            page = parse_entries(await self._call("XRANGE", self.key, start, "+", "COUNT", count))
            self._print(page)
            if len(page) < count:
                return
            left = None if left is None else left - len(page)
            start = f"({page[-1][0]}"

    async def exists(self) -> bool:
        kind = await self.client.execute_command("TYPE", self.key)
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        if kind not in ("none", "stream"):
            raise UsageError(f"key '{label(self.key)}' holds a {kind}, not a stream")
        return kind == "stream"

    async def state(self) -> StreamState | None:
        """What tells one stream from another under the same key; None when there is no stream."""
        import redis

        try:
            info = reply_pairs(await self.client.execute_command("XINFO", "STREAM", self.key))
        except redis.ResponseError as exc:
            if "no such key" in str(exc).lower():
                return None
            raise
        added = info.get("entries-added")
        first = info.get("first-entry")
        deleted = info.get("max-deleted-entry-id")  # 7.0+
        return StreamState(
            last=id_key(text(info.get("last-generated-id"))),
            added=int(added) if added is not None else None,
            first=id_key(text(first[0])) if first else None,
            max_deleted=id_key(text(deleted)) if deleted is not None else None,
        )

    async def recreated(self, after: str = "0-0") -> bool:
        """True when the stream is not the one read so far: gone, or its last-generated-id went
        back, or its entries-added did, or (7.0+) the entry read last (`after`) is gone without
        being deleted (max-deleted-entry-id is below it) from a stream that starts below it: a
        stream deleted and written again, lower IDs first and then higher ones, before this look
        (XREAD after our last ID would skip its lower IDs). On 6.2 an XDEL of the entry read last
        looks the same as that, so only the first rules apply there."""
        now = await self.state()
        before, self.seen = self.seen, now
        if before is None or now is None:
            return before is not None and now is None
        went_back = before.last is not None and now.last is not None and now.last < before.last
        if went_back or (before.added is not None and now.added is not None and now.added < before.added):
            return True
        mark = id_key(after)
        if mark is None or mark == (0, 0) or now.max_deleted is None or now.first is None:
            return False
        if now.first >= mark or now.max_deleted >= mark:  # trimmed past it, or XDEL'd: same stream
            return False
        return not await self._call("XRANGE", self.key, after, after, "COUNT", 1)

    async def follow(self) -> None:
        """XREAD BLOCK from the last entry printed (else from the newest, else from the start),
        through lost connections (retried with backoff, said on stderr) and a stream deleted or
        recreated meanwhile (read again from its start)."""
        import redis

        after = self.last_id
        if after is None:
            newest = parse_entries(await self._call("XREVRANGE", self.key, "+", "-", "COUNT", 1))
            after = newest[0][0] if newest else "0-0"
        self.seen = await self.state()
        delay, lost = BACKOFF[0], False
        while True:
            if _cancelled():  # a cancel that redis-py's retries swallowed (a TimeoutError inside its
                raise asyncio.CancelledError  # cluster client is retried): it still ends the follow
            try:
                if lost or self.seen is None:
                    after = await self._check(after)
                reply = await self._read_through_failover(after)
                if lost:
                    self.say(f"streamtop tail: reconnected to {self.where}")
                    delay, lost = BACKOFF[0], False
                read = _streams(reply)
                # an idle block, or entries while the entry read last is gone: another stream under
                # the key? (one recreated with lower IDs, then higher ones, is read from its start)
                if not read or not await self._holds(after):
                    checked = await self._check(after)
                    if checked != after:
                        after = checked
                        continue
                for _key, entries in read:
                    self._print(entries)
                after = self.last_id or after
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                if _cancelled():  # a cancel that Python 3.11's asyncio.timeout turned into TimeoutError
                    raise
                if not lost:
                    why = " ".join(str(exc).split()) or type(exc).__name__
                    self.say(f"streamtop tail: connection to {self.where} lost ({why}); reconnecting")
                lost = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF[1])

    async def _holds(self, after: str) -> bool:
        """The entry read last is still there: the same stream, no XINFO STREAM needed (which
        returns the first and last entries whole, at every read)."""
        return after == "0-0" or bool(await self._call("XRANGE", self.key, after, after, "COUNT", 1))

    async def _check(self, after: str) -> str:
        if await self.recreated(after):
            self.say(f"streamtop tail: '{label(self.key)}' was deleted or recreated: reading from its start")
            self.last_id = None
            return "0-0"
        return after

    async def _read_through_failover(self, after: str) -> Reply:
        """XREAD BLOCK; in a cluster, while the key's primary is down (a replica is being
        promoted: connection refused, CLUSTERDOWN, an uncovered slot), the same XREAD again every
        half second for at most failover_wait seconds, then the last error."""
        import redis
        from redis.exceptions import ClusterDownError, RedisClusterException, TryAgainError

        down = (
            redis.ConnectionError,
            redis.TimeoutError,
            ClusterDownError,
            TryAgainError,
            RedisClusterException,
        )
        deadline = None
        while True:
            if _cancelled():
                raise asyncio.CancelledError
            try:
                return await self._call("XREAD", "BLOCK", BLOCK_MS, "STREAMS", self.key, after)
            except down:
                if _cancelled():
                    raise
                now = asyncio.get_running_loop().time()
                deadline = deadline or now + self.failover_wait
                if now >= deadline:
                    raise
                await asyncio.sleep(0.5)


def _cancelled() -> bool:
    """This task is being cancelled: the error in hand may be the cancel itself (on 3.11 a cancel
    that meets a timeout inside redis-py comes out as TimeoutError), so it must not be retried."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _streams(reply: Reply) -> list[tuple[bytes, list[tuple[str, Fields]]]]:
    """XREAD's reply (RESP2: [[key, entries]]; nil on timeout) as (key, parsed entries)."""
    if not reply:
        return []
    items = reply.items() if isinstance(reply, dict) else reply
    return [(key, parse_entries(entries)) for key, entries in items]


async def tail(
    spec: ConnectionSpec, key: bytes, args: argparse.Namespace, emit: Callable[[str, Fields], None]
) -> int:

    probe, server = await connect(spec)
    await probe.aclose()
    check_mode(spec, server)
    if server.mode == "cluster":
        client = make_action_client(spec, server)  # 10 s socket timeout: longer than BLOCK_MS
    else:
        client = spec.make_client(raw=True, block_ms=BLOCK_MS)
    client.response_callbacks.pop("XREAD", None)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    reader = Tail(client, key, emit, say, spec.address)
    if server.mode == "cluster":
        reader.failover_wait = FAILOVER_WAIT
    try:
        if not await reader.exists() and not args.follow:
            raise UsageError(f"no stream '{label(key)}' (add --follow to wait for it)")
        if args.start is not None:
            await reader.since(args.start, args.count)
        else:
            await reader.last(10 if args.count is None else args.count)
        sys.stdout.flush()
        if args.follow:
            await reader.follow()
    except REDIS_ERRORS as exc:  # RedisClusterException (a slot served by no node) is not a RedisError
        raise ConnectError(describe_error(exc, _owner_spec(client, key, spec))) from None
    finally:
        await client.aclose()
    return 0


def _owner_spec(client: AsyncClient, key: bytes, spec: ConnectionSpec) -> ConnectionSpec:
    """The spec of the node the key lives on, for the error (in a cluster the seed may be fine)."""
    from dataclasses import replace

    find = getattr(client, "get_node_from_key", None)
    try:
        node = find(key) if find is not None else None
    except Exception:  # no node serves its slot
        node = None
    return replace(spec, host=node.host, port=node.port) if node is not None else spec


def run(args: argparse.Namespace) -> int:
    key = to_bytes(args.stream_key)
    if not key:
        raise UsageError("KEY is empty: name the stream to read")
    if args.raw and args.decode:
        raise UsageError("--raw and --decode contradict each other: choose one")
    fmt = RAW if args.raw else format_for(decode_spec(args.decode), key)
    show = entry_json if args.json else entry_line
    spec = spec_from_args(args)

    def emit(entry_id: str, fields: Fields) -> None:
        print(show(entry_id, fields, fmt), flush=args.follow)

    try:
        return asyncio.run(tail(spec, key, args, emit))
    except BrokenPipeError:  # `streamtop tail k | head`: the reader has all it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
