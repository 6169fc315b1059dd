"""The dashboard: a MainScreen fed by a chained poll loop over a Monitor (no Redis call in a widget).

The app holds the poll loop, the header's state and the keys; the MainScreen (main_screen.py)
composes the panels, owns the selection and renders every snapshot. `apply_snapshot(snapshot)`
renders one snapshot synchronously (the benchmark times it); `show_snapshot(snapshot)` does the
same without a server, for snapshot tests and screenshots.
The poll loop schedules the next poll when the last one ends, so a slow server
never makes polls pile up; `space` and a change of selection wake it early.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar, overload

from textual.app import App, SystemCommand
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget

from streamtop.pipeline.liveness import claim_order, poll_clock
from streamtop.pipeline.model import Focus, Snapshot
from streamtop.pipeline.render import clean

from ..actions import ActionResult, Actions
from ..errors import ConfigError
from ..monitor import Monitor, State, aged
from ..options import DASHBOARD_DEFAULTS as DEFAULTS
from .context import READ_ONLY_REASON, ActionContext
from .demo_panel import Controller
from .dialogs import ActionFinished
from .header import HeaderInfo, summary_age, uncovered_slots
from .help import HelpScreen
from .main_screen import MainScreen
from .registry import Command, Scope, app_bindings, open_dialog, palette_entries
from .view import Thresholds, health_counts

INTERVALS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
NOTIFY_LIMIT = 400  # characters of a notification (a 10 kB key would fill the screen)
FOCUS_DEBOUNCE = 0.15  # seconds a selection must rest before it triggers a poll
W = TypeVar("W", bound=Widget)


class StreamtopApp(App[int]):
    CSS_PATH = "streamtop.tcss"
    TITLE = "streamtop"
    BINDINGS = app_bindings()  # every key is declared once, in streamtop.ui.registry
    POLL_LOOP = True  # False: something else than the session's polls moves the screen (replay)

    def __init__(
        self,
        monitor: Monitor,
        actions: Actions | None = None,
        *,
        read_only: bool = DEFAULTS.read_only,
        demo: Controller | None = None,
        stuck_ms: int = DEFAULTS.stuck_ms,
        poison: int = DEFAULTS.poison_deliveries,
        decode: tuple[tuple[bytes | None, str], ...] = (),
        clock: Callable[[], float] = time.time,
        url: str | None = None,
    ) -> None:
        """`monitor`: the session (streamtop.commands.dashboard.open_session), which owns every client, the
        `Actions`, the History and the interval; on a ListSource (streamtop.pipeline.source) it shows
        snapshots made elsewhere (tests, screenshots, benches), with `actions` if given.
        `read_only` can only add the guard to the session's, never lift it."""
        super().__init__()
        self.monitor = monitor
        self._given_actions = actions
        if read_only:
            monitor.set_read_only(True)
        self.read_only = monitor.read_only
        self.demo = demo
        self.stuck_ms = stuck_ms
        self.poison = poison
        self.decode = decode
        self.clock = clock
        self.url = url if url is not None else monitor.url
        self.history = monitor.history
        self.snapshot: Snapshot | None = None
        self._main: MainScreen | None = None  # made with the app's first screen
        self._gc_frozen = False
        self.fatal: ConfigError | None = None  # what ended the app: run_dashboard re-raises it
        self.bug: str | None = None  # the last unexpected poll failure, as notified
        self._wake = asyncio.Event()
        # issue 24: actions whose reply the server did not give, read again after the next good poll
        self._rechecks: list[Callable[[], Awaitable[ActionResult]]] = []
        self.focus_debounce = FOCUS_DEBOUNCE
        self._focus_timer: Timer | None = None  # a pending debounced focus poll
        self.loop_waiting = False  # the poll loop is between polls ...
        self.loop_delay: float | None = None  # ... for this long (None: until woken)
        self._aged_from: Snapshot | None = None  # the real snapshot behind an aged one on screen
        self._counted: tuple[Snapshot, tuple[tuple[str, int], ...]] | None = None

    # the screen -----------------------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        thresholds = Thresholds(self.stuck_ms, self.poison, self.decode)
        self._main = MainScreen(
            history=self.history, thresholds=thresholds, on_focus=self.focus_changed, demo=self.demo
        )
        return self._main

    @property
    def main(self) -> MainScreen:
        """The dashboard's screen, also while a modal screen is on top."""
        if self._main is None:
            raise RuntimeError("the app is not running")
        return self._main

    @overload
    def w(self, widget_id: str) -> Widget: ...

    @overload
    def w(self, widget_id: str, expect_type: type[W]) -> W: ...

    def w(self, widget_id: str, expect_type: type[W] | None = None) -> Widget | W:
        """A widget of the main screen by id (tests and scripts; the app uses `main`'s fields),
        checked to be an `expect_type` when given."""
        if expect_type is None:
            return self.main.query_one(f"#{widget_id}")
        return self.main.query_one(f"#{widget_id}", expect_type)

    @property
    def paused(self) -> bool:
        """`p`: the session polls no more until resumed (`space` still polls once)."""
        return self.monitor.paused

    @property
    def interval(self) -> float:
        """Seconds between polls: the session holds it (`+` / `-` change it there)."""
        return self.monitor.interval

    def on_mount(self) -> None:
        self.render_header()
        if self.POLL_LOOP:
            self.run_worker(self._poll_loop(), name="poll", group="poll", exclusive=True)
        self.set_interval(1.0, self.tick)

    async def on_unmount(self) -> None:
        """The monitor owns every client (poll, cluster nodes, actions): close them all."""
        await self.monitor.close()

    # the poll loop --------------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        with contextlib.suppress(NoMatches):  # the app is closing: its widgets are being removed
            await self._poll_forever()

    async def _poll_forever(self) -> None:
        monitor = self.monitor
        while True:
            forced = self._wake.is_set()
            self._wake.clear()
            if forced or not monitor.paused:
                self.render_header()
                # the header turns to NOT ANSWERING the moment the poll is overdue, not at the
                # next one-second tick; the poll itself is never waited on by the UI
                overdue = self.set_timer(monitor.answer_timeout + 0.05, self.tick)
                before = monitor.polls
                try:
                    snap = await monitor.poll()
                except ConfigError as exc:  # waiting will not fix it: end with its message
                    self.fatal = exc
                    self.exit(return_code=1)
                    return
                except Exception as exc:  # a bug, not the server: say so, keep the dashboard up
                    self._report_bug(exc)
                    snap = None
                finally:
                    overdue.stop()
                if self._rechecks and monitor.failures == 0 and monitor.state is State.LIVE:
                    self.run_worker(self._recheck(), group="recheck")
                fresh = monitor.polls != before  # else the last one again: failed, or nothing new
                if fresh and snap is not None and snap is not self.snapshot and snap is not self._aged_from:
                    self._aged_from = None
                    await asyncio.sleep(0)  # let keys and repaints in between poll and apply
                    self.apply_snapshot(snap)
                    if not self._gc_frozen:
                        # what exists after the first full render (Textual's widgets, the table
                        # cells) lives as long as the app: keep it out of every later full GC
                        # pass, which otherwise stalls the screen for tens of ms at 1,000 streams.
                        # While the first scan goes on, after each of its parts: the heap grows
                        # by thousands of streams a part, and each full pass over it was 0.1-0.7 s
                        # of stall at 100,000 streams (issue 29)
                        gc.freeze()
                        self._gc_frozen = snap.discovery.complete
                self.render_header()
            if monitor.failures and not monitor.paused:
                delay: float | None = monitor.retry_in()
            else:
                delay = None if monitor.paused else monitor.poll_delay()
            self.loop_waiting, self.loop_delay = True, delay
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            finally:
                self.loop_waiting = False

    def tick(self) -> None:
        """Every second: the header (its ages and countdowns); while the server does not answer,
        the last snapshot again with its idle times advanced by the local clock."""
        m = self.monitor
        frozen = m.frozen_for()
        if m.last is not None and frozen is not None and self._live_widgets():
            self._aged_from = m.last
            self.apply_snapshot(aged(m.last, frozen))
        self.render_header()

    def poll_now(self) -> None:
        """Wake the poll loop: the next poll starts as soon as the current one (if any) ends."""
        self._wake.set()

    def _report_bug(self, exc: Exception) -> None:
        """Notify once per distinct failure (a poll loop at 0.1 s would flood otherwise) and log
        the traceback; the loop goes on at its interval."""
        text = f"internal error while polling: {type(exc).__name__}: {exc}"
        self.log.error("".join(traceback.format_exception(exc)))
        if text != self.bug:
            self.bug = text
            self.notify(text, severity="error", timeout=10)

    @property
    def actions(self) -> Actions | None:
        """The session's actions layer (None before the first connection), read at each use since
        a reconnect to a different server replaces it; dialogs find it via dialogs.host_actions."""
        if self._given_actions is not None:
            return self._given_actions
        return self.monitor.actions

    def no_actions_reason(self) -> str:
        """What a key that reads or writes through the actions layer says when there is none:
        attached without --url, the session's own words (the refusals' and the footer's); else
        no connection yet."""
        reason = getattr(self.monitor, "read_only_reason", None) if self.read_only else None
        return reason or "not connected to a server yet"

    # rendering ------------------------------------------------------------------------------

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Render a snapshot made elsewhere (tests, screenshots, on a ListSource session): the
        session takes it as its last poll (the rates, the state), then it is applied."""
        self.monitor.accept(snapshot)
        self.apply_snapshot(snapshot)

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Render one snapshot into every panel, synchronously; tables change only where the
        data did."""
        self.snapshot = snapshot
        if self._main is None:
            return
        self.main.apply(snapshot)  # kept and drawn on mount when the panels are not there yet
        self.render_header()

    def _live_widgets(self) -> bool:
        """False before the screen's panels are mounted and while the app shuts down."""
        return self._main is not None and self._main.is_live

    def render_header(self) -> None:
        """Also before the screen is mounted: the header is drawn with it, not a second later."""
        if self._main is not None:
            self.main.show_header(self.header_info())

    def _health_counts(self, snap: Snapshot | None) -> tuple[tuple[str, int], ...]:
        """The header's verdict counts, once per snapshot (the header is drawn every second and
        twice a poll; at 10,000 streams a count looks at 20,000 groups)."""
        if snap is None:
            return ()
        if self._counted is None or self._counted[0] is not snap:
            self._counted = (snap, health_counts(snap.streams, self.history))
        return self._counted[1]

    def header_info(self) -> HeaderInfo:
        snap = self.snapshot
        m = self.monitor
        server = m.server if m.server else snap.server if snap else None
        base = HeaderInfo(
            url=m.header_url() if m is not None and hasattr(m, "header_url") else self.url,
            server=f"{server.title} ({server.mode})" if server else "",
            interval=self.interval,
            read_only=self.read_only,
            round_trips=(snap.round_trips + snap.discovery_round_trips) if snap else 0,
            poll_ms=snap.duration_ms if snap else None,
            streams=len(snap.streams) if snap else 0,
            capped=snap.discovery.capped if snap else False,
            discovering=bool(snap and not snap.discovery.complete),
            max_streams=snap.discovery.max_streams if snap else 0,
            nodes=len(snap.nodes) if snap else 0,
            down_nodes=tuple(
                f"{n.address} ({n.error})" for n in snap.stale_nodes if n.not_answering_for is None
            )
            if snap
            else (),
            not_answering_nodes=tuple(
                f"{n.address} ({n.error})" for n in snap.stale_nodes if n.not_answering_for is not None
            )
            if snap
            else (),
            uncovered_slots=uncovered_slots(snap) if snap else 0,
            insecure_tls=m.insecure_tls,
            health=self._health_counts(snap),
            summary_age=summary_age(snap.cost) if snap and snap.cost else None,
            server_load=snap.cost.load if snap and snap.cost else None,
            stretched_to=snap.cost.visible_period if snap and snap.cost and snap.cost.stretched else None,
            budget=snap.cost.budget if snap and snap.cost else None,
            over_budget=bool(snap and snap.cost and not snap.cost.met),
            round_trip_load=bool(snap and snap.cost and snap.cost.round_trip_load),
        )
        state = m.state
        stale_age = m.stale_age()
        partial = bool(base.down_nodes or base.not_answering_nodes or base.uncovered_slots) or (
            snap is not None
            and bool(snap.nodes)
            and (any(n.first_poll for n in snap.nodes) or any(s.stale for s in snap.streams))
        )
        shown = state.value
        # the poll's snapshot before the screen has it (the loop turns once between the two): the
        # first part's said LIVE for that turn, the table still empty
        current = snap if snap is not None else m.last
        if state is State.LIVE and current is not None and not current.discovery.complete:
            shown = "discovering"  # issue 29: rows come as the first scan finds them; LIVE after
        elif state is State.LIVE and partial:
            shown = "partial"
        return replace(
            base,
            state=shown,
            stale_age=stale_age if stale_age is not None else m.frozen_for(),
            waiting=m.not_answering_for(),
            error=m.error,
            retry_in=m.retry_in() if state not in (State.RECONNECTING, State.NOT_ANSWERING) else None,
        )

    # selection (owned by the main screen) -----------------------------------------------------

    @property
    def selected_key(self) -> bytes | None:
        return self.main.selection.key

    @property
    def selected_group(self) -> bytes | None:
        return self.main.selection.group

    def focus_changed(self, focus: Focus | None, poll: bool = True) -> None:
        """The main screen's selection now needs other pages (or other rows are on screen): tell
        the monitor; the poll that fetches them starts after FOCUS_DEBOUNCE seconds without a
        further change, so holding an arrow key does not fire poll after poll. `poll` False: the
        next regular poll is soon enough."""
        self.monitor.set_focus(focus)
        if focus is not None and poll:
            if self._focus_timer is not None:
                self._focus_timer.stop()
            self._focus_timer = self.set_timer(self.focus_debounce, self._focus_poll)

    def _focus_poll(self) -> None:
        self._focus_timer = None
        self.poll_now()

    def select(self, key: bytes, group: bytes | None = None) -> None:
        """Put the cursor on a stream (and one of its groups), as a user would."""
        self.main.select(key, group)

    def selected_pending_ids(self) -> tuple[str, ...]:
        return self.main.current_view().marked_ids

    def _poll_clock(self) -> tuple[float, None, None, bool]:
        """When the idle times on screen were measured (what liveness compares IDs against), and
        whether that is the server's clock: claim_order's now_ms, gone_after_ms, clients, server_clock."""
        snap = self.main.current_view().snapshot
        now_ms, server_clock = poll_clock(snap) if snap is not None else (self.clock() * 1000, False)
        return now_ms, None, None, server_clock

    def action_context(self) -> ActionContext:
        view = self.main.current_view()
        cursor = self.main.pending.cursor_id
        group = view.group
        return ActionContext(
            key=view.selection.key,
            group=view.selection.group,
            stream=view.stream,
            group_info=group,
            consumers=tuple(c.name for c in claim_order(group, *self._poll_clock())) if group else (),
            selected_pending=view.marked_ids,
            read_only=self.read_only,
            read_only_reason=getattr(self.monitor, "read_only_reason", READ_ONLY_REASON),
            stuck_ms=self.stuck_ms,
            poison=self.poison,
            cursor_pending=cursor if any(p.id == cursor for p in view.pending or ()) else None,
            test_stream=self.demo is not None and view.selection.key == _demo_stream(self.demo),
        )

    # keys -----------------------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.read_only, demo=self.demo is not None))

    def action_poll_now(self) -> None:
        self.poll_now()

    def action_pause(self) -> None:
        self.monitor.paused = paused = not self.monitor.paused
        if not paused:
            self.poll_now()
        self.render_header()
        self.notify("paused: space polls once, p resumes" if paused else "resumed", timeout=2)

    def _step_interval(self, step: int) -> None:
        i = min(range(len(INTERVALS)), key=lambda j: abs(INTERVALS[j] - self.interval))
        self.monitor.set_interval(INTERVALS[max(0, min(len(INTERVALS) - 1, i + step))])
        self.render_header()
        self.poll_now()

    def action_slower(self) -> None:
        self._step_interval(+1)

    def action_faster(self) -> None:
        self._step_interval(-1)

    async def action_back(self) -> None:  # Textual's App.action_back is a coroutine too
        self.main.back()

    def action_tab(self, tab: str) -> None:
        self.main.show_tab(tab)

    def action_zoom(self) -> None:
        if self.screen is self._main:  # not under a dialog
            self.main.action_zoom()

    def action_act(self, name: str) -> None:
        self.open_action(name)

    def open_action(self, name: str) -> None:
        """The registry checks what the action needs and opens its dialog, which reports back
        with an `ActionFinished` message."""
        open_dialog(self, name, self.action_context())

    async def _recheck(self) -> None:
        """The server answers again: what each action that got no reply did, read now and said."""
        pending, self._rechecks = self._rechecks, []
        for recheck in pending:
            try:
                result = await recheck()
            except Exception as exc:  # a bug, not the server: say so, keep the dashboard up
                self._report_bug(exc)
                continue
            if result.may_have_applied:  # still no answer: at the next chance
                self._rechecks.append(recheck)
                continue
            self.notify(
                f"the server answers again; {result.message}",
                severity="information" if result.ok else "warning",
                timeout=12,
            )
        self.poll_now()

    def on_action_finished(self, message: ActionFinished) -> None:
        """An action finished: say what happened, poll to show its effect."""
        result = message.result
        if result.recheck is not None:
            self._rechecks.append(result.recheck)
        if message.used_marks:  # consumed: nothing is left to act on under those marks
            self.main.unmark(message.used_marks)
        text = result.message
        waiting = self.monitor.not_answering_for()
        if not result.ok and waiting is not None:  # the likely cause, in the same line
            text += f" (the server has not answered a poll for {int(waiting)} s)"
        if result.recheck is not None:  # the dashboard stays: it can tell what happened later
            text += "; read again when the server answers"
        self.notify(text, severity="information" if result.ok else "error", timeout=4 if result.ok else 8)
        self.poll_now()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification (the app's, a dialog's, a widget's) is plain text: messages carry
        key, group and consumer names and server errors, which are data, never markup. A message
        made long by a long name keeps its head and its tail (what happened is at either end)."""
        text = clean(message, keep_newlines=True)
        if len(text) > NOTIFY_LIMIT:
            text = f"{text[: NOTIFY_LIMIT * 3 // 4]} … {text[-NOTIFY_LIMIT // 4 :]}"
        super().notify(text, title=clean(title), severity=severity, timeout=timeout, markup=False)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own commands, then every registry command that has a palette entry."""
        yield from super().get_system_commands(screen)
        for title, help_text, command in palette_entries(self.read_only, demo=self.demo is not None):
            yield SystemCommand(
                title, help_text, lambda c=command: self.run_action(c.binding_action, self._namespace(c))
            )

    def _namespace(self, command: Command) -> DOMNode:
        """Where a command's action runs: its panel for a panel key, else the app."""
        return self.w(command.panel) if command.scope is Scope.PANEL else self


def _demo_stream(demo: object) -> bytes | None:
    """The stream the demo's workload writes to (test events go there without asking)."""
    stream = getattr(demo, "stream", None)
    return stream.encode() if isinstance(stream, str) else stream
