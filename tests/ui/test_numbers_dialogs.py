"""Every numeric dialog field: arbitrary text is an inline error, the dialog stays open and the
server saw no command."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from textual.widgets import Input

from streamtop import numbers as num
from streamtop.ui.registry import open_dialog
from tests.support.dialogs import ctx, shown
from tests.support.numbers import TEXTS, outcome, short
from tests.support.streams import fill
from tests.support.ui import is_dialog
from tests.support.waiting import until

# ---- every numeric dialog field -------------------------------------------------------------

# (dialog, input id, Field, whether an empty value is valid there)
DIALOG_FIELDS = [
    ("burst", "count", num.BURST_COUNT, False),
    ("burst", "maxlen", num.BURST_MAXLEN, True),
    ("claim", "idle", num.CLAIM_MIN_IDLE, False),
    ("claim", "cap", num.CLAIM_COUNT, False),
    ("trim", "threshold", num.TRIM_MAXLEN, False),
    ("deadletter", "deliveries", num.POISON_DELIVERIES, False),  # "more than N", as --poison-deliveries
    ("redrive", "count", num.MOVE_COUNT, False),
]


def commands(r) -> int:
    """Commands the server ran, other than the INFO calls that count them."""
    return sum(v["calls"] for k, v in r.info("commandstats").items() if k != "cmdstat_info")


@pytest.fixture
def dialog_host(host, r):
    fill(r, n=4)
    return host


async def refused_in_dialog(app, pilot, r, dialog: str, widget_id: str, what: str, text: str) -> str:
    """Type `text` into a dialog field and press enter: the error shown inline, after checking that
    the dialog stays open, nothing ran and the server saw no command."""
    before = commands(r)
    open_dialog(app, dialog, ctx())
    await until(pilot, lambda: is_dialog(app) and app.screen.query(f"#{widget_id}"))
    inp = app.screen.query_one(f"#{widget_id}", Input)
    inp.value = text
    inp.focus()
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: shown(app, "error"))
    error = shown(app, "error")
    assert what in error and "\n" not in error.strip(), error
    assert is_dialog(app) and not app.results
    await pilot.press("escape")
    await until(pilot, lambda: not is_dialog(app))
    assert commands(r) == before
    return error


@pytest.mark.parametrize(
    ("dialog", "widget_id", "text", "words"),
    [
        ("claim", "idle", "4" * 400, "min idle time must be at most"),  # was OverflowError
        ("burst", "count", "4" * 4400, "burst size must be at most 1,000,000"),  # was ValueError
        ("burst", "maxlen", "1e308", "MAXLEN must be a whole number"),
        ("claim", "cap", "-" + "9" * 5000, "cap must be at least 1"),
        ("trim", "threshold", "9" * 5000, "MAXLEN must be at most"),
        ("deadletter", "deliveries", "٣", "poison deliveries must be a whole number"),
        ("redrive", "count", "1e9", "count must be a whole number"),
    ],
    ids=short,
)
@pytest.mark.slow
async def test_dialog_refuses_what_used_to_crash(dialog_host, r, dialog, widget_id, text, words):
    app, pilot = dialog_host
    assert words in await refused_in_dialog(app, pilot, r, dialog, widget_id, words.split(" must")[0], text)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(DIALOG_FIELDS), text=TEXTS)
async def test_dialog_field_bad_text_inline_error_nothing_sent(dialog_host, r, field, text):
    app, pilot = dialog_host
    dialog, widget_id, bounds, empty_ok = field
    assume(isinstance(outcome(bounds, text), num.NumberError))
    assume(not (empty_ok and not text.strip()))
    await refused_in_dialog(app, pilot, r, dialog, widget_id, bounds.what, text)
