"""Every long-running command ends when its terminal goes (issue 24, item 3), leaving no process
behind and writing nothing more: the demo (its workload), `tail --follow`, `produce --rate`,
`serve` and `web`. A real pty is the command's controlling terminal (tests.support.terminal); the
terminal either closes (the kernel hangs up) or first stops reading, so that a UI blocks on a write,
and then hangs up (the demo kept adding events under PID 1 then)."""

from __future__ import annotations

import pytest

from streamtop.demo.workload import STREAM
from streamtop.embedded import free_port
from tests.support.terminal import Terminal, gone, wait_gone
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow


def demo_clients(r) -> list[dict]:
    return [c for c in r.client_list() if str(c.get("name", "")).startswith("streamtop-demo")]


@pytest.mark.parametrize("how", ["stalled then hung up", "closed"])
def test_the_demo_and_its_workload_end_with_their_terminal(server, r, how):
    term = Terminal("demo", "--url", server.url)
    try:
        wait_for(lambda: r.exists(STREAM) and r.xlen(STREAM) >= 3, "the demo's producer adding events")
        wait_for(lambda: b"LIVE" in term.output, "the dashboard on screen")
        family = term.family()
        if how == "closed":
            term.close()
        else:
            term.stall()
            wait_for(term.stopped_reading, "the terminal to stop reading")
            more = r.xlen(STREAM) + 30  # a few seconds of the UI writing into a full pty
            wait_for(lambda: r.xlen(STREAM) >= more, "the workload going on while the terminal hangs")
            term.hang_up()
        wait_gone(term, family, "the demo and everything it started to end")
        assert demo_clients(r) == []  # no worker left connected: nothing can add an event
        length = r.xlen(STREAM)
        r.ping()
        assert r.xlen(STREAM) == length
    finally:
        term.kill()


def test_the_embedded_demo_server_goes_with_the_demo(r):
    """Without --url: the embedded Valkey is the demo's child, stopped by PID when the UI is
    stuck on a terminal that stopped reading."""
    term = Terminal("demo")
    try:
        wait_for(lambda: b"LIVE" in term.output, "the dashboard on its embedded server")
        family = term.family()
        assert any("valkey" in " ".join(p.cmdline()) for p in family[1:])
        term.stall()
        wait_for(term.stopped_reading, "the terminal to stop reading")
        term.hang_up()
        wait_gone(term, family, "the demo and its embedded server to end")
    finally:
        term.kill()


@pytest.mark.parametrize(
    "argv, started",
    [
        (("tail", "jobs", "--follow"), lambda r: any(c.get("cmd") == "xread" for c in r.client_list())),
        (
            ("produce", "jobs", "-n", "100000", "--rate", "5"),
            lambda r: r.exists("jobs") and r.xlen("jobs") >= 2,
        ),
        (("serve", "--metrics-port", "0"), lambda r: len(r.client_list()) >= 2),
        (("web", "--port", str(free_port())), lambda r: True),
    ],
    ids=["tail --follow", "produce --rate", "serve", "web"],
)
@pytest.mark.parametrize("how", ["stalled then hung up", "closed"])
def test_every_long_running_command_ends_with_its_terminal(server, r, argv, started, how):
    r.xadd("jobs", {"k": "v"})
    term = Terminal(*argv, "--url", server.url)
    try:
        wait_for(lambda: started(r) and len(term.output) > 0, f"{argv[0]} running")
        family = term.family()
        if how == "closed":
            term.close()
        else:
            term.stall()
            term.hang_up()
        wait_gone(term, family, f"{argv[0]} to end")
        length = r.xlen("jobs")
        r.ping()
        assert r.xlen("jobs") == length
    finally:
        term.kill()


@pytest.mark.parametrize("how", ["stalled then hung up", "closed"])
async def test_web_and_its_open_pages_end_with_their_terminal(server, r, how):
    """A page open in a browser is a dashboard process of its own: it goes with the terminal too."""
    import aiohttp

    from tests.support.waiting import until
    from tests.support.web import _answers

    r.xadd("orders:web", {"k": "v"})
    port = free_port()
    term = Terminal("web", "--port", str(port), "--url", server.url)
    try:
        await until(None, lambda: _answers(f"http://127.0.0.1:{port}/"), "web serving its page")
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"http://127.0.0.1:{port}/ws?width=80&height=24") as ws,
        ):
            seen = bytearray()

            async def page_up() -> bool:
                try:
                    msg = await ws.receive(timeout=0.5)
                except TimeoutError:
                    return False
                if msg.type == aiohttp.WSMsgType.BINARY:
                    seen.extend(msg.data)
                return b"orders:web" in seen

            await until(None, page_up, "the page's dashboard showing the stream")
            family = term.family()
            assert len(family) >= 2  # the server and the page's dashboard process
            if how == "closed":
                term.close()
            else:
                term.stall()
                term.hang_up()
            ended = lambda: term.proc.poll() is not None and gone(family)  # noqa: E731
            await until(None, ended, "web and its page to end")
    finally:
        term.kill()
