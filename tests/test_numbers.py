"""Every number a person types is bounded in one place (streamtop.numbers): arbitrary text at every
numeric CLI option gives exit 1 with one line (or the parsed value, within its range), and at every
numeric dialog field an inline error with nothing sent to the server. Never a traceback or a hang.
"""

from __future__ import annotations

import contextlib
import io
import math
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_actions import fill
from test_dialogs import Host, ctx, is_dialog, make, shown, until
from textual.widgets import Input

from streamtop import cli
from streamtop import numbers as num
from streamtop.status import thresholds_from
from streamtop.ui.registry import open_dialog

SPECIALS = [
    "1e308", "-1e308", "-1", "nan", "NaN", "inf", "-inf", "Infinity", "0x10", " 5 ", "٣", "１２", "5",
    "0", "-0", "1e-300", "", "   ", "1,000", "1_000", "+5", "0.5", "1e3", "5ms", "2m", "1h", "1e99999",
    "9" * 400, "4" * 4400, "-" + "9" * 5000, "0" * 500 + "7", "1" * 20, "9223372036854775807",
    "9223372036854775808", "10000001", "1000001", "0.01", "0.009", "600", "600.5", "3.1536e+08",
    "5 s", "5\n", "1e3ms", ".5", "5.", "--5", "1e", "e5",
]
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
TEXTS = st.one_of(
    st.sampled_from(SPECIALS),
    _text,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=300, max_value=6000).map(lambda n: "7" * n),
)


def short(value: object) -> str | None:
    """A test id: a long text cut, a Field by its name."""
    if isinstance(value, num.Field):
        return value.what.replace(" ", "-")
    if isinstance(value, str) and len(value) > 12:
        return value[:12] + f"..{len(value)}"
    if isinstance(value, list):
        return " ".join(str(short(a) or a) for a in value)
    return None


def outcome(field: num.Field, text: str) -> object:
    """The parsed value, or the NumberError: nothing else may come out."""
    try:
        return field.parse(text)
    except num.NumberError as exc:
        return exc


# ---- the parsers ------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(num.FIELDS)), text=TEXTS)
def test_every_field_returns_a_value_in_range_or_one_line(name, text):
    field = num.FIELDS[name]
    got = outcome(field, text)
    if isinstance(got, num.NumberError):
        message = str(got)
        assert "\n" not in message and field.what in message and len(message) < 200
        return
    assert isinstance(got, int if field.kind in ("int", "duration") else float)
    if field.kind == "duration":
        assert field.lo * 1000 <= got <= field.hi * 1000
    else:
        assert math.isfinite(got) and field.lo <= got <= field.hi
        assert not (field.above and got == field.lo)


@pytest.mark.parametrize(("field", "text", "value"), [
    (num.BURST_COUNT, " 1,000 ", 1000), (num.BURST_COUNT, "+5", 5), (num.TRIM_MAXLEN, "0" * 500 + "7", 7),
    (num.MAX_LENGTH, "9223372036854775807", 2**63 - 1), (num.CLAIM_MIN_IDLE, "2m", 120_000),
    (num.CLAIM_MIN_IDLE, "500ms", 500), (num.CLAIM_MIN_IDLE, "3.1536e+08", 315_360_000_000),
    (num.MAX_IDLE, "0", 0.0), (num.PRODUCE_RATE, "0.01", 0.01), (num.FAIL_ABOVE, "-0.5", -0.5),
], ids=short)
def test_valid_text(field, text, value):
    assert field.parse(text) == value


@pytest.mark.parametrize(("field", "text", "words"), [
    (num.CLAIM_MIN_IDLE, "4" * 400, ["min idle time must be at most", "(400 characters)"]),
    (num.BURST_COUNT, "4" * 4400, ["burst size must be at most 1,000,000", "4,400 characters"]),
    (num.MAX_IDLE, "1e308", ["max idle must be at most"]),
    (num.STUCK_AFTER, "1e308", ["stuck-after must be at most"]),
    (num.PRODUCE_RATE, "1e-300", ["rate must be at least 0.01"]),
    (num.RATES_INTERVAL, "1e308", ["rates interval must be at most 600"]),
    (num.PRODUCE_COUNT, "10000001", ["count must be at most 10,000,000"]),
    (num.MAX_LAG, "nan", ["max lag must be a whole number"]),
    (num.MAX_IDLE, "inf", ["max idle must be a number"]),
    (num.BURST_COUNT, "٣", ["must be a whole number, got '٣'"]),
    (num.BURST_COUNT, "0x10", ["must be a whole number"]),
    (num.MAX_PENDING, "-1", ["max pending cannot be negative"]),
    (num.MAX_LENGTH, "9223372036854775808", ["at most 9,223,372,036,854,775,807"]),
    (num.DLQ_DELIVERIES, "", ["minimum deliveries is empty (1 to"]),
], ids=short)
def test_refusals_name_the_field_and_the_range(field, text, words):
    """The messages the issue's crashes now give instead."""
    with pytest.raises(num.NumberError) as err:
        field.parse(text)
    message = str(err.value)
    assert "\n" not in message and " to " in message
    for w in words:
        assert w in message, message


