"""Gone, waiting, busy or cannot tell (streamtop.pipeline.liveness), on hand-made XINFO and CLIENT
LIST values.

Issue 25: a long idle time alone proves nothing. A blocked reader on a quiet stream and a handler busy
with its entry were called gone; now gone needs evidence (entries that waited for the group after
its last attempt, or its connection known closed)."""

from __future__ import annotations

from streamtop.pipeline.liveness import (
    GONE_AFTER_MS,
    State,
    claim_order,
    deletable,
    group_liveness,
    liveness,
    parse_client_list,
)
from streamtop.pipeline.model import ConsumerInfo, GroupInfo, Lag, LagSource, TimeLag, TimeLagSource

NOW = 1_800_000_000_000
MIN = 60_000


def group(
    *consumers: ConsumerInfo, lag: int = 0, waited_ms: int | None = None, delivered_ago: int = 10 * MIN
) -> GroupInfo:
    """`lag` entries undelivered, the oldest added `waited_ms` ago; the last delivered entry was
    added `delivered_ago` ms ago."""
    return GroupInfo(
        name=b"g",
        consumers=len(consumers),
        pending=sum(c.pending for c in consumers),
        last_delivered_id=f"{NOW - delivered_ago}-0",
        entries_read=None,
        lag=Lag(LagSource.EXACT, value=lag),
        consumer_list=consumers,
        time_lag=TimeLag(TimeLagSource.EXACT, waited_ms if lag else 0),
    )


def clients(*rows: str):
    return parse_client_list("\n".join(rows))


def test_a_blocked_reader_on_a_quiet_stream_is_waiting_not_gone() -> None:
    """walrus cg.read(block=0): one attempt, then blocked; nothing came (7.2+: idle < inactive)."""
    blocked = ConsumerInfo(b"c1", 0, idle_ms=5 * MIN, inactive_ms=-1)
    state = liveness(blocked, group(blocked), NOW)
    assert (state.gone, state.state) == (False, State.WAITING)
    assert state.reason.startswith("waiting: no read attempted for 5m00s (it never got an entry)")
    after_reads = ConsumerInfo(b"c1", 2, idle_ms=5 * MIN, inactive_ms=9 * MIN)
    assert liveness(after_reads, group(after_reads), NOW).state is State.WAITING


def test_entries_others_took_after_its_last_attempt_make_it_gone_by_the_servers_clock() -> None:
    """7.2+ runs every reader blocked on the stream again at each XADD (its idle resets even when
    another is handed the entry), so an entry added after its last attempt means it is not blocked
    there. The entry's ID is stamped by the server's clock: without it, cannot tell."""
    c3 = ConsumerInfo(b"c3", 0, idle_ms=5 * MIN, inactive_ms=20 * MIN)
    c1 = ConsumerInfo(b"c1", 0, idle_ms=2 * MIN, inactive_ms=2 * MIN)
    g = group(c3, c1, delivered_ago=2 * MIN)
    state = liveness(c3, g, NOW, server_clock=True)
    assert (state.gone, state.state) == (True, State.GONE)
    assert "entries were added for its group since (others took them)" in state.reason
    state = liveness(c3, g, NOW)
    assert (state.gone, state.state) == (None, State.UNKNOWN)
    assert "without the server's clock" in state.reason


def test_a_handler_busy_with_its_entry_is_busy_not_gone() -> None:
    """FastStream handler busy 90 s: its last attempt got the entry it holds (idle == inactive)."""
    busy = ConsumerInfo(b"w", 1, idle_ms=90_000, inactive_ms=90_000)
    other = ConsumerInfo(b"w2", 0, idle_ms=100, inactive_ms=100)
    g = group(busy, other, lag=3, waited_ms=30_000)  # entries wait: it cannot read while busy
    state = liveness(busy, g, NOW)
    assert (state.gone, state.state) == (False, State.BUSY)
    assert "got entries it still holds (1 pending)" in state.reason
    assert deletable(g, NOW) == [] and [c.name for c in claim_order(g, NOW)] == [b"w2", b"w"]


def test_entries_that_waited_after_its_last_attempt_make_it_gone() -> None:
    """A reader blocked on the group is handed every new entry at once: an undelivered entry newer
    than its last attempt means it is not waiting."""
    dead = ConsumerInfo(b"dead", 0, idle_ms=5 * MIN, inactive_ms=6 * MIN)
    state = liveness(dead, group(dead, lag=4, waited_ms=2 * MIN), NOW)
    assert (state.gone, state.state) == (True, State.GONE)
    assert "undelivered for 2m00s" in state.reason
    # the entries were there before its last attempt: not proof (it may read its own history only)
    assert liveness(dead, group(dead, lag=4, waited_ms=6 * MIN), NOW).gone is False


