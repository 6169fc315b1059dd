"""The header: where we are connected, whether what we see is live, and how the polls go."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from streamtop.pipeline.health import OffScreen
from streamtop.pipeline.model import PollCost, Snapshot

from . import format as fmt


@dataclass(frozen=True)
class HeaderInfo:
    url: str = ""
    server: str = ""
    state: str = "connecting"  # connecting / live / paused / stale / reconnecting / not answering
    stale_age: float | None = None  # seconds since the last good poll, while stale
    waiting: float | None = None  # seconds the poll in flight has gone unanswered (not answering)
    error: str | None = None
    retry_in: float | None = None
    interval: float = 1.0
    read_only: bool = False
    round_trips: int = 0
    poll_ms: float | None = None
    streams: int = 0
    capped: bool = False
    discovering: bool = False  # the first scan goes on: `streams` are those found so far
    max_streams: int = 0
    nodes: int = 0  # cluster primaries (0 when standalone)
    down_nodes: tuple[str, ...] = ()  # "address (error)" for each primary that failed
    not_answering_nodes: tuple[str, ...] = ()  # "address (not answering for N s)": poll in flight
    uncovered_slots: int = 0
    insecure_tls: bool = False  # --insecure: the server's certificate is not verified
    health: tuple[tuple[str, int], ...] = ()  # (verdict, groups) for verdicts that need a look
    # issue 17: the oldest off-screen summary (seconds; None: every row read this poll), the
    # measured share of the server's time, and the visible rows' period when the budget stretched it
    summary_age: float | None = None
    server_load: float | None = None
    stretched_to: float | None = None
    budget: float | None = None  # --max-server-load as a fraction, shown when it cannot be met
    over_budget: bool = False  # even the longest periods the age bound allows cost more (issue 24)
    round_trip_load: bool = False  # no INFO (an ACL): the load is the round trips' time, at most
    cursor: str | None = None  # replay (issue 30): the moment shown, the file's span, speed, paused


STATE_STYLES = {
    "live": "bold black on green",
    "paused": "bold black on yellow",
    "stale": "bold white on red",
    "reconnecting": "bold white on red",
    "connecting": "bold black on yellow",
    "not answering": "bold white on red",
    "discovering": "bold black on yellow",  # the first scan goes on: more rows to come (issue 29)
    "partial": "bold black on dark_orange",  # polling, but part of the cluster is missing
    "replay": "bold white on magenta",  # a recording, not the server (streamtop replay)
}


def uncovered_slots(snap: Snapshot) -> int:
    """The header's count of slots that no answering node serves (Snapshot.unserved_slots)."""
    return snap.unserved_slots


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def node_reason(entry: str) -> tuple[str, str]:
    """("address", "why") of a "address (error)" entry; the error without its repeat of the
    address ("connection refused at 10.0.0.7:6379: ..." says where once, in front)."""
    address, _, rest = entry.partition(" (")
    reason = rest[:-1] if rest.endswith(")") else rest
    return address, reason.replace(f" at {address}", "")


def cluster_problems(info: HeaderInfo) -> Text | None:
    """What is missing from a cluster's table, in one part shown right after the badge: the first
    failing node by name with why ("node 10.0.0.7:6379 down: connection refused ..."), then how
    many others, then the uncovered slots; every node's full error is in the tooltip."""
    down, hung = info.down_nodes, info.not_answering_nodes
    parts: list[str] = []
    if down:
        address, reason = node_reason(down[0])
        parts.append(f"node {address} down: {reason}")
    elif hung:
        address, reason = node_reason(hung[0])
        parts.append(f"node {address} {reason}")
    more_down = len(down) - 1 if down else 0
    more_hung = len(hung) - (0 if down else 1) if hung else 0
    if more_down > 0:
        parts.append(f"{_plural(more_down, 'more node')} down")
    if more_hung > 0:
        parts.append(f"{_plural(more_hung, 'more node' if not down else 'node')} not answering")
    if info.uncovered_slots:
        parts.append(f"{_plural(info.uncovered_slots, 'slot')} uncovered")
    if not parts:
        return None
    return fmt.text("; ".join(parts), "red")


def cluster_details(info: HeaderInfo) -> Text | None:
    """The tooltip of the header: one line per failing node, and the uncovered slot count."""
    lines = [f"node {d}" for d in (*info.down_nodes, *info.not_answering_nodes)]
    if lines:
        lines.append("their rows show the last values read, marked stale")
    if info.uncovered_slots:
        lines.append(
            f"{info.uncovered_slots} hash slots are served by no node that answers"
            " (a node down, or CLUSTERDOWN there)"
        )
    return fmt.text("\n".join(lines), keep_newlines=True) if lines else None