# ---- every numeric CLI option -----------------------------------------------------------------

# (subcommand, arguments before the option, option, the Field its value goes through, dest)
CLI_OPTIONS = [
    (None, [], "--interval", num.INTERVAL, "interval"),
    (None, [], "--stuck-after", num.STUCK_AFTER, "stuck_after"),
    (None, [], "--poison-deliveries", num.POISON_DELIVERIES, "poison_deliveries"),
    (None, [], "--max-streams", num.MAX_STREAMS, "max_streams"),
    ("status", [], "--max-streams", num.MAX_STREAMS, "max_streams"),
    ("status", [], "--rates-interval", num.RATES_INTERVAL, "rates_interval"),
    ("status", [], "--max-lag", num.MAX_LAG, "max_lag"),
    ("status", [], "--max-pending", num.MAX_PENDING, "max_pending"),
    ("status", [], "--max-idle", num.MAX_IDLE, "max_idle"),
    ("status", [], "--max-length", num.MAX_LENGTH, "max_length"),
    ("produce", ["k"], "--count", num.PRODUCE_COUNT, "count"),
    ("produce", ["k"], "--rate", num.PRODUCE_RATE, "rate"),
    ("produce", ["k"], "--maxlen", num.PRODUCE_MAXLEN, "maxlen"),
    ("demo", [], "--rate", num.DEMO_RATE, "rate"),
    ("demo", [], "--fail-above", num.FAIL_ABOVE, "fail_above"),
    ("demo", [], "--maxlen", num.DEMO_MAXLEN, "maxlen"),
    ("demo", [], "--consumers", num.DEMO_CONSUMERS, "consumers"),
    ("demo", [], "--interval", num.INTERVAL, "interval"),
    ("demo", [], "--poison-deliveries", num.POISON_DELIVERIES, "poison_deliveries"),
    ("demo", [], "--lesson", num.DEMO_LESSON, "lesson"),
]


