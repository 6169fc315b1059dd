"""`streamtop web` as a real process, driven over its WebSocket the way the browser page does it
(no browser here: tests/e2e/test_web.py has one). A session's dashboard process must never hold
the password in its argv, which `ps` shows to anyone on the machine; foreign Hosts and origins are
refused; bad input is one line and exit 1."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
import redis

from streamtop.embedded import free_port, start_server
from tests.support.waiting import until
from tests.support.web import WebProcess, running_web, web_env

SECRET = "web-S3cret-pw"
pytestmark = pytest.mark.slow  # each test starts streamtop web (and a session): about 1-2 s


@pytest.fixture(scope="module")
def locked_server():
    """A Valkey 9.1 that wants SECRET, with a stream the dashboard must show."""
    srv = start_server("valkey-9.1", extra_args=["--requirepass", SECRET])
    with redis.Redis(host=srv.host, port=srv.port, password=SECRET) as r:
        r.xadd("orders:web", {"sensor_id": "s1"})
        r.xgroup_create("orders:web", "billing", "0")
    yield srv
    srv.cleanup()


async def open_session(web: WebProcess, *, origin: str | None = None) -> tuple[bytes, list]:
    """Open the page's WebSocket, read the screen until the stream's key shows, and return it
    with the session processes seen while it was open."""
    headers = {"Origin": origin} if origin else {}
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{web.url}ws?width=120&height=40", headers=headers) as ws,
    ):
        screen = bytearray()

        async def shows_stream() -> bool:
            try:
                msg = await ws.receive(timeout=0.5)
            except TimeoutError:
                return False
            if msg.type == aiohttp.WSMsgType.BINARY:
                screen.extend(msg.data)
            elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                raise AssertionError(f"the session ended: {bytes(screen)[-500:]!r}")
            return b"orders:web" in screen

        await until(None, shows_stream, "the session's screen to show orders:web")
        return bytes(screen), web.sessions()


def cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def environ(pid: int) -> bytes:
    return Path(f"/proc/{pid}/environ").read_bytes()


@pytest.mark.parametrize(
    "how",
    ["-a", "url", "env"],
)
async def test_the_password_reaches_the_session_through_its_environment_only(locked_server, how):
    """Given with -a, in the URL or as REDISCLI_AUTH: the session connects (the stream shows) and
    its /proc/PID/cmdline holds no password; its environment does. The shell textual-serve runs
    the command through is gone (`exec`): the session's argv is the one built."""
    port_args = ["-p", str(locked_server.port)]
    args, env = {
        "-a": (["-a", SECRET, "--no-auth-warning", *port_args], web_env()),
        "url": (
            ["--url", f"redis://:{SECRET}@127.0.0.1:{locked_server.port}/0", "--no-auth-warning"],
            web_env(),
        ),
        "env": (port_args, web_env(REDISCLI_AUTH=SECRET)),
    }[how]
    with running_web(*args, env=env) as web:
        screen, sessions = await open_session(web)
        assert len(sessions) == 1
        pid = sessions[0].pid
        argv = cmdline(pid).split(b"\0")
        assert SECRET.encode() not in cmdline(pid)
        assert argv[1:3] == [b"-m", b"streamtop"] and b"--read-only" in argv
        assert f"REDISCLI_AUTH={SECRET}".encode() in environ(pid).split(b"\0")
        assert b"READ-ONLY" in screen


async def test_allow_writes_drops_read_only_and_the_session_ends_with_its_page(locked_server):
    with running_web(
        "-p", str(locked_server.port), "--allow-writes", env=web_env(REDISCLI_AUTH=SECRET)
    ) as web:
        _, sessions = await open_session(web)
        assert b"--read-only" not in cmdline(sessions[0].pid).split(b"\0")
        # the page closed (the `async with` above): its dashboard process exits
        await until(None, lambda: not sessions[0].is_running(), "the session to exit")


async def test_foreign_host_and_origin_are_refused(locked_server):
    """DNS rebinding (another name for 127.0.0.1) and another site's page opening the WebSocket."""
    with running_web("-p", str(locked_server.port), env=web_env(REDISCLI_AUTH=SECRET)) as web:
        async with aiohttp.ClientSession() as http:
            async with http.get(web.url, headers={"Host": f"evil.example:{web.port}"}) as resp:
                assert resp.status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"{web.url}ws", headers={"Origin": "http://evil.example"})
            assert refused.value.status == 403
            async with http.get(web.url, headers={"Host": f"localhost:{web.port}"}) as resp:
                page = await resp.text()
                assert resp.status == 200
                assert f'data-session-websocket-url="ws://localhost:{web.port}/ws"' in page
                assert "googleapis" not in page
                assert resp.headers["X-Frame-Options"] == "DENY"  # no clickjacking into its keys
                assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        assert web.sessions() == []  # nothing was spawned for the refused socket


