"""A long dead-letter or redrive shows its progress and stops on escape (the lessons test's `D`
stayed busy for minutes with nothing shown): the move runs in batches of 200, the dialog's bar
advances after each, and escape stops it before the next batch; the result says what moved, and
the server agrees, each entry in one place.

Escape is pressed from the bar's first update (the dialog's own escape action, at that moment: a
key pressed from the test could come after the last batch on a fast machine)."""

from __future__ import annotations

import pytest
from textual.widgets import ProgressBar

from streamtop.ui.context import ActionContext
from streamtop.ui.dialogs import ConfirmDialog
from streamtop.ui.registry import open_dialog
from tests.support.dialogs import ctx
from tests.support.streams import fill, pel
from tests.support.waiting import until

N = 4000  # 20 batches


def escape_at_first_batch(dialog) -> list[tuple[bool, float | None, float]]:
    """Make the dialog's escape run when its bar shows the first batch; returns what the bar
    showed at each update (display, total, progress)."""
    seen: list[tuple[bool, float | None, float]] = []
    start = dialog.moves.start

    def started():
        advance = start()

        def progress(done: int, total: int) -> None:
            advance(done, total)
            bar = dialog.query_one("#progress", ProgressBar)
            seen.append((bar.display, bar.total, bar.progress))
            if len(seen) == 1:
                dialog.action_cancel()

        return progress

    dialog.moves.start = started
    return seen


async def confirm_move_stopped_at_first_batch(app, pilot, seen):
    """Press the dialog's OK and confirm the move; returns its result once it has come, after
    checking that the bar showed the first batch once and the move stopped there."""
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await until(pilot, lambda: app.results)
    assert seen == [(True, N, 200)]
    res = app.results[0]
    assert res.ok and res.cancelled, res.message
    return res


@pytest.mark.slow
async def test_dead_letter_shows_progress_and_escape_stops_between_batches(host, r):
    app, pilot = host
    ids = fill(r, n=N)
    open_dialog(app, "dead_letter", ctx(selected=ids))
    await pilot.pause()
    assert not app.screen.query_one("#progress", ProgressBar).display, "no bar before the move"
    seen = escape_at_first_batch(app.screen)
    res = await confirm_move_stopped_at_first_batch(app, pilot, seen)
    moved = [i for i, _ in res.moved]
    assert len(moved) == 200
    assert f"stopped by you: {N - 200:,} not moved (still pending)" in res.message
    assert [f[b"dlq-original-id"].decode() for _, f in r.xrange("s:dlq")] == moved
    assert set(pel(r)) == set(ids) - set(moved)


@pytest.mark.slow
async def test_redrive_shows_progress_and_escape_stops_between_batches(host, r):
    app, pilot = host
    fill(r, n=N)
    assert (await app.actions.dead_letter(b"s", b"g", min_deliveries=1)).ok
    open_dialog(app, "redrive", ActionContext(key=b"s:dlq"))
    await pilot.pause()
    seen = escape_at_first_batch(app.screen)
    await pilot.press("enter")  # the dry run
    await until(pilot, lambda: str(app.screen.query_one("#ok").label) == "Redrive")
    res = await confirm_move_stopped_at_first_batch(app, pilot, seen)
    assert len(res.moved) == 200
    assert f"stopped by you: {N - 200:,} not moved (still in the DLQ)" in res.message
    assert r.xlen("s:dlq") == N - 200 and r.xlen("s") == N + 200
