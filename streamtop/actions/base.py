"""What every action shares: results as values, input checks that run before anything is sent,
server errors turned into one plain line (never an exception past the actions layer), and the
reply helpers. The lowest module of the package: context.py and every family import it, it imports
none of them.

The checks are public so the dialogs can parse what a person typed with the same rules and show
the same message inside the dialog.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis

from streamtop.pipeline.connection import REPLY_TIMEOUT, AsyncClient, error_text
from streamtop.pipeline.model import PendingEntry, label
from streamtop.pipeline.model import id_key as model_id_key
from streamtop.pipeline.parse import Reply, parse_pending_entries, to_int
from streamtop.pipeline.parse import text as reply_text

from .. import numbers

MAX_ID_PART = 2**64 - 1
MAX_BURST = int(numbers.BURST_COUNT.hi)  # the bounds live in numbers.py; named here for the actions
MAX_CAP = int(numbers.CLAIM_COUNT.hi)
MAX_MAXLEN = numbers.INT64_MAX  # XTRIM/XADD MAXLEN: the server refuses more (out of range)
_ID_RE = re.compile(r"^(\d{1,20})(?:-(\d{1,20}))?$", re.ASCII)  # a bare \d also takes Arabic-Indic digits
# Extended-form XPENDING: a raw client ignores this; a parsed redis-py client needs it to parse
# the reply as entries rather than as the summary form.
DETAIL = {"parse_detail": True}


class ValidationError(ValueError):
    """Bad input: the message is shown to the person as is; nothing was sent to the server."""


@dataclass(frozen=True)
class ActionResult:
    """What an action did: `ok` and one line for a person; each action's own result (a subclass,
    declared in its family's module) adds the numbers and IDs the UI, the CLI and the tests read.

    The fields here mean the same for every action: `error` is the server's (or the connection's)
    words when a command failed; `read_only` the refusal of a mutation in read-only mode;
    `lost_reply` the connection dropped after the command was sent, and `may_have_applied` that
    what it did could not be read back; `dry_run` nothing was written; `nothing` there was nothing
    to do."""

    ok: bool
    message: str
    error: str | None = None
    read_only: bool = False
    lost_reply: bool = False
    may_have_applied: bool = False
    dry_run: bool = False
    nothing: bool = False
    # the server did not answer: what happened is read again when it does (the app calls this
    # after its next good poll and says the outcome)
    recheck: Callable[[], Awaitable[ActionResult]] | None = field(default=None, repr=False, compare=False)


R = TypeVar("R", bound=ActionResult)


# ---- input checks -------------------------------------------------------------------------


def check_name(value: object, what: str) -> bytes:
    """A key, group or consumer name: any non-empty binary string."""
    if isinstance(value, str):
        value = value.encode()
    if not isinstance(value, bytes) or not value:
        raise ValidationError(f"{what} is empty")
    return value


def check_id(value: object, what: str = "stream ID", special: tuple[str, ...] = ()) -> str:
    """A stream ID `ms` or `ms-seq` (each part a 64-bit unsigned number), or one of `special`."""
    text = value.decode() if isinstance(value, bytes) else str(value if value is not None else "")
    text = text.strip()
    if text in special:
        return text
    m = _ID_RE.match(text)
    if not m or any(p is not None and int(p) > MAX_ID_PART for p in m.groups()):
        extra = f" or {' or '.join(repr(s) for s in special)}" if special else ""
        shown = text or "(empty)"
        raise ValidationError(f"{what} {shown!r} is not a stream ID (like 1700000000000-0){extra}")
    return text


def check_ids(values: object, what: str = "entry") -> tuple[str, ...]:
    """A non-empty selection of stream IDs, duplicates dropped, order kept."""
    if isinstance(values, str | bytes):
        values = [values]
    items: Iterable[object] = values if isinstance(values, Iterable) else ()  # None: nothing chosen
    ids = tuple(dict.fromkeys(check_id(v, f"{what} ID") for v in items))
    if not ids:
        raise ValidationError(f"no {what} selected")
    return ids


def parse_int(value: object, what: str, lo: int = 0, hi: int | None = None) -> int:
    """A whole number in [lo, hi] from an int or from what a person typed ("1,000" and "1_000" ok):
    streamtop.numbers decides, so the dialogs, the CLI and this layer refuse alike."""
    try:
        return numbers.parse_int(value, what, lo, numbers.INT64_MAX if hi is None else hi)
    except numbers.NumberError as exc:
        raise ValidationError(str(exc)) from None


def parse_idle(value: object, what: str = "min idle time") -> int:
    """An idle time in milliseconds: an int is ms; text is seconds unless it ends in ms, s, m or h."""
    try:
        return numbers.parse_duration_ms(value, what)
    except numbers.NumberError as exc:
        raise ValidationError(str(exc)) from None


def check_strategy(strategy: object) -> str:
    s = str(strategy or "").strip().upper()
    if s not in ("MAXLEN", "MINID"):
        raise ValidationError(f"trim strategy must be MAXLEN or MINID, got {strategy!r}")
    return s


# ---- server errors ------------------------------------------------------------------------

one_line = error_text  # the server's words on one line, with the error code redis-py strips


_NOPERM_CMD = re.compile(r"permissions to run the '([^']+)' command", re.IGNORECASE)
_AUTH_CODES = ("WRONGPASS", "NOAUTH")


def is_lost(exc: BaseException) -> bool:
    """The connection dropped or timed out: the command may or may not have run on the server.
    An authentication failure on reconnect is not a lost reply: nothing was sent."""
    if is_auth_failure(exc):
        return False
    return isinstance(exc, redis.ConnectionError | redis.TimeoutError | ConnectionError | OSError)


def is_not_answering(exc: BaseException) -> bool:
    """No reply within the timeout (a hung, stopped or overloaded server, a black-holed network):
    unlike a dropped connection, a re-read now would wait as long again."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, redis.TimeoutError | asyncio.TimeoutError | TimeoutError | socket.timeout):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def lost_words(exc: BaseException) -> str:
    """How a lost reply is said: a hang is not a drop."""
    if is_not_answering(exc):
        return f"the server is not answering (no reply within {REPLY_TIMEOUT:g} s)"
    return "the connection dropped"


