"""`streamtop serve` as a real process: bad input is one line and exit 1; a running exporter says
where it listens, warns when that is not loopback, serves /metrics and ends cleanly on SIGTERM."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import urllib.request

import pytest

from tests.support.console import close, one_line_error, scrape_until, streamtop, terminate
from tests.support.scrape import Scrape
from tests.support.waiting import wait_for


def serve(*args: str, **kw) -> subprocess.Popen:
    return streamtop("serve", *args, **kw)


def has_orders(page: Scrape) -> bool:
    return page.value("redis_stream_length", db="db0", stream="orders") == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--metrics-port", "70000"], ["--metrics-port", "65,535"]),
        (["--metrics-port", "-1"], ["--metrics-port"]),
        (["--metrics-port", "http"], ["--metrics-port"]),
        (["--bind", "not-an-address"], ["--bind", "IP address"]),
        (["--bind", "localhost"], ["--bind", "IP address"]),
        (["--bind", "300.1.1.1"], ["--bind"]),
    ],
)
def test_bad_input_is_one_line_and_exit_1(args, words):
    one_line_error(serve("--url", "redis://127.0.0.1:1/0", *args), *words)


def test_a_port_in_use_is_one_line_and_exit_1(server):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        one_line_error(serve("--url", server.url, "--metrics-port", str(port)), "cannot listen", str(port))


def test_serves_metrics_warns_off_loopback_and_stops_on_sigterm(server, r):
    r.xadd("orders", {"f": "v"})
    proc = serve("--url", server.url, "--metrics-port", "0", "--bind", "0.0.0.0", "--interval", "0.2")
    try:
        warning = proc.stderr.readline()
        assert "warning" in warning and "not loopback" in warning and "0.0.0.0" in warning
        assert "hub API" in warning and "--token-file" in warning  # said at once, not at the first --attach
        banner = proc.stderr.readline()
        port = re.search(r"http://0\.0\.0\.0:(\d+)/metrics", banner)
        assert port, banner
        url = f"http://127.0.0.1:{port.group(1)}/metrics"

        got = scrape_until(url, has_orders, "the stream on /metrics")
        assert got.value("streamtop_up") == 1
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert proc.returncode == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        close(proc)


def test_loopback_is_the_default_and_no_warning(server):
    proc = serve("--url", server.url, "--metrics-port", "0")
    try:
        banner = proc.stderr.readline()
        assert "http://127.0.0.1:" in banner and "warning" not in banner
    finally:
        terminate(proc)
    assert proc.returncode == 0


def test_a_server_that_is_down_is_not_an_error_the_exporter_says_up_0():
    """Nothing listens on the Redis port: the exporter starts anyway (the server may come back)
    and says streamtop_up 0 with no stream metrics, until SIGTERM (exit 0)."""
    with socket.socket() as probe:  # a port nothing listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        proc = serve("--url", f"redis://127.0.0.1:{port}/0", "--metrics-port", "0", "--interval", "0.2")
        try:
            banner = proc.stderr.readline()
            assert "not answering yet" in banner, banner
            url = re.search(r"(http://127\.0\.0\.1:\d+/metrics)", banner).group(1)
            with urllib.request.urlopen(url, timeout=10) as resp:
                page = Scrape.parse(resp.read().decode())
            assert page.value("streamtop_up") == 0
            assert not any(n.startswith("redis_stream") for n in page.names())
        finally:
            terminate(proc)
    assert proc.returncode == 0


def test_the_command_exports_all_2001_streams_and_says_nothing_left_out(server, r):
    """issue 25: `streamtop serve` with 2,001 streams exported 1,000 (the default --max-streams),
    an arbitrary 1,000, with nothing on stderr. The command now exports every one."""
    pipe = r.pipeline(transaction=False)
    for i in range(2001):
        pipe.xadd(f"s:{i:05d}", {"f": "v"})
    pipe.execute()
    proc = serve("--url", server.url, "--metrics-port", "0", "--interval", "0.5")
    try:
        banner = proc.stderr.readline()
        port = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", banner)
        assert port, banner
        url = f"http://127.0.0.1:{port.group(1)}/metrics"

        got = scrape_until(url, lambda page: page.value("streamtop_up") == 1, "a poll on /metrics")
        assert len(got.samples["redis_stream_length"]) == 2001
        assert got.value("streamtop_streams_capped") == 0
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert "left out" not in proc.stderr.read()
    finally:
        close(proc)


CONSUMER_FAMILIES = {
    "redis_stream_group_consumer_messages_pending",
    "redis_stream_group_consumer_idle_seconds",
    "streamtop_stream_group_consumer_inactive_seconds",
}
DETAIL_FAMILIES = {"redis_stream_radix_tree_keys", "redis_stream_group_last_delivered_id"}
DEFAULT_FAMILIES = {"redis_stream_length", "redis_stream_group_lag", "streamtop_stream_group_health"}


@pytest.mark.parametrize(
    ("flags", "consumers", "detail"),
    [([], False, False), (["--consumer-metrics"], True, False), (["--detail-metrics"], False, True)],
)
def test_consumer_and_detail_series_only_when_asked(server, r, flags, consumers, detail):
    """issue 29: the consumer series were three quarters of a page larger than redis_exporter's;
    they (and the detail families) are off unless asked, the stream and group ones always on."""
    r.xadd("orders", {"f": "v"})
    r.xgroup_create("orders", "workers", "0")
    r.xreadgroup("workers", "c1", {"orders": ">"})
    proc = serve("--url", server.url, "--metrics-port", "0", "--interval", "0.2", *flags)
    try:
        banner = proc.stderr.readline()
        assert "when scraped" in banner, banner
        url = re.search(r"(http://127\.0\.0\.1:\d+/metrics)", banner).group(1)

        names = scrape_until(url, has_orders, "the stream on /metrics").names()
        assert names >= DEFAULT_FAMILIES
        assert (names >= CONSUMER_FAMILIES) is consumers and bool(CONSUMER_FAMILIES & names) is consumers
        assert (names >= DETAIL_FAMILIES) is detail and bool(DETAIL_FAMILIES & names) is detail
    finally:
        terminate(proc)
    assert proc.returncode == 0


def test_record_keeps_the_interval_whatever_the_scrapes(server, r, tmp_path):
    """issue 29: serve polls when scraped; a recording holds the interval's clock, unscraped."""
    import sqlite3

    r.xadd("orders", {"f": "v"})
    db = tmp_path / "rec.db"
    proc = serve("--url", server.url, "--metrics-port", "0", "--interval", "0.2", "--record", str(db))
    try:
        banner = proc.stderr.readline()
        assert "polled every 0.2 s (--record)" in banner, banner

        def polls() -> int:
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                    return int(c.execute("SELECT count(*) FROM polls").fetchone()[0])
            except sqlite3.Error:
                return 0

        wait_for(lambda: polls() >= 5, "five recorded polls with no scrape")
    finally:
        terminate(proc)
    assert proc.returncode == 0
