"""`streamtop status` in this process (`cli.main`): the JSON equals XINFO, thresholds give the right
exit code, bad input is one line and exit 1. Real servers only (conftest fixtures). The real process
in a pipe (exit codes, no colour codes): tests/e2e/test_status_process.py."""

from __future__ import annotations

import json

import pytest
import redis

from streamtop import cli
from streamtop.commands.status import Thresholds, find_breaches
from streamtop.pipeline import render
from streamtop.pipeline.model import GroupInfo, Lag, LagSource, Snapshot, StreamInfo
from tests.support.streams import arrange_orders


def status(capsys, srv, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["status", "--url", srv.url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def status_json(capsys, srv, *argv: str) -> tuple[int, dict]:
    code, out, err = status(capsys, srv, "--json", *argv)
    assert err == ""
    return code, json.loads(out)


def s(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def version_of(r: redis.Redis) -> tuple[str, str]:
    info = r.info("server")
    if info.get("valkey_version"):
        return "valkey", str(info["valkey_version"])
    return "redis", str(info["redis_version"])


def has_lag(r: redis.Redis) -> bool:
    return tuple(int(x) for x in str(r.info("server")["redis_version"]).split(".")[:2]) >= (7, 0)


def test_json_equals_xinfo(capsys, any_server, any_r):
    arrange_orders(any_r)
    before = {s(c["name"]): c["idle"] for c in any_r.xinfo_consumers("orders", "g1")}
    code, doc = status_json(capsys, any_server)
    xs = any_r.xinfo_stream("orders")
    xg = {s(g["name"]): g for g in any_r.xinfo_groups("orders")}
    xc = {s(c["name"]): c for c in any_r.xinfo_consumers("orders", "g1")}

    assert code == 0 and doc["schema_version"] == 2 and doc["ok"] is True and doc["breaches"] == []
    name, version = version_of(any_r)
    assert doc["server"]["name"] == name and doc["server"]["version"] == version
    assert doc["server"]["url"] == any_server.url
    [st] = doc["streams"]
    assert st["key"] == "orders" and st["key_hex"] == b"orders".hex() and st["error"] is None
    assert st["length"] == xs["length"] == 10
    assert st["last_generated_id"] == s(xs["last-generated-id"])
    assert st["first_entry_id"] == s(xs["first-entry"][0]) == "1000-1"
    assert st["last_entry_id"] == s(xs["last-entry"][0]) == "1000-10"
    assert st["last_entry_ms"] == 1000
    assert st["entries_added"] == xs.get("entries-added")
    assert st["in_per_s"] is None  # no --rates
    groups = {g["name"]: g for g in st["groups"]}
    assert set(groups) == set(xg) == {"g1", "g2"}
    for gname, g in groups.items():
        x = xg[gname]
        assert g["consumer_count"] == x["consumers"]
        assert g["pending"] == x["pending"]
        assert g["last_delivered_id"] == s(x["last-delivered-id"])
        assert g["entries_read"] == x.get("entries-read")
        if has_lag(any_r) or gname == "g2":  # g2 is at the last entry: 0 after it, exactly (6.2 too)
            assert g["lag"] == x.get("lag", 0) and g["lag_source"] == "exact" and g["lag_estimate"] is None
        else:  # 6.2 has no lag field: an estimate by XRANGE, never a made-up exact value
            assert g["lag"] is None and g["lag_source"] == "estimate"
    assert groups["g1"]["pending"] == 3 and groups["g2"]["pending"] == 0
    assert groups["g1"]["lag_text"] == ("6" if has_lag(any_r) else "~6")
    assert groups["g2"]["lag_text"] == "0"
    assert groups["g1"]["oldest_pending_id"] == "1000-1"
    assert groups["g1"]["oldest_pending_consumer"] == "c1"
    assert groups["g1"]["oldest_pending_deliveries"] == 1
    consumers = {c["name"]: c for c in groups["g1"]["consumers"]}
    assert set(consumers) == set(xc) == {"c1", "c2"}
    for cname, c in consumers.items():
        assert c["pending"] == xc[cname]["pending"]
        assert before[cname] <= c["idle_ms"] <= xc[cname]["idle"]  # read between the two XINFOs
        assert (c["inactive_ms"] is None) == ("inactive" not in xc[cname])


def test_binary_key_escaped_with_exact_hex(capsys, server, r):
    key = b"bin\xff\nkey"
    r.xadd(key, {"a": "1"})
    _, doc = status_json(capsys, server)
    [st] = doc["streams"]
    assert st["key"] == "bin\\xff\\nkey" and bytes.fromhex(st["key_hex"]) == key


def test_lag_null_at_arbitrary_id_has_estimate(capsys, any_server, any_r):
    for i in range(10):
        any_r.xadd("s", {"n": i}, id=f"1-{i + 1}")
    any_r.xgroup_create("s", "mid", id="1-4")  # an arbitrary ID: the server cannot count from it
    if has_lag(any_r):
        assert any_r.xinfo_groups("s")[0]["lag"] is None  # the premise, on 7.0+
    _, doc = status_json(capsys, any_server)
    [g] = doc["streams"][0]["groups"]
    assert g["lag"] is None
    assert g["lag_source"] == "estimate" and g["lag_estimate"] == 6 and g["lag_text"] == "~6"
    assert g["lag_estimate_capped"] is False

    # --max-lag judges the estimate: 6 > 5 breaches, 6 <= 6 holds
    code, doc = status_json(capsys, any_server, "--max-lag", "5")
    assert code == 2
    assert doc["breaches"] == [
        {
            "stream": "s",
            "stream_hex": b"s".hex(),
            "group": "mid",
            "group_hex": b"mid".hex(),
            "metric": "lag",
            "value": 6,
            "threshold": 5,
            "value_source": "estimate",
            "error": None,
            "node": None,
        }
    ]
    code, doc = status_json(capsys, any_server, "--max-lag", "6")
    assert code == 0 and doc["breaches"] == []


def test_max_lag_raises_the_estimate_cap(capsys, server, r):
    """The XRANGE count goes one past --max-lag, so a NULL lag above 1000 is still decided."""
    with r.pipeline(transaction=False) as p:
        for i in range(1500):
            p.xadd("s", {"n": i}, id=f"1-{i + 1}")
        p.execute()
    r.xgroup_create("s", "mid", id="1-4")
    _, doc = status_json(capsys, server)
    [g] = doc["streams"][0]["groups"]
    assert g["lag_text"] == ">=1000" and g["lag_estimate_capped"] is True
    code, doc = status_json(capsys, server, "--max-lag", "1200")
    assert code == 2 and doc["breaches"][0]["value"] == 1201  # lower bound, still proves it
    code, doc = status_json(capsys, server, "--max-lag", "1496")
    assert code == 0 and doc["streams"][0]["groups"][0]["lag_estimate"] == 1496


# thresholds: each breached and not breached, on every server -------------------------------

CASES = [  # option, value that holds, value that is exceeded, metric, measured value
    ("--max-lag", "6", "5", "lag", 6),
    ("--max-pending", "3", "2", "pending", 3),
    ("--max-idle", "3600", "60", "idle_ms", 600_000),
    ("--max-length", "10", "9", "length", 10),
]


@pytest.mark.parametrize(
    ("option", "ok_value", "bad_value", "metric", "measured"), CASES, ids=[c[0] for c in CASES]
)
def test_threshold_exit_codes(capsys, any_server, any_r, option, ok_value, bad_value, metric, measured):
    arrange_orders(any_r)
    # the oldest pending entry: idle set to ten minutes (XCLAIM IDLE), not waited for
    any_r.xclaim("orders", "g1", "c1", 0, ["1000-1"], idle=600_000)
    code, doc = status_json(capsys, any_server, option, ok_value)
    assert code == 0 and doc["ok"] is True and doc["breaches"] == []

    code, doc = status_json(capsys, any_server, option, bad_value)
    assert code == 2 and doc["ok"] is False
    [b] = doc["breaches"]
    assert b["stream"] == "orders" and b["metric"] == metric
    assert b["group"] == (None if metric == "length" else "g1")
    if metric == "idle_ms":
        assert b["value"] >= measured and b["threshold"] == 60_000
    else:
        assert b["value"] == measured and b["threshold"] == int(bad_value)
    lag_estimated = metric == "lag" and not has_lag(any_r)
    assert b["value_source"] == ("estimate" if lag_estimated else "exact")

    code, out, _ = status(capsys, any_server, option, bad_value)  # the table marks it too
    assert code == 2 and "BREACHED (1):" in out and " !" in out
    code, out, _ = status(capsys, any_server, option, ok_value)
    assert code == 0 and "OK: every threshold holds" in out and " !" not in out


def test_several_breaches_listed(capsys, server, r):
    arrange_orders(r)
    code, doc = status_json(capsys, server, "--max-pending", "0", "--max-length", "0", "--max-lag", "0")
    assert code == 2
    got = {(b["group"], b["metric"]) for b in doc["breaches"]}
    assert got == {("g1", "pending"), (None, "length"), ("g1", "lag")}  # g2: lag 0, nothing pending


def _group(lag: Lag, pending: int = 0) -> Snapshot:
    g = GroupInfo(
        name=b"g", consumers=0, pending=pending, last_delivered_id="0-0", entries_read=None, lag=lag
    )
    return Snapshot(streams=(StreamInfo(key=b"k", length=1, groups=(g,)),))


@pytest.mark.parametrize(
    ("lag", "limit", "expect"),
    [
        (Lag(LagSource.EXACT, value=5), 5, None),
        (Lag(LagSource.EXACT, value=6), 5, (6, "exact")),
        (Lag(LagSource.ESTIMATE, estimate=5), 5, None),
        (Lag(LagSource.ESTIMATE, estimate=6), 5, (6, "estimate")),
        (Lag(LagSource.ESTIMATE, estimate=1000, capped=True), 500, (1000, "estimate")),
        (Lag(LagSource.ESTIMATE, estimate=1000, capped=True), 5000, (None, "unknown")),
        (Lag(LagSource.UNKNOWN), 5, (None, "unknown")),
    ],
)
def test_max_lag_rule(lag, limit, expect):
    """Exact or estimated lag above the limit breaches; a lag that cannot be verified breaches."""
    got = find_breaches(_group(lag), Thresholds(max_lag=limit))
    assert [(b.value, b.value_source) for b in got] == ([expect] if expect else [])


def test_unreadable_oldest_pending_breaches_max_idle():
    g = GroupInfo(
        name=b"g",
        consumers=1,
        pending=2,
        last_delivered_id="1-1",
        entries_read=None,
        lag=Lag(LagSource.EXACT, value=0),
        pending_summary=None,
    )
    snap = Snapshot(streams=(StreamInfo(key=b"k", groups=(g,)),))
    [b] = find_breaches(snap, Thresholds(max_idle_ms=1000))
    assert b.metric == "idle_ms" and b.value is None and b.value_source == "unknown"


# rates, patterns, text -------------------------------------------------------------------


def test_rates_polls_twice(capsys, any_server, any_r):
    arrange_orders(any_r)
    _, doc = status_json(capsys, any_server, "--rates", "--rates-interval", "0.05")
    st = doc["streams"][0]
    assert doc["rates_interval_ms"] == 50
    assert st["in_per_s"] == 0.0  # nothing added between the polls: a measured zero, not unknown
    read = {g["name"]: g["read_per_s"] for g in st["groups"]}
    # a read rate needs entries-read: none on 6.2, and NULL for a `$` group on 7.0 and Valkey 8.1
    expect = {
        s(g["name"]): None if g.get("entries-read") is None else 0.0 for g in any_r.xinfo_groups("orders")
    }
    assert read == expect and read["g1"] == (0.0 if has_lag(any_r) else None)


def test_patterns_and_keys_select_streams(capsys, server, r):
    for key in ("orders:eu", "orders:us", "audit"):
        r.xadd(key, {"a": "1"})
    r.set("orders:not-a-stream", "x")
    _, doc = status_json(capsys, server, "orders:*")
    assert [s["key"] for s in doc["streams"]] == ["orders:eu", "orders:us"]
    assert doc["discovery"]["patterns"] == ["orders:*"] and doc["discovery"]["targets"] == ["orders:*"]
    _, doc = status_json(capsys, server, "audit", "orders:u*")
    assert [s["key"] for s in doc["streams"]] == ["audit", "orders:us"]
    _, doc = status_json(capsys, server, "nothing*")
    assert doc["streams"] == [] and doc["ok"] is True


def test_table_shows_groups_consumers_and_unknown_lag(capsys, server, r):
    arrange_orders(r)
    r.xgroup_create("orders", "mid", id="1000-4")
    code, out, err = status(capsys, server)
    assert code == 0 and err == ""
    assert "Valkey 9.1" in out and "orders" in out and "length 10" in out
    rows = [line.split() for line in out.splitlines() if line.strip()]
    groups = {row[0]: row for row in reversed(rows)}  # the groups table comes before consumers
    assert groups["g1"][1:3] == ["2", "3"]  # consumers, pending
    # lag, time lag (manual IDs 1000-n are no times: "ids"; caught up: 0), health
    assert groups["g1"][-3:-1] == ["6", "ids"] and groups["g2"][-3:] == ["0", "0", "ok"]
    assert groups["mid"][-3] == "~6"  # NULL lag: the estimate, marked, never a bare number
    consumers = [row for row in rows if row[0] == "g1" and row[1] in ("c1", "c2")]
    assert [row[1:3] for row in consumers] == [["c1", "3"], ["c2", "0"]]
    assert "BREACHED" not in out and "OK:" not in out  # no thresholds given: no verdict


def test_markup_in_a_key_is_printed_verbatim(capsys, server, r):
    r.xadd("[bold]k[/bold]", {"a": "1"})
    _, out, _ = status(capsys, server)
    assert "[bold]k[/bold]" in out


# bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--max-lag", "-1"],
        ["--max-lag", "many"],
        ["--max-pending", "1.5"],
        ["--max-pending", "-3"],
        ["--max-idle", "-5"],
        ["--max-idle", "soon"],
        ["--max-idle", "nan"],
        ["--max-length", "x"],
        ["--rates-interval", "0"],
        ["--max-streams", "0"],
    ],
)
def test_bad_thresholds_exit_1_one_line(capsys, server, argv):
    with pytest.raises(SystemExit) as exc:
        cli.main(["status", "--url", server.url, *argv])
    assert exc.value.code == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and argv[0] in err


def test_key_of_another_type_is_an_error(capsys, server, r):
    r.set("str", "x")
    r.xadd("ok", {"a": "1"})
    code, out, err = status(capsys, server, "ok", "str")
    assert code == 1 and out == ""
    assert err == "streamtop: error: key 'str' holds a string, not a stream\n"


def test_missing_key_is_an_error(capsys, server):
    code, out, err = status(capsys, server, "--json", "nokey")
    assert code == 1 and out == "" and "no stream at key 'nokey'" in err and err.count("\n") == 1


def test_unreachable_server_exit_1_one_line(capsys, own_server):
    url = own_server.url
    own_server.cleanup()
    code = cli.main(["status", "--url", url, "--json"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("streamtop: error: connection refused") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "?"),
        (0, "0ms"),
        (850, "850ms"),
        (12_400, "12.4s"),
        (65_000, "1m05s"),
        (7_380_000, "2h03m"),
        (273_600_000, "3d04h"),
    ],
)
def test_duration_format(ms, text):
    assert render.duration_ms(ms) == text


