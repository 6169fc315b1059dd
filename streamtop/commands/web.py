"""`streamtop web`: the dashboard in a browser, through textual-serve.

textual-serve starts one dashboard process per browser session, from a shell command line. This
module builds that command from the options so that it is safe by default: the process gets
`--read-only` unless `--allow-writes`, and the password travels in its environment (REDISCLI_AUTH,
as redis-cli), never in its argv, where `ps` shows it to anyone on the machine. The server listens
on 127.0.0.1 unless `--bind` says otherwise, and then warns. The HTTP side (the guard against
foreign hosts and pages) is webserver.py.

One poll for every page (issue 31): this process polls the server and publishes each poll on a
hub (streamtop.hub) on a free loopback port with a token of its own; each page's dashboard runs
`--attach` to it and polls nothing (or, with `web --attach URL`, every page attaches to another
process's hub). Each page dies with this process, even when it is SIGKILLed (streamtop.lifeline).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shlex
import socket
import sys
from dataclasses import replace
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from streamtop import numbers as num
from streamtop.cliargs import UsageError, add_dashboard_arguments, add_watch_arguments, spec_from_args
from streamtop.hub.api import Hub, ViewersMonitor, poll_forever
from streamtop.hub.attach import TOKEN_ENV, attach_options
from streamtop.lifeline import DIE_WITH
from streamtop.monitor import ErrorKind, Monitor, first_contact
from streamtop.options import DashboardOptions
from streamtop.pipeline.connection import ConnectError, ConnectionSpec, host_port
from streamtop.serve.http import listen
from streamtop.serve.http import stop as stop_http
from streamtop.serve.hubapi import serve_api
from streamtop.webserver import WebSettings, is_loopback, make_server

DEFAULT_PORT = 8080
DEFAULT_BIND = "127.0.0.1"
DEFAULT_MAX_SESSIONS = 8
EXPOSED_WARNING = (
    "streamtop web: warning: listening on {where}: anyone who can reach this port sees the dashboard"
    "{writes}. Put it behind a reverse proxy with authentication (docs/web.md)."
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
    p.add_argument(
        "--max-sessions",
        type=num.WEB_SESSIONS.arg,
        default=DEFAULT_MAX_SESSIONS,
        metavar="N",
        help="browser sessions open at once, each a dashboard process on this process's one poll "
        f"(default {DEFAULT_MAX_SESSIONS}; more are told so and closed)",
    )
    p.add_argument(
        "--attach",
        metavar="URL",
        help="every page shows the polls of this streamtop hub (`streamtop serve`) instead of the "
        "web process polling the server itself (default: it polls, once for every page)",
    )
    p.add_argument(
        "--token-file",
        metavar="FILE",
        help="--attach: the hub's bearer token, this file's first line (env STREAMTOP_HUB_TOKEN)",
    )
    # the dashboard's own options, handed to each browser session's process
    add_dashboard_arguments(p)


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
    argv += ["--max-streams", str(args.max_streams), "--max-server-load", repr(args.max_server_load)]
    if args.full_poll:
        argv.append("--full-poll")
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


def attached_argv(argv: list[str], hub_url: str) -> list[str]:
    """A page's dashboard on the web process's hub: it polls nothing itself (issue 31); the
    streams are the hub's (its targets), so none are given to the page."""
    at = argv.index("--")
    return [*argv[:at], "--attach", hub_url, "--"]


def dashboard_command(argv: list[str]) -> str:
    """textual-serve runs its command through a shell: quoted, and `exec` so that the shell is
    replaced by the dashboard (one process per session, its argv the one we built)."""
    return "exec " + shlex.join(argv)


def exposed_warning(bind: str, port: int, allow_writes: bool) -> str | None:
    if is_loopback(bind):
        return None
    writes = ", and can change the server (--allow-writes)" if allow_writes else " (read-only)"
    return EXPOSED_WARNING.format(where=host_port(bind or "0.0.0.0", port), writes=writes)


def run(args: argparse.Namespace) -> int:
    public_url = check_public_url(args.public_url)
    spec = spec_from_args(args)
    problem = asyncio.run(first_contact(spec))
    if problem is not None and problem.kind is ErrorKind.FATAL:
        raise ConnectError(problem.message)
    httpd: Any = None
    thread: Any = None
    background = None
    if args.attach:  # another process polls: the pages attach to it
        hub_url, token = attach_options(args)
    else:
        hub, httpd, thread = start_hub(spec, args)
        hub_url, token = f"http://127.0.0.1:{httpd.server_port}", hub.token
        background = partial(poll_forever, hub)
    command = dashboard_command(attached_argv(dashboard_argv(spec, args), hub_url))
    # textual-serve gives each session a copy of this process's environment: the password, the
    # hub's token, and this process's PID (each page dies with it: streamtop.lifeline)
    env = dashboard_env(spec, dict(os.environ))
    env[TOKEN_ENV] = token or ""
    env[DIE_WITH] = str(os.getpid())
    os.environ.clear()
    os.environ.update(env)
    settings = WebSettings(args.bind, args.web_port, public_url, args.allow_writes, args.max_sessions)
    server = make_server(command, settings, background=background)
    try:
        check_listen(args.bind, args.web_port)  # before "serving on ...", which aiohttp prints first
        warning = exposed_warning(args.bind, args.web_port, args.allow_writes)
        if warning:
            print(warning, file=sys.stderr)
        server.serve()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"cannot listen on {host_port(args.bind, args.web_port)}: {reason}") from None
    finally:
        if httpd is not None:
            stop_http(httpd, thread)
    return 0


class _NoMetrics:
    """The web hub's HTTP server serves its API only (serve/http.py asks a source for /metrics)."""

    body = b"streamtop web: its hub serves /api/v1/ only\n"

    def gzipped(self) -> bytes:
        return self.body

    def page(self) -> _NoMetrics:
        return self

    def demand(self) -> None:
        """Nothing to poll for: the page never changes."""
        return None


def start_hub(spec: ConnectionSpec, args: argparse.Namespace) -> tuple[Hub, Any, Any]:
    """The web process's own poller and its hub on a free loopback port, with a token of its own:
    every page attaches to it, so N pages cost one poll."""
    options = replace(DashboardOptions.from_args(args).session(), read_only=True, follow_screen=True)
    # read-only (the pages act on their own); what the pages show in full (each posts its screen),
    # the rest as summaries within the budget, as one dashboard reads for its own screen; with
    # --full-poll, every stream in full every poll (a page may show any)
    monitor: Monitor
    if args.full_poll:
        monitor = Monitor(spec, replace(options, everything_visible=True))
    else:
        monitor = ViewersMonitor(spec, options)
    url = spec.display_url()
    hub = Hub(monitor, args.interval, url, expose_entries=True, token=secrets.token_urlsafe(24))
    httpd, thread = listen(0, "127.0.0.1", _NoMetrics(), (), partial(serve_api, hub))
    return hub, httpd, thread


def check_listen(bind: str, port: int) -> None:
    """Bind the address once and let it go: a port in use, a name that does not resolve or an
    address not on this machine is an OSError here, as one line, before anything is served."""
    family, kind, proto, _, address = socket.getaddrinfo(
        bind or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
        probe.bind(address)
