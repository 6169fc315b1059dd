"""What every action family runs over: the client, what the server can do, the read-only flag, and
the helpers the families share (the read-only refusal, a re-read after a lost reply, the group and
consumer lists). Below every family (ack, claim, trim, ...), above base.py; it imports no family,
so no family imports another's facade.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Concatenate, ParamSpec

from streamtop.pipeline.connection import Arg, AsyncClient, Command
from streamtop.pipeline.model import ServerInfo
from streamtop.pipeline.parse import Reply, ReplyFields, parse_consumers, parse_groups, to_int

from .base import DETAIL, R, is_not_answering

REREAD_TIMEOUT = 2.0  # seconds a re-read after a dropped connection may take (a fresh connection
# to a server that answers takes milliseconds; one that hangs is re-read at the next chance)
_DEFERRED: contextvars.ContextVar[bool] = contextvars.ContextVar("reread_deferred", default=False)

P = ParamSpec("P")


@dataclass(eq=False)  # compared and hashed by identity, as the client it holds
class Context:
    """The small typed context of every action: `client` (raw, ConnectionSpec.make_client(raw=
    True); the parsers also take redis-py's parsed shapes), `server` (version, mode: what the
    server can do) and `read_only` (every mutation refused)."""

    client: AsyncClient
    server: ServerInfo
    read_only: bool = False

    def refusal(self, kind: type[R], action: str) -> R | None:
        """The read-only refusal for `action` (a result of type `kind`), or None when mutations
        are allowed."""
        if self.read_only:
            return kind(False, f"read-only mode: {action} refused (started with --read-only)", read_only=True)
        return None

    async def cmd(self, *args: Arg) -> Reply:
        return await self.client.execute_command(*args)

    async def consumers(self, key: bytes, group: bytes) -> list[tuple[bytes, int]]:
        """(name, pending) of each consumer in the group (raises on server errors)."""
        reply = await self.cmd("XINFO", "CONSUMERS", key, group)
        if reply and isinstance(reply[0], Mapping) and "name" in reply[0]:  # parsed client
            return [
                (
                    r["name"] if isinstance(r["name"], bytes) else str(r["name"]).encode(),
                    to_int(r.get("pending")) or 0,
                )
                for r in reply
            ]
        return [(c.name, c.pending) for c in parse_consumers(reply)]

    async def groups(self, key: bytes) -> list[ReplyFields]:
        """XINFO GROUPS as dicts (name bytes, the rest raw; raises on server errors)."""
        return parse_groups(await self.cmd("XINFO", "GROUPS", key))

    async def reconnect_error(self) -> BaseException | None:
        """After a drop: why a fresh connection fails (an authentication failure after a restart,
        say), or None when the server answers again (or is not asked: it did not answer)."""
        if _DEFERRED.get():
            return None
        try:
            await asyncio.wait_for(self.cmd("PING"), REREAD_TIMEOUT)
        except Exception as exc:
            return exc
        return None

    async def reread(self, *commands: Command) -> list[Reply] | None:
        """After a lost reply: the commands' replies on a fresh connection (errors in place), or
        None when the server cannot be read either (then the result says "may have been applied").
        Not tried when the reply was lost to a hang (`lost`): it would wait as long again."""
        if _DEFERRED.get():
            return None
        try:
            pipe = self.client.pipeline(transaction=False)
            for args in commands:
                pipe.execute_command(*args, **(DETAIL if args[0] == "XPENDING" else {}))
            replies: list[Reply] = await asyncio.wait_for(pipe.execute(raise_on_error=False), REREAD_TIMEOUT)
            return replies
        except Exception:
            return None

    async def lost(
        self,
        handler: Callable[Concatenate[Context, BaseException, P], Awaitable[R]],
        exc: BaseException,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """A lost reply, told by `handler` (which re-reads the server). When the server did not
        answer, the result comes now, at the timeout, without a re-read that would wait as long
        again; the re-read is its `recheck`, run when the server answers (issue 24)."""
        if not is_not_answering(exc):
            return await handler(self, exc, *args, **kwargs)
        token = _DEFERRED.set(True)
        try:
            result = await handler(self, exc, *args, **kwargs)
        finally:
            _DEFERRED.reset(token)
        if not result.may_have_applied:
            return result
        return dataclasses.replace(result, recheck=functools.partial(handler, self, exc, *args, **kwargs))
