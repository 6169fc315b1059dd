"""`streamtop trim KEY (--maxlen N | --minid ID) [--approx]`: the `t` key as a command, after the
same preview (what goes, per group: pending entries whose data goes, unread entries lost, pending
entries already without data). A scheduled trim is a cron line with --yes."""

from __future__ import annotations

import argparse
import sys

from streamtop.pipeline.collector import to_bytes
from streamtop.pipeline.model import label
from streamtop.pipeline.render import clean

from .. import numbers as num
from ..actions import Actions, TrimPreview
from ..cliargs import UsageError
from .shared import add_common, confirm, finish, named, run_async


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("stream_key", metavar="KEY", help="the stream to trim")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--maxlen", type=num.TRIM_MAXLEN.arg, metavar="N", help="keep the newest N entries")
    how.add_argument("--minid", metavar="ID", help="remove the entries older than this stream ID")
    p.add_argument(
        "--approx",
        action="store_true",
        help="MAXLEN/MINID ~: cheaper, removes whole nodes only (so maybe fewer)",
    )
    add_common(p)


def groups_json(p: TrimPreview) -> list[dict[str, object]]:
    return [
        {
            **named("name", g.name),
            "pending_removed": g.pending,
            "unread_removed": g.unread,
            "pending_without_data": g.without_data,
            "capped": g.pending_capped or g.unread_capped,
        }
        for g in p.groups
    ]


def run(args: argparse.Namespace) -> int:
    key = to_bytes(args.stream_key)
    if not key:
        raise UsageError("KEY is empty: name the stream to trim")
    strategy, threshold = ("MAXLEN", args.maxlen) if args.maxlen is not None else ("MINID", args.minid)

    async def job(actions: Actions) -> int:
        pre = await actions.trim_preview(key, strategy, threshold, args.approx)
        p = pre.preview
        if not pre.ok or not isinstance(p, TrimPreview):
            return finish(args, pre, named("key", key))
        base = {
            **named("key", key),
            "strategy": strategy,
            "threshold": threshold,
            "approx": args.approx,
            "length_before": p.length,
            "groups": groups_json(p),
        }
        if p.nothing or args.dry_run:
            gone = 0 if p.nothing else p.removes_max
            return finish(
                args,
                pre,
                {
                    **base,
                    "removes": gone,
                    "removes_min": p.removes_min,
                    "length_after": None if gone is None else p.length - gone,
                },
                nothing=p.nothing,
            )
        if not args.json:
            print(clean(pre.message), file=sys.stderr)
        confirm(
            args,
            f"trim '{label(key)}' ({strategy} {'~' if args.approx else '='} {threshold}): "
            f"remove {p.removes_text()}?",
        )
        res = await actions.trim(key, strategy, threshold, args.approx)
        removed = res.removed
        return finish(
            args,
            res,
            {
                **base,
                "removes": removed,
                "removes_min": removed,
                "length_before": p.length if res.length_before is None else res.length_before,
                "length_after": res.length_after,
            },
            nothing=res.ok and not removed,
        )

    return run_async(args, job)
