"""A cluster with a hash slot range served by no node: every command says so in one line on stderr
and exits 1 (`status`: 2, part of the cluster is out), never a traceback, whichever redis-py is
installed. redis-py 8.2 raises SlotNotCoveredError itself (a RedisClusterException, not a
RedisError) where 8.1 sent the command and got the server's CLUSTERDOWN back; a key in a served slot
gets the server's CLUSTERDOWN (ClusterDownError) from both. The classes no real cluster produces on
demand are mapped in tests/unit/test_redis_errors.py."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from streamtop.cli import main
from streamtop.embedded import ClusterProcess

pytestmark = pytest.mark.slow  # a 3-node cluster takes seconds to form

UNSERVED_FROM = 10922  # ClusterProcess(cover_slots=False) leaves 10922-16383 to no node


@pytest.fixture(scope="module")
def broken_cluster():
    c = ClusterProcess().start(cover_slots=False)
    yield c
    c.cleanup()


def _key(unserved: bool) -> str:
    """A hash-tagged key (its :dlq shares its slot) in a slot served by no node, or in one served."""
    return next(
        k for k in (f"{{k{i}}}" for i in range(1000)) if (key_slot(k.encode()) >= UNSERVED_FROM) == unserved
    )


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


COMMANDS = {
    "produce": lambda k: ["produce", k],
    "tail": lambda k: ["tail", k, "-n", "1"],
    # the action commands share one path (actions.base.fail): one read, one MULTI/EXEC
    "ack": lambda k: ["ack", k, "g", "1-1", "--yes"],
    "redrive": lambda k: ["redrive", f"{k}:dlq", "--to", k, "--yes"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_key_in_a_slot_served_by_no_node_is_one_line_and_exit_1(broken_cluster, capsys, command):
    """SlotNotCoveredError (redis-py 8.2) or the server's CLUSTERDOWN (8.1): the same line. Each
    takes seconds: redis-py's cluster client retries CLUSTERDOWN before it gives up."""
    code = main([*COMMANDS[command](_key(unserved=True)), "--url", broken_cluster.url])
    line = _one_line(capsys.readouterr().err)
    assert code == 1
    assert "CLUSTERDOWN" in line, line


@pytest.mark.parametrize("command", ["produce", "tail"])
def test_a_key_in_a_served_slot_of_a_cluster_that_is_down_is_one_line(broken_cluster, capsys, command):
    """The server's own CLUSTERDOWN (ClusterDownError, a RedisError) while the cluster is failed."""
    code = main([*COMMANDS[command](_key(unserved=False)), "--url", broken_cluster.url])
    line = _one_line(capsys.readouterr().err)
    assert code == 1 and "CLUSTERDOWN" in line, line


def test_status_of_a_key_in_a_slot_served_by_no_node_exits_2(broken_cluster, capsys):
    code = main(["status", _key(unserved=True), "--url", broken_cluster.url])
    captured = capsys.readouterr()
    assert code == 2 and "Traceback" not in captured.err
    assert "10922-16383" in captured.out
