"""What every panel renders from: one immutable DashboardView per snapshot and selection.

The main screen builds a view whenever the snapshot or the selection changes and hands the same
object to every panel (`panel.show(view)`), so no panel reaches into the app or another panel.
`Selection` is what the user chose (stream, group, pages, marks); the main screen is its only
owner and replaces it as a whole, so the pages asked of the server and the pages on screen cannot
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from streamtop.pipeline.decode import format_for
from streamtop.pipeline.health import SEVERITY, Health, OffScreen, Verdict
from streamtop.pipeline.history import History, Series
from streamtop.pipeline.model import Entry, Focus, GroupInfo, PendingEntry, ServerInfo, Snapshot, StreamInfo

from ..options import DASHBOARD_DEFAULTS as DEFAULTS

PENDING_PAGE = 100  # XPENDING ... COUNT: one page of pending entries
MESSAGES_PAGE = 50  # XREVRANGE ... COUNT: one page of messages


@dataclass(frozen=True, slots=True)
class Selection:
    """The stream and group under the cursors, the page of each table, the marked pending IDs."""

    key: bytes | None = None
    group: bytes | None = None
    pending_start: str = "-"  # XPENDING start: "-" or "(<id>" (exclusive) for later pages
    pending_page: int = 0
    messages_end: str = "+"  # XREVRANGE end: "+" or "(<id>" for older pages
    messages_page: int = 0
    marked: frozenset[str] = frozenset()

    def with_stream(self, key: bytes | None) -> Selection:
        """Another stream: no group yet, both tables back to their first page, nothing marked."""
        return Selection(key=key)

    def with_group(self, group: bytes | None) -> Selection:
        return replace(self, group=group, pending_start="-", pending_page=0, marked=frozenset())

    def next_pending_page(self, last_id: str) -> Selection:
        return replace(
            self, pending_start=f"({last_id}", pending_page=self.pending_page + 1, marked=frozenset()
        )

    def first_pending_page(self) -> Selection:
        return replace(self, pending_start="-", pending_page=0, marked=frozenset())

    def next_messages_page(self, oldest_id: str) -> Selection:
        return replace(self, messages_end=f"({oldest_id}", messages_page=self.messages_page + 1)

    def first_messages_page(self) -> Selection:
        return replace(self, messages_end="+", messages_page=0)

    def toggle_mark(self, entry_id: str) -> Selection:
        return replace(self, marked=self.marked ^ {entry_id})

    def with_marks(self, marked: frozenset[str]) -> Selection:
        return replace(self, marked=marked)

    def focus(self) -> Focus | None:
        """What the poll should fetch besides the summary: the pages of this selection."""
        if self.key is None:
            return None
        return Focus(
            key=self.key,
            group=self.group,
            pending_start=self.pending_start,
            pending_count=PENDING_PAGE,
            messages_end=self.messages_end,
            messages_count=MESSAGES_PAGE,
        )


@dataclass(frozen=True, slots=True)
class Thresholds:
    """What the dashboard highlights (--stuck-after, --poison-deliveries) and how it reads
    payloads (--decode: stream key, or None for every stream, to format)."""

    stuck_ms: int = DEFAULTS.stuck_ms
    poison: int = DEFAULTS.poison_deliveries
    decode: tuple[tuple[bytes | None, str], ...] = ()

    def decode_format(self, key: bytes) -> str:
        return format_for(dict(self.decode), key)


@dataclass(frozen=True, slots=True)
class DashboardView:
    """One snapshot as the panels see it: the selected stream and group resolved, and the pages
    of the selection when the snapshot carries them (None while they are still loading)."""

    snapshot: Snapshot | None
    selection: Selection
    history: History  # rates and series: read-only lookups by key (and group)
    thresholds: Thresholds = Thresholds()
    server: ServerInfo = field(default_factory=ServerInfo)
    stream: StreamInfo | None = None
    group: GroupInfo | None = None
    pending: tuple[PendingEntry, ...] | None = None  # None: not fetched for this selection yet
    pending_error: str | None = None
    messages: tuple[Entry, ...] | None = None
    without_data: frozenset[str] = frozenset()  # IDs of the page whose data is gone (nodata.py)
    trimmed_pending: int | None = None  # the group's pending entries below the first entry
    trimmed_pending_capped: bool = False

    @property
    def streams(self) -> tuple[StreamInfo, ...]:
        return self.snapshot.streams if self.snapshot is not None else ()

    @property
    def loaded(self) -> bool:
        """False until the first snapshot: "no streams found" would be a lie before it."""
        return self.snapshot is not None

    def stream_rate(self, key: bytes) -> float | None:
        return self.history.stream_rate(key)

    def group_rate(self, group: bytes) -> float | None:
        key = self.selection.key
        return self.history.group_rate(key, group) if key is not None else None

    def in_series(self) -> Series | None:
        """The selected stream's in/s over time (the detail panel's sparkline)."""
        key = self.selection.key
        return self.history.in_rate.get(key) if key is not None else None

    def health(self, group: bytes) -> Health | None:
        """A group of the selected stream: its verdict over the window (health.py)."""
        key = self.selection.key
        return self.history.health(key, group) if key is not None else None

    def stream_health(self, stream: StreamInfo) -> str | None:
        """The worst verdict of a stream's groups (None without groups)."""
        return self.history.stream_health_of(stream)

    def lag_series(self, group: bytes) -> Series | None:
        key = self.selection.key
        return self.history.lag.get((key, group)) if key is not None else None

    @property
    def marked_ids(self) -> tuple[str, ...]:
        """The marked pending IDs in page order (what ack and claim act on)."""
        return tuple(p.id for p in self.pending or () if p.id in self.selection.marked)


