"""`streamtop deadletter KEY GROUP [--min-deliveries N] [--dlq KEY]`: the `D` key as a command:
move every pending entry delivered at least N times to the dead-letter stream and ack it."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable

from streamtop.pipeline.collector import to_bytes
from streamtop.pipeline.model import label

from .. import numbers as num
from ..actions import Actions
from ..actions.deadletter import DeadLetterResult
from ..cliargs import UsageError
from ..options import DASHBOARD_DEFAULTS
from .shared import add_common, confirm, finish, named, run_async

# "at least N+1" is "more than N": what the dashboard marks poison with its --poison-deliveries
DEFAULT_MIN_DELIVERIES = DASHBOARD_DEFAULTS.poison_deliveries + 1


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("stream_key", metavar="KEY", help="the stream")
    p.add_argument("group", metavar="GROUP", help="the consumer group")
    p.add_argument(
        "--min-deliveries",
        type=num.DLQ_DELIVERIES.arg,
        default=DEFAULT_MIN_DELIVERIES,
        metavar="N",
        help=f"entries delivered at least N times (default {DEFAULT_MIN_DELIVERIES}"
        f": more than the default --poison-deliveries {DASHBOARD_DEFAULTS.poison_deliveries}, "
        "what the dashboard marks poison)",
    )
    p.add_argument(
        "--dlq", metavar="KEY", help="the dead-letter stream (default KEY:dlq; {KEY}:dlq in a cluster)"
    )
    add_common(p)


def run(args: argparse.Namespace) -> int:
    key, group = to_bytes(args.stream_key), to_bytes(args.group)
    if not key or not group:
        raise UsageError("KEY and GROUP must not be empty")
    dlq_given = to_bytes(args.dlq) if args.dlq is not None else None
    if dlq_given == b"":
        raise UsageError("--dlq is empty")

    async def job(actions: Actions) -> int:
        dlq = dlq_given or actions.default_dlq(key)
        base = {
            **named("stream", key),
            **named("group", group),
            **named("dlq", dlq),
            "min_deliveries": args.min_deliveries,
        }

        def move(dry_run: bool) -> Awaitable[DeadLetterResult]:
            """The one path of the dry run and the real run (the moves left out of the dry run)."""
            return actions.dead_letter(
                key, group, min_deliveries=args.min_deliveries, dlq_key=dlq, dry_run=dry_run
            )

        pre = await move(dry_run=True)
        n = len(pre.would_move)
        if not pre.ok or args.dry_run or not n:
            return finish(args, pre, {**base, "moved": n}, nothing=pre.ok and not n)
        confirm(args, f"move {n:,} entries of '{label(group)}' to '{label(dlq)}' and ack them?")
        res = await move(dry_run=False)
        moved = [i for i, _ in res.moved]
        return finish(
            args, res, {**base, "moved": len(moved), "moved_ids": moved}, nothing=res.ok and not moved
        )

    return run_async(args, job)
