"""Long-running commands end when their terminal goes (SIGHUP) or they are told to (SIGTERM).

The dashboard dies of SIGHUP's default action; a command that holds more (the demo's workload and
embedded server, an open socket) handles it instead: the work stops first, so nothing is written
after the signal is handled, then the command winds down. A terminal that hung up may leave the
UI blocked on a write that never returns, so after GRACE_S a watchdog runs the last-resort cleanup
(the embedded server stopped by PID) and ends the process with 128 + the signal: a closed terminal
never leaves a writer running. A second signal ends it at once the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

GRACE_S = 5.0  # from the signal to os._exit when the command has not ended by itself
STOP_SIGNALS: tuple[int, ...] = tuple(
    s for s in (getattr(signal, "SIGHUP", None), signal.SIGTERM) if s is not None
)


class Stopper:
    """Signal handlers that stop a command from whichever loop is running, restored on exit.
    `stop` runs in a thread (never inside the handler, which may have interrupted the UI's loop);
    `last_resort` runs before os._exit when the command has not ended GRACE_S later."""

    def __init__(self, grace: float = GRACE_S) -> None:
        self.event = threading.Event()
        self.stops: list[Callable[[], None]] = []  # in order: the work first, then the UI
        self.last_resort: Callable[[], None] | None = None
        self.grace = grace
        self.signum: int | None = None
        self._old: dict[int, signal._HANDLER] = {}

    def install(self, signals: tuple[int, ...] = STOP_SIGNALS) -> None:
        for sig in signals:
            self._old[sig] = signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.event.is_set():  # a second signal: leave now
            self._exit_now()
        self.signum = signum
        self.event.set()
        threading.Thread(target=self._stop_then_watch, name="streamtop-stopper", daemon=True).start()

    def _stop_then_watch(self) -> None:
        watchdog = threading.Timer(self.grace, self._exit_now)  # a stop may block: UI on a dead tty
        watchdog.daemon = True
        watchdog.start()
        for stop in self.stops:
            try:
                stop()
            except Exception as exc:  # the watchdog still ends the process
                print(f"streamtop: while stopping: {exc}", file=sys.stderr)

    def _exit_now(self) -> None:
        if self.last_resort is not None:
            with contextlib.suppress(Exception):  # nothing left to report to: the terminal is gone
                self.last_resort()
        os._exit(128 + (self.signum or signal.SIGTERM))

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()
