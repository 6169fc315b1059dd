"""Reads a dialog needs before it writes: what a key holds, so "a new stream will be created" is
said before XADD creates one (the dead-letter target, say)."""

from __future__ import annotations

from .base import check_name
from .context import Context


async def key_type(ctx: Context, key: bytes | str) -> str:
    """TYPE: "none" (missing), "stream", or what else the key holds. Raises on server errors."""
    reply = await ctx.client.execute_command("TYPE", check_name(key, "key"))
    return reply.decode() if isinstance(reply, bytes) else str(reply)
