"""Every number a person types is bounded in one place (streamtop.numbers): every field returns a
value in its range or a one-line refusal, and arbitrary text at every numeric CLI option (parsed in
this process) gives exit 1 with one line, or the parsed value within its range. The console script
on a real server: tests/e2e/test_numbers_cli.py; the dialogs: tests/ui/test_numbers_dialogs.py.
"""

from __future__ import annotations

import contextlib
import io
import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from streamtop import cli
from streamtop import numbers as num
from streamtop.cliargs import decode_arg
from streamtop.commands.serve import bind_address
from streamtop.commands.status import thresholds_from
from streamtop.record.moments import age_arg, size_arg
from tests.support.numbers import TEXTS, outcome, short

# ---- the parsers ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(num.FIELDS)), text=TEXTS)
@example(name="CLAIM_MIN_IDLE", text="\u200b" * 300)  # 24 escapes of 6 characters: 255 once
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


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        (num.BURST_COUNT, " 1,000 ", 1000),
        (num.BURST_COUNT, "+5", 5),
        (num.TRIM_MAXLEN, "0" * 500 + "7", 7),
        (num.MAX_LENGTH, "9223372036854775807", 2**63 - 1),
        (num.CLAIM_MIN_IDLE, "2m", 120_000),
        (num.CLAIM_MIN_IDLE, "500ms", 500),
        (num.CLAIM_MIN_IDLE, "3.1536e+08", 315_360_000_000),
        (num.MAX_IDLE, "0", 0.0),
        (num.PRODUCE_RATE, "0.01", 0.01),
        (num.FAIL_ABOVE, "-0.5", -0.5),
    ],
    ids=short,
)
def test_valid_text(field, text, value):
    assert field.parse(text) == value


@pytest.mark.parametrize(
    ("field", "text", "words"),
    [
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
    ],
    ids=short,
)
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
    (None, [], "--max-server-load", num.MAX_SERVER_LOAD, "max_server_load"),
    ("status", [], "--max-streams", num.MAX_STREAMS, "max_streams"),
    ("status", [], "--rates-interval", num.RATES_INTERVAL, "rates_interval"),
    ("status", [], "--max-lag", num.MAX_LAG, "max_lag"),
    ("status", [], "--max-pending", num.MAX_PENDING, "max_pending"),
    ("status", [], "--max-idle", num.MAX_IDLE, "max_idle"),
    ("status", [], "--max-length", num.MAX_LENGTH, "max_length"),
    ("status", [], "--window", num.WINDOW, "window_ms"),
    (None, [], "--window", num.WINDOW, "window_ms"),
    ("produce", ["k"], "--count", num.PRODUCE_COUNT, "count"),
    ("tail", ["k"], "--count", num.TAIL_COUNT, "count"),
    ("produce", ["k"], "--rate", num.PRODUCE_RATE, "rate"),
    ("produce", ["k"], "--maxlen", num.PRODUCE_MAXLEN, "maxlen"),
    ("demo", [], "--rate", num.DEMO_RATE, "rate"),
    ("demo", [], "--fail-above", num.FAIL_ABOVE, "fail_above"),
    ("demo", [], "--maxlen", num.DEMO_MAXLEN, "maxlen"),
    ("demo", [], "--consumers", num.DEMO_CONSUMERS, "consumers"),
    ("demo", [], "--interval", num.INTERVAL, "interval"),
    ("demo", [], "--poison-deliveries", num.POISON_DELIVERIES, "poison_deliveries"),
    ("demo", [], "--lesson", num.DEMO_LESSON, "lesson"),
    ("demo", [], "--window", num.WINDOW, "window_ms"),
    ("trim", ["k"], "--maxlen", num.TRIM_MAXLEN, "maxlen"),
    ("claim", ["k", "g", "--to", "c"], "--min-idle", num.MIN_IDLE_MS, "min_idle"),
    ("claim", ["k", "g", "--to", "c"], "--count", num.MOVE_COUNT, "count"),
    ("deadletter", ["k", "g"], "--min-deliveries", num.DLQ_DELIVERIES, "min_deliveries"),
    ("redrive", ["k:dlq"], "--count", num.MOVE_COUNT, "count"),
    ("web", [], "--port", num.WEB_PORT, "web_port"),
    ("web", [], "--max-sessions", num.WEB_SESSIONS, "max_sessions"),
    ("web", [], "--interval", num.INTERVAL, "interval"),
    ("web", [], "--stuck-after", num.STUCK_AFTER, "stuck_after"),
    ("web", [], "--poison-deliveries", num.POISON_DELIVERIES, "poison_deliveries"),
    ("web", [], "--max-streams", num.MAX_STREAMS, "max_streams"),
    ("web", [], "--window", num.WINDOW, "window_ms"),
    ("web", [], "--max-server-load", num.MAX_SERVER_LOAD, "max_server_load"),
    ("serve", [], "--metrics-port", num.METRICS_PORT, "metrics_port"),
    ("serve", [], "--interval", num.INTERVAL, "interval"),
    ("serve", [], "--max-streams", num.MAX_STREAMS, "max_streams"),
    ("serve", [], "--window", num.WINDOW, "window_ms"),
    ("serve", [], "--max-server-load", num.MAX_SERVER_LOAD, "max_server_load"),
    ("record", ["--out", "r.db"], "--max-streams", num.MAX_STREAMS, "max_streams"),
    ("record", ["--out", "r.db"], "--interval", num.INTERVAL, "interval"),
    ("record", ["--out", "r.db"], "--window", num.WINDOW, "window_ms"),
    ("replay", ["r.db"], "--window", num.WINDOW, "window_ms"),
]
# the connection options every command shares: -p/--port (-p alone in web, whose --port is its
# HTTP port), and -n/--db (--db alone in produce)
BEFORE = {
    None: [],
    "demo": [],
    "status": [],
    "produce": ["k"],
    "tail": ["k"],
    "trim": ["k", "--maxlen", "1"],
    "claim": ["k", "g", "--to", "c"],
    "ack": ["k", "g"],
    "deadletter": ["k", "g"],
    "redrive": ["k:dlq"],
    "group": ["k", "create", "g"],
    "web": [],
    "serve": [],
    "record": ["--out", "r.db"],
    "replay": ["r.db"],
    "report": ["r.db"],
}
CLI_OPTIONS += [
    (name, before, flag, field, dest)
    for name, before in BEFORE.items()
    for flag, field, dest in (("-p" if name == "web" else "--port", num.PORT, "port"), ("--db", num.DB, "db"))
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
                # the typed options that are not numbers: --decode [KEY=]FORMAT, serve --bind ADDRESS,
                # a recording's --keep AGE and --max-size SIZE (units: 7d, 2GB; record/moments.py)
                assert action.type in (None, decode_arg, bind_address, age_arg, size_arg), (
                    name,
                    action.option_strings,
                )


@settings(max_examples=400, deadline=None)
@given(option=st.sampled_from(CLI_OPTIONS), text=TEXTS)
@pytest.mark.slow
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


def test_stream_ids_take_ascii_digits_only():
    """A bare \\d in a regex takes Arabic-Indic digits, which the server would refuse: never sent."""
    from streamtop.actions.base import ValidationError, check_id

    assert check_id("17-0") == "17-0"
    for bad in ("١٧-0", "17-٠", "١٧"):
        with pytest.raises(ValidationError):
            check_id(bad)
