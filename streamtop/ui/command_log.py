"""The command log panel of `streamtop demo` (`L`, the "Commands" tab): each command streamtop sent
for one of the learner's keys or lesson steps, newest last, in redis-cli form (each on a line of
its own, so it can be copied and pasted into redis-cli), the reply's summary under it, the polls
as one summarised line. What is shown comes from streamtop.commandlog; every argument there is
quoted and escaped already, and everything goes on screen as Text (never markup).
"""

from __future__ import annotations

from typing import Any, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from streamtop.pipeline.model import Snapshot

from ..commandlog import CommandLog, Logged

REFRESH_SECONDS = 0.5
SHOWN = 300  # lines kept on screen (the file, --log, keeps everything)


class HasLog(Protocol):
    @property
    def command_log(self) -> CommandLog: ...


def log_text(entries: list[Logged]) -> Text:
    out = Text()
    for e in entries:
        if e.source in ("poll", "note"):
            out.append(e.line + "\n", style="dim" if e.source == "poll" else "italic")
            continue
        out.append(e.line + "\n", style="bold" if e.source == "action" else "")
        style = "red" if isinstance(e.reply, BaseException) else "green"
        out.append(f"  -> {e.summary}\n", style=style)
    out.rstrip()
    return out


def poll_summary(snap: Snapshot) -> str:
    """One poll in one line: what it read, in how many round trips, how long it took."""
    cost = snap.cost
    full = f", {cost.detailed} read in full" if cost is not None else ""
    return (
        f"{len(snap.streams)} streams{full} (XINFO STREAM/GROUPS/CONSUMERS, XPENDING, XREVRANGE) "
        f"in {snap.round_trips} round trip(s), {snap.duration_ms:.0f} ms"
    )


class CommandLogPanel(VerticalScroll, can_focus=True):
    """The log, following its end unless the learner scrolled up."""

    DEFAULT_CSS = """
    CommandLogPanel { height: 1fr; }
    CommandLogPanel > #log-lines { height: auto; }
    """

    def __init__(self, owner: HasLog, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.owner = owner
        self.shown_seq = -1

    def compose(self) -> ComposeResult:
        yield Static(
            Text("no command yet: the keys you press (e, a, c, t, D, lesson steps) send them", style="dim"),
            id="log-lines",
        )

    def on_mount(self) -> None:
        self.set_interval(REFRESH_SECONDS, self.refresh_log)

    def refresh_log(self) -> None:
        log = self.owner.command_log
        if log.last_seq == self.shown_seq:
            return
        self.shown_seq = log.last_seq
        entries = log.entries()[-SHOWN:]
        if not entries:
            return
        following = self.scroll_y >= self.max_scroll_y - 1
        self.query_one("#log-lines", Static).update(log_text(entries))
        if following:
            self.call_after_refresh(self.scroll_end, animate=False)

    def lines(self) -> list[str]:
        """The text on screen, line by line (for tests)."""
        return str(self.query_one("#log-lines", Static).render()).splitlines()
