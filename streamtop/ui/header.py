"""The header: where we are connected, whether what we see is live, and how the polls go."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

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
    max_streams: int = 0
    nodes: int = 0  # cluster primaries (0 when standalone)
    down_nodes: tuple[str, ...] = ()  # "address: error" for each primary that did not answer
    uncovered_slots: int = 0
    insecure_tls: bool = False  # --insecure: the server's certificate is not verified


STATE_STYLES = {
    "live": "bold black on green",
    "paused": "bold black on yellow",
    "stale": "bold white on red",
    "reconnecting": "bold white on red",
    "connecting": "bold black on yellow",
    "not answering": "bold white on red",
}


def header_text(info: HeaderInfo) -> Text:
    """Two lines: identity and poll figures, then the state (with the error when failing)."""
    top = Text()
    top.append(" streamtop ", "bold reverse")
    top.append_text(fmt.text(f" {info.url}", "bold"))  # the URL and all below: escaped
    if info.insecure_tls:  # anyone could be answering: say so where the address is
        top.append(" ")
        top.append(" INSECURE TLS ", "bold black on dark_orange")
    if info.server:
        top.append_text(fmt.text(f"  {info.server}", "cyan"))
    if info.nodes:
        top.append(f"  {info.nodes} node{'s' if info.nodes != 1 else ''}", "cyan")
    top.append(f"  every {info.interval:g}s", "")
    if info.poll_ms is not None:
        top.append(f"  poll {info.poll_ms:.0f} ms, {info.round_trips} round trip"
                   f"{'s' if info.round_trips != 1 else ''}", "dim")
    top.append(f"  {info.streams} stream{'s' if info.streams != 1 else ''}", "")
    if info.capped:
        top.append(f" (capped at {info.max_streams})", "yellow")
    if info.read_only:
        top.append("  ")
        top.append(" READ-ONLY ", "bold black on magenta")
    state = Text()
    state.append(f" {info.state.upper()} ", STATE_STYLES.get(info.state, "reverse"))
    if info.state == "not answering" and info.waiting is not None:
        state.append(f"for {int(info.waiting)} s", "bold red")
        state.append(": no reply yet;", "red")
    if info.state in ("stale", "reconnecting", "not answering") and info.stale_age is not None:
        state.append(f" last good poll {fmt.age(info.stale_age)} ago", "red")
    if info.error:
        state.append_text(fmt.text(f"  {info.error}", "red"))
        if info.state == "reconnecting":
            state.append(", reconnecting now", "red")
        elif info.retry_in is not None:
            state.append(f", retrying in {max(1, round(info.retry_in))} s", "red")
    for down in info.down_nodes:
        state.append_text(fmt.text(f"  node {down}: its streams are stale", "red"))
    if info.uncovered_slots:
        state.append(f"  {info.uncovered_slots} hash slots served by no node", "yellow")
    return Text("\n").join([top, state])


class HeaderBar(Static):
    """Rendered from one HeaderInfo, replaced as a whole (a cheap two-line render)."""

    info: reactive[HeaderInfo] = reactive(HeaderInfo, always_update=False)

    def render(self) -> Text:
        return header_text(self.info)
