"""`streamtop web` without a server: the command each browser session runs (read-only unless
--allow-writes, no password in its argv, the same server when the dashboard's own parser reads it
back), the warning when exposed, and which Host headers and WebSocket origins are served."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import pytest

from streamtop.cli import build_parser
from streamtop.cliargs import UsageError, seed_specs
from streamtop.commands.web import (
    check_public_url,
    dashboard_argv,
    dashboard_command,
    dashboard_env,
    exposed_warning,
)
from streamtop.pipeline.connection import build_spec
from streamtop.webserver import Guard, page_without_external_links

SECRET = "web-S3cret-pw"


def web_args(*argv: str) -> argparse.Namespace:
    return build_parser("web").parse_args(list(argv))


def child_spec(argv: list[str], env: dict[str, str]):
    """The spec the session's dashboard builds from its argv and environment, as cli.main would."""
    args = build_parser(None).parse_args(argv[3:])  # after `python -m streamtop`
    return args, seed_specs(args, env)[0]


def test_port_is_the_web_port_and_p_the_servers():
    """`--port` is the HTTP port, as the issue asks; the server's port is then `-p` only."""
    args = web_args("-p", "6380", "--port", "8081", "orders*")
    assert (args.port, args.web_port, args.targets) == (6380, 8081, ["orders*"])
    assert args.bind == "127.0.0.1" and not args.allow_writes


@pytest.mark.parametrize(
    "given",
    [
        ["-a", SECRET],
        ["--url", f"redis://:{SECRET}@127.0.0.1:6390/2"],
        ["--url", f"redis://alice:{SECRET}@127.0.0.1:6390/2"],
    ],
)
def test_the_session_command_holds_no_password_and_reaches_the_same_server(given):
    args = web_args(*given, "--user", "alice", "orders")
    spec = build_spec(url=args.url[0] if args.url else None, user=args.user, password=args.password, env={})
    argv = dashboard_argv(spec, args)
    env = dashboard_env(spec, {"REDIS_URL": "redis://elsewhere:1/0", "HOME": "/root"})
    assert not any(SECRET in a for a in argv)
    assert env["REDISCLI_AUTH"] == SECRET and "REDIS_URL" not in env and env["HOME"] == "/root"
    _, back = child_spec(argv, env)
    assert back == spec  # host, port, db, user and the password (through the environment)


