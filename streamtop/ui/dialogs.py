"""The action dialogs: ask, check, confirm what deletes, run in a worker, report to the app.

`open_dialog(app, name, context)` is the one entry point. Every dialog parses what was typed with
the actions layer's own checks, so bad input gets the same clear message inside the dialog and
nothing is sent. Anything that deletes (trim, ack of more than one, delete consumer, destroy group,
dead-letter) asks for a confirmation first; trim shows its preview before. The work runs in a
Textual worker so the dashboard keeps polling; a finished action goes to `app.action_result`.
Keyboard: tab moves, enter submits, escape cancels (and stops a running burst).
No Redis call here: everything goes through `app.actions`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    OptionList,
    ProgressBar,
    RadioButton,
    RadioSet,
    Static,
)
from textual.widgets.option_list import Option

from .. import numbers as num
from ..actions import ActionResult, ValidationError, check_id
from ..model import label
from ..render import name_text, text

SHOWN_NAMES = 20  # consumer names listed in a hint; the rest are counted

DIALOG_CSS = """
ActionDialog, ConfirmDialog {
    align: center middle;
}
ActionDialog > #dialog, ConfirmDialog > #dialog {
    width: 76;
    max-width: 95%;
    height: auto;
    max-height: 90%;
    border: thick $primary 70%;
    background: $surface;
    padding: 1 2;
}
ActionDialog #title, ConfirmDialog #title {
    text-style: bold;
    margin-bottom: 1;
}
ActionDialog .hint {
    color: $text-muted;
}
ActionDialog Input, ActionDialog RadioSet, ActionDialog OptionList {
    margin-bottom: 1;
}
ActionDialog #error {
    color: $error;
    text-style: bold;
}
ActionDialog #info {
    margin-top: 1;
}
ActionDialog #buttons, ConfirmDialog #buttons {
    height: auto;
    margin-top: 1;
    align-horizontal: right;
}
ActionDialog #buttons Button, ConfirmDialog #buttons Button {
    margin-left: 2;
}
ActionDialog ProgressBar {
    margin-top: 1;
}
"""


def _t(name: bytes | None, limit: int = 60) -> Text:
    """A name in a dialog: escaped Text, never markup (titles, prompts, previews, bodies)."""
    return name_text(name or b"", limit)


def _names_hint(prefix: str, names: tuple[bytes, ...] | list[bytes], none: Text) -> Text:
    """"Consumer: a, b, c" with at most SHOWN_NAMES names, each cut, as data."""
    if not names:
        return Text.assemble(prefix, none)
    parts = Text(", ").join(_t(n, 40) for n in names[:SHOWN_NAMES])
    more = f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else ""
    return Text.assemble(prefix, parts, more)


def _short(message: str, limit: int = 600, style: str = "") -> Text:
    """A message from the actions layer, escaped; one made long by a long name keeps its head and
    its tail (what happened is at either end)."""
    if len(message) > limit:
        message = f"{message[:limit * 3 // 4]} … {message[-limit // 4:]}"
    return text(message, style, keep_newlines=True)


def _plain(content: str | Text) -> Text:
    """A str given to a dialog is plain text (Static and Label would parse it as markup)."""
    return content if isinstance(content, Text) else Text(content)


class Names:
    """Names the server gave, shown as labels (escaped: invalid UTF-8, control characters) and
    mapped back to their exact bytes; only a typed name that is no shown label is encoded."""

    def __init__(self, names: tuple[bytes, ...] | list[bytes]) -> None:
        self.raw: dict[str, bytes] = {}
        for n in names:
            self.raw.setdefault(label(n), n)

    @property
    def labels(self) -> list[str]:
        return list(self.raw)

    def resolve(self, text: str) -> bytes:
        return self.raw[text] if text in self.raw else text.encode()

    def known(self, text: str) -> bool:
        return text in self.raw


class ConfirmDialog(ModalScreen[bool]):
    """Yes or no for something that deletes: `y` or the button confirms, `n`/escape cancels.
    Cancel has the focus, so a stray enter never deletes."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape,n", "answer(False)", "Cancel"), Binding("y", "answer(True)", "Yes")]

    def __init__(self, title: str | Text, body: str | Text, verb: str) -> None:
        """`title` and `body` are shown as given: a str is plain text, not markup."""
        super().__init__()
        self.title_text, self.body, self.verb = title, body, verb

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(_plain(self.title_text), id="title")
            yield Static(_plain(self.body), id="body")
            with Horizontal(id="buttons"):
                yield Button(f"{self.verb} (y)", variant="error", id="yes")
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ActionDialog(ModalScreen[None]):
    """A form: `fields()` yields the inputs, `submit()` checks and runs. Subclasses set TITLE."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    TITLE = "action"
    VERB = "Run"

    def __init__(self, context: Any) -> None:
        super().__init__()
        self.context = context
        self.busy = False

    # ---- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.heading(), id="title")
            yield from self.fields()
            yield Static("", id="error")
            yield Static("", id="info")
            with Horizontal(id="buttons"):
                yield Button(self.VERB, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def heading(self) -> Text:
        where = Text.assemble(f"{self.TITLE}: ", _t(self.context.key))
        if self.context.group:
            where.append_text(Text.assemble(" / group ", _t(self.context.group)))
        return where

    def fields(self) -> ComposeResult:
        yield from ()

    # ---- helpers ----------------------------------------------------------------------------

    @property
    def actions(self) -> Any:
        return self.app.actions

    def value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def error(self, message: str) -> None:
        """Messages carry typed input and server names: shown escaped, never as markup."""
        self.query_one("#error", Static).update(_short(message))

    def info(self, content: str | Text) -> None:
        self.query_one("#info", Static).update(_plain(content))

    def launch(self, work: Callable[[], Awaitable[ActionResult]], *, keep_open_on_error: bool = True) -> None:
        """Run the action in a worker; success closes the dialog, a failure stays visible in it."""
        self.busy = True
        self.query_one("#ok", Button).disabled = True

        async def job() -> None:
            try:
                result = await work()
            except ValidationError as exc:  # the actions layer re-checks: same message, here
                self.error(str(exc))
                return
            finally:
                self.busy = False
                if self.is_attached:
                    self.query_one("#ok", Button).disabled = False
            self.finish(result, keep_open_on_error)

        self.run_worker(job(), exclusive=True, group="action")

    def finish(self, result: ActionResult, keep_open_on_error: bool = True) -> None:
        self.app.action_result(result)
        if result.ok or not keep_open_on_error:
            self.dismiss()
        else:
            self.error(result.message)

    def confirm(self, title: str | Text, body: str | Text, verb: str, then: Callable[[], None]) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                then()
            else:
                self.info(Text("cancelled: nothing was changed", "dim"))

        self.app.push_screen(ConfirmDialog(title, body, verb), answered)

    # ---- events -----------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if self.busy:  # closing now would cancel a command in flight without reporting it
            self.info(Text("still running: wait for the result", "yellow"))
            return
        self.dismiss()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._try_submit()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self._try_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    def _try_submit(self) -> None:
        if self.busy:
            return
        self.error("")
        try:
            self.submit()
        except (ValidationError, num.NumberError) as exc:  # nothing was sent
            self.error(str(exc))

    def submit(self) -> None:
        raise NotImplementedError


# ---- produce -------------------------------------------------------------------------------

class BurstDialog(ActionDialog):
    TITLE = "Produce a burst of test events"
    VERB = "Start"

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.cancel_event = asyncio.Event()

    def fields(self) -> ComposeResult:
        yield Label(f"How many events (1 to {num.BURST_COUNT.hi:,.0f})", classes="hint")
        yield Input("1000", id="count")
        yield Label("MAXLEN (empty: no limit)", classes="hint")
        yield Input("", placeholder="no limit", id="maxlen")
        yield Checkbox("approximate MAXLEN (~)", id="approx")
        yield ProgressBar(total=1, show_eta=False, id="progress")

    def on_mount(self) -> None:
        self.query_one("#progress").display = False
        self.query_one("#count", Input).focus()

    def submit(self) -> None:
        n = num.BURST_COUNT.parse(self.value("count"))
        text = self.value("maxlen").strip()
        maxlen = num.BURST_MAXLEN.parse(text) if text else None
        approx = self.query_one("#approx", Checkbox).value
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=n, progress=0)
        bar.display = True
        for w in self.query(Input):
            w.disabled = True
        self.query_one("#cancel", Button).label = "Stop (esc)"
        self.info(f"adding {n:,} events…")

        def progress(done: int, total: int) -> None:
            bar.update(progress=done)

        self.launch(lambda: self.actions.produce_burst(self.context.key, n, maxlen, approx,
                                                    progress=progress, cancel=self.cancel_event),
                 keep_open_on_error=False)

    def action_cancel(self) -> None:
        if self.busy:  # stop after the chunk in flight; the worker reports what was added
            self.cancel_event.set()
            self.info("stopping after the chunk in flight…")
        else:
            self.dismiss()


# ---- claim ---------------------------------------------------------------------------------

class ClaimDialog(ActionDialog):
    TITLE = "Claim stuck entries"
    VERB = "Claim"

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.armed_new: str | None = None  # a new consumer name the person was warned about

    def fields(self) -> ComposeResult:
        ctx = self.context
        self.names = Names(ctx.consumers)
        consumers = self.names.labels
        if ctx.selected_pending:
            yield Static(f"XCLAIM the {len(ctx.selected_pending)} selected entries", classes="hint")
        yield Label("Min idle time (seconds; or 500ms, 2m, 1h)", classes="hint")
        yield Input(f"{getattr(ctx, 'stuck_ms', 60_000) / 1000:g}", id="idle")
        yield Label(_names_hint("Into consumer: ", ctx.consumers,
                                Text("the group has no consumers: type a new name", "bold")),
                    classes="hint")
        yield Input(consumers[0] if consumers else "", placeholder="consumer name", id="consumer",
                    suggester=SuggestFromList(consumers, case_sensitive=True))
        if not ctx.selected_pending:
            yield Label("Cap: claim at most", classes="hint")
            yield Input("100", id="cap")

    def on_mount(self) -> None:
        self.query_one("#idle", Input).focus()

    @on(Input.Changed, "#consumer")
    def _consumer_changed(self, event: Input.Changed) -> None:
        self.armed_new = None
        if event.value and not self.names.known(event.value):
            self.info(Text.assemble(text(repr(event.value)), " is not a consumer of this group: "
                                    "claiming creates it", style="yellow"))
        else:
            self.info("")

    def submit(self) -> None:
        ctx = self.context
        idle = num.CLAIM_MIN_IDLE.parse(self.value("idle"))
        name = self.value("consumer")
        if not name:
            raise ValidationError("consumer is empty: pick one of the group's consumers"
                                  if ctx.consumers else
                                  "the group has no consumers: type a name for a new consumer")
        consumer = self.names.resolve(name)
        new = not self.names.known(name)
        if new and self.armed_new != name:
            self.armed_new = name
            self.info(Text.assemble(text(repr(name)), " is not a consumer of this group: press enter "
                                    "again to create it and claim", style="yellow"))
            return
        if ctx.selected_pending:
            ids = ctx.selected_pending
            self.launch(lambda: self.actions.claim_ids(ctx.key, ctx.group, consumer, idle, ids,
                                                    must_exist=not new))
        else:
            cap = num.CLAIM_COUNT.parse(self.value("cap"))
            self.launch(lambda: self.actions.claim_auto(ctx.key, ctx.group, consumer, idle, cap,
                                                     must_exist=not new))


# ---- trim ----------------------------------------------------------------------------------

class TrimDialog(ActionDialog):
    TITLE = "Trim"
    VERB = "Preview"

    def heading(self) -> Text:
        return Text.assemble(f"{self.TITLE} ", _t(self.context.key))

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.armed: tuple | None = None  # the inputs the shown preview is for

    def fields(self) -> ComposeResult:
        stream = self.context.stream
        if stream is not None:
            yield Static(text(f"{stream.length:,} entries, first {stream.first_entry_id or '-'}"),
                         classes="hint")
        with RadioSet(id="strategy"):
            yield RadioButton("MAXLEN: keep the newest N entries", value=True, id="maxlen")
            yield RadioButton("MINID: drop entries older than an ID", id="minid")
        yield Label("Threshold (N for MAXLEN, a stream ID for MINID)", classes="hint")
        yield Input("", placeholder="e.g. 1000 or 1700000000000-0", id="threshold")
        yield Checkbox("approximate (~): faster, removes whole nodes only", id="approx")

    def on_mount(self) -> None:
        self.query_one("#threshold", Input).focus()

    def inputs(self) -> tuple[str, Any, bool]:
        minid = self.query_one("#minid", RadioButton).value
        strategy = "MINID" if minid else "MAXLEN"
        raw = self.value("threshold")
        threshold = check_id(raw, "MINID") if minid else num.TRIM_MAXLEN.parse(raw)
        return strategy, threshold, self.query_one("#approx", Checkbox).value

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
        key = self.context.key
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

    def show_preview(self, result: ActionResult, args: tuple) -> None:
        p = result.details.get("preview")
        if not result.ok or p is None:
            self.error(result.message)
            return
        if p.nothing:
            self.info(_short(result.message))
            return
        lines = [Text.assemble("removes ", text(p.removes_text()))]
        lines += [_short(w, 300, "bold red") for w in p.warnings()]
        if p.strategy == "MAXLEN":
            lines.append(Text("entries added before you confirm make MAXLEN remove as many more", "dim"))
        lines.append(Text.assemble(("enter", "bold"), " again to trim, escape to cancel"))
        self.info(Text("\n").join(lines))
        self.armed = args
        self.query_one("#ok", Button).label = "Confirm trim"


# ---- group operations ----------------------------------------------------------------------

GROUP_OPS = (("create", "Create a group"), ("setid", "Set the group's ID (where it reads next)"),
             ("delconsumer", "Delete a consumer"), ("destroy", "Destroy the group"))


class GroupMenu(ModalScreen[str | None]):
    """Which group operation: arrows and enter, escape cancels."""

    DEFAULT_CSS = DIALOG_CSS.replace("ActionDialog", "GroupMenu")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, context: Any) -> None:
        super().__init__()
        self.context = context

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text.assemble("Group operations: ", _t(self.context.key)), id="title")
            ops = [op for op in GROUP_OPS if op[0] == "create" or self.context.group]
            yield OptionList(*[Option(text, id=op) for op, text in ops], id="ops")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class GroupCreateDialog(ActionDialog):
    TITLE = "Create a group"
    VERB = "Create"

    def heading(self) -> Text:
        return Text.assemble(f"{self.TITLE} on ", _t(self.context.key))

    def fields(self) -> ComposeResult:
        yield Label("Group name", classes="hint")
        yield Input("", id="name")
        yield Label("Read from: $ (new entries only), 0 (everything) or an ID", classes="hint")
        yield Input("$", id="start")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def submit(self) -> None:
        name = self.value("name")
        if not name:
            raise ValidationError("group name is empty")
        start = check_id(self.value("start"), "start ID", special=("$",))
        self.launch(lambda: self.actions.group_create(self.context.key, name.encode(), start))


class GroupSetIdDialog(ActionDialog):
    TITLE = "Set the group's ID"
    VERB = "Set"

    def fields(self) -> ComposeResult:
        gi = self.context.group_info
        if gi is not None:
            yield Static(text(f"now after {gi.last_delivered_id}"), classes="hint")
        yield Label("New last-delivered ID: $ (skip to the end), 0 (re-read everything) or an ID",
                    classes="hint")
        yield Input("$", id="id")

    def on_mount(self) -> None:
        self.query_one("#id", Input).focus()

    def submit(self) -> None:
        entry_id = check_id(self.value("id"), "ID", special=("$",))
        self.launch(lambda: self.actions.group_setid(self.context.key, self.context.group, entry_id))


class ConsumerDeleteDialog(ActionDialog):
    TITLE = "Delete a consumer"
    VERB = "Delete"

    def fields(self) -> ComposeResult:
        self.names = Names(self.context.consumers)
        consumers = self.names.labels
        yield Label(_names_hint("Consumer: ", self.context.consumers, Text("(none)")), classes="hint")
        yield Input(consumers[0] if consumers else "", id="consumer",
                    suggester=SuggestFromList(consumers, case_sensitive=True))

    def on_mount(self) -> None:
        self.query_one("#consumer", Input).focus()

    def submit(self) -> None:
        name = self.value("consumer")
        if not name:
            raise ValidationError("consumer is empty")
        ctx, consumer = self.context, self.names.resolve(name)
        self.busy = True

        async def preview() -> None:
            try:
                pre = await self.actions.consumer_preview(ctx.key, ctx.group, consumer)
            finally:
                self.busy = False
            if not pre.ok:
                self.error(pre.message)
                return
            style = "bold red" if pre.details.get("pending") else "bold"

            def delete() -> None:
                self.launch(lambda: self.actions.consumer_delete(ctx.key, ctx.group, consumer))

            self.confirm(Text.assemble("Delete consumer ", _t(consumer), "?"),
                         _short(pre.message, style=style), "Delete", delete)

        self.run_worker(preview(), exclusive=True, group="action")


def _destroy_group(app: Any, context: Any) -> None:
    actions = app.actions

    async def flow() -> None:
        pre = await actions.group_preview(context.key, context.group)
        if not pre.ok:
            app.action_result(pre)
            return
        body = Text.assemble(_short(pre.message), ": the group, its consumers and its pending entries "
                             "list go (the stream's entries stay)", style="bold red")

        def answered(yes: bool | None) -> None:
            if yes:
                async def destroy() -> None:
                    app.action_result(await actions.group_destroy(context.key, context.group))
                app.run_worker(destroy(), group="action")
            else:
                app.notify("destroy group: cancelled, nothing changed", markup=False)

        app.push_screen(ConfirmDialog(Text.assemble("Destroy group ", _t(context.group), "?"), body,
                                      "Destroy"), answered)

    app.run_worker(flow(), group="action")


# ---- dead-letter ---------------------------------------------------------------------------

class DeadLetterDialog(ActionDialog):
    TITLE = "Dead-letter"
    VERB = "Move"

    def fields(self) -> ComposeResult:
        ctx = self.context
        if ctx.selected_pending:
            yield Static(f"move the {len(ctx.selected_pending)} selected entries", classes="hint")
        else:
            yield Label("Move every pending entry delivered at least N times; N =", classes="hint")
            yield Input("3", id="deliveries")
        yield Label("to the dead-letter stream", classes="hint")
        self.names = Names([self.app.actions.default_dlq(ctx.key)])
        yield Input(self.names.labels[0], id="dlq")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def submit(self) -> None:
        ctx = self.context
        text = self.value("dlq")
        if not text.strip():
            raise ValidationError("dead-letter key is empty")
        dlq = self.names.resolve(text if self.names.known(text) else text.strip())
        if ctx.selected_pending:
            ids, n = ctx.selected_pending, None
            what = f"the {len(ids)} selected entries"
        else:
            ids, n = None, num.DLQ_DELIVERIES.parse(self.value("deliveries"))
            what = f"every pending entry delivered {n} times or more"
        body = Text.assemble(
            Text.assemble(f"Move {what} of group ", _t(ctx.group), " to ", _t(dlq),
                          " and ack them: they leave the group's pending list.", style="bold red"),
            "\nEach entry moves with MULTI/EXEC, so a dropped connection loses or duplicates nothing.")
        self.confirm("Dead-letter?", body, "Move",
                     lambda: self.launch(lambda: self.actions.dead_letter(ctx.key, ctx.group, ids, n,
                                                                       dlq)))


# ---- entry point ---------------------------------------------------------------------------

NAMES = ("produce", "burst", "ack", "claim", "trim", "group", "deadletter")
TITLES = {"produce": "produce", "burst": "produce burst", "ack": "ack", "claim": "claim",
          "trim": "trim", "group": "group operations", "deadletter": "dead-letter"}
NEEDS_GROUP = {"ack", "claim", "deadletter"}


def _refuse(app: Any, message: str) -> None:
    app.notify(text(message).plain, severity="warning", timeout=5, markup=False)


def open_dialog(app: Any, name: str, context: Any) -> None:
    """Open the dialog for an action key (name in NAMES; "dead_letter" also accepted)."""
    name = name.replace("_", "").replace("-", "")
    if name not in NAMES:
        _refuse(app, f"unknown action {name!r}")
        return
    title = TITLES[name]
    actions = getattr(app, "actions", None)
    if actions is None:
        _refuse(app, f"{title}: not connected to a server yet")
        return
    if context.read_only or actions.read_only:
        refusal = actions.refusal(title)
        _refuse(app, refusal.message if refusal else f"read-only mode: {title} refused")
        return
    if context.key is None:
        _refuse(app, f"{title}: select a stream first")
        return
    if name in NEEDS_GROUP and context.group is None:
        _refuse(app, f"{title}: select a consumer group first")
        return
    if name == "produce":
        async def produce() -> None:
            app.action_result(await actions.produce_one(context.key))
        app.run_worker(produce(), group="action")
    elif name == "ack":
        _ack(app, context)
    elif name == "group":
        def chosen(op: str | None) -> None:
            if op == "create":
                app.push_screen(GroupCreateDialog(context))
            elif op == "setid":
                app.push_screen(GroupSetIdDialog(context))
            elif op == "delconsumer":
                app.push_screen(ConsumerDeleteDialog(context))
            elif op == "destroy":
                _destroy_group(app, context)
        app.push_screen(GroupMenu(context), chosen)
    else:
        screen = {"burst": BurstDialog, "claim": ClaimDialog, "trim": TrimDialog,
                  "deadletter": DeadLetterDialog}[name]
        app.push_screen(screen(context))


def _ack(app: Any, context: Any) -> None:
    ids = tuple(context.selected_pending)
    if not ids:
        _refuse(app, "ack: no pending entry selected (select entries in the pending list first)")
        return

    def run() -> None:
        async def ack() -> None:
            app.action_result(await app.actions.ack(context.key, context.group, ids))
        app.run_worker(ack(), group="action")

    if len(ids) == 1:
        run()
        return

    def answered(yes: bool | None) -> None:
        if yes:
            run()
        else:
            app.notify("ack: cancelled, nothing changed", markup=False)

    body = Text.assemble(f"Ack {len(ids)} entries in group ", _t(context.group),
                         ": they leave its pending list.", style="bold red")
    app.push_screen(ConfirmDialog(f"Ack {len(ids)} entries?", body, "Ack"), answered)
