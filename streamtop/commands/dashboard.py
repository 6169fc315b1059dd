"""The dashboard's entry point, outside the UI: options in, a session (Monitor) built, the app run.

`streamtop` and `streamtop demo` both come through here, so the session is built one way and the
app gets it ready (poll client, actions client, `Actions`, `History`): the UI builds none of them.
The UI is imported only when the app is made, so `cli` does not load Textual for `--help` and
nothing here is imported by `ui`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from streamtop.cliargs import spec_from_args
from streamtop.commandlog import CommandLog
from streamtop.monitor import ErrorKind, Monitor, first_contact
from streamtop.options import DashboardOptions
from streamtop.pipeline.connection import ConfigError, ConnectError, ConnectionSpec

if TYPE_CHECKING:
    from streamtop.ui.app import StreamtopApp
    from streamtop.ui.demo_panel import Controller


def open_session(
    spec: ConnectionSpec, options: DashboardOptions, command_log: CommandLog | None = None
) -> Monitor:
    """The session the app polls and acts through; it connects at its first poll. `command_log`:
    every action's commands are recorded there."""
    return Monitor(spec, options.session(), command_log=command_log)


def make_app(
    session: Monitor,
    options: DashboardOptions,
    *,
    demo: Controller | None = None,
    app_class: type[StreamtopApp] | None = None,
) -> StreamtopApp:
    """The app on a ready session (`app_class`: the demo's, with its F-keys)."""
    from streamtop.ui.app import StreamtopApp

    cls = app_class or StreamtopApp
    return cls(
        session,
        read_only=options.read_only,
        stuck_ms=options.stuck_ms,
        poison=options.poison_deliveries,
        demo=demo,
        decode=options.decode_spec,
    )


def run_app(app: StreamtopApp) -> int:
    """Run the app to its end; what ended it for good (a ConfigError) is raised again so that
    cli.main prints it as one line and exits 1."""
    app.run()
    if app.fatal is not None:
        raise app.fatal
    return int(app.return_code or 0)


def run_dashboard(
    spec: ConnectionSpec,
    options: DashboardOptions,
    log_path: str | None = None,
    args: argparse.Namespace | None = None,
) -> int:
    """Fail fast on what waiting will not fix (auth, TLS, bad host, --cluster mismatch); a server
    that is merely down lets the dashboard open and retry. `log_path`: --log, the audit trail of
    every command the actions sent (streamtop.commandlog), appended; `args`: --record FILE and its
    retention."""
    sink = open_log(log_path) if log_path else None
    problem = asyncio.run(first_contact(spec))
    if problem is not None and problem.kind is ErrorKind.FATAL:
        if sink is not None:
            sink.close()
        raise ConnectError(problem.message)
    session = open_session(spec, options, CommandLog(sink) if sink is not None else None)
    try:
        app = make_app(session, options)
        record_to(session, args, app.notify)
        return run_app(app)
    finally:
        if sink is not None:
            sink.close()


def open_log(path: str) -> IO[str]:
    """--log FILE, opened to append (a bad path is one line on stderr, exit 1)."""
    try:
        return open(path, "a", encoding="utf-8")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        raise ConfigError(f"--log {path}: {exc.strerror or exc}") from None


def record_to(
    session: Monitor, args: argparse.Namespace | None, notify: Callable[..., None], role: str = "dashboard"
) -> None:
    """--record FILE: every poll of the session to the file; a file that fails is one notification
    and the dashboard goes on without it."""
    from streamtop.record import attach_from_args

    attach_from_args(session, args, role, lambda line: notify(line, severity="error", timeout=15))


def run(args: argparse.Namespace) -> int:
    """`streamtop [OPTIONS] [PATTERN|KEY ...]`: the options are read from the parser once."""
    if getattr(args, "attach", None):
        return run_attached(args)
    return run_dashboard(
        spec_from_args(args), DashboardOptions.from_args(args), getattr(args, "log", None), args
    )


def viewer_connection_given(args: argparse.Namespace) -> bool:
    """--attach: did the viewer give a connection of their own (for the actions)?"""
    given = any(getattr(args, name, None) for name in ("url", "host", "port", "password", "user"))
    return given or bool(os.environ.get("REDIS_URL"))


def run_attached(args: argparse.Namespace) -> int:
    """`streamtop --attach URL`: the dashboard on a hub's polls; the actions on the viewer's own
    connection when one is given (its fatal problems are one line, as without --attach), else
    read-only."""
    from streamtop.hub.attach import attach_options, attached_session
    from streamtop.lifeline import die_with_parent

    die_with_parent()  # a page of `streamtop web`: ends with it, even when it is SIGKILLed
    _, token = attach_options(args)
    spec = None
    if viewer_connection_given(args):
        spec = spec_from_args(args)
        problem = asyncio.run(first_contact(spec))
        if problem is not None and problem.kind is ErrorKind.FATAL:
            raise ConnectError(problem.message)
    options = DashboardOptions.from_args(args)
    sink = open_log(args.log) if getattr(args, "log", None) else None
    session = attached_session(args, spec, options, token, CommandLog(sink) if sink is not None else None)
    try:
        return run_app(make_app(session, options))
    finally:
        if sink is not None:
            sink.close()
