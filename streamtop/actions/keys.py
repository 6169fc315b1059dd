"""Reads a dialog needs before it writes: what a key holds, so "a new stream will be created" is
said before XADD creates one (the dead-letter target, say)."""

from __future__ import annotations

from streamtop.pipeline.model import Entry
from streamtop.pipeline.parse import parse_entries

from .base import check_name
from .context import Context


async def key_type(ctx: Context, key: bytes | str) -> str:
    """TYPE: "none" (missing), "stream", or what else the key holds. Raises on server errors."""
    reply = await ctx.client.execute_command("TYPE", check_name(key, "key"))
    return reply.decode() if isinstance(reply, bytes) else str(reply)


async def entry(ctx: Context, key: bytes, entry_id: str) -> Entry | None:
    """One entry whole (XRANGE id id), for the entry screen's `w` (issue 29: a page keeps long
    values cut); None when it is gone. Raises on server errors."""
    rows = parse_entries(await ctx.client.execute_command("XRANGE", key, entry_id, entry_id))
    return Entry(rows[0][0], tuple(rows[0][1])) if rows else None
