"""Pending entries of the selected group (XPENDING extended, one page of up to 100).

Stuck entries (idle over a threshold) and poison ones (delivered too many times) are highlighted;
`x` marks entries for the ack/claim actions; `]`/`[` page forward and back to the start.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from streamtop.pipeline.model import PendingEntry
from streamtop.pipeline.render import middle_name_text, name_text

from . import format as fmt
from .keyed_table import Cells, KeyedTable
from .registry import panel_bindings
from .view import DashboardView

COLUMNS = (
    ("", "mark"),
    ("id", "id"),
    ("consumer", "consumer"),
    ("idle", "idle"),
    ("deliveries", "deliveries"),
    ("state", "state"),
)


NAME_WIDTH = 12  # the consumer column before the table is laid out (columns only grow)
NAME_MAX = 40  # a uuid (36) whole; longer names keep both ends


def consumer_width(table: KeyedTable, rows: list[Cells]) -> int:
    """What the table leaves the consumer column after the other columns (as wide as their
    label, their cells here, or what they grew to), so the idle time, the deliveries and the state
    never leave the screen (issue 18)."""
    width = table.scrollable_content_region.width
    if not width:
        return NAME_WIDTH
    pad = 2 * table.cell_padding
    others = 0
    for i, (key, column) in enumerate(table.columns.items()):
        if key.value == "consumer":
            continue
        cells = max(
            (c.cell_len if isinstance(c, Text) else Text(str(c)).cell_len for c in (r[i] for r in rows)),
            default=0,
        )
        others += max(column.get_render_width(table), max(column.label.cell_len, cells) + pad)
    return max(NAME_WIDTH, min(NAME_MAX, width - others - pad))


def pending_cells(
    p: PendingEntry,
    marked: bool,
    stuck_ms: int,
    poison: int,
    gone: bool = False,
    name_width: int = NAME_MAX,
) -> Cells:
    """`gone`: the entry's data was trimmed or deleted (it can never be processed)."""
    is_poison = p.deliveries > poison
    is_stuck = p.idle_ms > stuck_ms
    style = "dim strike" if gone else "bold red" if is_poison else "yellow" if is_stuck else ""
    state = ", ".join(s for s, on in (("deleted", gone), ("poison", is_poison), ("stuck", is_stuck)) if on)
    return (
        Text("●" if marked else " ", style="bold cyan"),
        Text(p.id, style=style),
        middle_name_text(p.consumer, name_width),
        Text(fmt.duration_ms(p.idle_ms), style=style),
        Text(str(p.deliveries), style=style),
        Text(state, style=style),
    )


class PendingPanel(Vertical):
    """Shows the page of the view. Marks and pages belong to the selection, which the main screen
    owns: the keys here run its actions (`screen.mark`, ...) and this panel redraws from the view."""

    BINDINGS = panel_bindings("pending")  # streamtop.ui.registry declares the keys

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.table = KeyedTable(COLUMNS, id="pending-table")
        self.entries: tuple[PendingEntry, ...] = ()
        self.info_text = ""
        self.name_width = NAME_WIDTH  # the consumer column's width at the last show

    def compose(self) -> ComposeResult:
        yield Static("", id="pending-info")
        yield self.table

    @property
    def cursor_id(self) -> str | None:
        """The ID of the entry under the cursor."""
        return self.table.cursor_key

    def show(self, view: DashboardView) -> None:
        group = view.group
        self.entries = view.pending or ()
        thresholds, marked = view.thresholds, view.selection.marked
        rows = [
            (
                p.id,
                pending_cells(
                    p,
                    p.id in marked,
                    thresholds.stuck_ms,
                    thresholds.poison,
                    p.id in view.without_data,
                    NAME_WIDTH,
                ),
            )
            for p in self.entries
        ]
        # the consumer cells again at the width the other columns leave (measured from these rows)
        name_width = self.name_width = consumer_width(self.table, [cells for _, cells in rows])
        self.table.sync(
            [
                (k, (*c[:2], middle_name_text(p.consumer, name_width), *c[3:]))
                for (k, c), p in zip(rows, self.entries, strict=True)
            ]
        )
        if group is None:
            title: Text = Text("no group selected")
        else:
            title = Text("group ") + name_text(group.name)
            if view.pending is None:
                title += Text(" (loading)")
        self._render_info(view, title)

    def _render_info(self, view: DashboardView, title: Text) -> None:
        """The line above the table: page, stuck and poison counts, marks, the page's error."""
        entries, stuck_ms, poison = self.entries, view.thresholds.stuck_ms, view.thresholds.poison
        total = view.group.pending if view.group is not None else None
        text = Text()
        text.append_text(Text.assemble(title, "  ", style="bold"))
        text.append(f"page {view.selection.pending_page + 1}: {len(entries)} of {fmt.count(total)} pending")
        stuck = sum(1 for p in entries if p.idle_ms > stuck_ms)
        poisoned = sum(1 for p in entries if p.deliveries > poison)
        if stuck:
            text.append(f"  {stuck} stuck (idle > {fmt.duration_ms(stuck_ms)})", "yellow")
        if poisoned:
            text.append(f"  {poisoned} poison (deliveries > {poison})", "bold red")
        gone = len(view.without_data)
        if view.trimmed_pending or gone:
            below = f"{'>=' if view.trimmed_pending_capped else ''}{view.trimmed_pending or 0:,}"
            text.append(f"  without data: {below} trimmed away, {gone} on this page (A acks them)", "magenta")
        marked = len(view.marked_ids)
        if marked:
            text.append(f"  {marked} marked", "cyan")
        if view.pending_error:
            text.append_text(fmt.text(f"  {view.pending_error}", "red"))
        self.info_text = text.plain
        self.query_one("#pending-info", Static).update(text)
