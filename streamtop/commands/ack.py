"""`streamtop ack KEY GROUP (ID ... | --from CONSUMER | --all-deleted)`: the `a` and `A` keys as a
command. --all-deleted acks the pending entries whose data is gone (they can never be processed)."""

from __future__ import annotations

import argparse
from dataclasses import replace

from streamtop.pipeline.collector import to_bytes
from streamtop.pipeline.model import label

from ..actions import Actions
from ..actions.ack import AckResult
from ..actions.deleted import AckWithoutData, WithoutData
from ..actions.pending import PendingIds, PendingList
from ..cliargs import UsageError
from .shared import add_common, confirm, finish, named, run_async


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("stream_key", metavar="KEY", help="the stream")
    p.add_argument("group", metavar="GROUP", help="the consumer group")
    p.add_argument("ids", nargs="*", metavar="ID", help="the pending entries to ack")
    p.add_argument("--from", dest="source", metavar="CONSUMER", help="ack every entry this consumer holds")
    p.add_argument(
        "--all-deleted",
        action="store_true",
        help="ack every pending entry whose data is gone (trimmed or deleted)",
    )
    add_common(p)


def run(args: argparse.Namespace) -> int:
    key, group = to_bytes(args.stream_key), to_bytes(args.group)
    if not key or not group:
        raise UsageError("KEY and GROUP must not be empty")
    chosen = sum((bool(args.ids), args.source is not None, args.all_deleted))
    if chosen != 1:
        raise UsageError("give the IDs to ack, or --from CONSUMER, or --all-deleted (one of them)")
    source = to_bytes(args.source) if args.source is not None else None

    async def job(actions: Actions) -> int:
        base = {**named("stream", key), **named("group", group)}
        pre: WithoutData | PendingList | PendingIds
        res: AckWithoutData | AckResult
        if args.all_deleted:
            pre = await actions.without_data_preview(key, group)
        elif source is not None:
            pre = await actions.pending_list(key, group, source)
        else:
            pre = await actions.pending_ids(key, group, args.ids)
        if not pre.ok:
            return finish(args, pre, base)
        ids = list(pre.ids)
        if args.dry_run or not ids:
            msg = (
                f"would ack {len(ids):,} pending entries in '{label(group)}'"
                if ids
                else f"nothing to ack: {pre.message}"
            )
            return finish(
                args,
                replace(pre, message=msg),
                {**base, "acked": len(ids), "ids": ids},
                nothing=not ids,
            )
        confirm(args, f"ack {len(ids):,} pending entries in '{label(group)}'?")
        if args.all_deleted:
            res = await actions.ack_without_data(key, group)
        elif source is not None:
            res = await actions.ack_consumer(key, group, source)
        else:
            res = await actions.ack(key, group, ids)
        acked = res.acked
        done = res.ids if isinstance(res, AckWithoutData) else res.acked_ids
        return finish(
            args,
            res,
            {**base, "acked": acked, "ids": list(done)},
            nothing=res.ok and not acked,
        )

    return run_async(args, job)