@pytest.mark.parametrize(
    ("per_s", "text"),
    [
        (None, "?"),
        (0.0, "0/s"),
        (0.5, "0.5/s"),
        (12.4, "12/s"),
        (1234.0, "1234/s"),
        (12_345.0, "12.3k/s"),
        (3_400_000.0, "3.4M/s"),
    ],
)
def test_rate_format(per_s, text):
    assert render.rate(per_s) == text


def test_an_unreadable_stream_is_a_breach_not_a_silent_skip(server, r, capsys):
    """exit 0 means verified: a stream this user may not read (NOPERM) breaches when judged."""
    r.xadd("open:s", {"f": "v"})
    r.xadd("secret:s", {"f": "v"})
    r.execute_command("ACL", "SETUSER", "watcher", "on", ">pw", "~open:*", "+@all")
    url = f"redis://watcher:pw@127.0.0.1:{server.port}/0"
    code = cli.main(["status", "--json", "--max-length", "10", "--url", url])
    doc = json.loads(capsys.readouterr().out)
    assert code == 2
    [b] = doc["breaches"]
    assert (b["stream"], b["metric"], b["value"]) == ("secret:s", "unreadable", None)
    assert "NOPERM" in b["error"]
    secret = next(s for s in doc["streams"] if s["key"] == "secret:s")
    assert secret["length"] is None  # unknown, not 0
    assert cli.main(["status", "--json", "--url", url]) == 0  # nothing judged without thresholds


