"""Groups and consumers: create a group, set its ID, delete a consumer, destroy a group, and the
previews shown before the last two (gone consumers: gone.py)."""

from __future__ import annotations

from dataclasses import dataclass

from streamtop.pipeline.connection import Arg
from streamtop.pipeline.model import label
from streamtop.pipeline.parse import text, to_int

from .base import ActionResult, check_id, check_name, fail
from .context import Context


@dataclass(frozen=True, kw_only=True)
class GroupCreated(ActionResult):
    """`start`: where the new group reads from."""

    start: str | None = None


@dataclass(frozen=True, kw_only=True)
class GroupIdSet(ActionResult):
    """`id`: where the group reads next; `exists`: False when there is no such group."""

    id: str | None = None
    exists: bool | None = None


@dataclass(frozen=True, kw_only=True)
class GroupPreview(ActionResult):
    """A group before it is destroyed (`exists` False: no such group; None: not read)."""

    exists: bool | None = None
    pending: int = 0
    consumers: int = 0
    last_delivered_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class GroupDestroyed(ActionResult):
    destroyed: int = 0


@dataclass(frozen=True, kw_only=True)
class ConsumerPreview(ActionResult):
    """How many entries the consumer holds (`exists` False: no such consumer; None: not read)."""

    exists: bool | None = None
    pending: int | None = None


@dataclass(frozen=True, kw_only=True)
class ConsumerDeleted(ActionResult):
    """`pending_dropped`: entries that left the PEL with the consumer (None: not deleted)."""

    pending_dropped: int | None = None


async def group_create(
    ctx: Context,
    key: bytes | str,
    group: bytes | str,
    start: str = "$",
    mkstream: bool = True,
    *,
    dry_run: bool = False,
) -> GroupCreated:
    """XGROUP CREATE from `$` (new entries only), `0` (everything) or an ID. The checks the
    server would make (a stream, or MKSTREAM; no group of that name) are made first, in the dry
    run and the real run alike, so both refuse the same way."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    start = check_id(start, "start ID", special=("$",))
    if not dry_run and (refused := ctx.refusal(GroupCreated, "create group")):
        return refused
    try:
        kind = text(await ctx.cmd("TYPE", key)) or "?"
        names = [g["name"] for g in await ctx.groups(key)] if kind == "stream" else []
    except Exception as exc:
        return fail(GroupCreated, exc, "create group", key, group)
    if kind == "none" and not mkstream:
        return GroupCreated(False, f"create group failed: no stream '{label(key)}' (--mkstream creates it)")
    if kind not in ("stream", "none"):
        return GroupCreated(False, f"create group failed: '{label(key)}' is not a stream")
    if group in names:
        return GroupCreated(
            False, f"create group failed: group '{label(group)}' already exists on '{label(key)}'"
        )
    made = f"; '{label(key)}' does not exist: a new stream will be created" if kind == "none" else ""
    if dry_run:
        return GroupCreated(
            True,
            f"would create group '{label(group)}' on '{label(key)}' from {start}{made}",
            start=start,
            dry_run=True,
        )
    args: list[Arg] = ["XGROUP", "CREATE", key, group, start, *(["MKSTREAM"] if mkstream else [])]
    try:
        await ctx.cmd(*args)
    except Exception as exc:
        return fail(GroupCreated, exc, "create group", key, group)
    return GroupCreated(True, f"created group '{label(group)}' on '{label(key)}' from {start}", start=start)


async def group_setid(
    ctx: Context, key: bytes | str, group: bytes | str, entry_id: str, *, dry_run: bool = False
) -> GroupIdSet:
    """XGROUP SETID: where the group reads next (`$` = only new entries). The dry run makes
    the same checks (the ID, the group exists) and writes nothing."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    entry_id = check_id(entry_id, "ID", special=("$",))
    if not dry_run and (refused := ctx.refusal(GroupIdSet, "set group ID")):
        return refused
    try:
        found = {g["name"]: g for g in await ctx.groups(key)}
    except Exception as exc:
        return fail(GroupIdSet, exc, "set group ID", key, group)
    if group not in found:
        return GroupIdSet(
            False, f"set group ID failed: no group '{label(group)}' on '{label(key)}'", exists=False
        )
    if dry_run:
        now = text(found[group].get("last-delivered-id"))
        return GroupIdSet(
            True,
            f"would set group '{label(group)}' to read after {entry_id} (now after {now})",
            id=entry_id,
            dry_run=True,
        )
    try:
        await ctx.cmd("XGROUP", "SETID", key, group, entry_id)
    except Exception as exc:
        return fail(GroupIdSet, exc, "set group ID", key, group)
    return GroupIdSet(True, f"group '{label(group)}' now reads after {entry_id}", id=entry_id)


