"""`streamtop group KEY delconsumer --gone --no-pending [--group NAME]` (issues 18, 25): the dashboard's
"delete consumers that are gone" (streamtop.actions.gone) as a command, over every group of the
stream or one. A consumer is gone on evidence only (streamtop.pipeline.liveness): here its workers name their
connections after their consumers (CLIENT SETNAME, redis-py `client_name`), so a consumer whose
connection closed while the others' are open is gone, on every server. A consumer holding pending
entries is never deleted, gone or not; one nothing proves gone is kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from streamtop.pipeline import liveness
from tests.support.commands import one_json, run
from tests.support.streams import server_state
from tests.support.waiting import wait_for

GONE_AFTER = 300  # ms instead of a minute: the same rules, no test waits a minute


@pytest.fixture(autouse=True)
def short_gone_after(monkeypatch):
    monkeypatch.setattr(liveness, "GONE_AFTER_MS", GONE_AFTER)


def consumers(r: redis.Redis, group: str) -> dict[bytes, int]:
    """name -> pending."""
    return {c["name"]: c["pending"] for c in r.xinfo_consumers("s", group)}


def idle_of(r: redis.Redis, group: str, name: bytes) -> int:
    return next(c["idle"] for c in r.xinfo_consumers("s", group) if c["name"] == name)


def worker(srv, name: str) -> redis.Redis:
    """A worker's connection, named after its consumer."""
    return redis.Redis(host=srv.host, port=srv.port, protocol=2, client_name=name)


@pytest.fixture
def died(any_server, any_r) -> Iterator[None]:
    """Group g: 'dead' finished its entry and was killed; 'dead-holding' was killed mid-task (one
    entry pending); 'live' reads after both went quiet, its connection open. Group h: 'old' acked
    and quit, 'live2' reads and stays connected."""
    r = any_r
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xgroup_create("s", "h", id="0")
    for n in range(2):
        r.xadd("s", {"n": str(n)})
    with worker(any_server, "dead") as w:
        done = w.xreadgroup("g", "dead", {"s": ">"}, count=1)
        w.xack("s", "g", done[0][1][0][0])
    with worker(any_server, "dead-holding") as w:
        w.xreadgroup("g", "dead-holding", {"s": ">"}, count=1)
    with worker(any_server, "old") as w:
        done = w.xreadgroup("h", "old", {"s": ">"}, count=2)
        w.xack("s", "h", *[i for i, _ in done[0][1]])
    wait_for(
        lambda: (
            min(idle_of(r, "g", b"dead"), idle_of(r, "g", b"dead-holding"), idle_of(r, "h", b"old"))
            > GONE_AFTER
        ),
        "the dead workers to idle",
    )
    r.xadd("s", {"n": "2"})
    live, live2 = worker(any_server, "live"), worker(any_server, "live2")
    live.xreadgroup("g", "live", {"s": ">"}, count=1)
    live2.xreadgroup("h", "live2", {"s": ">"}, count=1)
    yield
    live.close()
    live2.close()


def test_gone_consumers_without_pending_are_deleted_across_groups(any_server, any_r, capsys, died):
    r = any_r
    before = server_state(r)
    code, out, err = run(
        any_server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending", "--dry-run"
    )
    assert code == 0 and out.startswith("would delete 2 gone consumers without pending entries in 2 groups")
    assert "'g' / 'dead-holding': held: 1 pending, kept" in err
    assert "'h' / 'old': no read attempted for" in err and "no open connection is named after it" in err
    assert server_state(r) == before

    code, out, _ = run(
        any_server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending", "--yes", "--json"
    )
    doc = one_json(out)
    assert code == 0 and doc["deleted"] == 2, doc
    by_group = {g["name"]: g for g in doc["groups"]}
    assert [c["consumer"] for c in by_group["g"]["deleted"]] == ["dead"]
    assert [c["consumer"] for c in by_group["g"]["holding"]] == ["dead-holding"]
    assert [c["consumer"] for c in by_group["h"]["deleted"]] == ["old"]
    assert consumers(r, "g") == {b"dead-holding": 1, b"live": 1}  # the one holding an entry stays
    assert consumers(r, "h") == {b"live2": 1}

    code, out, _ = run(any_server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending", "--yes")
    assert code == 2 and out.startswith("nothing to delete: 0 gone consumers")
    assert b"dead-holding" in consumers(r, "g")


def test_one_group_only(any_server, any_r, capsys, died):
    r = any_r
    code, out, _ = run(
        any_server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending", "--group", "h", "--yes"
    )
    assert code == 0 and out.startswith("deleted 1 gone consumer of 's'")
    assert consumers(r, "h") == {b"live2": 1}
    assert set(consumers(r, "g")) == {b"dead", b"dead-holding", b"live"}
    code, _, err = run(
        any_server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending", "--group", "x"
    )
    assert code == 2 and "no group 'x' on 's'" in err


def test_a_lone_quiet_consumer_is_kept_when_nothing_proves_it_gone(any_server, any_r, capsys):
    """It read, acked and went quiet on a quiet stream, its connection unnamed: it may be dead, or
    blocked waiting for the next entry. No entry waited for it and no connection is known closed,
    so it is kept on every server (issue 25: 7.2+ deleted it on its seen-time alone)."""
    r = any_r
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xadd("s", {"n": "1"})
    got = r.xreadgroup("g", "w", {"s": ">"}, count=1)
    r.xack("s", "g", got[0][1][0][0])
    wait_for(lambda: idle_of(r, "g", b"w") > GONE_AFTER, "the consumer to idle")
    code, out, err = run(any_server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending", "--yes")
    assert code == 2 and out.startswith("nothing to delete") and consumers(r, "g") == {b"w": 0}
    assert "'g' / 'w': " in err and "cannot tell, kept" in err


def test_needs_yes_and_read_only_refuse_changing_nothing(any_server, any_r, capsys, died):
    server, r = any_server, any_r
    before = server_state(r)
    code, _, err = run(server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending")
    assert code == 2 and "needs --yes when stdin is not a terminal" in err
    code, _, err = run(
        server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending", "--yes", "--read-only"
    )
    assert code == 2 and "read-only mode: delete gone consumers refused" in err
    assert server_state(r) == before


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["delconsumer", "--gone"], "delconsumer --gone needs --no-pending"),
        (["delconsumer", "g", "c1", "--gone", "--no-pending"], "go with 'delconsumer' alone"),
        (["destroy", "--gone", "--no-pending"], "go with 'delconsumer' alone"),
        (["delconsumer", "--no-pending"], "--no-pending and --group go with delconsumer --gone"),
        (["delconsumer", "--gone", "--no-pending", "--group", ""], "names must not be empty"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(server, r, capsys, argv, said):
    r.xgroup_create("s", "g", id="0", mkstream=True)
    before = server_state(r)
    code, _, err = run(server, capsys, "group", "s", *argv, "--yes")
    assert code == 1 and said in err and len(err.strip().splitlines()) == 1, err
    assert server_state(r) == before


def test_missing_stream_is_one_line_exit_1(server, capsys):
    code, _, err = run(server, capsys, "group", "nope", "delconsumer", "--gone", "--no-pending", "--yes")
    assert code == 1 and "no stream 'nope'" in err and len(err.strip().splitlines()) == 1, err
