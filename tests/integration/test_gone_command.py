"""`streamtop group KEY delconsumer --gone --no-pending [--group NAME]` (issue 18): the dashboard's
"delete consumers that are gone" (streamtop.actions.gone) as a command, over every group of the
stream or one. On 7.2+ servers (both Valkeys here) gone is judged from seen-time; on Redis 6.2 and
7.0 from an idle time far above the others' while the group kept delivering. A consumer holding
pending entries is never deleted, gone or not."""

from __future__ import annotations

import pytest
import redis

from streamtop import liveness
from tests.support.commands import one_json, run
from tests.support.streams import server_state
from tests.support.threads import Worker
from tests.support.waiting import wait_for

GONE_AFTER = 300  # ms instead of a minute: the same rules, no test waits a minute
PRE_72_DEAD_IDLE = 2_000  # ms: before 7.2 the dead must idle 10x a live worker's idle (see below)


@pytest.fixture(autouse=True)
def short_gone_after(monkeypatch):
    monkeypatch.setattr(liveness, "GONE_AFTER_MS", GONE_AFTER)


def consumers(r: redis.Redis, group: str) -> dict[bytes, int]:
    """name -> pending."""
    return {c["name"]: c["pending"] for c in r.xinfo_consumers("s", group)}


def idle_of(r: redis.Redis, group: str, name: bytes) -> int:
    return next(c["idle"] for c in r.xinfo_consumers("s", group) if c["name"] == name)


def workers_died(r: redis.Redis) -> None:
    """Group g: 'dead' finished its entry and was killed; 'dead-holding' was killed mid-task (one
    entry pending); 'live' reads after both went quiet. Group h: 'old' acked and quit, 'live2' reads."""
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xgroup_create("s", "h", id="0")
    for n in range(2):
        r.xadd("s", {"n": str(n)})
    done = r.xreadgroup("g", "dead", {"s": ">"}, count=1)
    r.xack("s", "g", done[0][1][0][0])
    r.xreadgroup("g", "dead-holding", {"s": ">"}, count=1)
    done = r.xreadgroup("h", "old", {"s": ">"}, count=2)
    r.xack("s", "h", *[i for i, _ in done[0][1]])
    wait_for(
        lambda: (
            min(idle_of(r, "g", b"dead"), idle_of(r, "g", b"dead-holding"), idle_of(r, "h", b"old"))
            > GONE_AFTER
        ),
        "the dead workers to idle",
    )
    r.xadd("s", {"n": "2"})  # the group delivers after they went quiet: others read, they did not
    r.xreadgroup("g", "live", {"s": ">"}, count=1)
    r.xreadgroup("h", "live2", {"s": ">"}, count=1)


def live_workers_read(r: redis.Redis) -> None:
    """Each live worker takes its own pending entry again (XCLAIM ... JUSTID to itself): before
    7.2 only a read or claim that gets an entry resets a consumer's idle time, and this one changes
    neither the stream, the group nor the delivery counts (server_state stays equal)."""
    for group, name in (("g", "live"), ("h", "live2")):
        ids = [p["message_id"] for p in r.xpending_range("s", group, "-", "+", 10, consumername=name)]
        r.xclaim("s", group, name, 0, ids, justid=True)


@pytest.mark.slow  # 2 s on 6.2 and 7.0: the dead workers idle 2 s first
def test_gone_consumers_without_pending_are_deleted_across_groups(any_server, any_r, capsys):
    r = any_r
    workers_died(r)
    # Before 7.2 a dead consumer counts as gone only while its idle time is 10x the live ones'
    # (liveness.FACTOR). With one read by the live workers and the dead ones idle 300 ms, a command
    # that polled over ~33 ms after that read (a loaded machine) saw them all "idle like the
    # others". The live workers keep working, as real ones do, so their idle time stays near 0
    # however long the commands take; and the dead ones are left idle 2 s first, so a live worker
    # held up for up to 200 ms (a busy machine delays its thread too) still reads as live.
    live = Worker(any_server, live_workers_read, 0.01)
    live.start()
    try:
        if "inactive" not in r.xinfo_consumers("s", "g")[0]:  # before 7.2: judged against the others
            wait_for(
                lambda: min(idle_of(r, "g", b"dead"), idle_of(r, "h", b"old")) > PRE_72_DEAD_IDLE,
                "the dead workers to idle 10x longer than a live one may lag",
            )
        run_the_deletes(any_server, r, capsys)
    finally:
        live.stop_event.set()
        live.join()


def run_the_deletes(any_server, r: redis.Redis, capsys) -> None:
    before = server_state(r)
    code, out, err = run(
        any_server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending", "--dry-run"
    )
    assert code == 0 and out.startswith("would delete 2 gone consumers without pending entries in 2 groups")
    assert "'g' / 'dead-holding': held: 1 pending, kept" in err
    assert "'h' / 'old': idle" in err or "'h' / 'old': no read attempted" in err
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


def test_one_group_only(server, r, capsys):
    workers_died(r)
    code, out, _ = run(
        server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending", "--group", "h", "--yes"
    )
    assert code == 0 and out.startswith("deleted 1 gone consumer of 's'")
    assert consumers(r, "h") == {b"live2": 1}
    assert set(consumers(r, "g")) == {b"dead", b"dead-holding", b"live"}
    code, _, err = run(server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending", "--group", "x")
    assert code == 2 and "no group 'x' on 's'" in err


def test_a_lone_idle_consumer_is_gone_only_where_the_server_tells_seen_time(any_server, any_r, capsys):
    """No entry delivered since it went quiet: on 7.2+ (both Valkeys) its seen-time says nobody
    asked under its name, so it is gone; on Redis 6.2 and 7.0 a worker blocked in XREADGROUP on a
    quiet stream idles just the same, so it cannot tell and the consumer stays."""
    r = any_r
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xadd("s", {"n": "1"})
    got = r.xreadgroup("g", "w", {"s": ">"}, count=1)
    r.xack("s", "g", got[0][1][0][0])
    wait_for(lambda: idle_of(r, "g", b"w") > GONE_AFTER, "the consumer to idle")
    seen_time = "inactive" in r.xinfo_consumers("s", "g")[0]
    code, out, err = run(any_server, capsys, "group", "s", "delconsumer", "--gone", "--no-pending", "--yes")
    if seen_time:
        assert code == 0 and consumers(r, "g") == {}, out
    else:
        assert code == 2 and out.startswith("nothing to delete") and consumers(r, "g") == {b"w": 0}
        assert "'g' / 'w': idle" in err and "the only consumer: cannot tell before 7.2, kept" in err


def test_needs_yes_and_read_only_refuse_changing_nothing(server, r, capsys):
    workers_died(r)
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
