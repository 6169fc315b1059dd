"""Which consumers are probably gone, by server version: the rules on hand-made XINFO values."""

from __future__ import annotations

from streamtop.liveness import GONE_AFTER_MS, claim_order, deletable, group_liveness, liveness
from streamtop.model import ConsumerInfo, GroupInfo, Lag, LagSource

NOW = 1_800_000_000_000
MIN = 60_000


def group(*consumers: ConsumerInfo, delivered_ms: int = NOW - 1000) -> GroupInfo:
    return GroupInfo(
        name=b"g",
        consumers=len(consumers),
        pending=sum(c.pending for c in consumers),
        last_delivered_id=f"{delivered_ms}-0",
        entries_read=None,
        lag=Lag(LagSource.UNKNOWN),
        consumer_list=consumers,
    )


def test_72_idle_is_seen_time_so_a_long_idle_is_gone() -> None:
    dead = ConsumerInfo(b"dead", 0, idle_ms=5 * MIN, inactive_ms=5 * MIN)
    never = ConsumerInfo(b"never", 0, idle_ms=2 * MIN, inactive_ms=-1)
    live = ConsumerInfo(b"live", 3, idle_ms=1500, inactive_ms=30 * MIN)  # blocked, nothing to read
    states = group_liveness(group(dead, never, live), NOW)
    assert states[b"dead"].gone is True and "no read attempted for 5m00s" in states[b"dead"].reason
    assert states[b"never"].gone is True and "never read" in states[b"never"].reason
    assert states[b"live"].gone is False and states[b"live"].reason == ""


def test_before_72_gone_only_when_others_read_and_the_group_delivered_since() -> None:
    dead = ConsumerInfo(b"dead", 2, idle_ms=5 * MIN)
    live = ConsumerInfo(b"live", 0, idle_ms=200)
    assert liveness(dead, group(dead, live), NOW).gone is True
    # nothing delivered since the dead one was last seen: a quiet stream, cannot tell
    quiet = group(dead, live, delivered_ms=NOW - 10 * MIN)
    assert liveness(dead, quiet, NOW).gone is None
    assert "delivered nothing since" in liveness(dead, quiet, NOW).reason
    # everyone equally idle (all blocked on an empty stream before 7.2): cannot tell
    twin = ConsumerInfo(b"twin", 0, idle_ms=4 * MIN)
    assert liveness(dead, group(dead, twin), NOW).gone is None
    # the only consumer: nothing to compare with
    assert liveness(dead, group(dead), NOW).gone is None
    assert liveness(live, group(dead, live), NOW).gone is False


def test_never_the_default_claim_target_and_only_empty_gone_ones_are_deletable() -> None:
    # the killed worker is 1 ms less idle than the live one was at its last poll (issue 18)
    dead_a = ConsumerInfo(b"dead-a", 4, idle_ms=GONE_AFTER_MS + 1, inactive_ms=GONE_AFTER_MS + 1)
    dead_b = ConsumerInfo(b"dead-b", 0, idle_ms=GONE_AFTER_MS + 2, inactive_ms=GONE_AFTER_MS + 2)
    live = ConsumerInfo(b"live", 0, idle_ms=GONE_AFTER_MS - 1, inactive_ms=GONE_AFTER_MS - 1)
    g = group(dead_a, dead_b, live)
    assert [c.name for c in claim_order(g, NOW)] == [b"live", b"dead-a", b"dead-b"]
    assert deletable(g, NOW) == [b"dead-b"]  # dead-a still holds 4 pending entries
