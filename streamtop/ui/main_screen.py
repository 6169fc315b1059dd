"""The dashboard's one screen: it composes the panels, owns the selection, and renders views.

The app hands it snapshots (`apply`) and header states (`show_header`); the screen resolves the
selection against the snapshot into one `DashboardView` and gives that same object to every panel
(`panel.show(view)`). The selection (stream, group, pages, marks) lives here only: panels post
what the user did (a row highlighted) or run this screen's actions through their keys
(`screen.mark`, `screen.pending_page`), and the screen tells the app what the next poll must
fetch (`on_focus`). It also shares the terminal's rows between the bands (layout.plan_rows) and
zooms the focused panel to the whole screen (`z`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ActiveBinding, Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, TabbedContent, TabPane

from streamtop.pipeline.history import History
from streamtop.pipeline.liveness import liveness, poll_clock
from streamtop.pipeline.model import Entry, Focus, PendingEntry, Snapshot, StreamInfo

from .consumer_screen import ConsumerScreen, consumer_text
from .consumers import ConsumersPanel
from .demo_panel import Controller, DemoPanel
from .detail import StreamDetail
from .entry_screen import EntryScreen
from .groups import GroupsPanel
from .header import HeaderBar, HeaderInfo
from .layout import NARROW_BELOW, RowPlan, plan_rows
from .messages import MessagesPanel
from .panel import Panel
from .pending import PendingPanel
from .registry import write_actions
from .streams import StreamsPanel
from .view import MESSAGES_PAGE, PENDING_PAGE, DashboardView, Selection, Thresholds, build_view

# what the next poll must fetch; `poll`: whether it is worth a poll now (debounced), or can wait for
# the next one (rows that came into view already read in full)
FocusSink = Callable[[Focus | None, bool], None]


class Body(Vertical):
    """The three bands below the header; tells the screen when its height changes."""

    class Resized(Message):
        pass

    def on_resize(self, event: events.Resize) -> None:
        self.post_message(self.Resized())


def resolve_group(stream: StreamInfo | None, group: bytes | None) -> bytes | None:
    """The selected group while the stream has it, else its first group (a new stream, or the
    group was destroyed)."""
    if stream is None:
        return None
    names = [g.name for g in stream.groups]
    if group in names:
        return group
    return names[0] if names else None


class MainScreen(Screen[None]):
    ALLOW_IN_MAXIMIZED_VIEW = "HeaderBar, Footer"
    # Textual's auto focus gives a screen without focus its first focusable widget: the streams
    # filter, hidden. on_screen_resume puts the focus back where it was instead.
    AUTO_FOCUS = ""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's, less the footer entries of the keys that change the server when the app is
        read-only (issue 31: the footer offered Produce, Ack, Claim and Trim in a read-only
        page). The keys still work: pressed, they say why they are refused."""
        active = super().active_bindings
        if not getattr(self.app, "read_only", False):
            return active
        writes = write_actions()
        return {
            key: b._replace(binding=replace(b.binding, show=False)) if b.binding.action in writes else b
            for key, b in active.items()
        }

    def __init__(
        self, *, history: History, thresholds: Thresholds, on_focus: FocusSink, demo: Controller | None = None
    ) -> None:
        super().__init__()
        self.history = history
        self.thresholds = thresholds
        self.on_focus = on_focus
        self.selection = Selection()
        self.rows_shown: frozenset[bytes] = frozenset()  # streams whose rows are on screen (issue 17)
        self.snapshot: Snapshot | None = None
        self.view = build_view(None, self.selection, history, thresholds)
        self.plan: RowPlan | None = None
        self.header = HeaderBar(id="header")
        self.body = Body(id="body")
        self.top = Horizontal(id="top")
        self.middle = Horizontal(id="middle")
        self.streams = StreamsPanel(id="streams")
        self.detail = StreamDetail(id="detail")
        self.groups = GroupsPanel(id="groups")
        self.consumers = ConsumersPanel(id="consumers")
        self.lower = TabbedContent(id="lower", initial="pending-tab")
        self.pending = PendingPanel(id="pending")
        self.messages = MessagesPanel(id="messages")
        self.demo_panel = DemoPanel(demo) if demo is not None else None
        # every panel that draws the view, in the order it is drawn: the streams panel first (its
        # cursor, filter and sort decide the stream), then the ones that show the settled view
        self.panels: tuple[Panel, ...] = (
            self.streams,
            self.detail,
            self.groups,
            self.consumers,
            self.pending,
            self.messages,
        )
        self.last_focused: Widget | None = None  # what had the focus before a dialog took it

    def compose(self) -> ComposeResult:
        yield self.header
        with self.body:
            with self.top:
                yield self.streams
                yield self.detail
            with self.middle:
                yield self.groups
                yield self.consumers
            with self.lower:
                with TabPane("Pending entries", id="pending-tab"):
                    yield self.pending
                with TabPane("Messages", id="messages-tab"):
                    yield self.messages
        if self.demo_panel is not None:
            yield self.demo_panel
        yield Footer()

    def on_mount(self) -> None:
        self.streams.border_title = "Streams"
        self.detail.border_title = "Stream"
        self.groups.border_title = "Groups"
        self.consumers.border_title = "Consumers"
        self.streams.table.focus()
        self.refresh_view()  # what arrived before the panels were mounted
        # Back on top after a dialog: the focus is put back at once, in the same step as the pop.
        # ScreenResume comes later, as a message, and a key typed right after the dialog closed
        # (Escape then x) could reach the app before it, with no panel focused.
        self.app.screen_change_signal.subscribe(self, self._on_screen_change, immediate=True)

    def set_focus(
        self, widget: Widget | None, scroll_visible: bool = True, from_app_focus: bool = False
    ) -> None:
        """Every focus change of this screen passes here: the widget is remembered at once. The
        DescendantFocus message said it later, and a dialog opened and closed before it arrived
        (keys typed fast, a loaded machine) gave the focus back to the panel focused before."""
        if widget is not None:
            self.last_focused = widget
        super().set_focus(widget, scroll_visible, from_app_focus)

    def _on_screen_change(self, screen: Screen[object]) -> None:
        if screen is self:
            self.on_screen_resume()

    def on_screen_resume(self) -> None:
        """Back from a dialog: keys go to the panel that had the focus, also when Textual dropped
        the focus meanwhile (the widget hidden by a tab switch or a layout change); never to the
        hidden stream filter. Synchronous, so keys already typed arrive after it."""
        if self.focused is not None and self.focused in self.focus_chain:
            return
        target = self.last_focused
        tabs = {self.pending.table: "pending-tab", self.messages.table: "messages-tab"}
        if target in tabs and target is not None and target.is_attached:
            self.lower.active = tabs[target]  # its tab was switched away meanwhile: back to it
        elif target is None or target not in self.focus_chain:  # gone, or its panel hidden
            target = self.streams.table
        self.set_focus(target)

    @property
    def is_live(self) -> bool:
        """False while the app shuts down (the widgets are being removed)."""
        return self.is_attached and self.streams.is_attached and self.streams.table.is_attached

    # rendering ------------------------------------------------------------------------------

    def apply(self, snapshot: Snapshot) -> None:
        """A new snapshot: every panel redrawn from one view (tables change only where the data
        did)."""
        self.snapshot = snapshot
        self.refresh_view()

    def show_header(self, info: HeaderInfo) -> None:
        self.header.info = info

    def _build(self) -> DashboardView:
        return build_view(self.snapshot, self.selection, self.history, self.thresholds)

    def current_view(self) -> DashboardView:
        """The selection as it is now, resolved against the last snapshot (what a key acts on)."""
        return self.view if self.view.selection is self.selection else self._build()

    def refresh_view(self, streams: bool = True) -> None:
        """Build the view and show it. A cursor the user moved wins (its highlight event may
        still be on its way); the streams table then says which stream is under the cursor (its
        filter and sort are its own); then the group is resolved, marks that left the page are
        dropped, and the other panels draw the settled view. Before the panels are mounted (a
        test or script may select first) only the selection changes; on_mount draws it."""
        if not self.is_live:
            return
        self._adopt_cursors()
        view = self._build()
        if streams:
            self.streams.show(view)
            if self.streams.highlighted != self.selection.key:
                self._change(self.selection.with_stream(self.streams.highlighted))
                view = self._build()
                self.streams.show(view)
        group = resolve_group(view.stream, self.selection.group)
        if group != self.selection.group:
            self._change(self.selection.with_group(group))
            view = self._build()
        present = frozenset(p.id for p in view.pending or ())
        if not self.selection.marked <= present:  # acked or claimed meanwhile: nothing to act on
            self._change(self.selection.with_marks(self.selection.marked & present))
            view = self._build()
        for panel in self.panels:
            if panel is not self.streams:  # drawn above, while the stream was being settled
                panel.show(view)
        self.view = view
        self._arrange()

    def _adopt_cursors(self) -> None:
        """A table cursor that is not on the selection was moved by the user (programmatic moves
        go through `select`, which moves the cursors and the selection together)."""
        key = self.streams.highlighted
        if key is not None and key != self.selection.key:
            self._change(self.selection.with_stream(key))
        elif self.groups.shown_for is not None and self.groups.shown_for == self.selection.key:
            group = self.groups.highlighted
            if group is not None and group != self.selection.group:
                self._change(self.selection.with_group(group))

    def _focus(self) -> Focus | None:
        """The selection's pages; the messages only while their tab is shown (issue 29: a 10 MB
        entry read every poll behind the Pending tab)."""
        focus = self.selection.focus()
        if focus is None:
            return None
        messages = focus.messages_count if self.lower.active == "messages-tab" else 0
        return replace(focus, visible=self.rows_shown, messages_count=messages)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """The Messages tab shown (or hidden): its page is read from the next poll on, now."""
        if event.tabbed_content is self.lower and self.selection.key is not None:
            self.on_focus(self._focus(), True)

    def _change(self, selection: Selection) -> None:
        """The one place the selection changes; the app hears when the pages to fetch did."""
        before = self._focus()
        self.selection = selection
        after = self._focus()
        if after != before:
            self.on_focus(after, True)

    def on_streams_panel_shown(self, message: StreamsPanel.Shown) -> None:
        """Other rows came into view (scroll, sort, filter, resize): the next poll reads them in
        full; a poll is due now only when one of them has not been read in full."""
        if message.keys == self.rows_shown:
            return
        self.rows_shown = message.keys
        # the rows' streams from the panel's own map (a map of every stream made here was 20-60 ms
        # at 100,000 streams, at every scroll and every first-scan part)
        stream = self.streams.stream
        unread = any((s := stream(k)) is None or s.summary_only for k in message.keys)
        self.on_focus(self._focus(), unread)

    def select(self, key: bytes, group: bytes | None = None) -> None:
        """Put the cursor on a stream (and one of its groups), as a user would."""
        self.streams.move_to(key)
        if key != self.selection.key:
            self._change(self.selection.with_stream(key))
        if group is not None:
            if self.groups.shown_for == key:
                self.groups.move_to(group)
            if group != self.selection.group:
                self._change(self.selection.with_group(group))
        self.refresh_view()

    # layout -----------------------------------------------------------------------------------

    def _arrange(self) -> None:
        """Share the rows between the bands for this terminal and this selection."""
        self.set_class(self.size.width < NARROW_BELOW, "-narrow")
        view = self.view
        groups = len(view.stream.groups) if view.stream is not None else 0
        consumers = len(view.group.consumer_list) if view.group is not None else 0
        height = self.body.size.height or max(1, self.size.height - 2)
        plan = plan_rows(
            height,
            groups,
            consumers,
            top_scrollbar=self.streams.table.show_horizontal_scrollbar,
            middle_scrollbar=self.groups.table.show_horizontal_scrollbar
            or self.consumers.table.show_horizontal_scrollbar,
        )
        if plan != self.plan:
            self.plan = plan
            self.top.styles.height = plan.top
            self.middle.styles.height = plan.middle
            self.set_class(not plan.sparklines, "-compact")
            # whether a table needs a horizontal scrollbar is known after the layout
            self.call_after_refresh(self._arrange)

    def on_body_resized(self, message: Body.Resized) -> None:
        self._arrange()

    def on_resize(self, event: events.Resize) -> None:
        self._arrange()

    # what the panels report -------------------------------------------------------------------

    def on_streams_panel_selected(self, message: StreamsPanel.Selected) -> None:
        if message.key != self.selection.key:
            self._change(self.selection.with_stream(message.key))
            self.refresh_view()

    def on_groups_panel_selected(self, message: GroupsPanel.Selected) -> None:
        if message.group != self.selection.group:
            self._change(self.selection.with_group(message.group))
            self.refresh_view(streams=False)

    def on_messages_panel_open(self, message: MessagesPanel.Open) -> None:
        if self.selection.key is not None:
            key, entry_id = self.selection.key, message.entry.id

            async def fetch() -> Entry | None:  # the actions layer at the time of `w` (a reconnect
                actions = getattr(self.app, "actions", None)  # replaces it)
                if actions is None:  # attached without --url: say to give it (the app's words)
                    why = getattr(self.app, "no_actions_reason", None)
                    raise RuntimeError(why() if why is not None else "not connected to a server yet")
                got: Entry | None = await actions.entry(key, entry_id)
                return got

            self.app.push_screen(EntryScreen(key, message.entry, self.thresholds.decode_format(key), fetch))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """`enter` drills in: streams -> groups -> pending entries; on a consumer or a pending
        entry, the consumer in full (the tables shorten long names)."""
        if event.data_table is self.streams.table:
            self.groups.table.focus()
        elif event.data_table is self.groups.table:
            self.lower.active = "pending-tab"
            self.pending.table.focus()
        elif event.data_table is self.consumers.table and self.consumers.table.cursor_key:
            self.show_consumer(bytes.fromhex(self.consumers.table.cursor_key))
        elif event.data_table is self.pending.table:
            entry = next((p for p in self.view.pending or () if p.id == self.pending.cursor_id), None)
            if entry is not None:
                self.show_consumer(entry.consumer, entry)

    def show_consumer(self, name: bytes, entry: PendingEntry | None = None) -> None:
        """The consumer's full name, counts and liveness, from the view on screen."""
        view, group = self.view, self.view.group
        if group is None:
            return
        info = next((c for c in group.consumer_list if c.name == name), None)
        now_ms, server_clock = poll_clock(view.snapshot)
        state = liveness(info, group, now_ms, server_clock=server_clock) if info is not None else None
        body = consumer_text(name, group.name, info, state, view.server.has_inactive, entry)
        self.app.push_screen(ConsumerScreen(body))

    # keys -------------------------------------------------------------------------------------

    def action_mark(self) -> None:
        """`x`: mark the pending entry under the cursor (or unmark it), then move down."""
        entry = self.pending.cursor_id
        if entry is None:
            return
        self._change(self.selection.toggle_mark(entry))
        self.refresh_view(streams=False)
        table = self.pending.table
        if table.cursor_row + 1 < table.row_count:
            table.move_cursor(row=table.cursor_row + 1)

    def action_mark_all(self) -> None:
        """`X`: mark every entry of the page, or none when all are marked."""
        ids = frozenset(p.id for p in self.view.pending or ())
        marked = frozenset() if ids <= self.selection.marked else ids
        self._change(self.selection.with_marks(marked))
        self.refresh_view(streams=False)

    def unmark(self, ids: tuple[str, ...]) -> None:
        """An action consumed these marks (acked, claimed, dead-lettered): they are dropped."""
        if self.selection.marked & set(ids):
            self._change(self.selection.with_marks(self.selection.marked - set(ids)))
            self.refresh_view(streams=False)

    def action_pending_page(self, which: str) -> None:
        entries = self.view.pending or ()
        if which == "next":
            if len(entries) < PENDING_PAGE:
                self.app.bell()
                return
            self._change(self.selection.next_pending_page(entries[-1].id))
        elif self.selection.pending_page:
            self._change(self.selection.first_pending_page())
        self.refresh_view(streams=False)

    def action_messages_page(self, which: str) -> None:
        entries = self.view.messages or ()
        if which == "next":
            if len(entries) < MESSAGES_PAGE:
                self.app.bell()
                return
            self._change(self.selection.next_messages_page(entries[-1].id))
        else:
            self.messages.follow()  # `[`: the newest entries, following the tail again
            if self.selection.messages_page:
                self._change(self.selection.first_messages_page())
        self.refresh_view(streams=False)

    def action_zoom(self) -> None:
        """`z`: the panel with the focus fills the screen (under the header); `z` or esc again
        restores the layout. At 80x24 this is how every panel gets its rows."""
        if self.maximized is not None:
            self.minimize()
        elif self.focused is not None:
            self.maximize(self.focused)

    def show_tab(self, tab: str) -> None:
        self.lower.active = tab

    def back(self) -> None:
        self.minimize()
        self.streams.table.focus()
