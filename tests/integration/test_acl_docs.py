"""The minimal ACL lines of docs/security.md are complete (issue 24, item 12): read from that page
itself (so the two cannot drift), each command runs as that user and works, and the server's ACL LOG shows
nothing refused but the best-effort connection naming. The dashboard's poll, `status`, `tail`,
`tail --follow` (XREAD, missing from the watching line before) and `serve` need the watching line;
`produce` adds its row of the actions table. The actions themselves: tests/integration/test_acl.py."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request

import pytest
import redis

from streamtop import cli
from streamtop.monitor import Monitor
from streamtop.pipeline.connection import build_spec
from tests.support import REPO_ROOT
from tests.support.acl import USER, WATCH_ACL, denied, set_user, url
from tests.support.waiting import wait_for


def docs_acl() -> tuple[list[str], dict[str, list[str]]]:
    """(the watching rules, {action row: its extra commands}) as docs/security.md writes them."""
    text = (REPO_ROOT / "docs" / "security.md").read_text()
    assert "The actions need write access to their keys (`%RW~*`" in text
    section = text.split("## Minimal ACLs", 1)[1]
    block = section.split("```", 2)[1]
    line = next(x for x in block.splitlines() if x.startswith("ACL SETUSER streamtop-watch on "))
    rules = [w for w in line.split()[3:] if w not in ("on", ">PASSWORD")]
    rows = {}
    for row in section.split("\n\n", 2)[1:3]:
        for m in re.finditer(r"^\| (.+?) \| (`\+.+?) \|$", row, re.M):
            rows[m.group(1)] = re.findall(r"\+[\w|]+", m.group(2).replace("\\|", "|"))
    return rules, rows


RULES, ROWS = docs_acl()


@pytest.fixture(params=["valkey-9.1", "redis-7.0"])
def watcher(request, server_pool):
    srv = server_pool.get(request.param)
    with redis.Redis(host=srv.host, port=srv.port, protocol=2) as r:
        r.flushall()
        r.xadd("orders", {"n": "1"})
        r.xgroup_create("orders", "billing", id="0")
        r.xreadgroup("billing", "c1", {"orders": ">"})
        yield srv, r
        r.acl_deluser(USER)
        r.execute_command("ACL", "LOG", "RESET")


def as_docs_user(r: redis.Redis, *extra: str) -> None:
    set_user(r, *extra, rules=RULES)


def test_the_docs_lines_are_the_ones_the_acl_tests_use():
    assert WATCH_ACL.split() == RULES
    assert "+xread" in RULES  # tail --follow
    assert ROWS and all(cmds for cmds in ROWS.values())


@pytest.mark.parametrize(
    "argv",
    [["status"], ["status", "--json"], ["tail", "orders"], ["tail", "orders", "--json", "--from", "-"]],
    ids=["status", "status --json", "tail", "tail --from"],
)
def test_one_shot_commands_as_the_watching_user(watcher, capsys, argv):
    srv, r = watcher
    as_docs_user(r)
    code = cli.main([*argv, "--url", url(srv), "--no-auth-warning"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "NOPERM" not in out + err
    assert "orders" in out if argv[0] == "status" else "n" in out
    assert denied(r) == set()


async def test_the_dashboards_poll_as_the_watching_user(watcher):
    srv, r = watcher
    as_docs_user(r)
    monitor = Monitor(build_spec(url=url(srv), env={}))
    try:
        for _ in range(3):
            await monitor.poll()
        snap = monitor.last
        assert monitor.error is None and snap is not None
        [orders] = snap.streams
        assert orders.error is None and orders.groups[0].pending == 1
    finally:
        await monitor.close()
    assert denied(r) == set()


def test_produce_as_the_watching_user_with_its_row(watcher, capsys):
    srv, r = watcher
    [extra] = [cmds for row, cmds in ROWS.items() if "streamtop produce" in row]
    as_docs_user(r, "%RW~*", *extra)  # "The actions need write access to their keys (`%RW~*` ...)"
    code = cli.main(["produce", "orders", "-n", "3", "--url", url(srv), "--no-auth-warning"])
    assert code == 0, capsys.readouterr().err
    assert r.xlen("orders") == 4 and denied(r) == set()


@pytest.mark.slow
def test_tail_follow_as_the_watching_user(watcher):
    srv, r = watcher
    as_docs_user(r)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamtop", "tail", "orders", "-f", "--url", url(srv), "--no-auth-warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().endswith("n=1\n")
        wait_for(
            lambda: any(c.get("cmd") == "xread" for c in r.client_list()) or proc.poll() is not None, "XREAD"
        )
        r.xadd("orders", {"n": "2"})
        assert proc.stdout.readline().endswith("n=2\n")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "NOPERM" not in err and denied(r) == set(), err


@pytest.mark.slow
def test_serve_as_the_watching_user(watcher):
    srv, r = watcher
    as_docs_user(r)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamtop", "serve", "--metrics-port", "0", "--interval", "0.2"]
        + ["--url", url(srv), "--no-auth-warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        banner = proc.stderr.readline()
        port = re.search(r":(\d+)/metrics", banner)
        assert port, banner
        page = f"http://127.0.0.1:{port.group(1)}/metrics"

        def scraped() -> str | None:
            text = urllib.request.urlopen(page, timeout=5).read().decode()
            return text if 'redis_stream_length{db="db0",stream="orders"}' in text else None

        text = str(wait_for(scraped, "the stream on the metrics page"))
        assert "streamtop_up 1.0" in text or "streamtop_up 1" in text
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert denied(r) == set()
