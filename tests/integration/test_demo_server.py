"""The demo server's port: the first preferred port where a server can listen, else a free one.

The preferred ports are replaced by ports this test holds or frees itself, so the outcome does not
depend on what other processes on the machine happen to hold around 16379.
"""

from __future__ import annotations

import socket

import pytest
import redis

from streamtop.demo import server as demo_server
from streamtop.embedded import port_free, start_server


@pytest.fixture
def demo_servers():
    started: list[demo_server.DemoServer] = []

    def start() -> demo_server.DemoServer:
        srv = demo_server.start_demo_server()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.cleanup()


def listening_sockets(n: int) -> list[socket.socket]:
    """n loopback ports in use (listening), chosen by the kernel."""
    socks = []
    for _ in range(n):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        socks.append(sock)
    return socks


def test_ports_in_use_are_skipped(monkeypatch, demo_servers):
    held = listening_sockets(3)
    try:
        ports = [s.getsockname()[1] for s in held]
        assert not any(port_free(p) for p in ports)
        monkeypatch.setattr(demo_server, "PREFERRED_PORTS", ports)
        srv = demo_servers()
        assert srv.port not in ports
        with redis.Redis(port=srv.port) as r:
            assert r.ping()
    finally:
        for sock in held:
            sock.close()


def test_the_first_preferred_port_a_server_can_listen_on_is_taken(monkeypatch, demo_servers):
    """A server that just stopped leaves its connections in TIME_WAIT: a plain bind() is refused
    for about a minute, but a server (SO_REUSEADDR) can listen there, so the port is still free."""
    (held,) = listening_sockets(1)
    try:
        old = start_server("valkey-9.1")
        with socket.create_connection((old.host, old.port)) as client:
            client.sendall(b"PING\r\n")
            assert client.recv(64).startswith(b"+PONG")
            old.cleanup()  # the server closes our connection first: its side goes to TIME_WAIT
            assert client.recv(64) == b""
        with socket.socket() as plain, pytest.raises(OSError):
            plain.bind(("127.0.0.1", old.port))  # what the old check took for "in use"
        assert port_free(old.port)
        monkeypatch.setattr(demo_server, "PREFERRED_PORTS", [held.getsockname()[1], old.port])
        srv = demo_servers()
        assert srv.port == old.port
        with redis.Redis(port=srv.port) as r:
            assert r.ping()
    finally:
        held.close()
