"""`streamtop web`: the dashboard in a browser, through textual-serve.

textual-serve starts one dashboard process per browser session, from a shell command line. This
module builds that command from the options so that it is safe by default: the process gets
`--read-only` unless `--allow-writes`, and the password travels in its environment (REDISCLI_AUTH,
as redis-cli), never in its argv, where `ps` shows it to anyone on the machine. The server listens
on 127.0.0.1 unless `--bind` says otherwise, and then warns. Requests whose Host is not this server's
(DNS rebinding) and WebSockets opened by another site's page (a WebSocket is not bound by the
same-origin policy) are refused, since the socket drives the dashboard's keys.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import shlex
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from . import numbers as num
from .cliargs import UsageError, add_decode_argument, add_watch_arguments, seconds_text, spec_from_args
from .connection import ConnectError, ConnectionSpec, host_port
from .monitor import ErrorKind, first_contact
from .options import DASHBOARD_DEFAULTS as DEFAULTS

DEFAULT_PORT = 8080
DEFAULT_BIND = "127.0.0.1"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
EXPOSED_WARNING = (
    "streamtop web: warning: listening on {where}: anyone who can reach this port sees the dashboard"
    "{writes}. Put it behind a reverse proxy with authentication (README: streamtop web)."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_watch_arguments(p)
    p.add_argument(
        "--port",
        dest="web_port",
        type=num.WEB_PORT.arg,
        default=DEFAULT_PORT,
        help=f"HTTP port to serve the dashboard on (default {DEFAULT_PORT}); the Redis port is -p",
    )
    p.add_argument(
        "--bind",
        default=DEFAULT_BIND,
        metavar="ADDRESS",
        help=f"address to listen on (default {DEFAULT_BIND}: this machine only; any other warns)",
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL browsers reach this server at, behind a reverse proxy "
        "(e.g. https://streams.example.com; default: the Host each browser asked for)",
    )
    p.add_argument(
        "--allow-writes",
        action="store_true",
        help="let the browser change the server (produce, ack, claim, trim...); default read-only",
    )
    # the dashboard's own options, handed to each browser session's process
    p.add_argument(
        "--interval",
        type=num.INTERVAL.arg,
        default=DEFAULTS.interval,
        help=f"seconds between polls (default {seconds_text(DEFAULTS.interval)})",
    )
    p.add_argument(
        "--stuck-after",
        type=num.STUCK_AFTER.arg,
        default=DEFAULTS.stuck_after,
        metavar="SECONDS",
        help="highlight pending entries idle longer than this "
        f"(default {seconds_text(DEFAULTS.stuck_after)})",
    )
    p.add_argument(
        "--poison-deliveries",
        type=num.POISON_DELIVERIES.arg,
        default=DEFAULTS.poison_deliveries,
        metavar="N",
        help=f"highlight pending entries delivered more than N times (default {DEFAULTS.poison_deliveries})",
    )
    add_decode_argument(p)
    p.add_argument(
        "--window",
        dest="window_ms",
        type=num.WINDOW.arg,
        default=DEFAULTS.window_ms,
        metavar="DURATION",
        help=f"judge each group's health over this much of the last polls "
        f"(default {seconds_text(DEFAULTS.window_ms / 1000)}s)",
    )


def is_loopback(address: str) -> bool:
    if address.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def check_public_url(url: str | None) -> str | None:
    """An http(s) URL with a host, without a trailing slash (textual-serve appends paths to it)."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--public-url must be an http:// or https:// URL with a host, got {url[:60]!r}")
    return url.rstrip("/")


def connection_argv(spec: ConnectionSpec, args: argparse.Namespace) -> list[str]:
    """The connection options of the resolved spec, without the password: the URL is rebuilt
    from its parts (no user in it: redis-cli reads `user@` alone as a password)."""
    if spec.scheme == "unix":
        url = f"unix://{spec.path}" + (f"?db={spec.db}" if spec.db else "")
    else:
        url = f"{'rediss' if spec.tls else 'redis'}://{host_port(spec.host, spec.port)}/{spec.db}"
    out = ["--url", url]
    if spec.username:
        out += ["--user", spec.username]
    if spec.cluster:
        out.append("--cluster")
    for name in ("cacert", "cert", "key"):
        value = getattr(spec, name)
        if value:
            out += [f"--{name}", os.path.abspath(value)]
    if spec.insecure:
        out.append("--insecure")
    if spec.sni:
        out += ["--sni", spec.sni]
    return out


def dashboard_argv(spec: ConnectionSpec, args: argparse.Namespace) -> list[str]:
    """What each browser session runs: `python -m streamtop ...`, read-only unless --allow-writes."""
    argv = [sys.executable, "-m", "streamtop", *connection_argv(spec, args)]
    argv += ["--interval", repr(args.interval), "--stuck-after", repr(args.stuck_after)]
    argv += ["--poison-deliveries", str(args.poison_deliveries), "--window", f"{args.window_ms}ms"]
    argv += ["--max-streams", str(args.max_streams)]
    for value in args.decode or ():
        argv += ["--decode", value]
    if not args.allow_writes:
        argv.append("--read-only")
    return [*argv, "--", *args.targets]


