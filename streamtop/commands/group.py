"""`streamtop group KEY create NAME [--id ID] [--mkstream] | setid NAME ID | delconsumer NAME C |
destroy NAME`: the `g` key's operations as a command. setid, delconsumer and destroy ask first
(or need --yes): each can make a group lose track of entries."""

from __future__ import annotations

import argparse

from ..actions import ActionResult, Actions
from ..cliargs import UsageError
from ..collector import to_bytes
from ..model import label
from .shared import add_common, confirm, finish, named, run_async

OPS = {
    "create": ("NAME",),
    "setid": ("NAME", "ID"),
    "delconsumer": ("NAME", "CONSUMER"),
    "destroy": ("NAME",),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("stream_key", metavar="KEY", help="the stream")
    p.add_argument(
        "words",
        nargs="+",
        metavar="OP ARGS",
        help="create NAME | setid NAME ID | delconsumer NAME CONSUMER | destroy NAME",
    )
    p.add_argument(
        "--id",
        default="$",
        help="create: where the group starts reading ($: new entries, 0: everything; default $)",
    )
    p.add_argument("--mkstream", action="store_true", help="create: create the stream if it is missing")
    add_common(p)


def run(args: argparse.Namespace) -> int:
    key = to_bytes(args.stream_key)
    op, rest = args.words[0], args.words[1:]
    if op not in OPS:
        raise UsageError(f"unknown group operation {op!r}: use create, setid, delconsumer or destroy")
    if len(rest) != len(OPS[op]):
        raise UsageError(f"group {op} takes {' '.join(OPS[op])}")
    if not key or not all(rest):
        raise UsageError("KEY and names must not be empty")
    group = to_bytes(rest[0])

    async def job(actions: Actions) -> int:
        base = {**named("stream", key), **named("group", group), "op": op}
        if op == "create":
            if args.dry_run:
                msg = f"would create group {label(group)!r} on {label(key)!r} from {args.id}"
                return finish(args, ActionResult(True, msg), base)
            res = await actions.group_create(key, group, args.id, mkstream=args.mkstream)
            return finish(args, res, base)
        if op == "delconsumer":
            consumer = to_bytes(rest[1])
            base.update(named("consumer", consumer))
            pre = await actions.consumer_preview(key, group, consumer)
            if not pre.ok or args.dry_run:
                return finish(
                    args,
                    pre,
                    {**base, "pending": pre.details.get("pending")},
                    nothing=pre.details.get("exists") is False,
                )
            confirm(args, f"{pre.message}. Delete it?")
            res = await actions.consumer_delete(key, group, consumer)
            return finish(args, res, {**base, "pending": res.details.get("pending_dropped")})
        pre = await actions.group_preview(key, group)
        if not pre.ok:
            return finish(args, pre, base, nothing=pre.details.get("exists") is False)
        if op == "setid":
            entry_id = rest[1]
            if args.dry_run:
                msg = (
                    f"would set group {label(group)!r} to read after {entry_id} (now after "
                    f"{pre.details.get('last_delivered_id')})"
                )
                return finish(args, ActionResult(True, msg), base)
            confirm(
                args,
                f"set group {label(group)!r} to read after {entry_id} (now after "
                f"{pre.details.get('last_delivered_id')})?",
            )
            return finish(args, await actions.group_setid(key, group, entry_id), base)
        if args.dry_run:
            return finish(args, ActionResult(True, f"would destroy {pre.message}"), base)
        confirm(args, f"destroy {pre.message}: its consumers and pending entries list go?")
        return finish(args, await actions.group_destroy(key, group), base)

    return run_async(args, job)
