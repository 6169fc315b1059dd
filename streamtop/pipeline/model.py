"""The snapshot: immutable plain data that every layer above the collector reads.

Keys and names are bytes, as the server holds them (they may be any binary string); `label()`
turns them into something printable. Stream IDs are ASCII, so they are str.
A value the server did not give is None, never 0: the UI shows it as unknown.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from streamtop.options import POLL_DEFAULTS

# The one escaped form of server bytes (keys, names, values, error texts), for every place a person
# or a program reads them: the table, `status --json`, Prometheus labels, `tail`. It is injective
# (two different byte strings never print the same) and reversible (`unlabel`), by this rule:
#   \\      a backslash                  \n \r \t  newline, carriage return, tab
#   \xHH    the byte HH: a C0 control or DEL (valid UTF-8, shown escaped) or a byte that is not
#           part of valid UTF-8 (so the 4 characters `\xff` print as `\\xff`, the byte as `\xff`)
#   \uXXXX  the character U+XXXX: C1 controls (U+009B is a one-character CSI on many terminals) and
#           the bidi controls, which reorder what follows them so two names could look the same
# Everything else is the UTF-8 text itself. Bytes decode with surrogateescape (U+DC80..U+DCFF
# stand for the bytes that are not UTF-8); a decoder that means "these are bytes, not text"
# (msgpack `bin`) maps every byte to U+DC00+byte, shown as \xHH too.
_CONTROL_ESCAPES = (
    {i: f"\\x{i:02x}" for i in (*range(32), 0x7F)}
    | {i: f"\\u{i:04x}" for i in range(0x80, 0xA0)}
    | {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", ord("\\"): "\\\\"}
    | {c: f"\\u{c:04x}" for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
)
BYTE_ESCAPES = {c: f"\\x{c - 0xDC00:02x}" for c in range(0xDC00, 0xDD00)}  # bytes (surrogateescape)
ESCAPES = (
    _CONTROL_ESCAPES
    | BYTE_ESCAPES
    # a lone surrogate from a JSON "\\ud800" escape: never printable, never from server bytes
    | {c: f"\\u{c:04x}" for c in (*range(0xD800, 0xDC00), *range(0xDD00, 0xE000))}
)
_KEEP_NEWLINES = {c: e for c, e in ESCAPES.items() if c != ord("\n")}
UNSAFE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_CONTROL_ESCAPES)) + "\ud800-\udfff]")
# A message streamtop wrote (which may quote names already escaped by `label`, or carry an error
# text) is escaped for the terminal the same way, except that its backslashes stay as they are:
# a name inside it was escaped once already.
MESSAGE_ESCAPES = {c: e for c, e in ESCAPES.items() if c != ord("\\")}
MESSAGE_UNSAFE = re.compile(UNSAFE.pattern.replace(re.escape("\\"), ""))
_ESCAPED = re.compile(r"\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|(.))", re.S)
_SIMPLE = {"\\": b"\\", "n": b"\n", "r": b"\r", "t": b"\t"}


def as_text(name: bytes | str) -> str:
    """Server bytes as a str, invalid UTF-8 bytes kept as U+DC80..U+DCFF (surrogateescape)."""
    return name.decode("utf-8", "surrogateescape") if isinstance(name, bytes) else name


def label(name: bytes | str, *, keep_newlines: bool = False) -> str:
    """The one printable, unambiguous form of a key, name or value (the rule above):
    render.name_text is the same as a Rich Text that marks the escapes."""
    return as_text(name).translate(_KEEP_NEWLINES if keep_newlines else ESCAPES)


def unlabel(shown: str) -> bytes:
    """The exact bytes `label` printed (the inverse, for programs that read `status --json`,
    `tail --json` or the exporter's labels and need the key itself)."""
    out = bytearray()
    pos = 0
    for m in _ESCAPED.finditer(shown):
        out += shown[pos : m.start()].encode("utf-8", "surrogatepass")
        hx, uni, other = m.groups()
        if hx is not None:
            out.append(int(hx, 16))
        elif uni is not None:
            out += chr(int(uni, 16)).encode("utf-8", "surrogatepass")
        elif other in _SIMPLE:
            out += _SIMPLE[other]
        else:
            raise ValueError(f"not an escape: \\{other}")
        pos = m.end()
    out += shown[pos:].encode("utf-8", "surrogatepass")
    return bytes(out)


def id_ms(entry_id: str | None) -> int | None:
    """The millisecond part of a stream ID ("1700000000000-3" -> 1700000000000)."""
    if not entry_id:
        return None
    head = entry_id.split("-", 1)[0]
    return int(head) if head.isascii() and head.isdigit() else None


# A stream's IDs are parsed several times a poll (each group's lag bound and health sample read
# its position, the first and the last entry): the recent ones are kept (issue 28: 300,000 parses
# in a first read of 30,000 streams), and equal IDs share one tuple.
@lru_cache(maxsize=4096)
def id_key(entry_id: str | None) -> tuple[int, int] | None:
    """A stream ID as a comparable (ms, seq) pair ("5" is 5-0); None if it is not one."""
    if not entry_id:
        return None
    ms, _, seq = entry_id.partition("-")
    if not (ms.isascii() and ms.isdigit() and (not seq or (seq.isascii() and seq.isdigit()))):
        return None
    return int(ms), int(seq or 0)


class LagSource(StrEnum):
    """How a group's lag is known."""

    EXACT = "exact"  # the server's `lag` field
    ESTIMATE = "estimate"  # server gave NULL (7.0+) or has no lag field (6.2): counted by XRANGE
    UNKNOWN = "unknown"  # neither: nothing to show but "?"


@dataclass(frozen=True, slots=True)
class Lag:
    """A group's lag: `value` when exact; otherwise `estimate`, with `capped` meaning ">= estimate"."""

    source: LagSource
    value: int | None = None
    estimate: int | None = None
    capped: bool = False
    # an off-screen summary's estimate (issue 17): epoch seconds of the poll that counted it, kept
    # while neither the group's last-delivered-id nor the stream's last-generated-id moved (a
    # summary counts nothing; unknown would sort the row first until it is counted again). None:
    # counted by this poll
    as_of: float | None = None

    @property
    def known(self) -> bool:
        return self.source is LagSource.EXACT

    @property
    def best(self) -> int | None:
        """The exact value, else the estimate (a lower bound when capped); None when unknown."""
        return self.value if self.value is not None else self.estimate

    def text(self) -> str:
        """'12' exact, '~12' estimated, '>=1000' capped estimate, '?' unknown."""
        if self.value is not None:
            return str(self.value)
        if self.estimate is not None:
            return f">={self.estimate}" if self.capped else f"~{self.estimate}"
        return "?"


def entries_after_bound(
    position: str | None, length: int | None, first_entry_id: str | None, last_entry_id: str | None
) -> tuple[int, bool] | None:
    """How many entries a group at `position` (its last-delivered-id) can have left to read, from
    the stream's XINFO STREAM: (n, True) when that is exactly n (the position is below the first
    entry: every entry is after it; or at or past the last entry: none is), (n, False) when n is
    only the most (the first entry is at or below the position, so at most length - 1 are after
    it). None when the stream does not say (a summary without its length, an ID that is no ID).

    Why: after a trim below a group's position the server's lag can count entries that are gone
    (Redis 7.0 and Valkey said lag 36 with 30 entries left); a lag above this bound is no lag."""
    pos = id_key(position)
    if pos is None or length is None:
        return None
    if length == 0:
        return 0, True
    first, last = id_key(first_entry_id), id_key(last_entry_id)
    if first is not None and pos < first:
        return length, True
    if last is not None and pos >= last:
        return 0, True
    if first is None:
        return None
    return length - 1, False


# IDs whose ms part lies before 2018 (streams came with Redis 5.0 that year) or later than the
# server's clock were not made by XADD `*`: their ms part is not a time, and no time lag is read
# from them.
EARLIEST_TIME_ID_MS = 1_514_764_800_000
FUTURE_TOLERANCE_MS = 60_000


def time_based(ms: int | None, now_ms: int) -> bool:
    """Whether an ID's ms part can be read as the time the entry was added."""
    return ms is not None and EARLIEST_TIME_ID_MS <= ms <= now_ms + FUTURE_TOLERANCE_MS


class TimeLagSource(StrEnum):
    """How a group's time lag is known."""

    EXACT = "exact"  # the first undelivered entry was read (or there is none: 0)
    AT_MOST = "at_most"  # the group read past the entry the poll asked for: bounded by its position
    NOT_TIME = "not_time"  # the IDs are not auto-generated times (manual IDs)
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TimeLag:
    """How long ago the oldest entry the group has not been delivered was added (0: caught up).

    AT_MOST happens when the consumers read between the poll's queueing and its reply: the
    first undelivered entry was added after the group's last-delivered-id, so the lag is at most
    the age of that ID. render.time_lag shows it."""

    source: TimeLagSource = TimeLagSource.UNKNOWN
    ms: int | None = None


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """One entry of a group's pending entries list (XPENDING extended form)."""

    id: str
    consumer: bytes
    idle_ms: int
    deliveries: int


@dataclass(frozen=True, slots=True)
class PendingSummary:
    """XPENDING summary form, plus the entry with the smallest ID (the oldest still pending)."""

    count: int
    smallest_id: str | None = None
    greatest_id: str | None = None
    consumers: tuple[tuple[bytes, int], ...] = ()
    oldest: PendingEntry | None = None


@dataclass(frozen=True, slots=True)
class ConsumerInfo:
    """XINFO CONSUMERS: `inactive_ms` is None where the server has no such field (before 7.2)."""

    name: bytes
    pending: int
    idle_ms: int
    inactive_ms: int | None = None


@dataclass(frozen=True, slots=True)
class GroupInfo:
    name: bytes
    consumers: int
    pending: int
    last_delivered_id: str
    entries_read: int | None
    lag: Lag
    consumer_list: tuple[ConsumerInfo, ...] = ()
    pending_summary: PendingSummary | None = None
    error: str | None = None
    time_lag: TimeLag = TimeLag()
    oldest_pending_age_ms: int | None = None  # since the oldest pending entry was added (its ID)

    @property
    def label(self) -> str:
        return label(self.name)

    @property
    def oldest_pending_idle_ms(self) -> int | None:
        ps = self.pending_summary
        return ps.oldest.idle_ms if ps and ps.oldest else None

    @property
    def seen_ms(self) -> int | None:
        """Since a consumer of the group last talked to the server (read, even with nothing
        returned, or claimed); None without consumers."""
        return min((c.idle_ms for c in self.consumer_list), default=None)

    @property
    def last_read_ms(self) -> int | None:
        """Since the group last read something: the smallest `inactive` (7.2+; -1 is never),
        before 7.2 the smallest `idle` (which counts empty reads too)."""
        if any(c.inactive_ms is not None for c in self.consumer_list):
            return min(
                (
                    c.inactive_ms
                    for c in self.consumer_list
                    if c.inactive_ms is not None and c.inactive_ms >= 0
                ),
                default=None,
            )
        return self.seen_ms


@dataclass(frozen=True, slots=True)
class StreamInfo:
    key: bytes
    length: int = 0
    first_entry_id: str | None = None
    last_entry_id: str | None = None
    last_generated_id: str | None = None
    entries_added: int | None = None
    max_deleted_entry_id: str | None = None
    recorded_first_entry_id: str | None = None
    radix_tree_keys: int | None = None
    radix_tree_nodes: int | None = None
    groups: tuple[GroupInfo, ...] = ()
    error: str | None = None
    node: str | None = None  # cluster: the address of the primary that holds the key
    stale: bool = False  # cluster: the node did not answer; these are the last values seen
    # Epoch seconds of the XINFO STREAM the stream-level fields come from, when older than this
    # poll: a stream whose first or last entry is large is read with cheaper commands in between
    # (length, groups, lag and the last ID stay fresh; see collector.BIG_ENTRY). None: fresh.
    info_taken_at: float | None = None
    # read as a summary only (off screen, issue 17): XINFO STREAM + XINFO GROUPS, so the groups
    # have no consumers, pending summary or time lag and a NULL lag has no estimate: unknown
    summary_only: bool = False

    @property
    def label(self) -> str:
        return label(self.key)

    @property
    def group_count(self) -> int:
        return len(self.groups)

    @property
    def total_pending(self) -> int:
        return sum(g.pending for g in self.groups)

    @property
    def max_lag(self) -> Lag | None:
        """The lag of the group furthest behind; unknown if any unknown group could be further."""
        if not self.groups:
            return None
        worst = max(self.groups, key=lambda g: (g.lag.best is None, g.lag.best or 0))
        return worst.lag

    @property
    def oldest_pending_idle_ms(self) -> int | None:
        idles = [i for g in self.groups if (i := g.oldest_pending_idle_ms) is not None]
        return max(idles) if idles else None

    def group(self, name: bytes) -> GroupInfo | None:
        return next((g for g in self.groups if g.name == name), None)


WITHHELD = "(fields not published by the hub: it runs without --expose-entries)"


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry: its ID and its field/value pairs in order (a deleted entry has none).
    `sizes`: empty when every value is whole; else each value's size in bytes, for a page entry
    whose long values were cut (streamtop.pipeline.messagepage: the whole entry is read on demand).
    `withheld`: the fields are unknown here (a hub without --expose-entries), not none."""

    id: str
    fields: tuple[tuple[bytes, bytes], ...] = ()
    sizes: tuple[int, ...] = ()
    withheld: bool = False  # its fields not published by the hub it came through (--expose-entries)

    @property
    def cut(self) -> bool:
        """Some value is shown in part: `sizes` says how long it is."""
        return bool(self.sizes)


@dataclass(frozen=True, slots=True)
class PollCost:
    """What a poll read and what polling costs the server (cadence.py): the header's "summaries
    <= 5 s old" and "server load 0.8%"."""

    detailed: int = 0  # streams read in full this poll (on screen, selected)
    summarized: int = 0  # off-screen streams read as a summary this poll
    carried: int = 0  # streams shown as an earlier poll read them
    summary_age: float | None = None  # seconds: the oldest off-screen data shown
    oldest_read: float | None = None  # time.monotonic() of that read: the age goes on between polls
    load: float | None = None  # measured share of the server's time (0.008 is 0.8 %); None: not yet
    budget: float = 0.02  # --max-server-load as a fraction
    visible_period: float = 1.0  # seconds between two full reads of the visible rows
    summary_period: float = 5.0  # seconds within which every off-screen summary is read
    stretched: bool = False  # the visible rows are read less often than the interval asks
    round_trip_load: bool = False  # INFO refused: `load` is the round trips' time, an upper bound
    met: bool = True  # False: even the longest periods the age bound allows cost over the budget
    predicted_load: float = 0.0  # what the chosen periods should cost (a fraction of one core)


@dataclass(frozen=True, slots=True)
class Focus:
    """What the screen shows in detail: the collector adds its pages to the same round trip.

    `pending_start` pages the group's PEL forward (exclusive start after the first page);
    `messages_end` pages the stream backwards from the newest entry.
    """

    key: bytes
    group: bytes | None = None
    pending_start: str = "-"
    pending_count: int = 100
    consumer: bytes | None = None
    messages_end: str = "+"
    messages_count: int = 50
    visible: frozenset[bytes] = frozenset()  # the streams whose rows are on screen (issue 17)


@dataclass(frozen=True, slots=True)
class FocusData:
    focus: Focus
    pending: tuple[PendingEntry, ...] = ()
    messages: tuple[Entry, ...] = ()
    error: str | None = None
    # pending entries of the page whose data is gone (streamtop.pipeline.nodata), and how many of the
    # group's pending entries lie below the stream's first entry (trimmed away; None: not counted)
    without_data: frozenset[str] = frozenset()
    trimmed_pending: int | None = None
    trimmed_pending_capped: bool = False


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Who answered: name, versions, mode, and what that implies for stream commands."""

    name: str = "redis"  # "redis" or "valkey"
    version: str = "0.0.0"  # the product's own version (valkey_version for Valkey)
    compat_version: tuple[int, int, int] = (0, 0, 0)  # redis_version: what decides the fields
    mode: str = "standalone"  # or "cluster"
    known: bool = True  # False: neither INFO nor HELLO answered, the version is unknown
    info_refused: bool = False  # INFO refused (an ACL): the server load is the round trip's time

    @property
    def has_lag(self) -> bool:
        """XINFO GROUPS has entries-read and lag; XINFO STREAM has entries-added (7.0+)."""
        return self.compat_version >= (7, 0, 0)

    @property
    def has_inactive(self) -> bool:
        """XINFO CONSUMERS has `inactive` (7.2+)."""
        return self.compat_version >= (7, 2, 0)

    @property
    def autoclaim_reports_deleted(self) -> bool:
        """XAUTOCLAIM's third element lists IDs dropped because the entries were deleted (7.0+)."""
        return self.compat_version >= (7, 0, 0)

    @property
    def title(self) -> str:
        product = "Valkey" if self.name == "valkey" else "Redis"
        return f"{product} {self.version}" if self.known else f"{product} (version unknown)"


@dataclass(frozen=True, slots=True)
class Discovery:
    """What discovery found: `capped` when more streams matched than --max-streams allows."""

    patterns: tuple[str, ...] = ()
    keys: tuple[bytes, ...] = ()
    capped: bool = False
    max_streams: int = POLL_DEFAULTS.max_streams
    taken_at: float = 0.0
    # False while the dashboard's first scan goes on (issue 29): `keys` are those found so far, read
    # and shown at once, more with every poll; the badge says DISCOVERING, not LIVE, until it ends
    complete: bool = True


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """A cluster primary as the last poll saw it."""

    address: str
    ok: bool = True
    error: str | None = None
    streams: int = 0
    slots: int = 0  # hash slots it serves
    stale_since: float | None = None
    not_answering_for: float | None = None  # seconds its poll in flight has gone unanswered
    slot_ranges: tuple[tuple[int, int], ...] = ()
    first_poll: bool = False  # its first poll is still in flight: its streams are not listed yet


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One poll: everything the dashboard shows at one moment."""

    taken_at: float = field(default_factory=time.time)  # epoch seconds when the poll ended
    server_time_ms: int | None = None  # the server's clock (TIME) in the poll; None: not asked
    duration_ms: float = 0.0
    round_trips: int = 0
    server: ServerInfo = field(default_factory=ServerInfo)
    streams: tuple[StreamInfo, ...] = ()
    discovery: Discovery = field(default_factory=Discovery)
    focus: FocusData | None = None
    discovery_round_trips: int = 0  # SCAN calls made by this poll (only when discovery was due)
    nodes: tuple[NodeStatus, ...] = ()  # cluster only: one per primary
    uncovered: tuple[tuple[int, int], ...] = ()  # cluster only: slot ranges no primary serves
    cost: PollCost | None = None  # None: a full poll (status, --full-poll)

    @property
    def stale_nodes(self) -> tuple[NodeStatus, ...]:
        return tuple(n for n in self.nodes if not n.ok)

    @property
    def unserved_slots(self) -> int:
        """Cluster: hash slots no answering primary serves: those no node claims, those refused
        with CLUSTERDOWN (`uncovered`), and those of the primaries down or not answering."""
        slots: set[int] = set()
        for first, last in (*self.uncovered, *(r for n in self.stale_nodes for r in n.slot_ranges)):
            slots.update(range(first, last + 1))
        return len(slots)

    @property
    def unreadable(self) -> bool:
        """No stream could be read: every row stale or refused (a stream deleted since is not
        a failure to read), or (cluster) no slot served."""
        if self.nodes and self.unserved_slots >= 16384:
            return True
        unread = [s for s in self.streams if s.stale or s.error not in (None, "no such key")]
        return bool(self.streams) and len(unread) == len(self.streams)

    def stream(self, key: bytes) -> StreamInfo | None:
        return next((s for s in self.streams if s.key == key), None)
