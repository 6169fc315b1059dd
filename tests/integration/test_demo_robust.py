"""The demo stays useful whatever is done to it by hand: it opens on group1 and its pending
entries, a destroyed group or deleted stream is recreated (and the guide says so), blocking
clients outlast their BLOCK, and `--port` alone puts the embedded server where the tutorial's
scripts look. Real servers throughout."""

from __future__ import annotations

import argparse
import time

import pytest
import redis

from streamtop.demo.audit import AUDIT_GROUP
from streamtop.demo.base import BLOCK_MS, make_db
from streamtop.demo.workload import ANALYTICS, GROUP, STREAM, DemoController
from streamtop.pipeline.connection import ConnectionSpec
from tests.support.waiting import until, wait_for


def controller_for(srv, **kw) -> DemoController:
    return DemoController(ConnectionSpec(host=srv.host, port=srv.port), seed=2, **kw)


def groups(r: redis.Redis) -> set[bytes]:
    return {g["name"] for g in r.xinfo_groups(STREAM)} if r.exists(STREAM) else set()


@pytest.mark.slow
def test_a_destroyed_group_is_recreated_and_the_guide_says_so(server, r):
    ctl = controller_for(server, rate=20)
    ctl.start()
    try:
        wait_for(lambda: sum(w.processed for w in ctl.consumers.values()) > 0, "work")
        r.xgroup_destroy(STREAM, GROUP)
        wait_for(lambda: GROUP.encode() in groups(r), "group1 to be created again")
        wait_for(lambda: ctl.last_event == ("recreated", GROUP), "the event to be recorded")
        assert ctl.guide().startswith(f"{GROUP} was gone")
        assert f"XGROUP CREATE {STREAM} {GROUP} $ MKSTREAM" in ctl.guide()
        # and the workers read on, without an error state
        before = sum(w.processed for w in ctl.consumers.values())
        wait_for(lambda: sum(w.processed for w in ctl.consumers.values()) > before, "reading on")
        assert all(w.state == "running" for w in ctl.workers() if w.role == "consumer")
        assert ctl.recreated == {GROUP: 1}, "once, however many workers hit NOGROUP"
    finally:
        ctl.stop()


@pytest.mark.slow
def test_a_deleted_stream_gets_its_groups_back(server, r):
    ctl = controller_for(server, rate=20)
    ctl.start()
    try:
        wait_for(lambda: r.exists(STREAM) and ctl.analytics.processed > 0, "work")
        r.delete(STREAM)
        wait_for(
            lambda: groups(r) == {GROUP.encode(), ANALYTICS.encode(), AUDIT_GROUP.encode()}, "the groups back"
        )
        wait_for(lambda: ctl.last_event[0] == "recreated", "the event to be recorded")
        assert f"{STREAM} deleted, by hand): the workload created it again" in ctl.guide()
        before = ctl.analytics.processed
        wait_for(lambda: ctl.analytics.processed > before, "analytics to read on")
        wait_for(lambda: all(w.state == "running" for w in ctl.workers()), "no worker in error")
    finally:
        ctl.stop()


@pytest.mark.slow
def test_blocking_clients_outlast_their_block(server):
    """redis-py's socket timeout must be longer than BLOCK, or a quiet stream means TimeoutError."""
    db = make_db(ConnectionSpec(host=server.host, port=server.port), "t", block_ms=1500)
    try:
        assert db.connection_pool.connection_kwargs["socket_timeout"] > 1.5
        t0 = time.monotonic()
        assert not db.xread({"quiet": "$"}, block=1500)  # blocked, and came back empty
        assert time.monotonic() - t0 >= 1.4
    finally:
        db.close()
    default = make_db(ConnectionSpec(host=server.host, port=server.port), "d")
    try:
        assert default.connection_pool.connection_kwargs["socket_timeout"] > BLOCK_MS / 1000
    finally:
        default.close()


@pytest.mark.slow
async def test_the_demo_opens_on_group1_with_its_pending_entries(server, r):
    from streamtop.commands.demo import build_app

    ctl = controller_for(server, rate=50, fail_above=0.3, retry_every=None)
    ctl.start()
    try:
        app = build_app(argparse.Namespace(interval=0.2, max_streams=1000), ctl.spec, ctl)
        async with app.run_test(size=(140, 42)) as pilot:
            await until(
                pilot,
                lambda: app.selected_group == GROUP.encode() and app.w("pending").entries,
                "group1 and its pending entries on screen",
            )
            assert app.selected_key == STREAM.encode()
            assert app.selected_group == GROUP.encode()
            assert app.w("lower").active == "pending-tab"
            shown = {e.id for e in app.w("pending").entries}
            on_server = {
                row["message_id"].decode() for row in r.xpending_range(STREAM, GROUP, "-", "+", 10_000)
            }
            assert shown & on_server, "group1's pending entries are on screen"
            # the user's own choice is left alone afterwards
            app.select(STREAM.encode(), ANALYTICS.encode())
            await pilot.pause(0.5)
            assert app.selected_group == ANALYTICS.encode()
    finally:
        ctl.stop()


def test_lesson_out_of_range_or_without_the_ui_is_one_line(capsys):
    from streamtop import cli, numbers
    from streamtop.demo.lessons import LESSONS

    assert numbers.DEMO_LESSON.hi == len(LESSONS)
    with pytest.raises(SystemExit) as info:
        cli.main(["demo", "--lesson", "13"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "lesson must be at most 12" in err and len(err.strip().splitlines()) == 1
    assert cli.main(["demo", "--no-ui", "--lesson", "2"]) == 1
    err = capsys.readouterr().err
    assert "needs the UI" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_workload_runs_as_a_user_who_may_not_name_connections(server, r):
    """`streamtop demo --url` as a user without CLIENT SETNAME (an ACL with -client): every
    worker connects unnamed, best effort as the rest of streamtop, instead of failing on the
    name. The ACL LOG shows the refused naming (so the path ran) and nothing else that matters."""
    r.execute_command("ACL", "SETUSER", "demo-user", "on", ">demo-pw", "~*", "&*", "+@all", "-client")
    spec = ConnectionSpec(host=server.host, port=server.port, username="demo-user", password="demo-pw")
    ctl = DemoController(spec, rate=20, seed=2, retry_every=None)
    ctl.start()
    try:
        wait_for(
            lambda: all(w.processed > 0 for w in ctl.workers()),
            "every worker (producer, c1..c3, analytics, audit1, reader1, sub1) to work",
        )
        assert not [w for w in ctl.workers() if w.state == "error"]
        assert not [c for c in r.client_list() if c["name"].startswith("streamtop-demo")]
    finally:
        ctl.stop()
    refused = {str(e["object"]) for e in r.acl_log(count=100)}
    assert "client|setname" in refused
    # client|list: lesson 4's check (the blocked consumers) is then not seen, and says nothing
    assert refused <= {"client|setname", "client|setinfo", "client|list"}