async def consumer_preview(
    ctx: Context, key: bytes | str, group: bytes | str, consumer: bytes | str
) -> ConsumerPreview:
    """How many entries a consumer holds (they leave the PEL when it is deleted). A read."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    consumer = check_name(consumer, "consumer")
    try:
        found = dict(await ctx.consumers(key, group))
    except Exception as exc:
        return fail(ConsumerPreview, exc, "consumer preview", key, group)
    if consumer not in found:
        return ConsumerPreview(
            False, f"no consumer '{label(consumer)}' in group '{label(group)}'", exists=False, pending=0
        )
    n = found[consumer]
    msg = (
        f"consumer '{label(consumer)}' holds {n} pending entries: deleting it removes them "
        "from the PEL (they will never be redelivered)"
        if n
        else f"consumer '{label(consumer)}' holds no pending entries"
    )
    return ConsumerPreview(True, msg, exists=True, pending=n)


async def consumer_delete(
    ctx: Context, key: bytes | str, group: bytes | str, consumer: bytes | str
) -> ConsumerDeleted:
    """XGROUP DELCONSUMER; reports how many pending entries left the PEL with it."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    consumer = check_name(consumer, "consumer")
    if refused := ctx.refusal(ConsumerDeleted, "delete consumer"):
        return refused
    try:
        reply = await ctx.cmd("XGROUP", "DELCONSUMER", key, group, consumer)
    except Exception as exc:
        return fail(ConsumerDeleted, exc, "delete consumer", key, group)
    n = to_int(reply) or 0
    return ConsumerDeleted(
        True, f"deleted consumer '{label(consumer)}'; {n} pending entries left the PEL", pending_dropped=n
    )


async def group_preview(ctx: Context, key: bytes | str, group: bytes | str) -> GroupPreview:
    """A group's consumers and pending count, shown before destroying it. A read."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    try:
        found = {g["name"]: g for g in await ctx.groups(key)}
    except Exception as exc:
        return fail(GroupPreview, exc, "group preview", key, group)
    g = found.get(group)
    if g is None:
        return GroupPreview(False, f"no group '{label(group)}' on '{label(key)}'", exists=False)
    pending, consumers = to_int(g.get("pending")) or 0, to_int(g.get("consumers")) or 0
    return GroupPreview(
        True,
        f"group '{label(group)}': {consumers} consumers, {pending} pending",
        exists=True,
        pending=pending,
        consumers=consumers,
        last_delivered_id=text(g.get("last-delivered-id")),
    )


async def group_destroy(ctx: Context, key: bytes | str, group: bytes | str) -> GroupDestroyed:
    """XGROUP DESTROY: the group, its consumers and its PEL go."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    if refused := ctx.refusal(GroupDestroyed, "destroy group"):
        return refused
    try:
        reply = await ctx.cmd("XGROUP", "DESTROY", key, group)
    except Exception as exc:
        return fail(GroupDestroyed, exc, "destroy group", key, group)
    if not to_int(reply):
        return GroupDestroyed(False, f"no group '{label(group)}' on '{label(key)}'", destroyed=0)
    return GroupDestroyed(True, f"destroyed group '{label(group)}' on '{label(key)}'", destroyed=1)
