"""`streamtop web` in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright;
no browser is downloaded): the page loads, the stream of a real server shows, a key press works,
and a write is refused without --allow-writes and lands with it.

The page draws the terminal on a canvas (xterm.js), so there are no DOM rows to read. The test
serves textual-serve's own textual.js with one change, `window.__streamtopTerm = ` in front of the
xterm.js Terminal it creates, and reads that terminal's buffer: the text the canvas shows. A
textual-serve whose bundle no longer has that line fails here, loudly, instead of reading nothing.
Every request to anything but the server under test (the page asks Google for a font) is aborted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support.waiting import wait_for
from tests.support.web import WebProcess, running_web, web_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TERMINAL_LINE = "this.terminal=new v.Terminal("
STREAM = "orders:web"

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install -y chromium (.ci/run does)"
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def seeded(srv) -> redis.Redis:
    r = redis.Redis(host=srv.host, port=srv.port)
    for n in range(3):
        r.xadd(STREAM, {"sensor_id": f"s{n}", "temp": "0.5"})
    r.xgroup_create(STREAM, "billing", "0")
    return r


def open_page(browser, web: WebProcess):
    """A page on the dashboard, with the xterm.js Terminal reachable and nothing fetched from
    outside this machine."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()

    def route(request_route) -> None:
        url = request_route.request.url
        if not url.startswith(web.url):
            request_route.abort()
        elif url.endswith("/static/js/textual.js"):
            response = request_route.fetch()
            bundle = response.text()
            assert bundle.count(TERMINAL_LINE) == 1, "textual-serve's bundle changed: find its Terminal"
            patched = bundle.replace(TERMINAL_LINE, "this.terminal=window.__streamtopTerm=new v.Terminal(")
            request_route.fulfill(response=response, body=patched)
        else:
            request_route.continue_()

    page.route("**/*", route)
    response = page.goto(web.url)
    assert response is not None and response.status == 200
    return context, page


def screen(page) -> str:
    """The terminal's text, line by line, from xterm.js's buffer."""
    return page.evaluate(
        """() => {
            const term = window.__streamtopTerm;
            if (!term) return "";
            const buffer = term.buffer.active, lines = [];
            for (let i = 0; i < term.rows; i++) {
                const line = buffer.getLine(i);
                lines.push(line ? line.translateToString(true) : "");
            }
            return lines.join("\\n");
        }"""
    )


def shows(page, *words: str):
    def check() -> bool:
        text = screen(page)
        return all(w in text for w in words)

    return check


def press(page, key: str) -> None:
    page.focus(".xterm-helper-textarea")  # xterm.js takes keys through its hidden textarea
    page.keyboard.press(key)


@pytest.fixture
def read_only_page(browser, server):
    r = seeded(server)
    with running_web("-p", str(server.port), env=web_env()) as web:
        context, page = open_page(browser, web)
        try:
            yield web, page, r
        finally:
            context.close()
            r.close()


def test_the_page_loads_and_shows_the_stream(read_only_page):
    web, page, _ = read_only_page
    assert "streamtop" in page.inner_text(".intro-dialog")  # textual-serve's splash, named by us
    wait_for(shows(page, STREAM, "billing", "READ-ONLY"), f"the dashboard to show {STREAM} and its group")
    assert len(web.sessions()) == 1  # one dashboard process for this browser session


def test_a_key_press_opens_the_help(read_only_page):
    _, page, _ = read_only_page
    wait_for(shows(page, STREAM), "the stream")
    assert "streamtop keys" not in screen(page)
    press(page, "?")
    wait_for(shows(page, "streamtop keys", "esc: close"), "the help screen")


def test_a_write_is_refused_without_allow_writes(read_only_page):
    """`e` produces an event: refused in the actions layer before anything is asked, said on screen,
    and the stream on the server keeps its length."""
    _, page, r = read_only_page
    wait_for(shows(page, STREAM), "the stream")
    press(page, "e")
    wait_for(shows(page, "read-only mode"), "the refusal on screen")
    assert r.xlen(STREAM) == 3


def test_a_write_lands_with_allow_writes(browser, server):
    r = seeded(server)
    with running_web("-p", str(server.port), "--allow-writes", env=web_env()) as web:
        context, page = open_page(browser, web)
        try:
            wait_for(shows(page, STREAM), "the stream")
            assert "READ-ONLY" not in screen(page)
            press(page, "e")  # a stream that is not the demo's: the dashboard asks first
            wait_for(shows(page, f"Test events into {STREAM}?"), "the confirmation")
            assert r.xlen(STREAM) == 3
            press(page, "y")
            wait_for(lambda: r.xlen(STREAM) == 4, "the produced event on the server")
        finally:
            context.close()
            r.close()


def test_the_groups_health_column_shows_at_1400x900(browser, server):
    """issue 31: at 1400x900 (155 columns) the groups table was wider than its panel and the
    health verdict, its last column, was cut."""
    r = seeded(server)
    r.xreadgroup("billing", "c1", {STREAM: ">"}, count=1)
    with running_web("-p", str(server.port), env=web_env()) as web:
        context, page = open_page(browser, web)
        try:
            wait_for(shows(page, STREAM, "billing"), "the group")
            heading = next(line for line in screen(page).splitlines() if "last delivered" in line)
            assert "time lag  health" in heading, heading
        finally:
            context.close()
            r.close()