@pytest.mark.parametrize(
    "given",
    [
        ["--url", f"unix://:{SECRET}@/run/redis.sock?db=3"],
        ["--url", f"rediss://:{SECRET}@[::1]:6390/1", "--cacert", "CA", "--sni", "redis.internal"],
        ["--tls", "--insecure", "-h", "10.0.0.5", "-p", "7000", "--cluster", "-a", SECRET],
    ],
)
def test_unix_tls_and_cluster_reach_the_same_server(given, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("not read here")
    args = web_args(*[str(ca) if a == "CA" else a for a in given])
    spec = build_spec(
        url=args.url[0] if args.url else None,
        host=args.host,
        port=args.port,
        password=args.password,
        tls=args.tls,
        cacert=args.cacert,
        cluster=args.cluster,
        insecure=args.insecure,
        sni=args.sni,
        env={},
    )
    argv = dashboard_argv(spec, args)
    assert not any(SECRET in a for a in argv)
    _, back = child_spec(argv, dashboard_env(spec, {}))
    assert back == spec


def test_read_only_unless_allow_writes_and_options_handed_on():
    args = web_args("--interval", "2.5", "--window", "30s", "--decode", "json", "--", "-odd", "k*")
    spec = build_spec(env={})
    read_only, _ = child_spec(dashboard_argv(spec, args), {})
    assert read_only.read_only
    assert (read_only.interval, read_only.window_ms, read_only.decode) == (2.5, 30_000, ["json"])
    assert read_only.targets == ["-odd", "k*"]
    writes, _ = child_spec(dashboard_argv(spec, web_args("--allow-writes")), {})
    assert not writes.read_only
    assert (writes.max_server_load, writes.full_poll) == (2.0, None)
    budget, _ = child_spec(dashboard_argv(spec, web_args("--max-server-load", "0.5", "--full-poll")), {})
    assert (budget.max_server_load, budget.full_poll) == (0.5, True)


def test_no_password_no_auth_variable():
    """A REDISCLI_AUTH of the caller's is not handed on when the spec has no password."""
    assert "REDISCLI_AUTH" not in dashboard_env(build_spec(env={}), {"REDISCLI_AUTH": "stale"})


def test_the_shell_runs_the_argv_as_built():
    """textual-serve runs the command through a shell: a target with spaces or `$(...)` stays one
    literal argument, and `exec` replaces the shell with the dashboard."""
    argv = ["/usr/bin/python3", "-m", "streamtop", "--", "a b", "$(touch /tmp/x)", "k'*"]
    command = dashboard_command(argv)
    assert shlex.split(command) == ["exec", *argv]


@pytest.mark.parametrize("bind", ["127.0.0.1", "127.0.0.2", "::1", "localhost", "[::1]"])
def test_loopback_does_not_warn(bind):
    assert exposed_warning(bind, 8080, allow_writes=True) is None


@pytest.mark.parametrize("bind", ["0.0.0.0", "::", "192.0.2.7", "dash.example.com"])
def test_any_other_address_warns(bind):
    read_only = exposed_warning(bind, 8080, allow_writes=False)
    writes = exposed_warning(bind, 8080, allow_writes=True)
    assert read_only and "anyone" in read_only and "read-only" in read_only
    assert writes and "change the server" in writes and "reverse proxy" in writes


@pytest.mark.parametrize("url", ["ftp://x", "streams.example.com", "http://", "https:///path"])
def test_public_url_must_be_http_with_a_host(url):
    with pytest.raises(UsageError, match="--public-url"):
        check_public_url(url)


def test_public_url_loses_its_trailing_slash():
    assert check_public_url("https://streams.example.com/") == "https://streams.example.com"


@pytest.mark.parametrize(
    ("host", "served"),
    [
        ("127.0.0.1:8080", True),
        ("localhost:8080", True),
        ("LocalHost", True),
        ("[::1]:8080", True),
        ("evil.example:8080", False),  # DNS rebinding: another site's name pointed at 127.0.0.1
        ("127.0.0.1.evil.example", False),
        ("", False),
    ],
)
def test_loopback_serves_loopback_hosts_only(host, served):
    assert (Guard("127.0.0.1", None).refusal(host, "/", None) is None) is served


def test_websocket_only_from_a_page_of_this_server():
    guard = Guard("127.0.0.1", None)
    assert guard.refusal("127.0.0.1:8080", "/ws", "http://127.0.0.1:8080") is None
    assert guard.refusal("127.0.0.1:8080", "/ws", None) is None  # not a browser's page
    assert "evil" in (guard.refusal("127.0.0.1:8080", "/ws", "http://evil.example") or "")
    assert guard.refusal("127.0.0.1:8080", "/ws", "http://localhost:8080") is not None


def test_behind_a_proxy_the_public_url_is_served():
    guard = Guard("127.0.0.1", "https://streams.example.com")
    assert guard.refusal("streams.example.com", "/", None) is None
    assert guard.refusal("127.0.0.1:8080", "/ws", "https://streams.example.com") is None
    assert guard.refusal("127.0.0.1:8080", "/ws", "https://other.example.com") is not None


def test_a_wildcard_bind_serves_any_host_but_checks_the_origin():
    """Any host name, since the machine's names are not known; never one that is not a name, as
    the Host is written into the page."""
    guard = Guard("0.0.0.0", None)
    assert guard.refusal('x"><script>alert(1)</script>', "/", None) is not None
    assert guard.refusal("[fe80::1]:8080", "/", None) is None
    assert guard.refusal("dash.internal:8080", "/", None) is None
    assert guard.refusal("dash.internal:8080", "/ws", "http://dash.internal:8080") is None
    assert guard.refusal("dash.internal:8080", "/ws", "http://evil.example") is not None


def test_a_wildcard_bind_with_a_public_url_serves_that_host_and_loopback_only():
    """Behind a proxy on a wildcard bind, a rebinding page's own name is refused."""
    guard = Guard("0.0.0.0", "https://streams.example.com")
    assert guard.refusal("streams.example.com", "/", None) is None
    assert guard.refusal("127.0.0.1:8080", "/", None) is None
    assert guard.refusal("attacker.example:8080", "/ws", "http://attacker.example:8080") is not None


def test_a_loopback_bind_serves_its_own_address():
    assert Guard("127.0.0.2", None).refusal("127.0.0.2:8080", "/", None) is None
    assert Guard("127.0.0.2", None).refusal("localhost:8080", "/", None) is None
    assert Guard("10.0.0.5", None).refusal("localhost:8080", "/", None) is not None


@pytest.mark.slow  # imports textual-serve and aiohttp: ~0.7 s on 2 busy cores
def test_the_textual_serve_internals_web_overrides_are_there():
    """web.make_server overrides Server._make_app (to add the guard), handle_index (the page's URLs
    from the Host asked for), on_startup, on_shutdown and _process_messages (to close the pages'
    sockets on exit), and sets public_url; textual-serve is pinned below 2
    for them. A release that moves them fails here rather than serving an unguarded page."""
    import inspect

    from textual_serve.server import Server

    for name in ("_make_app", "handle_index", "on_startup", "on_shutdown", "_process_messages"):
        assert inspect.iscoroutinefunction(getattr(Server, name)), name
    assert "public_url" in inspect.signature(Server.__init__).parameters
    assert "self.public_url" in inspect.getsource(Server.handle_index)


@pytest.mark.slow  # imports textual-serve and aiohttp when run alone
def test_the_page_fetches_nothing_from_another_host():
    """textual-serve's own template, less its font from Google; what the page needs stays."""
    from textual_serve import server

    templates = Path(server.__file__).parent / "templates"
    original = (templates / "app_index.html").read_text()
    page = page_without_external_links(templates)
    assert "fonts.googleapis.com" in original  # else this test checks nothing
    assert "://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "js/textual.js" in page and "data-session-websocket-url" in page


def test_the_terminal_size_a_page_asks_for_is_capped():
    """issue 24: 4000x2000 made a 161 MB dashboard, 10000x5000 522 MB."""
    from streamtop.webserver import MAX_HEIGHT, MAX_WIDTH, terminal_size

    assert terminal_size("4000", "2000") == (MAX_WIDTH, MAX_HEIGHT)
    assert terminal_size(120, 40) == (120, 40)
    assert terminal_size("-5", "0") == (1, 1)
    assert terminal_size("wide", None) == (80, 24)


def test_a_page_on_the_hub_is_given_no_targets():
    """The hub (web's own, polling the targets) decides the streams: a page given them as well
    would be refused by `--attach` (which no longer ignores them silently)."""
    from streamtop.commands.web import attached_argv

    argv = attached_argv(dashboard_argv(build_spec(env={}), web_args("orders*", "k*")), "http://127.0.0.1:1")
    assert argv[-3:] == ["--attach", "http://127.0.0.1:1", "--"]
    assert "orders*" not in argv and "k*" not in argv


@pytest.mark.parametrize("command", [None, "web"])
@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--attach", "http://127.0.0.1:1", "orders*"], "the streams are the hub's"),
        (["--attach", "ftp://hub:1"], "http:// or https://"),
        (["--attach", "http://127.0.0.1:1", "--token-file", "/nonexistent/token"], "--token-file"),
    ],
)
def test_attach_is_checked_once_for_the_dashboard_and_web(command, argv, words, monkeypatch):
    """`streamtop --attach` and `streamtop web --attach` refuse the same input with the same line
    (web took patterns with --attach as a usage error of its own words, an unreadable token file
    as a ValueError only)."""
    from streamtop.errors import ConfigError
    from streamtop.hub.attach import attach_options

    monkeypatch.delenv("STREAMTOP_HUB_TOKEN", raising=False)
    args = build_parser(command).parse_args(argv)
    with pytest.raises(ConfigError, match=words):
        attach_options(args)
    assert attach_options(build_parser(command).parse_args(["--attach", "http://h:1/"])) == (
        "http://h:1",
        None,
    )