def is_auth_failure(exc: BaseException) -> bool:
    """The server refused our credentials (a restart with another password, a removed ACL user).
    redis-py raises these as a kind of ConnectionError, which would read as "connection lost"."""
    text = one_line(exc)
    return (
        isinstance(exc, redis.AuthenticationError)
        or text.split(" ", 1)[0] in _AUTH_CODES
        or "invalid username-password pair" in text.lower()
    )


def needs(main: str, keys: tuple[bytes, ...] = (), helpers: str = "") -> str:
    """What an action needs from an ACL, for NOPERM messages: "+xack on 's' (and +multi +exec)"."""
    on = " and ".join(repr(label(k)) for k in keys)
    out = f"{main} on {on}" if on else main
    return f"{out} (and {helpers}, which it also runs)" if helpers else out


def describe_error(
    exc: BaseException,
    action: str,
    key: bytes | None = None,
    group: bytes | None = None,
    need: str | None = None,
) -> str:
    """A server or connection error as one plain line that says what failed and why.
    `need`: the rights the action needs (see `needs`), named in a NOPERM message instead of
    whichever helper command (MULTI, WATCH) the server happened to refuse first."""
    text = one_line(exc)
    code = text.split(" ", 1)[0]
    where = f" on '{label(key)}'" if key is not None else ""
    if code == "NOPERM" or "no permissions" in text.lower():
        said = text.removeprefix("NOPERM ").strip()
        if need:
            m = _NOPERM_CMD.search(said)
            refused = f"the server refused '{m.group(1)}'" if m else f"the server said: {said}"
            return f"{action} refused: permission denied (NOPERM): needs {need}; {refused}"
        return f"{action} refused: permission denied (NOPERM): {said}"
    if is_auth_failure(exc):
        return (
            f"{action} failed: authentication failed ({text}): the server no longer accepts this "
            "user or password (restarted with new credentials?)"
        )
    if code == "BUSYGROUP":
        g = f"group '{label(group)}'" if group is not None else "the group"
        return f"{action} failed: {g} already exists{where}"
    if code == "NOGROUP":
        g = f"group '{label(group)}'" if group is not None else "the group"
        k = f" '{label(key)}'" if key is not None else ""
        return f"{action} failed: no stream{k} or no {g} on it"
    if code == "WRONGTYPE":
        return f"{action} failed: '{label(key or b'')}' is not a stream"
    if "no such key" in text.lower():
        return f"{action} failed: no stream '{label(key or b'')}'"
    if is_not_answering(exc):
        return f"{action} failed: {lost_words(exc)} ({text})"
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | ConnectionError | OSError):
        return f"{action} failed: connection lost ({text})"
    return f"{action} failed{where}: {text}"


