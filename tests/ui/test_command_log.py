"""The command log (issue 26): the commands streamtop sent for `e`, `a`, `c` and `t`, in redis-cli
form, replayed with the real redis-cli on a second server in the same state, have the same effect
there; names are escaped (quoted, \\xHH) so a hostile name neither breaks the line nor the screen;
the polls are one summarised line each; `--log FILE` appends.

Before, nothing recorded what streamtop sent (there was no log)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import redis

from streamtop.commandlog import CommandLog, command_line, quote, summarize
from streamtop.ui.dialogs import ConfirmDialog
from tests.conftest import _fresh
from tests.support.ui import is_dialog, make_app, type_in
from tests.support.waiting import until

KEY, GROUP = "s", "g"
CLI = shutil.which("redis-cli")


def same_start(r: redis.Redis) -> None:
    """Ten entries at fixed IDs, all delivered to c1; c2 exists (the claim's target)."""
    for i in range(1, 11):
        r.xadd(KEY, {"n": str(i), "name": "caf\u00e9 \n\x1b[31m"}, id=f"{i}-0")
    r.xgroup_create(KEY, GROUP, "0")
    r.xreadgroup(GROUP, "c1", {KEY: ">"}, count=10)
    r.xgroup_createconsumer(KEY, GROUP, "c2")


def state(r: redis.Redis) -> dict:
    entries = r.xrange(KEY)
    return {
        "length": r.xlen(KEY),
        "fields": sorted(tuple(sorted(f.items())) for _, f in entries),
        "pel": [
            (p["message_id"], p["consumer"], p["times_delivered"])
            for p in r.xpending_range(KEY, GROUP, "-", "+", 100)
        ],
    }


@pytest.mark.slow
@pytest.mark.skipif(CLI is None, reason="redis-cli (Debian's redis-server package) is not installed")
async def test_the_logged_commands_of_e_a_c_t_replayed_by_redis_cli_do_the_same(server, server_pool, r):
    second = _fresh(server_pool.get("valkey-8.1"))
    r2 = redis.Redis(host=second.host, port=second.port)
    try:
        same_start(r)
        same_start(r2)
        app = make_app(f"redis://{server.host}:{server.port}", interval=0.2)
        log = CommandLog()
        app.monitor.command_log = log
        async with app.run_test(size=(140, 44)) as pilot:
            await until(pilot, lambda: app.snapshot is not None and app.snapshot.stream(b"s"), "a poll")
            app.select(b"s", b"g")
            await until(pilot, lambda: app.main.pending.table.row_count == 10, "the pending rows")

            app.main.streams.table.focus()
            await pilot.press("e")  # one test event (not the demo's stream: asks first)
            await until(pilot, lambda: is_dialog(app) or r.xlen(KEY) == 11, "the produce step")
            if isinstance(app.screen, ConfirmDialog):
                await pilot.press("y")
            await until(pilot, lambda: r.xlen(KEY) == 11, "the event")

            table = app.main.pending.table
            app.main.show_tab("pending-tab")
            table.focus()
            await until(pilot, lambda: app.main.pending.cursor_id == "1-0", "the cursor on 1-0")
            await pilot.press("a")  # ack the entry under the cursor
            await until(pilot, lambda: r.xpending(KEY, GROUP)["pending"] == 9, "the ack")

            await until(pilot, lambda: app.main.pending.cursor_id == "2-0", "the cursor on 2-0")
            await pilot.press("x", "x")  # mark 2-0 and 3-0
            await pilot.press("c")
            await until(pilot, lambda: app.screen.query("#consumer"), "the claim dialog")
            await type_in(pilot, "idle", "0")
            await type_in(pilot, "consumer", "c2")
            await pilot.press("enter")
            await until(
                pilot, lambda: len(r.xpending_range(KEY, GROUP, "-", "+", 10, "c2")) == 2, "the claim"
            )
            await until(pilot, lambda: not is_dialog(app), "the dialog closed")

            app.main.streams.table.focus()
            await pilot.press("t")
            await until(pilot, lambda: app.screen.query("#threshold"), "the trim dialog")
            await type_in(pilot, "threshold", "6")
            await pilot.press("enter")  # the preview
            await pilot.pause(0.3)
            await pilot.press("enter")  # trim
            await until(pilot, lambda: r.xlen(KEY) == 6, "the trim")

        sent = [e for e in log.entries() if e.source == "action"]
        commands = [e.command for e in sent]
        for name in ("XADD", "XACK", "XCLAIM", "XTRIM"):
            assert name in commands, commands
        assert any(e.line == "XACK s g 1-0" and e.summary == "(integer) 1" for e in sent), [
            e.line for e in sent
        ]
        assert any(e.line.startswith("XCLAIM s g c2 0 2-0 3-0") for e in sent), [e.line for e in sent]
        assert any(e.line == "XTRIM s MAXLEN = 6" for e in sent), [e.line for e in sent]

        script = "".join(e.line + "\n" for e in sent)
        done = subprocess.run(
            [CLI, "-h", second.host, "-p", str(second.port)],
            input=script.encode(),
            capture_output=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        a, b = state(r), state(r2)
        assert a["length"] == b["length"] == 6
        assert a["fields"] == b["fields"], "the same entries (the test event with its fields)"
        assert [(c, d) for _, c, d in a["pel"]] == [(c, d) for _, c, d in b["pel"]]
        assert [i for i, _, _ in a["pel"]] == [i for i, _, _ in b["pel"]]
    finally:
        r2.close()


def test_names_and_values_are_quoted_and_escaped_for_redis_cli():
    assert quote(b"app:event") == "app:event"
    assert quote("*") == "*"
    assert quote(b"") == '""'
    assert quote(b"a b") == '"a b"'
    assert quote(b'say "hi"\n') == '"say \\"hi\\"\\n"'
    assert quote("caf\u00e9\x1b[31m\u202e") == '"caf\\xc3\\xa9\\x1b[31m\\xe2\\x80\\xae"'
    assert command_line(("XACK", b"s p", b"g", "1-0")) == 'XACK "s p" g 1-0'
    assert summarize("XACK", 2) == "(integer) 2"
    assert summarize("XAUTOCLAIM", [b"0-0", [[b"1-0", [b"a", b"1"]]], []]) == "next 0-0, 1 claimed: 1-0"
    assert summarize("XADD", redis.ResponseError("NOGROUP x\ny")).startswith("(error) NOGROUP x y")


def test_polls_are_one_line_each_and_the_file_gets_the_commands(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("# earlier run\n")
    with path.open("a") as sink:
        log = CommandLog(sink)
        log.poll("1 streams in 1 round trip(s)")
        log.poll("1 streams in 1 round trip(s)")
        log.record(("XACK", b"s", b"g", "1-0"), 1)
        log.poll("1 streams in 1 round trip(s)")
    lines = [e.line for e in log.entries()]
    assert lines == [
        "# poll: 1 streams in 1 round trip(s) (×2)",
        "XACK s g 1-0",
        "# poll: 1 streams in 1 round trip(s)",
    ]
    text = path.read_text().splitlines()
    assert (
        text[0] == "# earlier run" and text[-1] == "XACK s g 1-0" and text[-2].endswith("action: (integer) 1")
    )
    assert not any("poll" in line for line in text)


@pytest.mark.parametrize("command", [[], ["demo", "--no-ui"]], ids=["dashboard", "demo"])
def test_a_log_file_that_cannot_be_opened_is_one_line_and_exit_1(tmp_path, command):
    import sys

    bad = tmp_path / "no-such-dir" / "audit.log"
    done = subprocess.run(
        [sys.executable, "-m", "streamtop", *command, "--log", str(bad), "--url", "redis://127.0.0.1:1/0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"streamtop: error: --log {bad}: No such file or directory"
    ], done.stderr