# what goes first when the line is too narrow: the larger the number, the sooner it is dropped
(
    KEEP_STATE,
    KEEP_FAILURE,
    KEEP_WARNING,
    KEEP_AGE,
    KEEP_NODES,
    KEEP_URL,
    KEEP_STREAMS,
    KEEP_SERVER,
    KEEP_INTERVAL,
    KEEP_NODE_COUNT,
    KEEP_POLL,
    KEEP_BRAND,
) = range(12)


def header_parts(info: HeaderInfo) -> list[tuple[int, Text]]:
    """Every part of the header in the order shown, each with its rank (KEEP_*): the state and
    what is wrong first, then where and what, then what the polls cost."""
    return [
        (KEEP_BRAND, Text(" streamtop ", "bold reverse")),
        *_state_parts(info),
        *_badges(info),
        *_where_parts(info),
        *_cost_parts(info),
        (KEEP_STREAMS, _streams_text(info)),
    ]


def _state_parts(info: HeaderInfo) -> list[tuple[int, Text]]:
    """The state badge, a cluster's problems, a replay's cursor, the error and the last good poll."""
    state = Text()
    state.append(f" {info.state.upper()} ", STATE_STYLES.get(info.state, "reverse"))
    if info.state == "not answering" and info.waiting is not None:  # the count is the state
        state.append(f"for {int(info.waiting)} s", "bold red")
        state.append(": no reply yet", "red")
    parts = [(KEEP_STATE, state)]
    problems = cluster_problems(info)
    if problems is not None:  # first after the badge, and never dropped (only cut at the end)
        parts.append((KEEP_FAILURE, problems))
    if info.cursor is not None:  # a replay: when is what is on screen (never dropped)
        parts.append((KEEP_STATE, Text(info.cursor, "bold magenta")))
    if info.error:
        failure = fmt.text(info.error, "red")  # the server's words: escaped
        if info.state == "reconnecting":
            failure.append(", reconnecting now", "red")
        elif info.retry_in is not None:
            failure.append(f", retrying in {max(1, round(info.retry_in))} s", "red")
        parts.append((KEEP_FAILURE, failure))
    if info.state in ("stale", "reconnecting", "not answering") and info.stale_age is not None:
        parts.append((KEEP_AGE, Text(f"last good poll {fmt.age(info.stale_age)} ago", "red")))
    return parts


def _badges(info: HeaderInfo) -> list[tuple[int, Text]]:
    """What a person must not miss: read-only, TLS unchecked, the groups' health."""
    parts = []
    if info.read_only:
        parts.append((KEEP_WARNING, Text(" READ-ONLY ", "bold black on magenta")))
    if info.insecure_tls:  # anyone could be answering: say so
        parts.append((KEEP_WARNING, Text(" INSECURE TLS ", "bold black on dark_orange")))
    if info.health:
        parts.append((KEEP_WARNING, health_counts(info.health)))
    return parts


def _where_parts(info: HeaderInfo) -> list[tuple[int, Text]]:
    """The URL, the server and its nodes: the server's words, escaped."""
    parts = []
    if info.url:
        parts.append((KEEP_URL, fmt.text(info.url, "bold")))
    if info.server:
        parts.append((KEEP_SERVER, fmt.text(info.server, "cyan")))
    if info.nodes:
        parts.append((KEEP_NODE_COUNT, Text(f"{info.nodes} node{'s' if info.nodes != 1 else ''}", "cyan")))
    return parts


def _cost_parts(info: HeaderInfo) -> list[tuple[int, Text]]:
    """The interval (stretched by the budget), the server's load or the budget missed, the poll."""
    every = Text(f"every {info.interval:g}s")
    if info.stretched_to is not None:  # the budget reads the visible rows less often: say so
        every.append(f" (stretched to {round(info.stretched_to, 1):g}s: server budget)", "yellow")
    parts = [(KEEP_INTERVAL, every)]
    if info.over_budget and info.budget is not None:
        # the summaries keep their age bound, so the budget gives way: said, never hidden
        load = "unknown" if info.server_load is None else load_text(info)
        parts.append(
            (
                KEEP_WARNING,
                Text(f"server budget cannot be met: load {load} > {percent(info.budget)}", "yellow"),
            )
        )
    elif info.server_load is not None:
        # what watching costs the server (issue 17): kept longer than the poll figures
        parts.append((KEEP_INTERVAL, Text(f"server load {load_text(info)}", "dim")))
    if info.poll_ms is not None:
        trips = f"{info.round_trips} round trip{'s' if info.round_trips != 1 else ''}"
        parts.append((KEEP_POLL, Text(f"poll {info.poll_ms:.0f} ms, {trips}", "dim")))
    return parts


