"""`streamtop serve` polls at the scrapers' pace (issue 29): no scrape, no poll after the first; a
scrape that finds the page old polls once, however many scrapers come at once; what holds the
clock (--record, a viewer attached to the hub) polls every interval as before."""

from __future__ import annotations

import asyncio
import urllib.request

from streamtop.options import PollOptions
from streamtop.pipeline.connection import build_spec
from streamtop.serve.http import listen, stop
from streamtop.serve.poller import Exporter, serve_monitor
from tests.support.scrape import Scrape
from tests.support.waiting import until


def scrape_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read().decode()


async def test_scrapes_set_the_pace_and_concurrent_ones_share_one_poll(server, r):
    r.xadd("orders", {"n": 1})
    spec = build_spec(url=server.url)
    paced = Exporter(serve_monitor(spec, (), PollOptions(), 1.0), spec.db)
    clocked = Exporter(serve_monitor(spec, (), PollOptions(), 0.1), spec.db)
    release = clocked.hold()  # as --record, or a viewer attached to the hub
    httpd, thread = listen(0, "127.0.0.1", paced)
    url = f"http://127.0.0.1:{httpd.server_port}/metrics"
    halt = asyncio.Event()
    tasks = [asyncio.ensure_future(e.run(halt)) for e in (paced, clocked)]
    try:
        await until(None, lambda: paced.attempts == 1, "the first poll")
        # the held exporter polls on its clock meanwhile; the paced one waits for a scrape
        await until(None, lambda: clocked.attempts >= 12 and paced.stale(), "an old page")
        assert paced.attempts == 1
        pages = await asyncio.gather(*(asyncio.to_thread(scrape_text, url) for _ in range(20)))
        assert paced.attempts == 2  # one poll for the 20
        assert {Scrape.parse(p).value("streamtop_polls_total") for p in pages} == {2.0}
        release()
        released_at = clocked.attempts
        await until(None, lambda: paced.stale(), "an old page again")
        assert clocked.attempts <= released_at + 1  # at most the poll that was already due
    finally:
        halt.set()
        await asyncio.gather(*tasks)
        stop(httpd, thread)
        for e in (paced, clocked):
            await e.monitor.close()


async def test_a_scrape_of_a_hung_server_is_answered_within_the_scrapers_timeout(own_server):
    """A scrape that asked for a poll waited 10 s for it (SCRAPE_WAIT) while the server hung:
    exactly Prometheus' default scrape_timeout, so the scraper dropped every such scrape and never
    saw streamtop_up 0. It now waits less than the timeout the scraper says it has."""
    import urllib.request

    from streamtop.serve.http import SCRAPE_WAIT, scrape_wait
    from tests.support.processes import stopped

    assert SCRAPE_WAIT < 10 and scrape_wait({}) == SCRAPE_WAIT
    assert scrape_wait({"x-prometheus-scrape-timeout-seconds": "2"}) < 2
    assert scrape_wait({"x-prometheus-scrape-timeout-seconds": "nan"}) == SCRAPE_WAIT
    spec = build_spec(url=own_server.url)
    paced = Exporter(serve_monitor(spec, (), PollOptions(), 0.1), spec.db)
    httpd, thread = listen(0, "127.0.0.1", paced)
    url = f"http://127.0.0.1:{httpd.server_port}/metrics"
    halt = asyncio.Event()
    task = asyncio.ensure_future(paced.run(halt))
    try:
        await until(None, lambda: paced.attempts == 1 and paced.stale(), "the first poll, then an old page")
        request = urllib.request.Request(url, headers={"X-Prometheus-Scrape-Timeout-Seconds": "0.5"})

        def scrape() -> str:  # the read times out at 10x the scraper's own timeout (was 10 s)
            with urllib.request.urlopen(request, timeout=5) as resp:
                return resp.read().decode()

        with stopped(own_server):
            page = await asyncio.to_thread(scrape)
        assert Scrape.parse(page).value("streamtop_polls_total") == 1.0  # the page there was
    finally:
        halt.set()
        await task
        stop(httpd, thread)
        await paced.monitor.close()
