"""SVG snapshots of the main screen, the pending view and the help screen from constructed data
(no server, no clock: the same picture every run). Update with `pytest --snapshot-update`."""

from __future__ import annotations

import pytest

from streamtop.monitor import Monitor
from streamtop.pipeline.source import ListSource
from streamtop.ui.app import StreamtopApp
from tests.support.sample import sample_series

SIZE = (140, 42)


def _app() -> StreamtopApp:
    return StreamtopApp(Monitor.on(ListSource()), url="redis://127.0.0.1:6379/0", read_only=True)


async def _load(pilot) -> None:
    app = pilot.app
    snaps = sample_series()
    for snap in snaps:
        app.show_snapshot(snap)
    app.select(b"orders", b"billing")
    app.apply_snapshot(snaps[-1])
    await pilot.pause()


@pytest.mark.slow
def test_main_screen(snap_compare) -> None:
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_load)


@pytest.mark.slow
def test_pending_view(snap_compare) -> None:
    async def before(pilot) -> None:
        await _load(pilot)
        pilot.app.w("pending-table").focus()
        await pilot.press("x", "down", "x")
        assert len(pilot.app.selected_pending_ids()) == 2

    assert snap_compare(_app(), terminal_size=SIZE, run_before=before)


@pytest.mark.slow
def test_help_screen(snap_compare) -> None:
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_load, press=["question_mark"])
