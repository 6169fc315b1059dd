"""`streamtop record [OPTIONS] [PATTERN|KEY ...] --out FILE`: the dashboard's polls, headless, to a
recording (streamtop.record). Every stream is read in full each poll, as `status` reads it, so that
`status --at` on the file answers what a live `status` did then. A server that is down is not an
error: the outage is recorded and polling goes on. A file that cannot be written (read-only path,
full disk, a future schema version, not a recording) is one line and exit 1. SIGTERM or Ctrl-C end
it cleanly (exit 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from streamtop.pipeline.connection import ConnectError

from ..cliargs import (
    UsageError,
    add_interval_argument,
    add_watch_arguments,
    add_window_argument,
    spec_from_args,
)
from ..monitor import ErrorKind, Monitor, first_contact
from ..options import PollOptions, SessionOptions
from ..record import Recorder, RecordingError, attach_from_args
from ..record.moments import add_record_arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_watch_arguments(p)
    add_record_arguments(p, required=True)
    add_interval_argument(p, 1.0)
    add_window_argument(p)


async def record(monitor: Monitor, recorder: Recorder, stop: asyncio.Event) -> int:
    """Poll until `stop`; 1 when the file failed (the line is on stderr)."""
    while not stop.is_set():
        await monitor.poll()
        if recorder.error is not None:
            return 1
        delay = monitor.retry_in() if monitor.failures else monitor.poll_delay()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
    return 0


async def _run(monitor: Monitor, recorder: Recorder, banner: str) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    print(banner, file=sys.stderr, flush=True)
    try:
        return await record(monitor, recorder, stop)
    finally:
        await monitor.close()
        recorder.close()


def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    problem = asyncio.run(first_contact(spec))
    if problem is not None and problem.kind is ErrorKind.FATAL:
        raise ConnectError(problem.message)
    # as `status` polls: every stream in full, every lag estimate counted now
    options = PollOptions(max_streams=args.max_streams, estimate_interval=0)
    session = SessionOptions(
        targets=tuple(args.targets),
        poll=options,
        read_only=True,
        interval=args.interval,
        window=args.window_ms / 1000,
    )
    monitor = Monitor(spec, session)
    recorder = attach_from_args(
        monitor, args, "record", lambda line: print(f"streamtop record: {line}", file=sys.stderr, flush=True)
    )
    assert recorder is not None  # --out is required (it is args.record)
    try:
        recorder.open()
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
    down = " (not answering yet: recorded as an outage until it does)" if problem is not None else ""
    banner = f"streamtop record: {spec.display_url()}{down} to {args.record}, every {args.interval:g} s"
    return asyncio.run(_run(monitor, recorder, banner))
