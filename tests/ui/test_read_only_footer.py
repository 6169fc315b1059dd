"""issue 31: a read-only dashboard (a `streamtop web` page without --allow-writes, --read-only,
--attach without --url) does not offer Produce, Ack, Claim or Trim in its footer; the keys still
say why they are refused when pressed."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from streamtop.monitor import Monitor
from streamtop.pipeline.source import ListSource
from streamtop.ui.app import StreamtopApp
from tests.support.sample import sample_snapshot
from tests.support.ui import SIZE
from tests.support.waiting import until

WRITES = {"Produce", "Ack", "Claim", "Trim"}


def footer_labels(app: StreamtopApp) -> set[str]:
    return {str(k.description) for k in app.screen.query(FooterKey)}


@pytest.mark.parametrize("read_only", [True, False])
async def test_the_footer_offers_writes_only_when_they_can_run(read_only):
    app = StreamtopApp(Monitor.on(ListSource()), read_only=read_only)
    async with app.run_test(size=SIZE) as pilot:
        app.show_snapshot(sample_snapshot())
        await until(pilot, lambda: "Quit" in footer_labels(app), "the footer")
        shown = footer_labels(app) & WRITES
        assert shown == (set() if read_only else WRITES)
        if read_only:
            app.main.select(b"orders", b"billing")
            await pilot.press("t")
            await until(
                pilot,
                lambda: any("read-only mode" in str(n.message) for n in app._notifications),
                "the refusal",
            )