def test_pending_with_an_unknown_oldest_entry_breaches_max_idle():
    from streamtop.pipeline.model import PendingSummary

    group = GroupInfo(
        name=b"g",
        consumers=1,
        pending=3,
        last_delivered_id="1-0",
        entries_read=3,
        lag=Lag(LagSource.EXACT, value=0),
        pending_summary=PendingSummary(count=3, oldest=None),
    )
    snap = Snapshot(streams=(StreamInfo(key=b"s", length=3, groups=(group,)),))
    [b] = find_breaches(snap, Thresholds(max_idle_ms=1000))
    assert (b.metric, b.value, b.value_source) == ("idle_ms", None, "unknown")
    assert find_breaches(snap, Thresholds(max_pending=5)) == []


def test_two_keys_that_once_printed_the_same_are_two_names_in_json_and_table(capsys, server, r):
    """ESC+X and the four characters `\\x1bX` (issue 24, item 6): the backslash is doubled, so
    neither the JSON `key` nor the table line can be mistaken for the other; unlabel reverses it."""
    from streamtop.pipeline.model import unlabel

    esc, typed = b"\x1bX", b"\\x1bX"
    r.xadd(esc, {"a": "1"})
    r.xadd(typed, {"a": "1"})
    _, doc = status_json(capsys, server)
    keys = {st["key"]: bytes.fromhex(st["key_hex"]) for st in doc["streams"]}
    assert keys == {"\\x1bX": esc, "\\\\x1bX": typed}
    assert all(unlabel(shown) == exact for shown, exact in keys.items())
    code, out, _ = status(capsys, server)
    assert code == 0 and "\x1b" not in out.replace("\x1b[", "")  # no raw ESC but colour codes
    lines = [line.strip() for line in out.splitlines()]
    assert any(line.startswith("\\\\x1bX") for line in lines) and any(
        line.startswith("\\x1bX") for line in lines
    )
