"""`streamtop demo`: an embedded Valkey 9.1 (or the server of --url), the sensor workload, and the
dashboard on it; `--no-ui` runs only the server and the workload and prints the URL.

Whatever way the demo ends (quit, ctrl+c, SIGTERM, SIGHUP, a crash of the app), the `finally` here
stops the workers and the server by PID; atexit and the server's PDEATHSIG cover the rest. A
signal stops the workload before anything else, and when the UI cannot end (a terminal that went
away mid-write) streamtop.hangup's watchdog stops the server and exits (GRACE_S later).
"""

from __future__ import annotations

import argparse
import atexit
import signal
import sys
from typing import TYPE_CHECKING

from streamtop import numbers as num
from streamtop.cliargs import UsageError, add_interval_argument, add_window_argument, spec_from_args
from streamtop.demo.reader import LASTID_KEY
from streamtop.demo.workload import (
    DLQ,
    MAX_RATE,
    POISON_DELIVERIES,
    RETRY_EVERY,
    STREAM,
    STUCK_MS,
    DemoController,
    Lifecycle,
)
from streamtop.embedded import ServerUnavailable, port_free
from streamtop.hangup import STOP_SIGNALS, Stopper
from streamtop.options import DASHBOARD_DEFAULTS as DEFAULTS
from streamtop.options import DashboardOptions
from streamtop.pipeline.connection import REDIS_ERRORS, ConnectError, ConnectionSpec, describe_error
from streamtop.record.moments import add_record_arguments

if TYPE_CHECKING:  # the UI is imported only when the demo runs it (build_app)
    from streamtop.ui.demo_app import DemoApp
DEMO_STUCK_MS = STUCK_MS  # entries idle this long count as stuck (and are retried)


# what starting the workload on a server may fail with (its workers check the keys first)
START_FAILURES: tuple[type[Exception], ...] = (*REDIS_ERRORS, ValueError)


RATE_HELP = f"events per second (default 5, at most {MAX_RATE:,.0f}; changed live with F3/F4)"
FAIL_HELP = "group1 fails (leaves pending) events with temp above this (default 0.7)"
MAXLEN_HELP = f"trim {STREAM} to N entries on every XADD (default: no trimming)"
POISON_HELP = (
    f"poison: delivered more than N times (default {POISON_DELIVERIES}, as the dashboard's); group1 "
    f"moves a poison entry to {DLQ} when it fails again, and the dashboard marks the same entries "
    f"poison; failures are retried after {STUCK_MS // 1000} s idle"
)
# the workload's numbers, each option's dest the keyword DemoController takes it by:
# (option, its parser, default, metavar, help)
WORKLOAD_NUMBERS: tuple[tuple[str, num.Field[int] | num.Field[float], float | None, str, str], ...] = (
    ("--rate", num.DEMO_RATE, 5.0, "N", RATE_HELP),
    ("--fail-above", num.FAIL_ABOVE, 0.7, "TEMP", FAIL_HELP),
    ("--maxlen", num.DEMO_MAXLEN, None, "N", MAXLEN_HELP),
    ("--consumers", num.DEMO_CONSUMERS, 3, "N", "group1 consumers at start (default 3: c1, c2, c3)"),
    ("--poison-deliveries", num.POISON_DELIVERIES, POISON_DELIVERIES, "N", POISON_HELP),
)
NO_RETRY_HELP = "group1's consumers never retry: failures stay pending until claimed by hand"
LOG_HELP = (
    "append the command log (each command streamtop sends for your keys and the lessons' "
    "steps, in redis-cli form, its reply in a # line above it) to FILE"
)
NO_UI_HELP = "run only the server and the workload; print the URL for another streamtop"
CLEANUP_HELP = f"with --url: delete {STREAM} (and its groups), {DLQ} and {LASTID_KEY} on exit"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog = (
        "keys in the demo panel: F2 pause/resume the producer, F3/F4 halve/double the rate, "
        "F5 add a consumer, F6 stop one cleanly, F7 crash one (its pending entries stay, "
        "press c to claim them), F8 take the pub/sub subscriber, a group consumer and the "
        "stream reader away for 10 s, F9 the lessons view (--lesson N opens it at lesson N), "
        "L the command log (what streamtop sent, in redis-cli form); the dashboard's keys work "
        "as usual. --port P alone (no --url/--host) runs the embedded server on P when P is free "
        "(6379: where the tutorial's own scripts connect)"
    )
    for flag, field, default, metavar, text in WORKLOAD_NUMBERS:
        p.add_argument(flag, type=field.arg, default=default, metavar=metavar, help=text)
    p.add_argument("--no-retry", action="store_true", help=NO_RETRY_HELP)
    p.add_argument(
        "--lesson",
        type=num.DEMO_LESSON.arg,
        default=None,
        metavar="N",
        help="open the lessons view (F9) at lesson N (1-12): the tutorial step by step",
    )
    p.add_argument("--log", metavar="FILE", default=None, help=LOG_HELP)
    p.add_argument("--no-ui", action="store_true", help=NO_UI_HELP)
    p.add_argument("--cleanup", action="store_true", help=CLEANUP_HELP)
    add_interval_argument(p, DEFAULTS.interval, " of the dashboard")
    add_window_argument(p)
    add_record_arguments(p)


