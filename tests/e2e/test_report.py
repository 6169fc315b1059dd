"""`streamtop report`: the incident summary of a recording as text, and as one HTML file that a real
headless Chromium (Debian's /usr/bin/chromium via Playwright) draws without a request to any host,
names escaped (a group named like a script stays text)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from streamtop.monitor import Monitor
from streamtop.options import PollOptions, SessionOptions
from streamtop.pipeline.connection import parse_url
from streamtop.record import attach

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
HOSTILE = "<script>alert(1)</script>"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install -y chromium"),
]


async def record_incident(server, r, path) -> None:
    """A billing group that stops reading while entries keep coming, a consumer that leaves, a
    trim sent through the session (an action), a group named like a script."""
    r.xadd("orders", {"n": "0"})
    r.xgroup_create("orders", "billing", id="0")
    r.xgroup_create("orders", HOSTILE, id="$")
    monitor = Monitor(parse_url(server.url), SessionOptions(poll=PollOptions(estimate_interval=0)))
    monitor.history.window = 2.0
    attach(monitor, path, role="test")
    try:
        for i in range(12):
            r.xadd("orders", {"n": str(i)})
            if i < 4:
                for _, entries in r.xreadgroup("billing", "worker-1", {"orders": ">"}) or []:
                    r.xack("orders", "billing", *[e for e, _ in entries])
            if i == 6:
                r.xgroup_delconsumer("orders", "billing", "worker-1")
            if i == 8:
                actions = monitor.actions
                assert actions is not None
                assert (await actions.trim(b"orders", "MAXLEN", 5)).ok
            await monitor.poll()
            await asyncio.sleep(0.25)  # pacing: the polls of a recording are spread in time
    finally:
        await monitor.close()


def test_report_as_text_and_as_html_drawn_by_chromium_with_no_request(server, r, tmp_path):
    path, page_file = tmp_path / "rec.db", tmp_path / "report.html"
    asyncio.run(record_incident(server, r, path))
    done = subprocess.run(
        [sys.executable, "-m", "streamtop", "report", str(path), "--html", str(page_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "group billing on orders" in out and "peaks: lag 8 at" in out
    assert "consumer worker-1 went at" in out and "trim" in out and "by " in out
    assert "stopped" in out  # the verdict timeline reaches the stop
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda req: requests.append(req.url))
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(page_file.as_uri())
            assert page.locator("svg").count() == 2  # one chart per group
            box = page.locator("svg").first.bounding_box()
            assert box is not None and box["width"] > 500 and box["height"] > 100
            assert page.locator("svg polyline").count() >= 2  # lag and pending drawn
            assert any(HOSTILE in h for h in page.locator("h2").all_inner_texts())  # shown as text
            page.screenshot(path="/tmp/record-report.png", full_page=True)
        finally:
            browser.close()
    assert requests == [page_file.as_uri()] and dialogs == []
