"""`streamtop demo` at every size (issue 26): at 80x24 the demo shows the stream, group1's row, its
consumers and pending entries (the demo panel is its guide and key lines there); `?` reaches its
last line and fits the width (wrapping, not cut); the lessons (F9) are readable beside the
dashboard. The demo app on constructed data (no server, no clock), so the SVG snapshots are the
same every run: `pytest --snapshot-update` after a deliberate change.

Before: at 80x24 the Groups panel was a border and Pending had no row (the demo panel took 16 of
24 rows); help stopped at `a` at 80x24 (at `t` at 100x30, before F7 at 160x45) and was cut at
the right (a 96-column box); F9 at 80x24 showed a lesson's title only."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll

from streamtop.commandlog import CommandLog
from streamtop.monitor import Monitor
from streamtop.pipeline.model import (
    ConsumerInfo,
    Discovery,
    Entry,
    Focus,
    FocusData,
    GroupInfo,
    Lag,
    LagSource,
    PendingEntry,
    ServerInfo,
    Snapshot,
    StreamInfo,
)
from streamtop.pipeline.source import ListSource
from streamtop.ui.demo_app import DemoApp
from streamtop.ui.demo_panel import DemoPanel
from streamtop.ui.help import HelpScreen
from streamtop.ui.lessons import LessonsPanel
from streamtop.ui.registry import help_rows
from tests.support.ui import screen_text, visible_rows

SIZES = [(80, 24), (100, 30), (160, 45)]
IDS = [f"{w}x{h}" for w, h in SIZES]
T0 = 1_790_000_000_000
STREAM, GROUP = b"app:event", b"group1"
pytestmark = pytest.mark.slow


class Worker:
    def __init__(self, name: str, role: str, group: str | None, processed: int) -> None:
        self.name, self.role, self.group, self.state = name, role, group, "running"
        self.processed, self.failed, self.retried, self.dead_lettered, self.detail = processed, 3, 2, 1, ""


class Controller:
    """The demo controller's answers, fixed: no workload, no server."""

    rate = 5.0
    stream = "app:event"

    def __init__(self) -> None:
        self.command_log = CommandLog()
        self.command_log.record(("XADD", b"app:event", "*", "sensor_id", "sensor1", "temp", "0.42"), b"1-0")
        self.command_log.record(("XACK", b"app:event", b"group1", "1790000000001-0"), 1)

    def workers(self) -> list[Worker]:
        return [
            Worker("producer", "producer", None, 500),
            *(Worker(f"c{i}", "consumer", "group1", 100 + i) for i in (1, 2, 3)),
            Worker("a1", "analytics", "analytics", 300),
        ]

    def guide(self) -> str:
        return "sensor1..3 add 5 events/s to app:event; group1 acks them. Try F7 to crash a consumer"

    def lessons_done(self) -> frozenset[int]:
        return frozenset({1, 2})

    def lessons_seen(self) -> frozenset[int]:
        return frozenset({1, 2, 5, 6})

    def lesson_confirming(self) -> bool:
        return False

    def lesson_last_id(self) -> str:
        return f"{T0 + 99}-0"

    def run_lesson_step(self, step: str, value: str | None = None) -> tuple[bool, str]:
        return True, "first line\nsecond line"


def demo_snapshot() -> Snapshot:
    consumers = tuple(ConsumerInfo(b"c%d" % i, 4, 40 * i, 500 * i) for i in (1, 2, 3))

    def group(name: bytes, pending: int, cons: tuple[ConsumerInfo, ...]) -> GroupInfo:
        return GroupInfo(
            name=name,
            consumers=len(cons),
            pending=pending,
            last_delivered_id=f"{T0 + 99}-0",
            entries_read=100,
            lag=Lag(LagSource.EXACT, value=0),
            consumer_list=cons,
        )

    stream = StreamInfo(
        key=STREAM,
        length=100,
        first_entry_id=f"{T0}-0",
        last_entry_id=f"{T0 + 99}-0",
        last_generated_id=f"{T0 + 99}-0",
        entries_added=100,
        max_deleted_entry_id="0-0",
        recorded_first_entry_id=f"{T0}-0",
        groups=(
            group(b"analytics", 0, (ConsumerInfo(b"a1", 0, 10, 10),)),
            group(b"audit", 0, (ConsumerInfo(b"audit1", 0, 10, 10),)),
            group(GROUP, 12, consumers),
        ),
    )
    pending = tuple(
        PendingEntry(f"{T0 + 3 * i}-0", b"c%d" % (1 + i % 3), 6000 - i, 1 + i % 3) for i in range(12)
    )
    messages = tuple(Entry(f"{T0 + 99 - i}-0", ((b"sensor_id", b"sensor1"),)) for i in range(20))
    return Snapshot(
        taken_at=T0 / 1000,
        duration_ms=2.0,
        round_trips=1,
        server=ServerInfo(name="valkey", version="9.1.2", compat_version=(7, 2, 4)),
        streams=(stream,),
        discovery=Discovery(patterns=("*",), keys=(STREAM,), taken_at=T0 / 1000),
        focus=FocusData(focus=Focus(key=STREAM, group=GROUP), pending=pending, messages=messages),
    )


