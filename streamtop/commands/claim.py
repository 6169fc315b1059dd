"""`streamtop claim KEY GROUP --to CONSUMER [--from CONSUMER] [--min-idle MS] [--count N]`: the `c`
key as a command. With --from, what that consumer holds (min idle 0 unless given); without, every
entry idle at least --min-idle (default 60000 ms), with the XAUTOCLAIM cursor carried to the end."""

from __future__ import annotations

import argparse
import sys

from streamtop.pipeline.collector import to_bytes
from streamtop.pipeline.model import label
from streamtop.pipeline.render import clean

from .. import numbers as num
from .. import rerun
from ..actions import Actions
from ..actions.claim import ClaimResult
from ..cliargs import UsageError
from .shared import add_common, confirm, finish, named, run_async

DEFAULT_MIN_IDLE_MS = 60_000


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("stream_key", metavar="KEY", help="the stream")
    p.add_argument("group", metavar="GROUP", help="the consumer group")
    p.add_argument("--to", required=True, metavar="CONSUMER", help="the consumer that takes the entries")
    p.add_argument(
        "--from",
        dest="source",
        metavar="CONSUMER",
        help="take what this consumer holds (default: every stuck entry)",
    )
    p.add_argument(
        "--min-idle",
        type=num.MIN_IDLE_MS.arg,
        metavar="MS",
        help=f"only entries idle this long (default {DEFAULT_MIN_IDLE_MS} ms; 0 with --from)",
    )
    p.add_argument(
        "--count",
        type=num.MOVE_COUNT.arg,
        default=100_000,
        metavar="N",
        help="claim at most N (default 100000)",
    )
    p.add_argument(
        "--start",
        default="0-0",
        metavar="ID",
        help="where claim-all starts (a previous run's cursor; default 0-0)",
    )
    add_common(p)


def run(args: argparse.Namespace) -> int:
    key, group, target = to_bytes(args.stream_key), to_bytes(args.group), to_bytes(args.to)
    source = to_bytes(args.source) if args.source is not None else None
    if not key or not group or not target or source == b"":
        raise UsageError("KEY, GROUP and consumer names must not be empty")
    if source is not None and args.start != "0-0":
        raise UsageError("--start continues a claim of every stuck entry: not with --from")
    idle = args.min_idle if args.min_idle is not None else (0 if source is not None else DEFAULT_MIN_IDLE_MS)

    async def claim(actions: Actions, dry_run: bool) -> ClaimResult:
        """The one path of the dry run and the real run (the claims left out of the dry run)."""
        if source is not None:
            return await actions.claim_from(key, group, source, target, idle, args.count, dry_run=dry_run)
        return await actions.claim_auto(
            key, group, target, idle, args.count, start=args.start, dry_run=dry_run
        )

    def payload(res: ClaimResult) -> dict[str, object]:
        got = res.owners
        return {
            **named("stream", key),
            **named("group", group),
            **named("to", target),
            **named("from", source),
            "min_idle_ms": idle,
            "claimed": res.claimed,
            "ids": list(res.claimed_ids),
            "deleted_ids": list(res.deleted_ids),
            "owners": {label(o): c for o, c in got.items()},
            "cursor": res.cursor,
        }

    async def job(actions: Actions) -> int:
        pre = await claim(actions, dry_run=True)
        n = pre.claimed
        if not pre.ok or args.dry_run or not n:
            return finish(args, pre, payload(pre), nothing=pre.ok and not n)
        if not args.json:
            print(clean(pre.message), file=sys.stderr)
        confirm(args, f"claim {n:,} entries into '{label(target)}'?")
        res = await claim(actions, dry_run=False)
        if res.ok and res.claimed and not args.json:  # what happens next (issue 25)
            print(f"claimed entries are {rerun.AFTER_CLAIM}", file=sys.stderr)
        return finish(args, res, payload(res), nothing=res.ok and not res.claimed)

    return run_async(args, job)
