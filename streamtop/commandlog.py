"""The command log: every command streamtop itself sends for an action or a lesson step, in the
form redis-cli reads back (`XADD app:event * sensor_id sensor1 ...`), with a one-line summary of
the reply; the poll's reads as one summarised line per poll. It teaches what each key does on the
server and is the operator's audit trail of what was changed (`--log FILE` appends it).

One seam: `attach(client, log)` wraps one client's `execute_command` and `pipeline` (the action
client, the lessons' own connection), so no action method records anything itself.
Thread-safe: the lessons' steps run in threads, the actions on the app's loop.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any, TypeVar

import redis
import redis.asyncio as aioredis

MAX_ENTRIES = 1000  # kept in memory (the file keeps everything)
REPLY_CHARS = 60

_PLAIN = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:*+~=()<>[]{}/@,;!?%^&|$"
)
_ESCAPES = {0x22: '\\"', 0x5C: "\\\\", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x07: "\\a", 0x08: "\\b"}


def quote(arg: object) -> str:
    """One argument as redis-cli reads it: bare when it is plain ASCII, else in double quotes
    with \\" \\\\ \\n \\r \\t and \\xHH for every other byte that is not printable ASCII. The
    result is safe to show (no control, bidi or markup character survives) and exact to paste."""
    raw = arg if isinstance(arg, bytes) else str(arg).encode()
    if raw and all(b in _PLAIN for b in raw):
        return raw.decode("ascii")
    out = []
    for b in raw:
        if b in _ESCAPES:
            out.append(_ESCAPES[b])
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return '"' + "".join(out) + '"'


def command_line(args: Sequence[object]) -> str:
    return " ".join(quote(a) for a in args)


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _short(value: object) -> str:
    q = quote(value)
    return q if len(q) <= REPLY_CHARS else q[: REPLY_CHARS - 1] + "…"


def _entry_ids(rows: Any) -> list[str]:
    """IDs of a list of [id, fields] entries or of bare IDs (XCLAIM JUSTID)."""
    ids = []
    for row in rows if isinstance(rows, list | tuple) else ():
        if isinstance(row, list | tuple) and row and row[0] is not None:
            ids.append(_text(row[0]))
        elif isinstance(row, bytes | str):
            ids.append(_text(row))
    return ids


def _ids_summary(ids: list[str], what: str) -> str:
    if not ids:
        return f"0 {what}"
    shown = " ".join(ids[:3]) + (" …" if len(ids) > 3 else "")
    return f"{len(ids)} {what}: {shown}"


def summarize(command: str, reply: Any) -> str:
    """The reply in a few words, the way redis-cli would begin to print it."""
    if isinstance(reply, BaseException):
        return "(error) " + " ".join(_text(reply).split())[:200]
    if reply is None:
        return "(nil)"
    if isinstance(reply, bool):
        return "OK" if reply else "(integer) 0"
    if isinstance(reply, int):
        return f"(integer) {reply}"
    if isinstance(reply, bytes | str):
        return _short(reply)
    if command == "XAUTOCLAIM" and isinstance(reply, list | tuple) and len(reply) >= 2:
        deleted = len(reply[2]) if len(reply) > 2 and isinstance(reply[2], list | tuple) else 0
        claimed = _ids_summary(_entry_ids(reply[1]), "claimed")
        return f"next {_text(reply[0])}, {claimed}" + (f", {deleted} deleted" if deleted else "")
    if command in ("XCLAIM", "XRANGE", "XREVRANGE"):
        return _ids_summary(_entry_ids(reply), "entries")
    if isinstance(reply, list | tuple):
        return f"({len(reply)} items)"
    if isinstance(reply, dict):
        return f"({len(reply)} fields)"
    return _short(reply)


@dataclass(frozen=True)
class Logged:
    """One line of the log. `args` as sent (the lessons read them: what the learner did);
    `reply` as the server answered (an exception for an error or a lost reply); `line` in
    redis-cli form; `source`: action | lesson | poll | note."""

    seq: int
    at: float
    source: str
    args: tuple[object, ...]
    reply: Any  # raw: as the client returned it
    line: str
    summary: str
    count: int = 1  # polls collapsed into one line

    @property
    def command(self) -> str:
        return _text(self.args[0]).upper() if self.args else ""

    def arg(self, i: int) -> str:
        return _text(self.args[i]) if len(self.args) > i else ""


class CommandLog:
    """What streamtop sent, newest last; optionally appended to a file as it happens."""

    def __init__(self, sink: IO[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._entries: deque[Logged] = deque(maxlen=MAX_ENTRIES)
        self._seq = 0
        self.sink = sink
        self.label = ""  # what the next commands are for (a key, a lesson step), for the file

    def entries(self, since: int = 0) -> list[Logged]:
        with self._lock:
            return [e for e in self._entries if e.seq > since]

    @property
    def last_seq(self) -> int:
        return self._seq

    def _add(self, entry: Logged) -> None:
        self._entries.append(entry)
        if self.sink is not None and entry.source != "poll":
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.at))
            try:
                if entry.source == "note":
                    self.sink.write(f"# {stamp} {entry.line}\n")
                else:
                    self.sink.write(f"# {stamp} {entry.source}: {entry.summary}\n{entry.line}\n")
                self.sink.flush()
            except (OSError, ValueError):  # a full disk or a closed file never stops an action
                pass

    def record(self, args: Sequence[object], reply: Any, source: str = "action") -> Logged:
        args = tuple(args)
        command = _text(args[0]).upper() if args else ""
        with self._lock:
            self._seq += 1
            entry = Logged(
                self._seq, time.time(), source, args, reply, command_line(args), summarize(command, reply)
            )
            self._add(entry)
        return entry

    def note(self, text: str) -> None:
        """A line that is not a command (a demo key: no command of streamtop's own)."""
        with self._lock:
            self._seq += 1
            self._add(Logged(self._seq, time.time(), "note", (), None, "# " + text, ""))

    def poll(self, summary: str) -> None:
        """One summarised line per poll; consecutive polls share one line (with a count)."""
        with self._lock:
            last = self._entries[-1] if self._entries else None
            count = last.count + 1 if last is not None and last.source == "poll" else 1
            if count > 1:
                self._entries.pop()
            self._seq += 1
            line = f"# poll: {summary}" + (f" (×{count})" if count > 1 else "")
            self._add(Logged(self._seq, time.time(), "poll", (), None, line, "", count))


# ---- the seam: one client's commands, recorded --------------------------------------------

# the clients and pipelines a log attaches to (connection.py's AsyncClient / AsyncPipeline: this
# module sits below it); `attach` gives back the client it was given, of the same type
_AsyncClientT = TypeVar("_AsyncClientT", bound="aioredis.Redis | aioredis.RedisCluster")
_PipelineT = TypeVar("_PipelineT", bound="aioredis.client.Pipeline | aioredis.cluster.ClusterPipeline")
_SyncClientT = TypeVar("_SyncClientT", bound=redis.Redis)
_Execute = Callable[..., Awaitable[Any]]  # an async execute_command: its reply is raw


def _record_many(
    log: CommandLog, stack: Iterable[object], replies: Any, source: str, transaction: bool
) -> None:
    commands = [tuple(c[0]) for c in stack if isinstance(c, tuple | list) and c]
    if transaction:
        log.record(("MULTI",), "OK", source)
    for i, args in enumerate(commands):
        if isinstance(replies, BaseException):
            reply: Any = replies
        else:
            reply = replies[i] if isinstance(replies, list | tuple) and i < len(replies) else None
        log.record(args, reply, source)
    if transaction:
        log.record(("EXEC",), replies if isinstance(replies, BaseException) else list(replies or []), source)


def _watch_pipeline(pipe: _PipelineT, log: CommandLog, source: str) -> _PipelineT:
    original_execute = pipe.execute
    original_immediate = getattr(pipe, "immediate_execute_command", None)

    async def execute(*args: Any, **kwargs: Any) -> Any:  # raise_on_error, passed on
        stack = list(getattr(pipe, "command_stack", None) or ())
        transaction = bool(
            getattr(pipe, "is_transaction", False) or getattr(pipe, "explicit_transaction", False)
        )
        try:
            replies = await original_execute(*args, **kwargs)
        except Exception as exc:
            _record_many(log, stack, exc, source, transaction)
            raise
        _record_many(log, stack, replies, source, transaction)
        return replies

    pipe.execute = execute  # type: ignore[method-assign]
    if original_immediate is not None:
        pipe.immediate_execute_command = _recorded(original_immediate, log, source)  # type: ignore[method-assign,union-attr]
    return pipe


def _recorded(call: _Execute, log: CommandLog, source: str) -> _Execute:
    """`call` (an async execute_command), recording each command and its reply or error."""

    async def execute_command(*args: object, **options: Any) -> Any:
        try:
            reply = await call(*args, **options)
        except Exception as exc:
            log.record(args, exc, source)
            raise
        log.record(args, reply, source)
        return reply

    return execute_command


def attach(client: _AsyncClientT, log: CommandLog, source: str = "action") -> _AsyncClientT:
    """Record every command this asyncio client sends, and its reply (pipelines included)."""
    original_cmd = client.execute_command
    original_pipeline = client.pipeline

    execute_command = _recorded(original_cmd, log, source)

    def pipeline(*args: Any, **kwargs: Any) -> aioredis.client.Pipeline | aioredis.cluster.ClusterPipeline:
        return _watch_pipeline(original_pipeline(*args, **kwargs), log, source)

    client.execute_command = execute_command  # type: ignore[method-assign,assignment]
    client.pipeline = pipeline  # type: ignore[method-assign,assignment]
    return client


def attach_sync(client: _SyncClientT, log: CommandLog, source: str = "lesson") -> _SyncClientT:
    """The same for a synchronous client (the lessons' steps): single commands only."""
    original_cmd = client.execute_command

    def execute_command(*args: object, **options: Any) -> Any:
        try:
            reply = original_cmd(*args, **options)
        except Exception as exc:
            log.record(args, exc, source)
            raise
        log.record(args, reply, source)
        return reply

    client.execute_command = execute_command  # type: ignore[method-assign]
    return client