def make_app() -> DemoApp:
    return DemoApp(Monitor.on(ListSource()), url="redis://127.0.0.1:6379/0", demo=Controller())


async def loaded(pilot) -> DemoApp:
    app = pilot.app
    app.show_snapshot(demo_snapshot())
    app.select(STREAM, GROUP)
    await pilot.pause()
    await pilot.pause(0.6)  # the demo panel's first refresh (compact or not) and the re-plan
    await pilot.pause()
    return app


# ---- what is on screen ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
async def test_small_terminals_show_group1_its_consumers_and_pending_entries(size) -> None:
    async with make_app().run_test(size=size) as pilot:
        app = await loaded(pilot)
        m = app.main
        shown = {
            "streams": visible_rows(app, m.streams.table),
            "groups": visible_rows(app, m.groups.table),
            "consumers": visible_rows(app, m.consumers.table),
            "pending": visible_rows(app, m.pending.table),
        }
        assert shown["streams"] >= 1 and shown["groups"] == 3 and shown["consumers"] == 3, shown
        assert shown["pending"] >= 3, shown
        text = screen_text(app)
        assert "group1" in text and "F9 lessons" in text and "Try F7" in text
        assert app.main.query_one(DemoPanel).has_class("-compact")


async def _help_reaches_its_end(pilot) -> tuple[str, str]:
    app = pilot.app
    await pilot.press("question_mark")
    assert isinstance(app.screen, HelpScreen)
    scroll = app.screen.query_one(VerticalScroll)
    scroll.focus()
    await pilot.press("end")
    await pilot.pause()
    return screen_text(app), help_rows(demo=True)[-1][2]


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_help_reaches_its_last_row_and_fits_the_width(size) -> None:
    async with make_app().run_test(size=size) as pilot:
        await loaded(pilot)
        text, last = await _help_reaches_its_end(pilot)
        assert last.split()[0] in text and "esc: close" in text, text
        box = pilot.app.screen.query_one("#help-box")
        assert box.region.right <= size[0] and box.region.bottom <= size[1]


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
async def test_lessons_are_readable_beside_the_dashboard(size) -> None:
    async with make_app().run_test(size=size) as pilot:
        app = await loaded(pilot)
        await pilot.press("f9")
        await pilot.pause()
        panel = app.query_one(LessonsPanel)
        assert panel.region.width >= 40
        for widget in (app.main.streams, app.main.groups, app.main.lower):
            assert widget.region.width >= 30, (widget, widget.region)
        body = panel.query_one("#lesson-body")
        assert body.region.width >= 36  # whole words per line, not a column of fragments
        text = screen_text(app)
        assert "Lesson 1 of 12" in text and "Auto IDs and ordering" in text, text
        await pilot.press(*["down"] * 8)  # the rest of a lesson that is taller than the panel
        await pilot.pause()
        assert "redis XADD app:event * sensor_id" in screen_text(app)


# ---- snapshots -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_demo_snapshot(snap_compare, size) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_demo_help_snapshot(snap_compare, size) -> None:
    async def before(pilot) -> None:
        await loaded(pilot)
        await _help_reaches_its_end(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_demo_lessons_snapshot(snap_compare, size) -> None:
    async def before(pilot) -> None:
        await loaded(pilot)
        await pilot.press("f9")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=before)
