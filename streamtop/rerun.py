"""What happens to an entry after a claim: who re-runs it (issue 25, item 6).

XCLAIM and XAUTOCLAIM move an entry into another consumer's pending list; they do not deliver it to
the program behind that consumer. It runs again only if that program re-reads its own pending
entries (XREADGROUP with an ID, such as 0) or takes idle ones with XAUTOCLAIM. The server does not
show whether a consumer ever does, so the claim dialog, its result and `streamtop claim` say so,
with what the libraries do (read in their sources: FastStream 0.7.8
`faststream/redis/subscriber/usecases/stream_subscriber.py`, taskiq-redis 1.2.4
`taskiq_redis/redis_broker.py` `RedisStreamBroker.listen`, walrus 0.9.8 `walrus/containers.py`
`ConsumerGroup.read`). docs/dashboard.md has the same table.
"""

from __future__ import annotations

RERUN = (
    "a claimed entry is re-run only by a client that re-reads its own pending entries "
    "(XREADGROUP with an ID such as 0, or XAUTOCLAIM); one that reads only '>' never sees it again"
)

# (library, when it re-runs an entry claimed into one of its consumers)
LIBRARIES: tuple[tuple[str, str], ...] = (
    (
        "FastStream",
        "only a StreamSub(..., min_idle_time=MS) subscriber: it XAUTOCLAIMs entries idle MS or more "
        "(the claim restarts that time); a plain subscriber reads '>' only: never",
    ),
    (
        "taskiq-redis",
        "at its recovery: XAUTOCLAIM of entries idle idle_timeout or more (default 10 min, restarted "
        "by the claim), run only after a read that got new tasks",
    ),
    ("walrus", "ConsumerGroup.read() reads '>' only: never (unless the program calls autoclaim)"),
    ("the walrus tutorial's consumer", "never: it reads '>' only"),
)

REDRIVE = (
    "to re-run entries for a consumer that never re-reads its own: dead-letter them (D, streamtop "
    "deadletter) and redrive them (R, streamtop redrive) as new entries"
)

# one line after a claim, for the result message and `streamtop claim`
AFTER_CLAIM = (
    "re-run only if that consumer re-reads its own pending entries (FastStream with min_idle_time, "
    "taskiq after its idle_timeout, 10 min by default; walrus, a plain FastStream subscriber and the "
    "tutorial's consumer: never; for those, D then R)"
)


def note(claimed: int) -> str:
    """The line to add to a claim's result; empty when nothing was claimed."""
    return f"; {AFTER_CLAIM}" if claimed else ""
