"""Consumers that are probably gone: workers that died or were restarted under a new name.

Libraries leave their consumers behind (taskiq names each worker start with a fresh uuid and never
deletes it), so a group collects names nobody reads with. The server never says "gone"; what it
says differs by version, and so does what can be concluded:

- Redis/Valkey 7.2+ report `idle` as the time since the consumer last *attempted* a read or claim
  (seen-time) and `inactive` since its last success. A live worker blocked in XREADGROUP attempts
  every few seconds, so an idle time above GONE_AFTER_MS means nobody has asked under that name.
- Before 7.2, `idle` grows while a live worker blocks on an empty stream, exactly like a dead one's.
  A consumer counts as gone only when its idle time is far above the group's other consumers' AND
  the group delivered entries after it was last seen (the last-delivered-id is newer than that):
  others read while it did not. Otherwise, idle but cannot tell (None).

Headless and pure: a function of one poll, so the dashboard, `status --json` and the delete action
agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import ConsumerInfo, GroupInfo, id_ms
from .render import duration_ms

GONE_AFTER_MS = 60_000  # no read attempted for this long (7.2+), the least idle time that counts
FACTOR = 10  # before 7.2: idle at least this many times the least idle of the others


@dataclass(frozen=True, slots=True)
class Liveness:
    """`gone`: True probably gone, False alive (or too recently seen to say), None cannot tell."""

    gone: bool | None
    reason: str = ""


ALIVE = Liveness(False)


def liveness(
    consumer: ConsumerInfo, group: GroupInfo, now_ms: float, gone_after_ms: int | None = None
) -> Liveness:
    """`now_ms`: when the poll that measured the idle times ended (epoch ms); `gone_after_ms`
    defaults to GONE_AFTER_MS as it is when called (tests shorten it)."""
    gone_after_ms = GONE_AFTER_MS if gone_after_ms is None else gone_after_ms
    idle = consumer.idle_ms
    if idle < gone_after_ms:
        return ALIVE
    if consumer.inactive_ms is not None:  # 7.2+: idle is seen-time
        never = consumer.inactive_ms < 0
        return Liveness(
            True, f"no read attempted for {duration_ms(idle)}" + (" (never read an entry)" if never else "")
        )
    others = [c.idle_ms for c in group.consumer_list if c.name != consumer.name]
    if not others:
        return Liveness(None, f"idle {duration_ms(idle)}, the only consumer: cannot tell before 7.2")
    least = min(others)
    if idle < max(least * FACTOR, gone_after_ms):
        return Liveness(None, f"idle {duration_ms(idle)} like the others: cannot tell before 7.2")
    delivered = id_ms(group.last_delivered_id)
    if delivered is None or delivered <= now_ms - idle:
        return Liveness(None, f"idle {duration_ms(idle)}, but the group delivered nothing since")
    return Liveness(
        True,
        f"idle {duration_ms(idle)} while others read (least idle "
        f"{duration_ms(least)}) and the group delivered entries since",
    )


def group_liveness(
    group: GroupInfo, now_ms: float, gone_after_ms: int | None = None
) -> dict[bytes, Liveness]:
    return {c.name: liveness(c, group, now_ms, gone_after_ms) for c in group.consumer_list}


def claim_order(group: GroupInfo, now_ms: float, gone_after_ms: int | None = None) -> list[ConsumerInfo]:
    """Who a claim should go to first: not gone, then the most recently seen (a gone consumer is
    never the default target)."""
    states = group_liveness(group, now_ms, gone_after_ms)
    return sorted(group.consumer_list, key=lambda c: (states[c.name].gone is True, c.idle_ms))


def deletable(group: GroupInfo, now_ms: float, gone_after_ms: int | None = None) -> list[bytes]:
    """Gone consumers holding no pending entries: deleting them loses nothing."""
    states = group_liveness(group, now_ms, gone_after_ms)
    return [c.name for c in group.consumer_list if states[c.name].gone is True and c.pending == 0]
