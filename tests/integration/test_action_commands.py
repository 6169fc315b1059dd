"""The action commands (issue 13): `streamtop trim | claim | ack | deadletter | redrive | group`, on the
shared actions layer, with --dry-run (changes nothing), --json (one object), --yes (required without a
terminal) and exit codes 0 done, 1 error, 2 nothing matched or refused. Real servers throughout."""

from __future__ import annotations

import io

import pytest
import redis

from streamtop import cli
from tests.support.commands import one_json, run
from tests.support.streams import OLD_MS, crashed, pel, server_state


def sensor_stream(r: redis.Redis, n: int = 10) -> list[str]:
    ids = [r.xadd("s", {"n": str(i)}, id=f"{i + 1}-0").decode() for i in range(n)]
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c1", {"s": ">"}, count=6)  # 1..6 pending, 7..10 unread
    return ids


def test_anything_that_deletes_needs_yes_without_a_terminal(server, r, capsys):
    sensor_stream(r)
    before = server_state(r)
    for argv in (
        ["trim", "s", "--maxlen", "2"],
        ["ack", "s", "g", "--from", "c1"],
        ["claim", "s", "g", "--to", "c2", "--from", "c1"],
        ["deadletter", "s", "g", "--min-deliveries", "1"],
        ["group", "s", "destroy", "g"],
    ):
        code, out, err = run(server, capsys, *argv)
        assert code == 2, (argv, err)
        assert "needs --yes when stdin is not a terminal" in err and "nothing was changed" in err
    assert server_state(r) == before


def test_interactive_confirmation_on_a_terminal(server, r, capsys, monkeypatch):
    sensor_stream(r)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Tty("n\n"))
    code, _, err = run(server, capsys, "trim", "s", "--maxlen", "2")
    assert code == 2 and "[y/N]" in err and "declined" in err and r.xlen("s") == 10
    monkeypatch.setattr("sys.stdin", Tty("y\n"))
    code, out, _ = run(server, capsys, "trim", "s", "--maxlen", "2")
    assert code == 0 and r.xlen("s") == 2 and out.startswith("trimmed 8 entries from 's'")


def test_trim_dry_run_json_then_scheduled_trim(server, r, capsys):
    sensor_stream(r)
    r.xtrim("s", minid="3-0", approximate=False)  # an earlier trim: 1, 2 pending without data
    before = server_state(r)
    code, out, _ = run(server, capsys, "trim", "s", "--maxlen", "3", "--dry-run", "--json")
    doc = one_json(out)
    assert code == 0 and server_state(r) == before
    assert (doc["removes"], doc["length_before"], doc["length_after"], doc["dry_run"]) == (5, 8, 3, True)
    assert doc["groups"] == [
        {
            "name": "g",
            "name_hex": "67",
            "pending_removed": 4,
            "unread_removed": 1,
            "pending_without_data": 2,
            "capped": False,
        }
    ]
    code, out, _ = run(server, capsys, "trim", "s", "--maxlen", "3", "--yes", "--json")
    doc = one_json(out)
    assert code == 0 and (doc["removes"], doc["length_after"], doc["dry_run"]) == (5, 3, False)
    assert r.xlen("s") == 3
    code, out, _ = run(server, capsys, "trim", "s", "--maxlen", "3", "--yes", "--json")
    assert code == 2 and one_json(out)["removes"] == 0  # nothing matched


def test_claim_command_takes_everything_the_crashed_consumer_held(any_server, any_r, capsys):
    c1 = crashed(any_r)
    code, out, _ = run(
        any_server, capsys, "claim", "s", "g", "--from", "c1", "--to", "c2", "--dry-run", "--json"
    )
    doc = one_json(out)
    assert code == 0 and doc["claimed"] == 190 and doc["ids"] == c1 and doc["owners"] == {"c1": 190}
    assert all(c == b"c1" for i, (c, _) in pel(any_r).items() if i in set(c1))
    code, out, _ = run(any_server, capsys, "claim", "s", "g", "--from", "c1", "--to", "c2", "--yes", "--json")
    doc = one_json(out)
    assert code == 0 and doc["claimed"] == 190 and sorted(doc["ids"]) == sorted(c1)
    assert doc["deleted_ids"] == []
    p = pel(any_r)
    assert all(p[i] == (b"c2", 2) for i in c1)
    code, out, _ = run(any_server, capsys, "claim", "s", "g", "--from", "c1", "--to", "c2", "--yes")
    assert code == 2 and out.startswith("nothing to claim")


