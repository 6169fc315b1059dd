"""The poll's fast read path is the one taken on the installed redis-py: execute_raw reads every
reply straight from hiredis's reader, never through redis-py's per-reply read_response (redis is
pinned below its next major for the internals this uses; see pyproject.toml)."""

from __future__ import annotations

from typing import Any

import pytest

from streamtop.pipeline.connection import build_spec, execute_raw, hiredis_reader


async def test_execute_raw_takes_the_hiredis_reader_path(server, r, monkeypatch) -> None:
    r.xadd("s", {"f": "v"}, id="1-1")
    client = build_spec(host=server.host, port=server.port).make_client(raw=True)
    try:
        conn = await client.connection_pool.get_connection()
        assert hiredis_reader(conn) is not None  # the installed redis-py parses with hiredis
        await client.connection_pool.release(conn)

        # the slow path reads reply by reply through the connection's read_response: any call to
        # it on a pooled connection means the fast path was not taken
        slow_reads: list[Any] = []
        cls = type(conn)
        original = cls.read_response

        async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            slow_reads.append(args)
            return await original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "read_response", counted)
        replies = await execute_raw(
            client, [("XLEN", "s"), ("XRANGE", "s", "-", "+"), ("TYPE", "nope"), ("XINFO", "GROUPS", "nope")]
        )
        assert replies[:3] == [1, [[b"1-1", [b"f", b"v"]]], b"none"]
        assert "no such key" in str(replies[3])
        assert slow_reads == []
    finally:
        await client.aclose()


@pytest.mark.parametrize("command_count", [0, 1, 2000])
async def test_execute_raw_returns_every_reply_in_order(server, r, command_count: int) -> None:
    client = build_spec(host=server.host, port=server.port).make_client(raw=True)
    try:
        replies = await execute_raw(client, [("ECHO", str(i)) for i in range(command_count)])
        assert replies == [str(i).encode() for i in range(command_count)]
    finally:
        await client.aclose()
