"""`streamtop group KEY create NAME [--id ID] [--mkstream] | setid NAME ID | delconsumer NAME C |
delconsumer --gone --no-pending [--group NAME] | destroy NAME`: the `g` key's operations as a
command. setid, delconsumer and destroy ask first (or need --yes): each can make a group lose track
of entries. `delconsumer --gone` is the dashboard's "delete consumers that are gone"
(streamtop.actions.gone) over every group of the stream, or one."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from streamtop.pipeline.collector import to_bytes
from streamtop.pipeline.model import label
from streamtop.pipeline.render import clean

from ..actions import ActionResult, Actions
from ..actions.base import fail
from ..actions.gone import GonePreview
from ..cliargs import UsageError
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
        help="create NAME | setid NAME ID | delconsumer NAME CONSUMER | delconsumer --gone --no-pending "
        "| destroy NAME",
    )
    p.add_argument(
        "--id",
        default="$",
        help="create: where the group starts reading ($: new entries, 0: everything; default $)",
    )
    p.add_argument("--mkstream", action="store_true", help="create: create the stream if it is missing")
    p.add_argument(
        "--gone",
        action="store_true",
        help="delconsumer: the consumers that are gone: could have read and did not, or their "
        "connection is closed (a blocked reader or a busy handler is kept)",
    )
    p.add_argument(
        "--no-pending",
        action="store_true",
        help="delconsumer --gone: only those holding no pending entries (required: none is lost)",
    )
    p.add_argument(
        "--group", metavar="NAME", help="delconsumer --gone: only this group (default: every group)"
    )
    add_common(p)


def run(args: argparse.Namespace) -> int:
    key = to_bytes(args.stream_key)
    op, rest = args.words[0], args.words[1:]
    if args.gone or args.no_pending or args.group is not None:
        return run_gone(args, key, op, rest)
    if op not in OPS:
        raise UsageError(f"unknown group operation {op!r}: use create, setid, delconsumer or destroy")
    if len(rest) != len(OPS[op]):
        raise UsageError(f"group {op} takes {' '.join(OPS[op])}")
    if not key or not all(rest):
        raise UsageError("KEY and names must not be empty")
    group = to_bytes(rest[0])

    async def job(actions: Actions) -> int:
        base = {**named("stream", key), **named("group", group), "op": op}
        if op == "create":  # one path: the dry run makes the real run's checks, then stops
            made = await actions.group_create(
                key, group, args.id, mkstream=args.mkstream, dry_run=args.dry_run
            )
            return finish(args, made, base)
        if op == "delconsumer":
            consumer = to_bytes(rest[1])
            base.update(named("consumer", consumer))
            held = await actions.consumer_preview(key, group, consumer)
            if not held.ok or args.dry_run:
                return finish(
                    args,
                    held,
                    {**base, "pending": held.pending},
                    nothing=held.exists is False,
                )
            confirm(args, f"{held.message}. Delete it?")
            dropped = await actions.consumer_delete(key, group, consumer)
            return finish(args, dropped, {**base, "pending": dropped.pending_dropped})
        pre = await actions.group_preview(key, group)
        if not pre.ok:
            return finish(args, pre, base, nothing=pre.exists is False)
        if op == "setid":
            entry_id = rest[1]
            dry = await actions.group_setid(key, group, entry_id, dry_run=True)
            if not dry.ok or args.dry_run:
                return finish(args, dry, base, nothing=dry.exists is False)
            confirm(
                args,
                f"set group '{label(group)}' to read after {entry_id} (now after {pre.last_delivered_id})?",
            )
            return finish(args, await actions.group_setid(key, group, entry_id), base)
        if args.dry_run:
            return finish(args, ActionResult(True, f"would destroy {pre.message}"), base)
        confirm(args, f"destroy {pre.message}: its consumers and pending entries list go?")
        return finish(args, await actions.group_destroy(key, group), base)

    return run_async(args, job)


def gone_row(group: bytes, pre: GonePreview, lines: list[str]) -> dict[str, object]:
    """One group's preview as its JSON row; each consumer's line appended to `lines`."""
    delete: list[dict[str, object]] = []
    holding: list[dict[str, object]] = []
    unsure: list[dict[str, object]] = []
    kept: list[dict[str, object]] = []
    for consumer, pending, state in pre.gone:
        item: dict[str, object] = {
            **named("consumer", consumer),
            "pending": pending,
            "gone_reason": state.reason,
        }
        (holding if pending else delete).append(item)
        what = f"held: {pending} pending, kept" if pending else state.reason
        lines.append(f"  '{label(group)}' / '{label(consumer)}': {what}")
    for consumer, pending, state in pre.unsure:  # the server cannot tell: kept
        unsure.append({**named("consumer", consumer), "pending": pending, "reason": state.reason})
        lines.append(f"  '{label(group)}' / '{label(consumer)}': {state.reason}, kept")
    for consumer, pending, state in pre.kept:  # waiting or busy: kept
        kept.append(
            {
                **named("consumer", consumer),
                "pending": pending,
                "liveness": str(state.state),
                "reason": state.reason,
            }
        )
        lines.append(f"  '{label(group)}' / '{label(consumer)}': {state.reason}, kept")
    return {
        **named("name", group),
        "delete": delete,
        "holding": holding,
        "unsure": unsure,
        "kept": kept,
        "deleted": [],
        "skipped": [],
    }


def check_gone_args(args: argparse.Namespace, key: bytes, op: str, rest: list[str]) -> None:
    """The usage of delconsumer --gone (UsageError)."""
    if op != "delconsumer" or rest:
        raise UsageError("--gone, --no-pending and --group go with 'delconsumer' alone")
    if not args.gone:
        raise UsageError("--no-pending and --group go with delconsumer --gone")
    if not args.no_pending:
        raise UsageError(
            "delconsumer --gone needs --no-pending: a consumer holding entries is never deleted "
            "(claim them first)"
        )
    if not key or args.group == "":
        raise UsageError("KEY and names must not be empty")


def run_gone(args: argparse.Namespace, key: bytes, op: str, rest: list[str]) -> int:
    """delconsumer --gone --no-pending [--group NAME]: a preview per group (each consumer with
    why it counts as gone, and the gone ones kept because they hold entries), one confirmation,
    then delete_gone, which re-checks each consumer atomically with its delete."""
    check_gone_args(args, key, op, rest)

    async def job(actions: Actions) -> int:
        base: dict[str, object] = {**named("stream", key), "op": "delconsumer --gone"}
        if args.group is not None:
            groups = [to_bytes(args.group)]
        else:
            try:
                groups = [g["name"] for g in await actions.groups(key)]
            except Exception as exc:
                return finish(args, fail(GonePreview, exc, "gone consumers", key), base)
        plans: list[tuple[bytes, list[bytes]]] = []
        rows: list[dict[str, object]] = []
        lines: list[str] = []
        for group in groups:
            pre = await actions.gone_preview(key, group)
            if not pre.ok:
                missing = pre.exists is False
                return finish(args, pre, {**base, **named("group", group)}, nothing=missing)
            plans.append((group, pre.deletable))
            rows.append(gone_row(group, pre, lines))
        total = sum(len(names) for _, names in plans)
        where = f"group '{label(groups[0])}'" if args.group is not None else f"{len(groups)} groups"
        summary = f"{total} gone consumer{'s' if total != 1 else ''} without pending entries in {where}"
        base["groups"] = rows
        if lines and not args.json:
            print("\n".join(clean(line) for line in lines), file=sys.stderr)
        if not total:
            return finish(
                args, ActionResult(True, f"nothing to delete: {summary} of '{label(key)}'"), base, True
            )
        if args.dry_run:
            return finish(args, ActionResult(True, f"would delete {summary} of '{label(key)}'"), base)
        confirm(args, f"delete {summary} of '{label(key)}'?")
        deleted: list[str] = []
        kept: list[str] = []
        for group, names in plans:
            if not names:
                continue
            res = await actions.delete_gone(key, group, names)
            if not res.ok:
                done = f" (deleted before that: {', '.join(deleted)})" if deleted else ""
                return finish(args, replace(res, message=res.message + done, recheck=None), base)
            deleted += [f"'{label(group)}' / '{label(n)}'" for n in res.deleted]
            kept += [f"'{label(group)}' / '{label(n)}' ({why})" for n, why in res.skipped]
            row = rows[groups.index(group)]
            row["deleted"] = [named("consumer", n) for n in res.deleted]
            row["skipped"] = [{**named("consumer", n), "why": why} for n, why in res.skipped]
        msg = f"deleted {len(deleted)} gone consumer{'s' if len(deleted) != 1 else ''} of '{label(key)}'"
        if kept:
            msg += "; kept " + ", ".join(kept)
        return finish(args, ActionResult(True, msg), {**base, "deleted": len(deleted)}, nothing=not deleted)

    return run_async(args, job)
