"""Every exception redis-py can raise becomes one line and exit 1 (2 for `status` when part of a
cluster is out), whichever redis-py release is installed: the mapping goes by class hierarchy
(RedisError and RedisClusterException, which is not a RedisError), never by a list of names.

The classes that a real cluster produces on demand (SlotNotCoveredError on redis-py 8.2,
ClusterDownError) are also tested end to end in tests/integration/test_cluster_errors.py; the rest
(redirect loops, TRYAGAIN, MaxConnectionsError, an unreachable cluster) only here."""

from __future__ import annotations

import inspect

import pytest
import redis
import redis.exceptions as rex

from streamtop.cli import redis_error_exit
from streamtop.monitor import CONNECTION_TROUBLE, ErrorKind, error_kind
from streamtop.pipeline.connection import (
    CLUSTER_OUTAGES,
    REDIS_ERRORS,
    build_spec,
    describe_error,
    error_text,
    is_redis_error,
)

SPEC = build_spec(url="redis://:s3cret@127.0.0.1:7000/0")

# (what redis-py says, multi-line on purpose where a release might) per class that takes a text
_TEXTS = {
    "AskError": "3999 127.0.0.1:7001",
    "MovedError": "3999 127.0.0.1:7001",
    "SlotNotCoveredError": 'Slot "12706" not covered by the cluster. "require_full_coverage=False"',
    "ClusterError": "TTL exhausted.",
}


def _all_classes() -> list[type[BaseException]]:
    """Every exception class redis.exceptions defines in the installed release."""
    return [
        c
        for _, c in inspect.getmembers(rex, inspect.isclass)
        if issubclass(c, Exception) and c.__module__.startswith("redis")
    ]


def _make(cls: type[BaseException]) -> BaseException:
    return cls(_TEXTS.get(cls.__name__, f"{cls.__name__} said\nsomething on two lines"))


@pytest.mark.parametrize("cls", _all_classes(), ids=lambda c: c.__name__)
def test_every_redis_exception_is_one_line_and_exit_1(cls):
    exc = _make(cls)
    assert is_redis_error(exc)
    line, code = redis_error_exit(exc, "produce")
    assert line and "\n" not in line and code == 1
    text = describe_error(exc, SPEC)
    assert text and "\n" not in text and "s3cret" not in text
    assert "\n" not in error_text(exc)


def test_cluster_exceptions_outside_redis_error_are_caught_by_the_commands():
    """The bug of issue 23: SlotNotCoveredError is a RedisClusterException, not a RedisError."""
    assert not issubclass(rex.SlotNotCoveredError, redis.RedisError)
    for name in ("SlotNotCoveredError", "RedisClusterException", "RedisClusterUnreachableError"):
        cls = getattr(rex, name, None)  # RedisClusterUnreachableError: redis-py 8.2 on
        if cls is not None:
            assert issubclass(cls, REDIS_ERRORS) and issubclass(cls, CONNECTION_TROUBLE)


def test_a_slot_served_by_no_node_reads_as_clusterdown_with_its_slot():
    exc = _make(rex.SlotNotCoveredError)
    assert error_text(exc) == "CLUSTERDOWN hash slot 12706 is served by no node of the cluster"
    assert describe_error(exc, SPEC).startswith("cluster at 127.0.0.1:7000: CLUSTERDOWN hash slot 12706")


def test_redirects_that_never_settle_say_so():
    """redis-py raises a bare ClusterError("TTL exhausted.") after MOVED/ASK/TRYAGAIN outlast its
    retries (slots moving during a reshard)."""
    text = error_text(rex.ClusterError("TTL exhausted."))
    assert "kept redirecting" in text and "TTL exhausted" in text


@pytest.mark.parametrize(
    "exc",
    [
        rex.SlotNotCoveredError('Slot "1" not covered by the cluster.'),
        rex.ClusterDownError("The cluster is down"),
        rex.MasterDownError("Link with MASTER is down"),
        rex.ClusterError("TTL exhausted."),
        rex.MovedError("3999 127.0.0.1:7001"),
        rex.AskError("3999 127.0.0.1:7001"),
        rex.TryAgainError("Multiple keys request during rehashing of slot"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_status_exits_2_when_part_of_the_cluster_is_out(exc):
    assert isinstance(exc, CLUSTER_OUTAGES)
    assert redis_error_exit(exc, "status")[1] == 2
    assert redis_error_exit(exc, "tail")[1] == 1


@pytest.mark.parametrize(
    "exc",
    [
        rex.MaxConnectionsError("Too many connections"),
        rex.RedisClusterException("no node"),
        redis.TimeoutError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_status_exits_1_for_the_rest(exc):
    assert redis_error_exit(exc, "status") == (error_text(exc), 1)


def test_the_dashboard_retries_a_cluster_without_a_node_for_a_slot():
    """A poll that hits a slot served by no node keeps the screen and retries (the monitor's
    CONNECTION_TROUBLE), instead of ending up in the app's "bug" handler."""
    assert error_kind(_make(rex.SlotNotCoveredError), SPEC) is ErrorKind.TRANSIENT


def test_a_bug_of_ours_is_not_mapped():
    assert redis_error_exit(KeyError("x"), "status") is None


def _raised_at(filename: str, exc: BaseException) -> BaseException:
    """`exc` as raised by code whose file is `filename` (where redis-py 8.1 raises its KeyError)."""
    namespace: dict = {"exc": exc}
    code = compile("def boom():\n    raise exc\n", filename, "exec")
    exec(code, namespace)
    try:
        namespace["boom"]()
    except BaseException as caught:
        return caught
    raise AssertionError("not raised")


def test_redis_py_8_1s_slots_cache_miss_reads_as_clusterdown():
    """redis-py 8.1's cluster client lets a KeyError(slot) out of its slots cache (8.2 raises
    SlotNotCoveredError there): the same line, exit 1 (status 2). A KeyError of ours stays a bug."""
    exc = _raised_at("/venv/lib/python3.11/site-packages/redis/asyncio/cluster.py", KeyError(12706))
    assert redis_error_exit(exc, "produce") == (
        "CLUSTERDOWN hash slot 12706 is served by no node of the cluster",
        1,
    )
    assert redis_error_exit(exc, "status")[1] == 2
    ours = _raised_at("/work/streamtop/collector.py", KeyError(12706))
    assert redis_error_exit(ours, "produce") is None
    assert redis_error_exit(KeyError("12706"), "produce") is None