def test_before_72_the_server_cannot_tell_unless_entries_waited_a_whole_gone_after() -> None:
    quiet = ConsumerInfo(b"c", 0, idle_ms=5 * MIN)
    state = liveness(quiet, group(quiet), NOW)
    assert (state.gone, state.state) == (None, State.UNKNOWN)
    assert "before 7.2" in state.reason
    assert liveness(quiet, group(quiet, lag=2, waited_ms=GONE_AFTER_MS - 1), NOW).gone is None
    assert liveness(quiet, group(quiet, lag=2, waited_ms=GONE_AFTER_MS), NOW).gone is True
    holding = ConsumerInfo(b"c", 1, idle_ms=5 * MIN)  # may be busy with what it holds
    assert liveness(holding, group(holding, lag=2, waited_ms=2 * MIN), NOW).gone is None


def test_a_connection_known_closed_is_gone_a_named_open_one_is_not() -> None:
    dead = ConsumerInfo(b"dead", 1, idle_ms=5 * MIN)  # before 7.2, holding an entry
    live = ConsumerInfo(b"live", 0, idle_ms=100)
    g = group(dead, live)
    named = clients(
        "id=7 addr=x name=live age=900 idle=0 flags=b cmd=xreadgroup",
        "id=8 addr=x name= age=900 idle=0 flags=N cmd=xadd",
    )
    state = liveness(dead, g, NOW, clients=named)
    assert state.gone is True and "no open connection is named after it" in state.reason
    assert liveness(live, g, NOW, clients=named).gone is False
    # its own named connection, blocked: waiting; open and not blocked: busy
    own = clients("id=9 addr=x name=dead age=900 idle=290 flags=b cmd=xreadgroup")
    assert liveness(dead, g, NOW, clients=own).state is State.WAITING
    own = clients("id=9 addr=x name=dead age=900 idle=290 flags=N cmd=xack")
    assert liveness(dead, g, NOW, clients=own).state is State.BUSY


def test_no_open_connection_could_have_made_its_last_attempt() -> None:
    dead = ConsumerInfo(b"dead", 1, idle_ms=5 * MIN, inactive_ms=5 * MIN)
    g = group(dead)
    younger = clients("id=8 addr=x name= age=30 idle=1 flags=N cmd=xinfo|consumers")
    assert liveness(dead, g, NOW, clients=younger).gone is True
    older = clients("id=8 addr=x name= age=900 idle=1 flags=N cmd=xadd")
    assert liveness(dead, g, NOW, clients=older).state is State.BUSY  # could be its connection
    reading = clients("id=8 addr=x name= age=30 idle=0 flags=b cmd=xreadgroup")  # a reconnect
    assert liveness(dead, g, NOW, clients=reading).state is State.BUSY
    own_excluded = parse_client_list("id=8 addr=x name= age=900 idle=1 flags=N cmd=client|list", [8])
    assert liveness(dead, g, NOW, clients=own_excluded).gone is True


def test_recently_seen_is_active_and_only_empty_gone_ones_are_deletable() -> None:
    dead_a = ConsumerInfo(b"dead-a", 4, idle_ms=GONE_AFTER_MS + 1, inactive_ms=GONE_AFTER_MS + 5)
    dead_b = ConsumerInfo(b"dead-b", 0, idle_ms=GONE_AFTER_MS + 2, inactive_ms=GONE_AFTER_MS + 5)
    live = ConsumerInfo(b"live", 0, idle_ms=GONE_AFTER_MS - 1, inactive_ms=GONE_AFTER_MS - 1)
    g = group(dead_a, dead_b, live, lag=1, waited_ms=1000)
    states = group_liveness(g, NOW)
    assert (states[b"live"].gone, states[b"live"].state, states[b"live"].reason) == (False, State.ACTIVE, "")
    assert [c.name for c in claim_order(g, NOW)] == [b"live", b"dead-a", b"dead-b"]
    assert deletable(g, NOW) == [b"dead-b"]  # dead-a still holds 4 pending entries


def test_client_list_as_redis_py_parses_it() -> None:
    parsed = parse_client_list(
        [{"id": "3", "name": "w", "age": "5", "idle": "1", "flags": "b", "cmd": "xreadgroup"}]
    )
    assert parsed.named(b"w")[0].blocked_reading