def dashboard_env(spec: ConnectionSpec, environ: dict[str, str]) -> dict[str, str]:
    """The environment each session inherits: the password as REDISCLI_AUTH (or none at all)."""
    env = {k: v for k, v in environ.items() if k not in ("REDISCLI_AUTH", "REDIS_URL")}
    if spec.password:
        env["REDISCLI_AUTH"] = spec.password
    return env


def dashboard_command(argv: list[str]) -> str:
    """textual-serve runs its command through a shell: quoted, and `exec` so that the shell is
    replaced by the dashboard (one process per session, its argv the one we built)."""
    return "exec " + shlex.join(argv)


def exposed_warning(bind: str, port: int, allow_writes: bool) -> str | None:
    if is_loopback(bind):
        return None
    writes = ", and can change the server (--allow-writes)" if allow_writes else " (read-only)"
    return EXPOSED_WARNING.format(where=host_port(bind or "0.0.0.0", port), writes=writes)


def host_of(netloc: str) -> str:
    """The host part of a Host header or a URL's netloc, lower case, without port or brackets."""
    return (urlsplit(f"//{netloc}").hostname or "").lower()


class Guard:
    """Which Host headers and WebSocket origins this server answers.

    Bound to loopback, only loopback names (and the public URL's host) are served: a page on another
    site that points its own name at 127.0.0.1 (DNS rebinding) gets 403. The WebSocket, which
    carries key presses, must come from a page of this server: its Origin must be the Host asked
    for or the public URL. A request without Origin is not a browser's page, and is let through.
    """

    def __init__(self, bind: str, public_url: str | None) -> None:
        public = urlsplit(public_url) if public_url else None
        self.public_origin = f"{public.scheme}://{public.netloc}".lower() if public else None
        self.hosts: frozenset[str] | None = None  # None: any (bound to a wildcard address)
        if bind not in WILDCARDS:
            names = set(LOOPBACK_NAMES) if is_loopback(bind) else {bind.strip("[]").lower()}
            if public is not None and public.hostname:
                names.add(public.hostname.lower())
            self.hosts = frozenset(names)

    def refusal(self, host: str, path: str, origin: str | None) -> str | None:
        if self.hosts is not None and host_of(host) not in self.hosts:
            return f"Host {host[:80]!r} is not served here"
        if path == "/ws" and origin is not None:
            origin = origin.lower()
            if origin != self.public_origin and urlsplit(origin).netloc != host.lower():
                return f"a page of {origin[:80]!r} may not open the dashboard"
        return None


def make_server(command: str, args: argparse.Namespace, public_url: str | None) -> Any:
    """A textual-serve Server with the guard in front, and the page's URLs taken from the Host each
    browser asked for unless --public-url fixes them."""
    from aiohttp import web
    from textual_serve.server import Server

    guard = Guard(args.bind, public_url)

    @web.middleware
    async def refuse_foreign(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        problem = guard.refusal(request.host, request.path, request.headers.get("Origin"))
        if problem is not None:
            raise web.HTTPForbidden(text=f"streamtop web: {problem}\n")
        return await handler(request)

    class WebServer(Server):
        sockets: set[web.WebSocketResponse] = set()  # one per browser session, while it is open

        async def _process_messages(self, websocket: web.WebSocketResponse, app_service: Any) -> None:
            self.sockets.add(websocket)
            try:
                await super()._process_messages(websocket, app_service)
            finally:
                self.sockets.discard(websocket)

        async def on_shutdown(self, app: web.Application) -> None:
            """Close every page's socket before aiohttp waits for its handlers (60 s by default):
            each handler then tells its dashboard to quit, so ctrl+c or SIGTERM leaves none."""
            closing = [ws.close(message=b"streamtop web stopped") for ws in list(self.sockets)]
            await asyncio.gather(*closing, return_exceptions=True)

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(refuse_foreign)
            return app

        async def handle_index(self, request: web.Request) -> Any:
            if public_url is None:  # set and read with no await between: no other request sees it
                self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

        async def on_startup(self, app: web.Application) -> None:
            mode = "read-write" if args.allow_writes else "read-only"
            where = public_url or f"http://{host_port(args.bind or '0.0.0.0', args.web_port)}"
            print(f"streamtop web: the dashboard ({mode}) on {where}; ctrl+c to stop", flush=True)

    return WebServer(command, host=args.bind, port=args.web_port, title="streamtop", public_url=public_url)


def run(args: argparse.Namespace) -> int:
    public_url = check_public_url(args.public_url)
    spec = spec_from_args(args)
    problem = asyncio.run(first_contact(spec))
    if problem is not None and problem.kind is ErrorKind.FATAL:
        raise ConnectError(problem.message)
    warning = exposed_warning(args.bind, args.web_port, args.allow_writes)
    if warning:
        print(warning, file=sys.stderr)
    command = dashboard_command(dashboard_argv(spec, args))
    # textual-serve gives each session a copy of this process's environment
    env = dashboard_env(spec, dict(os.environ))
    os.environ.clear()
    os.environ.update(env)
    server = make_server(command, args, public_url)
    try:
        server.serve()
    except OSError as exc:
        raise UsageError(f"cannot listen on {host_port(args.bind, args.web_port)}: {exc.strerror}") from None
    return 0