async def test_behind_a_reverse_proxy(locked_server):
    """--public-url: the proxy's Host is served, the page points its socket at the proxy (wss), and
    a socket from the proxy's page is let in while the loopback names still work."""
    args = ("-p", str(locked_server.port), "--public-url", "https://streams.example.com/")
    with running_web(*args, env=web_env(REDISCLI_AUTH=SECRET)) as web:
        async with aiohttp.ClientSession() as http:
            async with http.get(web.url, headers={"Host": "streams.example.com"}) as resp:
                assert resp.status == 200
                assert 'data-session-websocket-url="wss://streams.example.com/ws"' in await resp.text()
            origin = {"Origin": "https://streams.example.com"}
            async with http.ws_connect(f"{web.url}ws?width=80&height=24", headers=origin) as ws:
                await ws.receive(timeout=20)  # the session's first bytes
            async with http.get(web.url, headers={"Host": "other.example.com"}) as resp:
                assert resp.status == 403


async def test_sessions_beyond_max_sessions_are_refused_and_told_why(locked_server):
    """The socket over --max-sessions is closed with the reason, which the page shows (a refused
    handshake left the page at "Session ended." with no reason)."""
    args = ("-p", str(locked_server.port), "--max-sessions", "1")
    with running_web(*args, env=web_env(REDISCLI_AUTH=SECRET)) as web:
        url = f"{web.url}ws?width=100&height=30"
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as first:
            await first.receive(timeout=20)
            async with http.ws_connect(url) as refused:
                closed = await refused.receive(timeout=20)
            assert closed.type is aiohttp.WSMsgType.CLOSE
            assert closed.data == aiohttp.WSCloseCode.TRY_AGAIN_LATER
            assert "1 sessions open already (--max-sessions)" in closed.extra
            assert len(web.sessions()) == 1
        await until(None, lambda: web.sessions() == [], "the first session to end with its page")
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as again:
            await again.receive(timeout=20)  # the slot is free again


def run_web(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "streamtop", "web", *args],
        capture_output=True,
        text=True,
        env=web_env(),
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def one_line_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and SECRET not in proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--port", "0"], ["web port", "0"]),
        (["--port", "70000"], ["web port", "70,000"]),
        (["--public-url", "ftp://x"], ["--public-url"]),
        (["--url", "http://127.0.0.1:1"], ["unknown URL scheme"]),
        (["--max-sessions", "0"], ["max sessions"]),
    ],
)
def test_bad_options(args, words):
    one_line_error(run_web(*args), *words)


def test_wrong_password(locked_server):
    one_line_error(run_web("-p", str(locked_server.port), "-a", "not-" + SECRET, "--no-auth-warning"))


def test_port_taken(locked_server):
    """A port in use, on 127.0.0.1 or (with --bind 0.0.0.0, which Linux then refuses) on every
    address: one line, and no "anyone can reach" warning, since nothing listens. Nothing is ever
    exposed by this test."""
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        args = ["-p", str(locked_server.port), "-a", SECRET, "--no-auth-warning", "--port", str(port)]
        one_line_error(run_web(*args), f"cannot listen on 127.0.0.1:{port}")
        one_line_error(
            run_web(*args, "--bind", "0.0.0.0", "--allow-writes"), f"cannot listen on 0.0.0.0:{port}"
        )


def test_an_address_not_on_this_machine(locked_server):
    args = ["-p", str(locked_server.port), "-a", SECRET, "--no-auth-warning", "--bind", "192.0.2.9"]
    one_line_error(run_web(*args), "cannot listen on 192.0.2.9", "Cannot assign requested address")


async def test_sigterm_with_pages_open_leaves_no_session_behind(locked_server):
    """Stopping streamtop web while two pages are open: it exits, and so do both dashboards."""
    with running_web("-p", str(locked_server.port), env=web_env(REDISCLI_AUTH=SECRET)) as web:
        url = f"{web.url}ws?width=100&height=30"
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as one, http.ws_connect(url) as two:
            for ws in (one, two):  # each session's first bytes: its dashboard has started
                await ws.receive(timeout=20)
            sessions = web.sessions()
            assert len(sessions) == 2
            web.process.send_signal(signal.SIGTERM)
            await until(None, lambda: web.process.poll() is not None, "streamtop web to exit")
            await until(None, lambda: not any(s.is_running() for s in sessions), "both sessions to exit")
            assert web.process.returncode == 0