def _streams_text(info: HeaderInfo) -> Text:
    """How many streams, and whether that is all of them yet (discovering, capped, summaries' age)."""
    streams = Text(f"{info.streams} stream{'s' if info.streams != 1 else ''}")
    if info.discovering:
        streams.append(" found so far, discovering...", "yellow")
    if info.capped:
        streams.append(f" (capped at {info.max_streams})", "yellow")
    if info.summary_age is not None:
        streams.append(f", summaries <= {max(1, math.ceil(info.summary_age))} s old")
    return streams


def summary_age(cost: PollCost) -> float | None:
    """The oldest off-screen summary's age now: it goes on between polls (the header is drawn every
    second), so a slow cadence shows its age growing instead of a figure frozen at the last poll."""
    if cost.oldest_read is None:
        return cost.summary_age
    return max(0.0, time.monotonic() - cost.oldest_read)


def load_text(info: HeaderInfo) -> str:
    """'1.2%' measured (INFO commandstats); '<= 1.2% (round trip)' without INFO: the round trips'
    wall time, which also holds the network and other clients' commands, so an upper bound."""
    assert info.server_load is not None
    if info.round_trip_load:
        return f"<= {percent(info.server_load)} (round trip)"
    return percent(info.server_load)


def percent(fraction: float) -> str:
    """A share of one core as a percentage: one decimal, or two significant digits below 0.1 %
    (a budget of 0.001 % must not read as 0.0 %)."""
    value = fraction * 100
    if value == 0 or abs(value) >= 0.1:
        return f"{value:.1f}%"
    return f"{value:.2g}%"


OFF_SCREEN_STYLES = {OffScreen.NOT_MOVING.value: "red", OffScreen.NOT_JUDGED.value: "dim"}


def health_counts(counts: tuple[tuple[str, int], ...]) -> Text:
    """'2 groups stalled, 1 stuck; off screen: 3 not moving, 40 not judged': how many groups
    need a look, worst first, then how many off-screen groups a summary could not judge (so an
    undercount says it is one: issue 17)."""
    out = Text()
    first_off = True
    for i, (verdict, n) in enumerate(counts):
        noun = f"{fmt.count(n)} group{'s' if n != 1 else ''} " if i == 0 else f"{fmt.count(n)} "
        if verdict in OFF_SCREEN_STYLES:
            if first_off:
                out.append("; off screen: " if i else "off screen: ")
                first_off = False
            else:
                out.append(", ")
            out.append(noun + verdict, OFF_SCREEN_STYLES[verdict])
            continue
        if i:
            out.append(", ")
        out.append(noun + verdict.replace("_", " "), fmt.HEALTH_STYLES.get(verdict, ""))
    return out


def _join(parts: list[tuple[int, Text]]) -> Text:
    """Two spaces between parts, one next to a badge (which has its own padding)."""
    line = Text()
    for i, (_, part) in enumerate(parts):
        if i:
            padded = line.plain.endswith(" ") or part.plain.startswith(" ")
            line.append(" " if padded else "  ")
        line.append_text(part)
    return line


def header_text(info: HeaderInfo, width: int | None = None) -> Text:
    """One line. When it does not fit in `width` cells, the least important parts go first (the
    poll figures, then the server, ...); the state and what fails are never dropped, only cut."""
    parts = header_parts(info)
    if width is not None:
        while _join(parts).cell_len > width:
            rank, part = max(parts, key=lambda p: p[0])  # the first of the least important
            if rank <= KEEP_FAILURE:
                break
            parts.remove((rank, part))
    line = _join(parts)
    if width is not None and line.cell_len > width:
        line.truncate(width, overflow="ellipsis")
    return line


class HeaderBar(Static):
    """Rendered from one HeaderInfo, replaced as a whole; fitted to its width on every render."""

    info: reactive[HeaderInfo] = reactive(HeaderInfo, always_update=False)

    def render(self) -> Text:
        return header_text(self.info, self.size.width or None)

    def watch_info(self, info: HeaderInfo) -> None:
        self.tooltip = cluster_details(info)