def fail(
    kind: type[R],
    exc: BaseException,
    action: str,
    key: bytes | None = None,
    group: bytes | None = None,
    *,
    need: str | None = None,
    **fields: Any,
) -> R:
    """A server or connection error as the failed result (of type `kind`) of `action` (see
    describe_error); `fields`: the result's own fields (what was done before the error)."""
    return kind(False, describe_error(exc, action, key, group, need), error=str(exc), **fields)


# ---- reply helpers ------------------------------------------------------------------------


def pending_rows(reply: Reply) -> tuple[PendingEntry, ...]:
    """XPENDING extended form, raw or parsed by redis-py (a list of dicts)."""
    rows = reply if isinstance(reply, list | tuple) else []
    if rows and isinstance(rows[0], Mapping):
        return tuple(
            PendingEntry(
                id=reply_text(r.get("message_id")) or "",
                consumer=r.get("consumer") or b"",
                idle_ms=to_int(r.get("time_since_delivered")) or 0,
                deliveries=to_int(r.get("times_delivered")) or 0,
            )
            for r in rows
        )
    return parse_pending_entries(reply)


def id_key(entry_id: str) -> tuple[int, int]:
    """A stream ID (validated or from the server) as a sortable pair ("5" is 5-0)."""
    key = model_id_key(entry_id)
    if key is None:
        raise ValueError(f"not a stream ID: {entry_id!r}")
    return key


def next_id(entry_id: str) -> str:
    """The smallest ID after this one (for an exclusive start that works on every server)."""
    ms, seq = id_key(entry_id)
    return f"{ms}-{seq + 1}" if seq < MAX_ID_PART else f"{ms + 1}-0"


def prev_id(entry_id: str) -> str | None:
    """The greatest ID before this one, None before 0-0 (for an exclusive end)."""
    ms, seq = id_key(entry_id)
    if seq > 0:
        return f"{ms}-{seq - 1}"
    return f"{ms - 1}-{MAX_ID_PART}" if ms > 0 else None


def batch_span(ids: list[str]) -> str:
    """How a batch of entries is named in a message: its one ID, or "N entries (first .. last)"."""
    return ids[0] if len(ids) == 1 else f"{len(ids)} entries ({ids[0]} .. {ids[-1]})"


# ---- transactions -------------------------------------------------------------------------


class NoTransactions(Exception):
    """MULTI/EXEC refused to this user: a move must not be sent (see `transactions_work`)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


async def transactions_work(client: AsyncClient, key: bytes) -> None:
    """Raise NoTransactions unless MULTI and EXEC run for this user, before any move is sent.

    Why: redis-py sends MULTI, the queued commands and EXEC in one write. When the ACL refuses
    MULTI, the server runs each "queued" command at once, one by one, and only EXEC fails ("EXEC
    without MULTI"): a dead-letter's XADD ran while its XACK was refused, and every re-run added
    another copy (issue 24). Once MULTI itself is accepted, a command the ACL refuses inside it
    aborts the whole transaction (EXECABORT), so nothing of a move runs. The probe is the same
    kind of transaction with a read in it (TYPE `key`, routed like the moves in a cluster).
    A user allowed MULTI but refused EXEC is left inside MULTI by the server: that connection is
    closed, so no later command is queued on it."""
    pipe = client.pipeline(transaction=True)
    pipe.execute_command("TYPE", key)
    try:
        await pipe.execute()
    except redis.ResponseError as exc:
        text = one_line(exc)
        if text.startswith("NOPERM") or "no permissions" in text.lower():
            if "'exec'" in text.lower():
                await _drop_connections(client)
            raise NoTransactions(exc) from exc
        if "without multi" in text.lower():  # MULTI was refused (some redis-py versions say EXEC's error)
            said = redis.exceptions.NoPermissionError(
                f"no permissions to run the 'multi' command (EXEC answered: {text})"
            )
            raise NoTransactions(said) from exc
        raise


async def _drop_connections(client: AsyncClient) -> None:
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        await pool.disconnect()
        return
    for node in getattr(client, "get_nodes", list)():
        await node.disconnect()