def test_claim_all_stuck_command(server, r, capsys):
    c1 = crashed(r)
    code, out, err = run(
        server, capsys, "claim", "s", "g", "--to", "c9", "--min-idle", str(OLD_MS // 2), "--yes"
    )
    assert code == 0, err
    assert out.startswith("claimed 190 into 'c9' from 'c1' (190)")
    assert {i for i, (c, _) in pel(r).items() if c == b"c9"} == set(c1)


def test_ack_command_ids_consumer_and_without_data(server, r, capsys):
    ids = sensor_stream(r)
    code, out, _ = run(server, capsys, "ack", "s", "g", ids[0], ids[9], "--yes", "--json")
    doc = one_json(out)
    assert code == 0 and doc["acked"] == 1 and doc["ids"] == [ids[0]]
    r.xdel("s", ids[1])
    code, out, _ = run(server, capsys, "ack", "s", "g", "--all-deleted", "--yes", "--json")
    assert code == 0 and one_json(out)["acked"] == 1 and ids[1] not in pel(r)
    code, out, _ = run(server, capsys, "ack", "s", "g", "--all-deleted", "--yes")
    assert code == 2 and "nothing to ack" in out
    code, out, _ = run(server, capsys, "ack", "s", "g", "--from", "c1", "--yes", "--json")
    assert code == 0 and one_json(out)["acked"] == 4 and pel(r) == {}


def test_deadletter_and_redrive_commands_round_trip(server, r, capsys):
    ids = sensor_stream(r)
    for _ in range(5):  # 1..3 delivered 6 times, 4..6 once
        r.xclaim("s", "g", "c1", 0, ids[:3])
    code, out, _ = run(server, capsys, "deadletter", "s", "g", "--dry-run")
    assert code == 0 and out.startswith("would move 3 entries of 'g' to 's:dlq' and ack them")
    code, out, _ = run(server, capsys, "deadletter", "s", "g", "--yes", "--json")
    doc = one_json(out)
    assert code == 0 and (doc["moved"], doc["dlq"], doc["moved_ids"]) == (3, "s:dlq", ids[:3])
    code, out, _ = run(server, capsys, "deadletter", "s", "g", "--yes")
    assert code == 2 and "nothing to dead-letter" in out
    code, out, _ = run(server, capsys, "redrive", "s:dlq", "--dry-run", "--json")
    assert code == 0 and one_json(out)["moved"] == 3 and r.xlen("s:dlq") == 3
    code, out, _ = run(server, capsys, "redrive", "s:dlq", "--yes", "--json")
    doc = one_json(out)
    assert code == 0 and doc["moved"] == 3 and doc["to"] == [{"name": "s", "name_hex": "73", "count": 3}]
    assert [f for _, f in r.xrange("s", "(10-0", "+")] == [{b"n": b"0"}, {b"n": b"1"}, {b"n": b"2"}]
    code, _, _ = run(server, capsys, "redrive", "s:dlq", "--yes")
    assert code == 2


def test_group_command(server, r, capsys):
    sensor_stream(r)
    code, out, _ = run(server, capsys, "group", "s", "create", "h", "--id", "0", "--json")
    assert code == 0 and one_json(out)["ok"] and len(r.xinfo_groups("s")) == 2
    code, out, err = run(server, capsys, "group", "s", "create", "h")
    assert code == 1 and "already exists" in err
    code, out, _ = run(server, capsys, "group", "s", "setid", "h", "5-0", "--yes")
    assert code == 0 and r.xinfo_groups("s")[1]["last-delivered-id"] == b"5-0"
    code, out, _ = run(server, capsys, "group", "s", "delconsumer", "g", "c1", "--dry-run")
    assert code == 0 and "holds 6 pending entries" in out and len(pel(r)) == 6
    code, out, _ = run(server, capsys, "group", "s", "delconsumer", "g", "c1", "--yes")
    assert code == 0 and pel(r) == {}
    code, out, _ = run(server, capsys, "group", "s", "destroy", "h", "--yes")
    assert code == 0 and len(r.xinfo_groups("s")) == 1
    code, out, err = run(server, capsys, "group", "s", "destroy", "h", "--yes")
    assert code == 2 and "no group 'h'" in err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["trim", "s", "--maxlen", "abc"], "MAXLEN must be a whole number"),
        (["trim", "s", "--minid", "soon", "--yes"], "MINID 'soon' is not a stream ID"),
        (["trim", "s"], "one of the arguments --maxlen --minid is required"),
        (["claim", "s", "g"], "the following arguments are required: --to"),
        (["claim", "s", "g", "--to", "c", "--min-idle", "1e9"], "min idle (ms) must be a whole number"),
        (["ack", "s", "g"], "give the IDs to ack, or --from CONSUMER, or --all-deleted"),
        (["ack", "s", "g", "nope", "--yes"], "pending entry ID 'nope' is not a stream ID"),
        (["redrive", "s:dlq", "--start", "9-0", "--end", "1-0"], "the start ID 9-0 is after the end ID 1-0"),
        (["group", "s", "rename", "g"], "unknown group operation 'rename'"),
        (["group", "s", "setid", "g"], "group setid takes NAME ID"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(server, r, capsys, argv, said):
    sensor_stream(r)
    before = server_state(r)
    code, out, err = run(server, capsys, *argv)
    assert code == 1 and said in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and server_state(r) == before


def test_read_only_refuses_with_exit_2_but_dry_runs_work(server, r, capsys):
    sensor_stream(r)
    before = server_state(r)
    code, _, err = run(server, capsys, "ack", "s", "g", "--from", "c1", "--yes", "--read-only")
    assert code == 2 and "read-only mode: ack refused" in err
    code, out, _ = run(server, capsys, "trim", "s", "--maxlen", "1", "--dry-run", "--read-only")
    assert code == 0 and "removes 9 of 10 entries" in out
    assert server_state(r) == before


def test_missing_stream_and_unreachable_server_exit_1(server, capsys):
    code, _, err = run(server, capsys, "claim", "nope", "g", "--to", "c", "--yes")
    assert code == 1 and "no stream 'nope' or no group 'g'" in err
    code = cli.main(["trim", "s", "--maxlen", "1", "--yes", "--url", "redis://127.0.0.1:1"])
    assert code == 1 and "refused" in capsys.readouterr().err
