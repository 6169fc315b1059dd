"""`streamtop demo --no-ui` as a user runs it: a subprocess, watched with redis-py, then killed."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading

import psutil
import pytest
import redis

from streamtop.demo.workload import ANALYTICS, GROUP, STREAM
from streamtop.embedded import free_port, remove_workdirs_of, workdirs_of
from tests.support.waiting import WAIT, wait_for

# "started Valkey 9.1.2 on URL; ..." or "using the Redis 6.2.5 server already on URL (keys left ...)"
URL_LINE = re.compile(
    r"^streamtop demo: (?:started .+? on|using the .+? server already on) (redis://127\.0\.0\.1:(\d+)/0)[;) ]"
)


class Demo:
    """A `streamtop demo` subprocess and the first line it prints."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamtop", "demo", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.line: str | None = None
        reader = threading.Thread(target=self._read_line, daemon=True)
        reader.start()
        reader.join(WAIT)

    def _read_line(self) -> None:
        self.line = (self.proc.stdout.readline() if self.proc.stdout else "").rstrip("\n")

    def url(self) -> tuple[str, int]:
        m = URL_LINE.match(self.line or "")
        assert m, f"no URL line: {self.line!r}, stderr: {self.stderr_now()}"
        return m.group(1), int(m.group(2))

    def stderr_now(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read() if self.proc.stderr else ""

    def children(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def terminate(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(15)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


@pytest.fixture
def demo():
    made: list[Demo] = []

    def start(*args: str) -> Demo:
        d = Demo(*args)
        made.append(d)
        return d

    yield start
    for d in made:
        d.kill()
    for d in made:  # the demo removes its server's temp dir (after SIGKILL the test did)
        assert workdirs_of(d.proc.pid) == [], "the demo left its server's temp dir behind"


def gone(pids: list[int]) -> bool:
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            pass
    return True


def group(r: redis.Redis, name: str) -> dict:
    return next(g for g in r.xinfo_groups(STREAM) if g["name"] == name.encode())


def watch_workload(r: redis.Redis) -> None:
    """Events arrive, group1 acks, the hot readings stay pending, analytics lags."""
    wait_for(lambda: r.exists(STREAM) and r.xlen(STREAM) >= 30, "events to arrive")
    sample = r.xrange(STREAM, count=5)
    assert all(set(f) == {b"sensor_id", b"temp", b"humidity"} for _, f in sample)
    wait_for(lambda: len(r.xinfo_consumers(STREAM, GROUP)) == 3, "c1..c3")
    # acking: more entries delivered to group1 than pending in it
    wait_for(lambda: _delivered(r) > group(r, GROUP)["pending"] > 0, "group1 to ack and fail some")
    # a cool reading may be pending for an instant (read, not yet acked); a hot one stays
    cool, hot = _pending_by_temp(r)
    assert hot
    wait_for(lambda: not (cool & _pending_by_temp(r)[0]), "in-flight cool readings to be acked")
    assert hot <= _pending_by_temp(r)[1]
    wait_for(lambda: _analytics_lag(r) > 0, "analytics to lag")


def _pending_by_temp(r: redis.Redis) -> tuple[set[bytes], set[bytes]]:
    """IDs pending in group1 with temp <= 0.7 and with temp > 0.7."""
    cool, hot = set(), set()
    for row in r.xpending_range(STREAM, GROUP, "-", "+", 100):
        entries = r.xrange(STREAM, row["message_id"], row["message_id"])
        if entries:
            (hot if float(entries[0][1][b"temp"]) > 0.7 else cool).add(row["message_id"])
    return cool, hot


def _delivered(r: redis.Redis) -> int:
    g = group(r, GROUP)
    if "entries-read" in g and g["entries-read"] is not None:
        return g["entries-read"]
    return len(r.xrange(STREAM, "-", g["last-delivered-id"], count=10_000))


def _analytics_lag(r: redis.Redis) -> int:
    g = group(r, ANALYTICS)
    if g.get("lag") is not None:
        return g["lag"]
    return len(r.xrange(STREAM, b"(" + g["last-delivered-id"], "+", count=1000))


def test_no_ui_runs_the_workload_and_sigterm_leaves_nothing(demo):
    d = demo("--no-ui", "--rate", "60")
    url, port = d.url()
    children = d.children()
    assert children, "the embedded server runs as a child process"
    with redis.Redis.from_url(url) as r:
        info = r.info("server")
        assert info.get("valkey_version", "").startswith("9.1")
        watch_workload(r)
    pids = [c.pid for c in children]
    assert d.terminate(signal.SIGTERM) == 0
    wait_for(lambda: gone(pids), "the server process to end", timeout=10)
    with pytest.raises(redis.ConnectionError), redis.Redis(port=port, socket_connect_timeout=1) as r:
        r.ping()


def test_ctrl_c_stops_it_too(demo):
    d = demo("--no-ui")
    d.url()
    pids = [c.pid for c in d.children()]
    assert d.terminate(signal.SIGINT) in (0, 130)
    wait_for(lambda: gone(pids), "the server process to end", timeout=10)


def test_sigkill_of_the_demo_takes_the_server_with_it(demo):
    d = demo("--no-ui")
    d.url()
    children = d.children()
    assert children
    workdirs = [c.cwd() for c in children]  # the server runs in its --dir
    assert [str(p) for p in workdirs_of(d.proc.pid)] == workdirs  # named after the demo's pid
    d.terminate(signal.SIGKILL)
    wait_for(lambda: gone([c.pid for c in children]), "the server to die with its parent", timeout=10)
    # no handler of ours ran: its empty temp dir is left, and its name says whose it is, so the
    # parent can remove it (the next server start anywhere would, too: embedded.remove_orphan_workdirs)
    remove_workdirs_of(d.proc.pid)


def test_port_alone_runs_the_embedded_server_on_it(demo):
    port = free_port()
    d = demo("--no-ui", "--port", str(port))
    assert d.url() == (f"redis://127.0.0.1:{port}/0", port)
    with redis.Redis(port=port) as r:
        assert r.info("server").get("valkey_version", "").startswith("9.1")
        wait_for(lambda: r.exists(STREAM), "the workload on it")
    assert d.terminate() == 0


@pytest.mark.parametrize("flavour", ["redis-6.2", "valkey-9.1"])
def test_url_runs_the_workload_on_a_server_of_yours(flavour, server_pool, demo):
    srv = server_pool.get(flavour)
    with redis.Redis(host=srv.host, port=srv.port) as r:
        r.flushall()
        d = demo("--no-ui", "--url", srv.url, "--rate", "60")
        assert d.url()[0] == srv.url
        assert d.children() == []  # nothing started
        watch_workload(r)
        assert d.terminate() == 0
        assert r.exists(STREAM), "without --cleanup nothing is deleted"
        assert srv.running

        d = demo("--no-ui", "--url", srv.url, "--cleanup")
        d.url()
        assert d.terminate() == 0
        assert not r.exists(STREAM)


def test_refused_url_is_one_line_and_exit_1(demo):
    port = free_port()
    d = demo("--no-ui", "--url", f"redis://127.0.0.1:{port}/0")
    assert d.proc.wait(15) == 1
    err = d.proc.stderr.read().strip()
    assert len(err.splitlines()) == 1
    assert "refused" in err and str(port) in err and "leave out --url" in err
    assert d.line == ""
