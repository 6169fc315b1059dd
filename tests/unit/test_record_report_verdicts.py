"""The recording's HTML report colours every verdict the health rules give (the review of the
issue 25 and record merges: the report still coloured "failing", renamed "stuck" by issue 25, so
a stuck group's band was the default grey)."""

from __future__ import annotations

from streamtop.pipeline.health import OffScreen, Verdict
from streamtop.record.report import VERDICT_COLOURS


def test_every_verdict_has_its_colour_and_no_stale_name_is_left():
    names = {v.value for v in Verdict} | {o.value for o in OffScreen}
    assert names <= set(VERDICT_COLOURS), names - set(VERDICT_COLOURS)
    assert set(VERDICT_COLOURS) <= names, set(VERDICT_COLOURS) - names
