"""Group operations behind `g`: a menu, then create a group, set its ID, delete a consumer (after
a preview of what it holds), delete the consumers that are gone, or destroy the group (after a
confirmation)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from streamtop.pipeline.render import text

from ...actions import ValidationError, check_id
from ..context import ActionContext
from .base import ActionDialog
from .confirm import ConfirmDialog
from .names import Names, names_hint
from .shared import CSS_FILE, ActionFinished, host_actions, name_of, run_action, short

GROUP_OPS = (
    ("create", "Create a group"),
    ("setid", "Set the group's ID (where it reads next)"),
    ("delconsumer", "Delete a consumer"),
    ("destroy", "Destroy the group"),
    ("delgone", "Delete consumers that are gone (holding no pending entries)"),
)


class GroupMenu(ModalScreen[str | None]):
    """Which group operation: arrows and enter, escape cancels."""

    CSS_PATH = CSS_FILE
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, context: ActionContext) -> None:
        super().__init__()
        self.context = context

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text.assemble("Group operations: ", name_of(self.context.key)), id="title")
            ops = [op for op in GROUP_OPS if op[0] == "create" or self.context.group]
            yield OptionList(*[Option(label, id=op) for op, label in ops], id="ops")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


def open_group_menu(app: App[Any], context: ActionContext) -> None:
    """The registry's opener for `g`: the menu, then the chosen operation."""

    def chosen(op: str | None) -> None:
        if op == "create":
            app.push_screen(GroupCreateDialog(context))
        elif op == "setid":
            app.push_screen(GroupSetIdDialog(context))
        elif op == "delconsumer":
            app.push_screen(ConsumerDeleteDialog(context))
        elif op == "delgone":
            delete_gone_consumers(app, context)
        elif op == "destroy":
            destroy_group(app, context)

    app.push_screen(GroupMenu(context), chosen)


class GroupCreateDialog(ActionDialog):
    TITLE = "Create a group"
    VERB = "Create"

    def heading(self) -> Text:
        return Text.assemble(f"{self.TITLE} on ", name_of(self.context.key))

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
        key = self.key
        self.launch(lambda: self.actions.group_create(key, name.encode(), start))


class GroupSetIdDialog(ActionDialog):
    TITLE = "Set the group's ID"
    VERB = "Set"

    def fields(self) -> ComposeResult:
        gi = self.context.group_info
        if gi is not None:
            yield Static(text(f"now after {gi.last_delivered_id}"), classes="hint")
        yield Label(
            "New last-delivered ID: $ (skip to the end), 0 (re-read everything) or an ID", classes="hint"
        )
        yield Input("$", id="id")

    def on_mount(self) -> None:
        self.query_one("#id", Input).focus()

    def submit(self) -> None:
        entry_id = check_id(self.value("id"), "ID", special=("$",))
        key, group = self.key, self.group
        self.launch(lambda: self.actions.group_setid(key, group, entry_id))


class ConsumerDeleteDialog(ActionDialog):
    TITLE = "Delete a consumer"
    VERB = "Delete"

    def __init__(self, context: ActionContext) -> None:
        super().__init__(context)
        self.names = Names(context.consumers)

    def fields(self) -> ComposeResult:
        consumers = self.names.labels  # the most recently active first: the idle longest is last
        yield Label(names_hint("Consumer: ", self.context.consumers, Text("(none)")), classes="hint")
        yield Input(
            consumers[-1] if consumers else "",
            id="consumer",
            suggester=SuggestFromList(consumers, case_sensitive=True),
        )

    def on_mount(self) -> None:
        self.query_one("#consumer", Input).focus()

    def submit(self) -> None:
        name = self.value("consumer")
        if not name:
            raise ValidationError("consumer is empty")
        key, group, consumer = self.key, self.group, self.names.resolve(name)
        self.busy = True

        async def preview() -> None:
            try:
                pre = await self.actions.consumer_preview(key, group, consumer)
            finally:
                self.busy = False
            if not pre.ok:
                self.error(pre.message)
                return
            style = "bold red" if pre.pending else "bold"

            def delete() -> None:
                self.launch(lambda: self.actions.consumer_delete(key, group, consumer))

            self.confirm(
                Text.assemble("Delete consumer ", name_of(consumer), "?"),
                short(pre.message, style=style),
                "Delete",
                delete,
            )

        self.run_worker(preview(), exclusive=True, group="action")


def destroy_group(app: App[Any], context: ActionContext) -> None:
    """What the group holds, a confirmation, then XGROUP DESTROY; the result goes to the host."""
    actions, key, group = host_actions(app), context.stream_key(), context.group_name()
    if actions is None:
        return

    async def flow() -> None:
        pre = await actions.group_preview(key, group)
        if not pre.ok:
            app.post_message(ActionFinished(pre))
            return
        body = Text.assemble(
            short(pre.message),
            ": the group, its consumers and its pending entries list go (the stream's entries stay)",
            style="bold red",
        )

        def answered(yes: bool | None) -> None:
            if yes:
                run_action(app, lambda: actions.group_destroy(key, group))
            else:
                app.notify("destroy group: cancelled, nothing changed", markup=False)

        app.push_screen(
            ConfirmDialog(Text.assemble("Destroy group ", name_of(group), "?"), body, "Destroy"), answered
        )

    app.run_worker(flow(), group="action")


def delete_gone_consumers(app: App[Any], context: ActionContext) -> None:
    """The gone consumers that hold nothing (streamtop.pipeline.liveness), each with its reason, a
    confirmation, then a delete that re-checks each one on the server."""
    actions, key, group = host_actions(app), context.stream_key(), context.group_name()
    if actions is None:
        return

    async def flow() -> None:
        pre = await actions.gone_preview(key, group)
        names = pre.deletable
        if not pre.ok or not names:
            app.post_message(ActionFinished(pre))
            return
        body = Text(pre.message + ":\n", "bold")
        for name, pending, state in pre.gone:
            if pending == 0:
                body.append_text(Text.assemble("  ", name_of(name), "  ", (state.reason, "dim"), "\n"))
        for name, _, state in [*pre.kept, *pre.unsure]:
            body.append_text(Text.assemble("  kept: ", name_of(name), "  ", (state.reason, "dim"), "\n"))

        def answered(yes: bool | None) -> None:
            if yes:
                run_action(app, lambda: actions.delete_gone(key, group, names))
            else:
                app.notify("delete gone consumers: cancelled, nothing changed", markup=False)

        app.push_screen(
            ConfirmDialog(Text.assemble("Delete gone consumers of ", name_of(group), "?"), body, "Delete"),
            answered,
        )

    app.run_worker(flow(), group="action")
