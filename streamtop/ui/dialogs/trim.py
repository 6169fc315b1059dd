"""Trim: MAXLEN or MINID, exact or `~`. The first enter shows a preview (what goes, which groups
have not read it yet); a second enter on the same inputs trims."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from streamtop.pipeline.render import text

from ... import numbers as num
from ...actions import TrimPreview, check_id
from ...actions.trim import TrimPreviewResult
from ..context import ActionContext
from .base import ActionDialog
from .shared import name_of, short

TrimArgs = tuple[str, int | str, bool]  # strategy, threshold, approximate


class TrimDialog(ActionDialog):
    TITLE = "Trim"
    VERB = "Preview"

    def __init__(self, context: ActionContext) -> None:
        super().__init__(context)
        self.armed: TrimArgs | None = None  # the inputs the shown preview is for

    def heading(self) -> Text:
        return Text.assemble(f"{self.TITLE} ", name_of(self.context.key))

    def fields(self) -> ComposeResult:
        stream = self.context.stream
        if stream is not None:
            yield Static(
                text(f"{stream.length:,} entries, first {stream.first_entry_id or '-'}"), classes="hint"
            )
        with RadioSet(id="strategy"):
            yield RadioButton("MAXLEN: keep the newest N entries", value=True, id="maxlen")
            yield RadioButton("MINID: drop entries older than an ID", id="minid")
        yield Label("Threshold (N for MAXLEN, a stream ID for MINID)", classes="hint")
        yield Input("", placeholder="e.g. 1000 or 1700000000000-0", id="threshold")
        yield Checkbox("approximate (~): faster, removes whole nodes only", id="approx")

    def on_mount(self) -> None:
        self.query_one("#threshold", Input).focus()

    def inputs(self) -> TrimArgs:
        minid = self.query_one("#minid", RadioButton).value
        raw = self.value("threshold")
        threshold: int | str = check_id(raw, "MINID") if minid else num.TRIM_MAXLEN.parse(raw)
        return "MINID" if minid else "MAXLEN", threshold, self.query_one("#approx", Checkbox).value

    @on(Input.Changed)
    @on(RadioSet.Changed)
    @on(Checkbox.Changed)
    def _disarm(self) -> None:
        if self.armed is not None:
            self.armed = None
            self.info("")
            self.query_one("#ok", Button).label = "Preview"

    def submit(self) -> None:
        args = self.inputs()
        key = self.key
        if self.armed == args:
            self.launch(lambda: self.actions.trim(key, *args))
            return
        self.busy = True

        async def preview() -> None:
            try:
                result = await self.actions.trim_preview(key, *args)
            finally:
                self.busy = False
            self.show_preview(result, args)

        self.run_worker(preview(), exclusive=True, group="action")

    def show_preview(self, result: TrimPreviewResult, args: TrimArgs) -> None:
        p = result.preview
        if not result.ok or not isinstance(p, TrimPreview):
            self.error(result.message)
            return
        if p.nothing:
            self.info(short(result.message))
            return
        lines = [Text.assemble("removes ", text(p.removes_text()))]
        lines += [short(w, 300, "bold red") for w in p.warnings()]
        if p.strategy == "MAXLEN":
            lines.append(Text("entries added before you confirm make MAXLEN remove as many more", "dim"))
        lines.append(Text.assemble(("enter", "bold"), " again to trim, escape to cancel"))
        self.info(Text("\n").join(lines), reveal=True)
        self.armed = args
        self.query_one("#ok", Button).label = "Confirm trim"