COUNTED_NOT = frozenset((Verdict.OK, Verdict.IDLE, Verdict.UNKNOWN))  # fine, or said another way


def health_counts(streams: tuple[StreamInfo, ...], history: History) -> tuple[tuple[str, int], ...]:
    """Groups per verdict that needs a look (not ok, idle or unknown), worst first, then the
    off-screen groups a summary could not judge (health.OffScreen): the header's "2 groups
    stalled, 1 stuck; off screen: 3 not moving, 40 not judged". None is left out unsaid.
    `streams`: those of the snapshot the history was last fed (kept counted there, issue 29)."""
    every = history.verdict_counts()
    return tuple((v, every[v]) for v in (*SEVERITY, *OffScreen) if every[v] > 0 and v not in COUNTED_NOT)


def build_view(
    snapshot: Snapshot | None, selection: Selection, history: History, thresholds: Thresholds
) -> DashboardView:
    """Resolve the selection against the snapshot; the pages count only when the snapshot was
    polled for exactly this selection (otherwise the previous stream's page would show)."""
    stream = snapshot.stream(selection.key) if snapshot is not None and selection.key is not None else None
    group = stream.group(selection.group) if stream is not None and selection.group is not None else None
    data = snapshot.focus if snapshot is not None else None
    pending = messages = None
    error = None
    gone: frozenset[str] = frozenset()
    trimmed: int | None = None
    if data is not None and stream is not None:
        asked = data.focus
        if (
            asked.key == stream.key
            and asked.pending_start == selection.pending_start
            and asked.messages_end == selection.messages_end
        ):
            messages = data.messages if asked.messages_count > 0 else None  # 0: not read (tab hidden)
            if group is not None and asked.group == group.name:
                pending, error = data.pending, data.error or group.error
                gone, trimmed = data.without_data, data.trimmed_pending
    return DashboardView(
        snapshot=snapshot,
        selection=selection,
        history=history,
        thresholds=thresholds,
        server=snapshot.server if snapshot is not None else ServerInfo(),
        stream=stream,
        group=group,
        pending=pending,
        pending_error=error,
        messages=messages,
        without_data=gone,
        trimmed_pending=trimmed,
        trimmed_pending_capped=bool(data is not None and data.trimmed_pending_capped),
    )