def parse_cli(name: str | None, argv: list[str]) -> tuple[object, int, str]:
    """The entry point's parse, in process: (args or None, exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            return cli.build_parser(name).parse_args(argv), 0, err.getvalue()
        except SystemExit as exc:
            return None, int(exc.code or 0), err.getvalue()


def test_every_numeric_option_is_in_the_table():
    """A numeric option added later without a bounded type would escape the property test."""
    for name in (None, *cli.SUBCOMMANDS):
        for action in cli.build_parser(name)._actions:
            typ = getattr(action.type, "__self__", None)
            if isinstance(typ, num.Field):
                option = max(action.option_strings, key=len)
                assert (name, option) in {(c[0], c[2]) for c in CLI_OPTIONS}, (name, option)
            else:
                assert action.type is None, (name, action.option_strings, action.type)


@settings(max_examples=400, deadline=None)
@given(option=st.sampled_from(CLI_OPTIONS), text=TEXTS)
def test_cli_option_exit_1_one_line_or_a_value_in_range(option, text):
    name, before, flag, field, dest = option
    args, code, err = parse_cli(name, [*before, f"{flag}={text}"])
    expected = outcome(field, text)
    if isinstance(expected, num.NumberError):
        assert args is None and code == 1
        lines = err.splitlines()
        assert len(lines) == 1 and err.endswith("\n"), err
        assert "Traceback" not in err and flag in lines[0] and field.what in lines[0]
        return
    assert code == 0 and err == "" and getattr(args, dest) == expected
    if name == "status":  # what used to overflow after parsing
        th = thresholds_from(args)
        assert th.max_idle_ms is None or 0 <= th.max_idle_ms <= num.MAX_SECONDS * 1000
    if name is None:
        assert 1 <= int(args.stuck_after * 1000) <= num.MAX_SECONDS * 1000


def run_cli(*argv: str) -> subprocess.CompletedProcess:
    # the timeout only stops a hang from stalling the suite; nothing is judged by the time taken
    return subprocess.run([sys.executable, "-m", "streamtop", *argv], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(("argv", "words"), [
    (["status", "--max-idle", "1e308"], ["--max-idle", "max idle must be at most 315,360,000 s"]),
    (["status", "--rates", "--rates-interval", "1e308"], ["--rates-interval", "at most 600 s"]),
    (["status", "--max-idle", "4" * 400], ["--max-idle", "(400 characters)"]),
    (["status", "--max-lag", "9" * 4400], ["--max-lag", "at most 9,223,372,036,854,775,807"]),
    (["--stuck-after", "1e308"], ["--stuck-after", "at most 315,360,000 s"]),
    (["--interval", "nan"], ["--interval", "must be a number, got 'nan'"]),
    (["produce", "k", "--rate", "1e-300"], ["--rate", "at least 0.01 entries/s"]),
    (["produce", "k", "-n", "99999999"], ["--count", "at most 10,000,000"]),
    (["produce", "k", "-n", "٣"], ["--count", "whole number"]),
    (["produce", ""], ["KEY is empty"]),
    (["demo", "--rate", "inf"], ["--rate", "must be a number"]),
], ids=short)
def test_cli_refusals_end_to_end(server, r, argv, words):
    """The console entry point on a real server: exit 1, one line, no traceback, nothing written."""
    proc = run_cli(*argv, "--url", server.url)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    assert r.dbsize() == 0  # produce "" used to create a key named ""


def test_cli_valid_numbers_end_to_end(server, r):
    proc = run_cli("produce", "k", "--url", server.url, "-n", " 3 ", "--rate", "1000", "--maxlen", "1,000")
    assert proc.returncode == 0 and r.xlen("k") == 3, proc.stderr
    proc = run_cli("status", "--url", server.url, "--max-idle", "1e5", "--max-lag", "0", "--max-length", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---- every numeric dialog field -------------------------------------------------------------

# (dialog, input id, Field, whether an empty value is valid there)
DIALOG_FIELDS = [
    ("burst", "count", num.BURST_COUNT, False),
    ("burst", "maxlen", num.BURST_MAXLEN, True),
    ("claim", "idle", num.CLAIM_MIN_IDLE, False),
    ("claim", "cap", num.CLAIM_COUNT, False),
    ("trim", "threshold", num.TRIM_MAXLEN, False),
    ("deadletter", "deliveries", num.DLQ_DELIVERIES, False),
]


def commands(r) -> int:
    """Commands the server ran, other than the INFO calls that count them."""
    return sum(v["calls"] for k, v in r.info("commandstats").items() if k != "cmdstat_info")


@pytest.fixture
async def dialog_host(server, r):
    fill(r, n=4)
    a = await make(server)
    app = Host(a)
    async with app.run_test(size=(100, 40)) as pilot:
        yield app, pilot
    await a.client.aclose()


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


@pytest.mark.parametrize(("dialog", "widget_id", "text", "words"), [
    ("claim", "idle", "4" * 400, "min idle time must be at most"),  # was OverflowError
    ("burst", "count", "4" * 4400, "burst size must be at most 1,000,000"),  # was ValueError
    ("burst", "maxlen", "1e308", "MAXLEN must be a whole number"),
    ("claim", "cap", "-" + "9" * 5000, "cap must be at least 1"),
    ("trim", "threshold", "9" * 5000, "MAXLEN must be at most"),
    ("deadletter", "deliveries", "٣", "minimum deliveries must be a whole number"),
], ids=short)
async def test_dialog_refuses_what_used_to_crash(dialog_host, r, dialog, widget_id, text, words):
    app, pilot = dialog_host
    assert words in await refused_in_dialog(app, pilot, r, dialog, widget_id, words.split(" must")[0], text)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(DIALOG_FIELDS), text=TEXTS)
async def test_dialog_field_bad_text_inline_error_nothing_sent(dialog_host, r, field, text):
    app, pilot = dialog_host
    dialog, widget_id, bounds, empty_ok = field
    assume(isinstance(outcome(bounds, text), num.NumberError))
    assume(not (empty_ok and not text.strip()))
    await refused_in_dialog(app, pilot, r, dialog, widget_id, bounds.what, text)
