"""Reads a dialog needs before it writes: what a key holds, so "a new stream will be created" is
said before XADD creates one (the dead-letter target, say)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import check_name

if TYPE_CHECKING:
    from .core import Actions


async def key_type(actions: Actions, key: bytes | str) -> str:
    """TYPE: "none" (missing), "stream", or what else the key holds. Raises on server errors."""
    reply = await actions.client.execute_command("TYPE", check_name(key, "key"))
    return reply.decode() if isinstance(reply, bytes) else str(reply)
