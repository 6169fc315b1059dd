"""`streamtop redrive DLQ [--to KEY] [--group G] [--count N] [--all-groups]`: move dead-lettered
entries back to their source stream (or --to), with their original fields, one MULTI/EXEC per
batch of up to 200. Refused (exit 2) when another group also reads the target, unless --all-groups."""

from __future__ import annotations

import argparse
import sys

from streamtop.pipeline.collector import to_bytes
from streamtop.pipeline.model import label
from streamtop.pipeline.render import clean

from .. import numbers as num
from ..actions import Actions
from ..actions.redrive import RedriveResult
from ..cliargs import UsageError
from .shared import add_common, confirm, finish, named, run_async


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dlq", metavar="DLQ", help="the dead-letter stream")
    p.add_argument(
        "--to", metavar="KEY", help="the stream to move them to (default: each entry's dlq-source)"
    )
    p.add_argument("--group", metavar="G", help="only entries dead-lettered from this group")
    p.add_argument(
        "--count", type=num.MOVE_COUNT.arg, default=10_000, metavar="N", help="move at most N (default 10000)"
    )
    p.add_argument("--start", default="-", metavar="ID", help="only DLQ entries from this ID on")
    p.add_argument("--end", default="+", metavar="ID", help="only DLQ entries up to this ID")
    p.add_argument(
        "--all-groups",
        action="store_true",
        help="redrive even when groups other than the one the entries came from read the target "
        "(each of them processes the entries again); without it such a redrive is refused: give a "
        "per-group retry stream with --to instead",
    )
    add_common(p)


def run(args: argparse.Namespace) -> int:
    dlq = to_bytes(args.dlq)
    to = to_bytes(args.to) if args.to is not None else None
    group = to_bytes(args.group) if args.group is not None else None
    if not dlq or to == b"" or group == b"":
        raise UsageError("DLQ, --to and --group must not be empty")

    async def job(actions: Actions) -> int:
        kw = dict(
            to=to, group=group, count=args.count, start=args.start, end=args.end, all_groups=args.all_groups
        )
        pre = await actions.redrive(dlq, dry_run=True, **kw)
        base = {**named("dlq", dlq), **named("group", group)}

        def targets(res_to: dict[bytes, int]) -> list[dict[str, object]]:
            return [{**named("name", t), "count": n} for t, n in res_to.items()]

        def groups(res: RedriveResult) -> list[dict[str, object]]:
            return [
                {
                    **named("target", g.target),
                    **named("name", g.name),
                    "dead_lettered_them": g.source,
                    "already_acked": g.acked,
                    "checked": g.checked,
                }
                for g in res.groups
            ]

        n = len(pre.would_move)
        if not pre.ok or args.dry_run or not n:
            refused = pre.refused
            return finish(
                args,
                pre,
                {**base, "moved": n, "to": targets(pre.to), "groups": groups(pre)},
                nothing=(pre.ok and not n) or refused,
            )
        if not args.json:
            print(clean(pre.message), file=sys.stderr)
        confirm(args, f"redrive {n:,} entries from '{label(dlq)}'?")
        res = await actions.redrive(dlq, **kw)
        moved = res.moved
        return finish(
            args,
            res,
            {**base, "moved": len(moved), "to": targets(res.to), "groups": groups(res)},
            nothing=res.ok and not moved,
        )

    return run_async(args, job)
