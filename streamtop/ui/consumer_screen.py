"""One consumer in full: the tables shorten long names in the middle (render.middle_name_text), so
`enter` on a consumer, or on a pending entry, shows the whole name here, with its counts and why it
counts as gone (streamtop.pipeline.liveness). Rendered from what the view already holds: no Redis call."""

from __future__ import annotations

from rich.text import Text

from streamtop.pipeline.liveness import Liveness
from streamtop.pipeline.model import ConsumerInfo, PendingEntry

from . import format as fmt
from .entry_screen import TextScreen


def consumer_text(
    name: bytes,
    group: bytes,
    info: ConsumerInfo | None,
    state: Liveness | None,
    has_inactive: bool,
    entry: PendingEntry | None = None,
) -> Text:
    """The full name (escaped, never markup, never cut), then what the last poll said of it."""
    out = Text("consumer ", "bold")
    out.append_text(fmt.text(name, "bold cyan"))
    out.append(f"\n{len(name)} bytes, of group ", "dim")
    out.append_text(fmt.text(group))
    out.append("\n\n")
    if entry is not None:
        out.append(f"pending entry {entry.id}: ", "bold")
        out.append(f"idle {fmt.duration_ms(entry.idle_ms)}, delivered {entry.deliveries} times\n\n")
    if info is None:
        out.append("not in the group's consumer list at the last poll", "italic")
        return out
    inactive = (
        "n/a (before 7.2)"
        if not has_inactive
        else (
            fmt.UNKNOWN
            if info.inactive_ms is None
            else "never read an entry"
            if info.inactive_ms < 0
            else fmt.duration_ms(info.inactive_ms)
        )
    )
    out.append(
        f"pending {fmt.count(info.pending)}   idle {fmt.duration_ms(info.idle_ms)}   inactive {inactive}\n"
    )
    if state is not None and state.gone is True:
        out.append("gone: " + state.reason, "bold")
    elif state is not None and state.reason:
        out.append(state.reason, "italic")
    return out


class ConsumerScreen(TextScreen):
    BOX, BODY = "consumer-box", "consumer-body"

    def __init__(self, body: Text) -> None:
        super().__init__()
        self.body = body

    def body_text(self) -> Text:
        return self.body
