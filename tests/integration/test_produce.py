"""`streamtop produce` in this process (`cli.main`): exact counts, MAXLEN, given fields, paced sends,
bad input. Real servers. The real process in a pipe and a pty: tests/e2e/test_produce_process.py."""

from __future__ import annotations

import re

import pytest

from streamtop import cli

ID = re.compile(r"^\d+-\d+$")


def produce(capsys, srv, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["produce", *argv, "--url", srv.url])
    out, err = capsys.readouterr()
    return code, out, err


def test_ten_thousand_entries_exactly(capsys, any_server, any_r):
    any_r.xadd("app:event", {"before": "1"})
    code, out, err = produce(capsys, any_server, "app:event", "-n", "10000")
    assert code == 0 and err == ""
    assert ID.match(out.strip()) and out.count("\n") == 1  # stdout is only the last ID
    assert any_r.xlen("app:event") == 10_001
    assert out.strip() == any_r.xinfo_stream("app:event")["last-generated-id"].decode()
    _id, fields = any_r.xrevrange("app:event", count=1)[0]
    assert set(fields) == {b"sensor_id", b"temp", b"humidity"}  # the tutorial's sensor event
    assert fields[b"sensor_id"] in (b"sensor1", b"sensor2", b"sensor3")
    assert 0 <= float(fields[b"temp"]) < 1 and 0 <= float(fields[b"humidity"]) < 1


def test_maxlen_exact_holds(capsys, any_server, any_r):
    with any_r.pipeline(transaction=False) as p:
        for i in range(1000):
            p.xadd("s", {"old": i})
        p.execute()
    code, out, _ = produce(capsys, any_server, "s", "-n", "10000", "--maxlen", "500")
    assert code == 0
    assert any_r.xlen("s") == 500
    entries = any_r.xrange("s")
    assert entries[-1][0].decode() == out.strip()
    assert all(b"old" not in f for _, f in entries)  # only the newest 500 of ours remain


def test_maxlen_approx_trims_whole_nodes(capsys, server, r):
    code, _, _ = produce(capsys, server, "s", "-n", "10000", "--maxlen", "500", "--approx")
    assert code == 0
    assert 500 <= r.xlen("s") < 10_000  # '~' keeps at least N, whole 100-entry nodes


def test_default_is_one_entry(capsys, server, r):
    code, out, _ = produce(capsys, server, "s")
    assert code == 0 and r.xlen("s") == 1 and r.xrange("s")[0][0].decode() == out.strip()


def test_given_fields_arrive_in_order(capsys, any_server, any_r):
    code, out, _ = produce(
        capsys,
        any_server,
        "s",
        "-n",
        "3",
        "--field",
        "kind=order",
        "--field",
        "expr=a=b",
        "--field",
        "note=héllo",
        "--field",
        "empty=",
    )
    assert code == 0
    entries = any_r.xrange("s")
    assert len(entries) == 3 and entries[-1][0].decode() == out.strip()
    for _id, fields in entries:  # redis-py keeps the wire order in the dict
        assert list(fields.items()) == [
            (b"kind", b"order"),
            (b"expr", b"a=b"),
            (b"note", "héllo".encode()),
            (b"empty", b""),
        ]


def test_rate_paces_but_adds_all(capsys, server, r):
    code, out, _ = produce(capsys, server, "s", "-n", "25", "--rate", "500", "--maxlen", "20")
    assert code == 0 and r.xlen("s") == 20
    assert r.xinfo_stream("s")["entries-added"] == 25
    assert r.xinfo_stream("s")["last-generated-id"].decode() == out.strip()


def test_db_option_still_works(capsys, server, r):
    """-n is the count here; the database is --db."""
    code, _, _ = produce(capsys, server, "s", "-n", "2", "--db", "3")
    assert code == 0 and r.exists("s") == 0
    r.execute_command("SELECT", 3)
    assert r.xlen("s") == 2


# bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["-n", "0"], "-n/--count"),
        (["-n", "-3"], "-n/--count"),
        (["-n", "many"], "-n/--count"),
        (["--rate", "0"], "--rate"),
        (["--rate", "fast"], "--rate"),
        (["--maxlen", "-1"], "--maxlen"),
    ],
)
def test_bad_numbers_exit_1_one_line(capsys, server, r, argv, words):
    with pytest.raises(SystemExit) as exc:
        cli.main(["produce", "s", *argv, "--url", server.url])
    assert exc.value.code == 1
    out, err = capsys.readouterr()
    assert out == "" and words in err and err.count("\n") == 1
    assert r.exists("s") == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--field", "novalue"], "--field 'novalue' needs the form NAME=VALUE"),
        (["--field", "=v"], "--field '=v' has an empty name"),
        (["--field", "a=1", "--field", "a=2"], "--field 'a' is given twice"),
        (["--approx"], "--approx needs --maxlen N"),
    ],
)
def test_bad_options_exit_1(capsys, server, r, argv, message):
    code, out, err = produce(capsys, server, "s", *argv)
    assert code == 1 and out == "" and err == f"streamtop: error: {message}\n"
    assert r.exists("s") == 0


def test_wrongtype_key(capsys, any_server, any_r):
    any_r.rpush("jobs", "a")
    code, out, err = produce(capsys, any_server, "jobs", "-n", "5")
    assert code == 1 and out == ""
    assert err == "streamtop: error: key 'jobs' holds a list, not a stream\n"
    assert any_r.lrange("jobs", 0, -1) == [b"a"]


def test_unreachable_server(capsys, own_server):
    url = own_server.url
    own_server.cleanup()
    code = cli.main(["produce", "s", "--url", url])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("streamtop: error: connection refused") and err.count("\n") == 1
