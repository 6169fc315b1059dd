"""Claim says what happens next (issue 25, item 6): the dialog and its result say that a claimed entry
is re-run only by a client that re-reads its own pending entries, which libraries do and when, and
offer redrive for the others. Before, nothing on screen said that walrus, a plain FastStream
subscriber and the tutorial's consumer never run a claimed entry."""

from __future__ import annotations

from streamtop.ui.registry import open_dialog
from tests.support.dialogs import ctx, shown
from tests.support.streams import fill, pel
from tests.support.ui import type_in
from tests.support.waiting import until


async def test_the_dialog_and_its_result_say_who_re_runs_a_claimed_entry(host, r):
    app, pilot = host
    ids = fill(r, n=2, old=(0, 1))
    r.xgroup_createconsumer("s", "g", "c2")
    open_dialog(app, "claim", ctx(consumers=(b"c1", b"c2")))
    await pilot.pause()
    text = " ".join(shown(app, "rerun").split())
    assert "re-run only by a client that re-reads its own pending entries" in text
    assert "XREADGROUP with an ID such as 0, or XAUTOCLAIM" in text
    for said in ("FastStream: only a StreamSub(..., min_idle_time=MS)", "taskiq-redis: at its recovery"):
        assert said in text, text
    assert "walrus: ConsumerGroup.read() reads '>' only: never" in text
    assert "the walrus tutorial's consumer: never" in text
    assert "dead-letter them (D, streamtop deadletter) and redrive them (R" in text
    await type_in(pilot, "idle", "0")
    await type_in(pilot, "consumer", "c2")
    await pilot.press("enter")
    await until(pilot, lambda: app.results)
    result = app.results[0]
    assert result.ok and result.claimed == 2 and pel(r)[ids[0]][0] == b"c2"
    assert "re-run only if that consumer re-reads its own pending entries" in result.message
    assert (
        "walrus, a plain FastStream subscriber and the tutorial's consumer: never; for those, D then R"
        in (result.message)
    )