def _external(args: argparse.Namespace) -> bool:
    """A server of the user's: --url or --host, or a --port on which something listens already.
    `--port P` alone with P free starts the embedded server on P (6379: where the tutorial's own
    scripts look)."""
    if getattr(args, "url", None) or getattr(args, "host", None):
        return True
    port = getattr(args, "port", None)
    return bool(port) and not port_free(spec_from_args(args).port)


def _check_server(spec: ConnectionSpec) -> None:
    client = spec.make_sync_client()
    try:
        client.ping()
    except REDIS_ERRORS as exc:
        message = describe_error(exc, spec).replace(
            "(try `streamtop demo`)", "(or leave out --url for the embedded server)"
        )
        raise ConnectError(message) from None
    finally:
        client.close()
    if _wrong_type(spec):
        raise UsageError(
            f"{STREAM} exists at {spec.address} and is not a stream: the demo will not "
            "touch it; use another database (-n) or server"
        )


def _wrong_type(spec: ConnectionSpec) -> bool:
    client = spec.make_sync_client()
    try:
        kind = client.type(STREAM)
    finally:
        client.close()
    return kind not in (b"none", b"stream")


def _banner(spec: ConnectionSpec, url: str, *, started: bool, cleanup: bool) -> str:
    """What --no-ui says it runs on: a server it started (and stops), or one that was there (whose
    keys it leaves unless --cleanup)."""
    name = _server_name(spec)
    if started:
        return f"started {name} on {url}; the workload runs on it (ctrl+c stops both)"
    kept = (
        "the demo's keys deleted on exit (--cleanup)" if cleanup else "keys left on exit; --cleanup to delete"
    )
    return f"using the {name} server already on {url} ({kept}); the workload runs on it (ctrl+c to stop)"


def _server_name(spec: ConnectionSpec) -> str:
    """ "Valkey 9.1.2" or "Redis 7.0.15" from INFO server ("a server" when it cannot be read)."""
    client = spec.make_sync_client()
    try:
        info = client.info("server")
    except REDIS_ERRORS:
        return "a server"
    finally:
        client.close()
    if info.get("valkey_version"):
        return f"Valkey {info['valkey_version']}"
    return f"Redis {info.get('redis_version', '?')}"


