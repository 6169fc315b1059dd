"""The demo panel driven by its F-keys, on a real workload; and inside the real dashboard."""

from __future__ import annotations

import argparse

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from streamtop.demo.workload import GROUP, STREAM, DemoController
from streamtop.pipeline.connection import ConnectionSpec
from streamtop.ui.demo_panel import DEMO_KEYS, DemoPanel, with_demo_keys
from tests.support.ui import type_in
from tests.support.waiting import until

SIZE = (140, 42)


def cell(panel: DemoPanel, worker: str, column: int) -> str:
    table = panel.query_one("#demo-workers", DataTable)
    if worker not in {k.value for k in table.rows}:
        return ""
    value = table.get_row(worker)[column]
    return getattr(value, "plain", str(value))


def guide(panel: DemoPanel) -> str:
    return str(panel.query_one("#demo-guide").render())


class Host(App):
    """Only the panel, plus something else to hold the focus (as the dashboard's tables do)."""

    def __init__(self, controller: DemoController) -> None:
        super().__init__()
        self.controller = controller

    def compose(self) -> ComposeResult:
        table: DataTable = DataTable(id="other")
        table.add_column("x")
        yield table
        yield DemoPanel(self.controller)

    def on_mount(self) -> None:
        self.query_one("#other").focus()


@pytest.fixture
def controller(server):
    ctl = DemoController(
        ConnectionSpec(host=server.host, port=server.port), rate=50, fail_above=0.5, seed=3, retry_every=None
    )
    ctl.start()
    yield ctl
    ctl.stop()


def test_keys_do_not_clash_with_the_dashboard():
    from streamtop.ui.app import StreamtopApp

    dashboard = {k for b in StreamtopApp.BINDINGS for k in b.key.split(",")}
    assert dashboard.isdisjoint(key for key, _, _ in DEMO_KEYS)


@pytest.mark.slow
async def test_panel_keys_drive_the_workload(controller, r):
    app = with_demo_keys(Host)(controller)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DemoPanel)
        await until(pilot, lambda: cell(panel, "c3", 2) == "running", "c3 listed as running")
        await until(pilot, lambda: sum(controller.pending_by_consumer.values()) > 0, "pending entries")
        assert "Try F7" in guide(panel)

        await pilot.press("f7")  # crash: the consumer holding the most pending entries
        crashed = controller.last_event[1]
        await until(pilot, lambda: cell(panel, crashed, 2) == "crashed", "the crash to show")
        held = len(r.xpending_range(STREAM, GROUP, "-", "+", 1000, consumername=crashed))
        assert held > 0
        await until(
            pilot,
            lambda: f"{crashed} crashed holding {held} pending" in guide(panel),
            "the guide to name the crashed consumer and its entries",
        )
        assert "press c to claim" in guide(panel)

        await pilot.press("f5")
        await until(pilot, lambda: cell(panel, "c4", 2) == "running", "c4 to join")
        assert "c4 joined group1" in guide(panel)

        # F6 with the worker table focused stops the consumer under the cursor
        table = panel.query_one("#demo-workers", DataTable)
        table.focus()
        victim = next(n for n in ("c1", "c2", "c3") if n != crashed)
        table.move_cursor(row=table.get_row_index(victim))
        await pilot.press("f6")
        await until(pilot, lambda: cell(panel, victim, 2) == "stopped", f"{victim} to stop")
        assert all(
            cell(panel, n, 2) == "running" for n in ("c1", "c2", "c3", "c4") if n not in (victim, crashed)
        )

        await pilot.press("f4")
        assert controller.rate == 100
        await pilot.press("f3", "f3")
        assert controller.rate == 25
        await pilot.press("f2")
        await until(pilot, lambda: cell(panel, "producer", 2) == "paused", "the producer to pause")
        assert guide(panel).startswith("producer paused")
        await pilot.press("f2")
        await until(pilot, lambda: cell(panel, "producer", 2) == "running", "the producer to resume")


@pytest.mark.slow
async def test_crash_then_claim_with_the_dashboards_dialog(controller, r):
    """The demo inside the real dashboard: F7 crashes a consumer, the consumers panel shows what
    it holds, `c` (the actions dialog) claims the entries into a live consumer, and they move."""
    from streamtop.commands.demo import build_app

    args = argparse.Namespace(interval=0.1, max_streams=1000)
    app = build_app(args, controller.spec, controller)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DemoPanel)
        await until(pilot, lambda: app.snapshot is not None and app.snapshot.streams, "first poll")
        await until(pilot, lambda: sum(controller.pending_by_consumer.values()) > 0, "pending entries")
        await pilot.press("f7")  # app-level binding: the focus is on the streams table
        crashed = controller.last_event[1]
        await until(pilot, lambda: controller.consumers[crashed].state == "crashed", "the crash")
        await pilot.press("f2")  # pause the producer: the pending counts hold still
        await until(pilot, lambda: controller.producer.state == "paused", "the pause")
        held = len(r.xpending_range(STREAM, GROUP, "-", "+", 1000, consumername=crashed))
        assert held > 0
        app.select(STREAM.encode(), GROUP.encode())

        def shown(name: str) -> str | None:
            cells = app.w("consumers-table").cells(name.encode().hex())
            return None if cells is None else getattr(cells[1], "plain", str(cells[1]))

        await until(pilot, lambda: shown(crashed) == str(held), "the crashed consumer's pending count")
        # paused after the crash: the guide still says who holds what
        await until(
            pilot,
            lambda: f"{crashed} crashed holding {held} pending" in guide(panel),
            "the guide to remind of the crashed consumer",
        )

        target = next(n for n in ("c1", "c2", "c3") if n != crashed)
        before = len(r.xpending_range(STREAM, GROUP, "-", "+", 1000, consumername=target))
        total = r.xpending(STREAM, GROUP)["pending"]
        assert total < 1000
        app.w("streams-table").focus()
        await pilot.press("c")
        await until(pilot, lambda: app.screen.query("#idle"), "the claim dialog")
        await type_in(pilot, "idle", "0")
        await type_in(pilot, "consumer", target)
        await type_in(pilot, "cap", "1000")
        await pilot.press("enter")
        await until(pilot, lambda: shown(crashed) == "0", "the crashed consumer's entries to move")
        moved = len(r.xpending_range(STREAM, GROUP, "-", "+", 1000, consumername=target))
        assert moved >= before + held
        await until(pilot, lambda: int(shown(target) or 0) == moved, "the target's new count")
        # the reminder about the crashed consumer's entries goes once they are claimed
        await until(pilot, lambda: "crashed holding" not in guide(panel), "the guide to see the claim")
        assert guide(panel).startswith("producer paused")


@pytest.mark.slow
async def test_f5s_consumer_row_is_next_to_the_others_and_in_view(controller):
    """Before, F5's consumer was appended after analytics, audit1, reader1 and sub1: below the
    panel's visible rows."""
    app = with_demo_keys(Host)(controller)
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(DemoPanel)
        table = panel.query_one("#demo-workers", DataTable)
        await until(pilot, lambda: table.row_count >= 8, "every worker listed")
        await pilot.press("f5")
        await until(pilot, lambda: cell(panel, "c4", 0) == "c4", "c4 listed")
        names = [str(k.value) for k in table.rows]
        assert names[:5] == ["producer", "c1", "c2", "c3", "c4"], names
        row = table.get_row_index("c4")
        assert table.scroll_y <= row < table.scroll_y + table.scrollable_content_region.height - 1