def blocked_on_a_pipe(pid: int) -> bool:
    """A thread of the process waits in the kernel to write into a full pipe."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for task in tasks:
        try:
            if "pipe_write" in (task / "wchan").read_text():
                return True
        except OSError:
            continue
    return False


def size_of(session) -> tuple[int, int] | None:
    """The terminal size a session's dashboard was started with (COLUMNS x ROWS); None for a
    child that is no dashboard (yet), or gone: a fork not yet exec'd has web's own environment."""
    try:
        raw = environ(session.pid)
    except OSError:
        return None
    env = dict(item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    if b"COLUMNS" not in env or b"ROWS" not in env:
        return None
    return int(env[b"COLUMNS"]), int(env[b"ROWS"])


async def test_a_page_that_goes_away_takes_its_dashboard_and_its_slot_with_it(locked_server):
    """issue 24: a `/ws?width=4000&height=2000` socket with no Origin, closed after a few seconds
    without reading, left a 161 MB dashboard blocked on its stdout pipe, no longer counted by
    --max-sessions. Now the size is capped, the dashboard exits with its page, and its slot stays
    taken until it has."""
    args = ("-p", str(locked_server.port), "--max-sessions", "1")
    with running_web(*args, env=web_env(REDISCLI_AUTH=SECRET)) as web:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{web.url}ws?width=4000&height=2000")
            sized = lambda: [(s, size_of(s)) for s in web.sessions() if size_of(s)]  # noqa: E731
            await until(None, sized, "the page's dashboard started")
            dashboard, (width, height) = sized()[0]
            sessions = [dashboard]
            assert width <= 500 and height <= 200, (width, height)
            # the page never reads: the dashboard's screens fill the socket, then its stdout pipe
            # (at 4000x2000 it is blocked writing within 5 s; a capped size may never block)
            since = time.monotonic()
            await until(
                None,
                lambda: blocked_on_a_pipe(sessions[0].pid) or time.monotonic() - since > 6,
                "the dashboard blocked, or 6 s of drawing",
                30,
            )
            await ws.close()
        await until(None, lambda: not any(s.is_running() for s in sessions), "the dashboard to exit", 30)

        async def a_new_page_runs() -> bool:
            """The slot is free again: a new page gets a dashboard (a page that comes while the
            server has not yet seen the exit is told why it has none, and tries again)."""
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(f"{web.url}ws?width=100&height=30") as again,
            ):
                await again.receive(timeout=20)
                try:
                    await until(None, lambda: len(web.sessions()) == 1, "its dashboard", 5)
                except AssertionError:
                    return False
                return True

        await until(None, a_new_page_runs, "a new page's dashboard in the freed slot", 60)


async def test_kill_9_of_web_leaves_no_page_process(locked_server):
    """issue 31: SIGKILL cannot be handled, so each page asks the kernel to kill it with its
    parent (streamtop.lifeline): no page process is left under PID 1 with its connections."""
    with running_web("-p", str(locked_server.port), env=web_env(REDISCLI_AUTH=SECRET)) as web:
        url = f"{web.url}ws?width=100&height=30"
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as one, http.ws_connect(url) as two:
            for ws in (one, two):
                await ws.receive(timeout=20)
            sessions = web.sessions()
            assert len(sessions) == 2
            web.process.send_signal(signal.SIGKILL)
            web.process.wait(timeout=10)

            def gone() -> bool:
                return not any(s.is_running() and s.status() != "zombie" for s in sessions)

            await until(None, gone, "every page process to die with streamtop web", 5)


async def test_pages_poll_nothing_they_attach_to_the_web_processs_hub(locked_server):
    """Two pages: each dashboard runs --attach to the web process's own hub (loopback, a token in
    its environment, never in its argv), and the server sees one poller's clients, not three."""
    with running_web("-p", str(locked_server.port), env=web_env(REDISCLI_AUTH=SECRET)) as web:
        url = f"{web.url}ws?width=120&height=40"
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as one, http.ws_connect(url) as two:
            for ws in (one, two):
                await ws.receive(timeout=20)
            sessions = web.sessions()
            for s in sessions:
                argv = cmdline(s.pid).split(b"\0")
                at = argv.index(b"--attach")
                assert argv[at + 1].startswith(b"http://127.0.0.1:")
                assert any(e.startswith(b"STREAMTOP_HUB_TOKEN=") for e in environ(s.pid).split(b"\0"))
                assert not any(b"STREAMTOP_HUB_TOKEN" in a for a in argv)
            with redis.Redis(host=locked_server.host, port=locked_server.port, password=SECRET) as r:
                await until(None, lambda: r.xlen("orders:web") == 1, "the server")
                pids = {s.pid for s in sessions}
                # a page's process opens no connection to the server while only showing
                clients = [c for c in r.client_list() if c.get("name", "").startswith("streamtop")]
                assert clients, "the web process polls"
                for s in sessions:
                    assert not [
                        c for c in s.net_connections() if c.raddr and c.raddr.port == locked_server.port
                    ]
                assert pids