def run(args: argparse.Namespace) -> int:
    if args.cluster:
        raise UsageError("the demo needs a standalone server (not --cluster)")
    if args.lesson is not None and args.no_ui:
        raise UsageError("--lesson opens the lessons view: it needs the UI (leave out --no-ui)")
    from streamtop.commands.dashboard import open_log

    sink = open_log(args.log) if args.log else None  # a bad path: one line, before anything starts
    server = None
    if _external(args):
        spec = spec_from_args(args)
        _check_server(spec)
        url = spec.display_url()
    else:
        from streamtop.demo.server import start_demo_server

        try:
            server = start_demo_server(spec_from_args(args).port if args.port else 0)
        except ServerUnavailable as exc:
            raise UsageError(
                f"cannot start the embedded Valkey ({exc}); run the demo against a "
                "server of yours with --url redis://HOST:PORT"
            ) from None
        atexit.register(server.cleanup)
        spec = ConnectionSpec(host=server.host, port=server.port)
        url = server.url

    stopper = Stopper()
    controller = DemoController(
        spec,
        rate=args.rate,
        fail_above=args.fail_above,
        maxlen=args.maxlen,
        consumers=args.consumers,
        poison_deliveries=args.poison_deliveries,
        retry_every=None if args.no_retry else RETRY_EVERY,
    )
    # a signal stops the workload first (no event added after it), then the UI; the embedded
    # server is stopped by PID whatever happens, even when a dead terminal blocks the UI
    stopper.stops.append(controller.stop)
    stopper.last_resort = server.cleanup if server is not None else None
    controller.command_log.sink = sink
    try:
        stopper.install(STOP_SIGNALS + ((signal.SIGINT,) if args.no_ui else ()))
        try:
            controller.start()
        except START_FAILURES as exc:
            raise ConnectError(f"cannot start the workload: {describe_error(exc, spec)}") from None
        if args.no_ui:
            print(
                f"streamtop demo: {_banner(spec, url, started=server is not None, cleanup=args.cleanup)}",
                flush=True,
            )
            while not stopper.event.wait(0.5):
                pass
            return 0
        return _run_ui(args, spec, controller, stopper)
    except KeyboardInterrupt:
        return 130
    finally:
        stopper.restore()
        controller.stop()
        if controller.command_log.sink is not None:
            controller.command_log.sink.close()
        if server is None and args.cleanup:
            try:
                controller.cleanup()
            except REDIS_ERRORS as exc:
                print(f"streamtop demo: cleanup failed: {describe_error(exc, spec)}", file=sys.stderr)
        if server is not None:
            server.cleanup()
            atexit.unregister(server.cleanup)


def demo_dashboard_options(args: argparse.Namespace, life: Lifecycle) -> DashboardOptions:
    """The dashboard's options in the demo: poison means what the workload gives up on (one
    --poison-deliveries for the marks, `D` and the workload), stuck what it retries."""
    return DashboardOptions.from_args(
        args, targets=(), stuck_after=life.stuck_ms / 1000, poison_deliveries=life.poison_deliveries
    )


def build_app(args: argparse.Namespace, spec: ConnectionSpec, controller: DemoController) -> DemoApp:
    """The dashboard as `streamtop` builds it (streamtop.commands.dashboard), on the demo's server, with
    the demo panel and its F-keys bound at app level (they work wherever the focus is)."""
    from streamtop.commands.dashboard import make_app, open_session, record_to
    from streamtop.ui.demo_app import DemoApp

    # entries a crashed consumer held count as stuck after the workload's retry time (not 60 s),
    # so `c` claims them with its default min idle while the demo is still being watched
    options = demo_dashboard_options(args, controller.life)
    # every action's commands, for `L` and --log
    session = open_session(spec, options, controller.command_log)
    app = make_app(session, options, demo=controller, app_class=DemoApp)
    assert isinstance(app, DemoApp)
    record_to(session, args, app.notify, "demo")
    app.start_lesson = getattr(args, "lesson", None)
    return app


def _run_ui(
    args: argparse.Namespace, spec: ConnectionSpec, controller: DemoController, stopper: Stopper
) -> int:
    from streamtop.commands.dashboard import run_app

    app = build_app(args, spec, controller)
    stopper.stops.append(lambda: app.call_from_thread(app.exit))
    return run_app(app)
