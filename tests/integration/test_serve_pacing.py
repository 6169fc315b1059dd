"""`streamtop serve` polls at the scrapers' pace (issue 29): no scrape, no poll after the first; a
scrape that finds the page old polls once, however many scrapers come at once; what holds the
clock (--record, a viewer attached to the hub) polls every interval as before."""

from __future__ import annotations

import asyncio
import urllib.request

from streamtop.connection import build_spec
from streamtop.options import PollOptions
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
