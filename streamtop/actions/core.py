"""The operator's actions on a live server: produce, ack, claim, trim, group operations, dead-letter.

Contract (the UI codes against it):
- every method checks its input first and raises `ValidationError` before anything is sent;
- in read-only mode every mutation returns `ActionResult(ok=False, message="read-only mode: ...
  refused")` without touching the server (a result, not an exception: the UI shows it like any
  other refusal); previews are reads and still work;
- server and connection errors (NOGROUP, WRONGTYPE, NOPERM, BUSYGROUP, connection lost) come back
  as `ok=False` with one plain line, never as an exception.

The client is expected raw (ConnectionSpec.make_client(raw=True)); the parsers also accept
redis-py's parsed shapes so a plain client works too.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from redis.crc import key_slot

from ..connection import AsyncClient
from ..events import sensor_event, xadd_many
from ..model import Entry, PendingEntry, ServerInfo, label
from ..parse import parse_consumers, parse_entries, parse_groups, text, to_int
from .base import (
    DETAIL,
    MAX_BURST,
    MAX_CAP,
    MAX_MAXLEN,
    ActionResult,
    ValidationError,
    check_id,
    check_ids,
    check_name,
    check_strategy,
    fail,
    id_key,
    is_auth_failure,
    is_lost,
    is_not_answering,
    lost_words,
    needs,
    next_id,
    one_line,
    parse_idle,
    parse_int,
    pending_rows,
)
from .deadletter import dead_letter
from .trim import preview

BURST_CHUNK = 500  # XADDs per round trip of a burst (progress and cancel act per chunk)


REREAD_TIMEOUT = 2.0  # seconds a re-read after a dropped connection may take (a fresh connection
# to a server that answers takes milliseconds; one that hangs is re-read at the next chance)
_DEFERRED: contextvars.ContextVar[bool] = contextvars.ContextVar("reread_deferred", default=False)


class Actions:
    """Mutations with validation, a read-only guard and results as values."""

    def __init__(self, client: AsyncClient, server: ServerInfo, *, read_only: bool = False) -> None:
        self.client = client
        self.server = server
        self.read_only = read_only

    # ---- guard and helpers ----------------------------------------------------------------

    def refusal(self, action: str) -> ActionResult | None:
        """The read-only refusal for `action`, or None when mutations are allowed."""
        if self.read_only:
            return ActionResult(
                False, f"read-only mode: {action} refused (started with --read-only)", {"read_only": True}
            )
        return None

    async def _reconnect_error(self) -> BaseException | None:
        """After a drop: why a fresh connection fails (an authentication failure after a restart,
        say), or None when the server answers again (or is not asked: it did not answer)."""
        if _DEFERRED.get():
            return None
        try:
            await asyncio.wait_for(self._cmd("PING"), REREAD_TIMEOUT)
        except Exception as exc:
            return exc
        return None

    async def _reread(self, *commands: Sequence[Any]) -> list[Any] | None:
        """After a lost reply: the commands' replies on a fresh connection (errors in place), or
        None when the server cannot be read either (then the result says "may have been applied").
        Not tried when the reply was lost to a hang (`_lost`): it would wait as long again."""
        if _DEFERRED.get():
            return None
        try:
            pipe = self.client.pipeline(transaction=False)
            for args in commands:
                pipe.execute_command(*args, **(DETAIL if args[0] == "XPENDING" else {}))
            replies: list[Any] = await asyncio.wait_for(pipe.execute(raise_on_error=False), REREAD_TIMEOUT)
            return replies
        except Exception:
            return None

    async def _lost(
        self, handler: Callable[..., Awaitable[ActionResult]], exc: BaseException, *args: Any
    ) -> ActionResult:
        """A lost reply, told by `handler` (which re-reads the server). When the server did not
        answer, the result comes now, at the timeout, without a re-read that would wait as long
        again; the re-read is its `recheck`, run when the server answers (issue 24)."""
        if not is_not_answering(exc):
            return await handler(exc, *args)
        token = _DEFERRED.set(True)
        try:
            result = await handler(exc, *args)
        finally:
            _DEFERRED.reset(token)
        if not result.details.get("may_have_applied"):
            return result
        return dataclasses.replace(result, recheck=functools.partial(handler, exc, *args))

    async def _cmd(self, *args: Any) -> Any:
        return await self.client.execute_command(*args)

    async def entry(self, key: bytes, entry_id: str) -> Entry | None:
        """One entry whole (XRANGE id id), for the entry screen's `w` (issue 29: a page keeps long
        values cut); None when it is gone. Raises on server errors."""
        rows = parse_entries(await self._cmd("XRANGE", key, entry_id, entry_id))
        return Entry(rows[0][0], tuple(rows[0][1])) if rows else None

    async def consumers(self, key: bytes, group: bytes) -> list[tuple[bytes, int]]:
        """(name, pending) of each consumer in the group (raises on server errors)."""
        reply = await self._cmd("XINFO", "CONSUMERS", key, group)
        if reply and isinstance(reply[0], Mapping) and "name" in reply[0]:  # parsed client
            return [
                (
                    r["name"] if isinstance(r["name"], bytes) else str(r["name"]).encode(),
                    to_int(r.get("pending")) or 0,
                )
                for r in reply
            ]
        return [(c.name, c.pending) for c in parse_consumers(reply)]

    async def groups(self, key: bytes) -> list[dict[str, Any]]:
        """XINFO GROUPS as dicts (name bytes, the rest raw; raises on server errors)."""
        return parse_groups(await self._cmd("XINFO", "GROUPS", key))

    # ---- produce --------------------------------------------------------------------------

    async def produce_one(self, key: bytes | str) -> ActionResult:
        """One test sensor event with an auto ID."""
        key = check_name(key, "stream key")
        if refused := self.refusal("produce"):
            return refused
        fields = sensor_event()
        try:
            reply = await self._cmd("XADD", key, "*", *[x for kv in fields.items() for x in kv])
        except Exception as exc:
            res = fail(exc, "produce", key, need=needs("+xadd", (key,)))
            if not is_lost(exc):
                return res
            again = None if is_not_answering(exc) else await self._reconnect_error()
            if again is not None and is_auth_failure(again):  # a restart with other credentials
                return fail(again, "produce", key, lost_first=str(exc))
            return ActionResult(
                False,
                f"{res.message}: the event may have been added (check with "
                f"XREVRANGE {label(key)} + - COUNT 1)",
                {**res.details, "lost_reply": True, "may_have_applied": True},
            )
        entry_id = text(reply)
        return ActionResult(
            True,
            f"added {entry_id} to '{label(key)}' ({fields['sensor_id']}, temp {fields['temp']})",
            {"id": entry_id, "fields": fields, "added": 1},
        )

    async def produce_burst(
        self,
        key: bytes | str,
        n: int | str,
        maxlen: int | str | None = None,
        approx: bool = False,
        progress: Callable[[int, int], Any] | None = None,
        cancel: asyncio.Event | None = None,
    ) -> ActionResult:
        """N test events in pipelined chunks. `progress(done, n)` after each chunk; setting
        `cancel` stops after the chunk in flight (what was sent stays and is reported).

        The count is exact on error: a server error (OOM, NOPERM) counts the chunk's replies that
        were IDs; a chunk whose replies were lost is counted on the server afterwards (entries
        after the last confirmed ID, see `_lost_chunk`)."""
        key = check_name(key, "stream key")
        n = parse_int(n, "burst size", 1, MAX_BURST)
        maxlen = parse_int(maxlen, "MAXLEN", 0, MAX_MAXLEN) if maxlen not in (None, "") else None
        if refused := self.refusal("produce burst"):
            return refused
        need = needs("+xadd", (key,))
        done, last_id, chunk_done = 0, None, 0

        def on_chunk(added: int) -> None:
            nonlocal chunk_done
            chunk_done = added

        try:  # where this burst starts: its entries are the ones after the current last entry
            last = parse_entries(await self._cmd("XREVRANGE", key, "+", "-", "COUNT", 1))
            start_id = last[0][0] if last else None
        except Exception as exc:
            res = fail(exc, "produce burst", key, need=need, added=0, requested=n)
            return ActionResult(False, f"{res.message} (after 0 of {n:,} added)", res.details)
        while done < n and not (cancel is not None and cancel.is_set()):
            batch = [sensor_event() for _ in range(min(BURST_CHUNK, n - done))]
            chunk_done = 0
            try:
                _, lid = await xadd_many(
                    self.client,
                    key,
                    batch,
                    maxlen=maxlen,
                    approx=approx,
                    chunk=BURST_CHUNK,
                    progress=on_chunk,
                )
            except Exception as exc:
                if is_lost(exc):
                    return await self._lost(
                        self._lost_chunk, exc, key, n, done, last_id or start_id, len(batch)
                    )
                done += chunk_done
                res = fail(exc, "produce burst", key, need=need, added=done, requested=n)
                return ActionResult(False, f"{res.message} (after {done:,} of {n:,} added)", res.details)
            done += len(batch)
            last_id = lid or last_id
            if progress is not None:
                progress(done, n)
        cancelled = done < n
        msg = (
            f"burst cancelled: {done:,} of {n:,} events added to '{label(key)}'"
            if cancelled
            else f"added {done:,} events to '{label(key)}'"
        )
        return ActionResult(
            True, msg, {"added": done, "requested": n, "last_id": last_id, "cancelled": cancelled}
        )

    async def _lost_chunk(
        self, exc: BaseException, key: bytes, n: int, done: int, after: str | None, size: int
    ) -> ActionResult:
        """The reply of a chunk was lost: count what the server has after the last confirmed ID
        (entries of other writers in that span would be counted too; a MAXLEN may have trimmed)."""
        start = next_id(after) if after else "-"
        got = await self._reread(("XRANGE", key, start, "+", "COUNT", size + 1), ("XLEN", key))
        base = {"error": str(exc), "requested": n, "added_confirmed": done, "lost_reply": True}
        if got is None or any(isinstance(g, Exception) for g in got):
            return ActionResult(
                False,
                f"produce burst: {lost_words(exc)} after a chunk of {size:,} "
                f"was sent ({one_line(exc)}); {done:,} of {n:,} confirmed added, up to "
                f"{size:,} more may have been added: check with XLEN {label(key)}",
                {**base, "added": done, "may_have_applied": True},
            )
        found = min(size, len(parse_entries(got[0])))
        total = done + found
        return ActionResult(
            False,
            f"produce burst: {lost_words(exc)} after a chunk of {size:,} was "
            f"sent ({one_line(exc)}): {total:,} of {n:,} added ({done:,} confirmed, "
            f"{found:,} found after the last confirmed entry); '{label(key)}' now has "
            f"{to_int(got[1]) or 0:,} entries",
            {**base, "added": total, "added_in_lost_chunk": found},
        )

    # ---- ack ------------------------------------------------------------------------------

    async def ack(self, key: bytes | str, group: bytes | str, ids: Sequence[str]) -> ActionResult:
        """XACK exactly these IDs. Entries no longer pending (acked meanwhile) are reported."""
        key = check_name(key, "stream key")
        group = check_name(group, "group")
        ids = check_ids(ids, "pending entry")
        if refused := self.refusal("ack"):
            return refused
        need = needs("+xack", (key,), "+xpending")
        try:
            # No MULTI (a user without +multi must get a true report, issue 24): which IDs are
            # pending, the XACK, and which are still pending after it, in one round trip. The
            # XACK's reply is the server's own count of what it acked.
            pipe = self.client.pipeline(transaction=False)
            for i in ids:
                pipe.execute_command("XPENDING", key, group, i, i, 1, **DETAIL)
            pipe.execute_command("XACK", key, group, *ids)
            for i in ids:
                pipe.execute_command("XPENDING", key, group, i, i, 1, **DETAIL)
            replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:
            if is_lost(exc):
                return await self._lost(self._ack_lost, exc, key, group, ids)
            return fail(exc, "ack", key, group, need=need)
        before, reply, after = replies[: len(ids)], replies[len(ids)], replies[len(ids) + 1 :]
        if isinstance(reply, Exception):
            return fail(reply, "ack", key, group, need=need, acked=0)
        acked = to_int(reply) or 0
        if errors := [x for x in before + after if isinstance(x, Exception)]:
            if not acked:  # NOGROUP, say: XACK answers 0 for a group that does not exist
                return fail(errors[0], "ack", key, group, need=need, acked=0)
            # XPENDING refused, the XACK ran: its count is all that can be told
            return ActionResult(
                True,
                f"acked {acked} of {len(ids)} in '{label(group)}' (which ones cannot be told: "
                "XPENDING was refused)",
                {"acked": acked, "acked_ids": [], "not_pending": []},
            )
        was = {i for i, rep in zip(ids, before, strict=True) if pending_rows(rep)}
        still = {i for i, rep in zip(ids, after, strict=True) if pending_rows(rep)}
        done = [i for i in ids if i in was and i not in still]
        gone = [i for i in ids if i not in was]
        msg = f"acked {acked} of {len(ids)} in '{label(group)}'"
        if gone:
            msg += f"; {len(gone)} no longer pending (acked or removed meanwhile)"
        if still:
            msg += f"; {len(still)} still pending (claimed or re-delivered meanwhile)"
        return ActionResult(
            True,
            msg,
            {"acked": acked, "acked_ids": done, "not_pending": gone, "still_pending": sorted(still)},
        )

    async def _ack_lost(
        self, exc: BaseException, key: bytes, group: bytes, ids: tuple[str, ...]
    ) -> ActionResult:
        """The ack's reply was lost: which of the IDs are still pending now."""
        got = await self._reread(*[("XPENDING", key, group, i, i, 1) for i in ids])
        base = {"error": str(exc), "lost_reply": True}
        if got is None or any(isinstance(g, Exception) for g in got):
            return ActionResult(
                False,
                f"ack: {lost_words(exc)} after the ack was sent ({one_line(exc)})"
                f": it may have been applied; check with XPENDING {label(key)} "
                f"{label(group)} - + 100",
                {**base, "may_have_applied": True},
            )
        still = [i for i, rep in zip(ids, got, strict=True) if pending_rows(rep)]
        gone = [i for i in ids if i not in set(still)]
        msg = (
            f"ack: {lost_words(exc)} after the ack was sent ({one_line(exc)}): {len(gone)} of "
            f"{len(ids)} are no longer pending in '{label(group)}'"
        )
        if still:
            msg += f"; {len(still)} still pending: ack them again"
        return ActionResult(
            not still,
            msg,
            {**base, "acked": len(gone), "acked_ids": gone, "still_pending": still, "not_pending": gone},
        )

    # ---- claim ----------------------------------------------------------------------------

    async def _consumer_check(
        self, key: bytes, group: bytes, consumer: bytes, must_exist: bool
    ) -> ActionResult | None:
        if not must_exist:
            return None
        try:
            names = [n for n, _ in await self.consumers(key, group)]
        except Exception as exc:
            return fail(exc, "claim", key, group)
        if not names:
            return ActionResult(
                False,
                f"group '{label(group)}' has no consumers yet: type a new consumer name to create one",
                {"consumers": []},
            )
        if consumer not in names:
            return ActionResult(
                False, f"no consumer '{label(consumer)}' in group '{label(group)}'", {"consumers": names}
            )
        return None

    async def claim_auto(
        self,
        key: bytes | str,
        group: bytes | str,
        consumer: bytes | str,
        min_idle_ms: int | str,
        cap: int | str = 1000,
        *,
        must_exist: bool = False,
        start: str = "0-0",
        progress: Callable[[int, int], Any] | None = None,
        cancel: asyncio.Event | None = None,
        dry_run: bool = False,
    ) -> ActionResult:
        """Claim all stuck: XAUTOCLAIM (without JUSTID) with its cursor carried from `start` until
        it wraps to 0-0 or `cap` are claimed, so one run never claims an entry twice; the result
        says from whom (see claim.py), and the cursor to continue from when the cap stopped it.

        7.0+ also lists IDs it dropped from the PEL because their entries were deleted; 6.2 gives a
        2-element reply with `nil` for such entries and keeps them pending (counted as `missing`).
        `must_exist`: refuse unless `consumer` already is in the group (XAUTOCLAIM creates it).
        `dry_run`: the same checks and pages, nothing claimed (works in read-only mode).
        """
        from .claim import claim_all

        key, group = check_name(key, "stream key"), check_name(group, "group")
        consumer = check_name(consumer, "consumer")
        min_idle_ms = parse_idle(min_idle_ms)
        cap = parse_int(cap, "cap", 1, MAX_CAP)
        start = check_id(start, "start ID")
        if not dry_run and (refused := self.refusal("claim")):
            return refused
        if bad := await self._consumer_check(key, group, consumer, must_exist):
            return bad
        return await claim_all(self, key, group, consumer, min_idle_ms, cap, start, progress, cancel, dry_run)

    async def claim_from(
        self,
        key: bytes | str,
        group: bytes | str,
        source: bytes | str,
        consumer: bytes | str,
        min_idle_ms: int | str,
        cap: int | str = MAX_CAP,
        *,
        must_exist: bool = False,
        progress: Callable[[int, int], Any] | None = None,
        cancel: asyncio.Event | None = None,
        dry_run: bool = False,
    ) -> ActionResult:
        """Claim what `source` holds (idle at least `min_idle_ms`) into `consumer`: XPENDING IDLE
        with the consumer filter, then XCLAIM in batches, forward through the PEL (claim.py)."""
        from .claim import claim_from

        key, group = check_name(key, "stream key"), check_name(group, "group")
        source, consumer = check_name(source, "source consumer"), check_name(consumer, "consumer")
        if source == consumer:
            raise ValidationError("the source and the target consumer are the same")
        min_idle_ms = parse_idle(min_idle_ms)
        cap = parse_int(cap, "cap", 1, MAX_CAP)
        if not dry_run and (refused := self.refusal("claim")):
            return refused
        if bad := await self._consumer_check(key, group, consumer, must_exist):
            return bad
        return await claim_from(
            self, key, group, source, consumer, min_idle_ms, cap, progress, cancel, dry_run
        )

    async def claim_ids(
        self,
        key: bytes | str,
        group: bytes | str,
        consumer: bytes | str,
        min_idle_ms: int | str,
        ids: Sequence[str],
        *,
        must_exist: bool = False,
    ) -> ActionResult:
        """XCLAIM exactly these IDs; those idle less than `min_idle_ms` or no longer pending stay."""
        key, group = check_name(key, "stream key"), check_name(group, "group")
        consumer = check_name(consumer, "consumer")
        min_idle_ms = parse_idle(min_idle_ms)
        ids = check_ids(ids, "pending entry")
        if refused := self.refusal("claim"):
            return refused
        if bad := await self._consumer_check(key, group, consumer, must_exist):
            return bad
        try:
            reply = await self._cmd("XCLAIM", key, group, consumer, min_idle_ms, *ids)
        except Exception as exc:
            if is_lost(exc):
                return await self._lost(self._claim_lost, exc, key, group, consumer, ids)
            return fail(exc, "claim", key, group, need=needs("+xclaim", (key,)))
        rows = list(reply) if isinstance(reply, list | tuple) else []
        claimed = [i for i, _ in parse_entries([e for e in rows if e])]
        missing = sum(1 for e in rows if e is None)
        skipped = [i for i in ids if i not in set(claimed)]
        msg = f"claimed {len(claimed)} of {len(ids)} into '{label(consumer)}'"
        if skipped:
            msg += f"; {len(skipped)} not claimed (idle below min, or no longer pending)"
        return ActionResult(
            True,
            msg,
            {"claimed": len(claimed), "claimed_ids": claimed, "skipped_ids": skipped, "missing": missing},
        )

    async def pending_list(
        self,
        key: bytes | str,
        group: bytes | str,
        consumer: bytes | str | None = None,
        min_idle_ms: int | str = 0,
        cap: int | str = MAX_CAP,
    ) -> ActionResult:
        """The group's pending entries (of one consumer, idle at least `min_idle_ms`), up to `cap`,
        in PEL order: what a claim or an ack of a consumer would take (dry runs, previews). A read."""
        key, group = check_name(key, "stream key"), check_name(group, "group")
        who = check_name(consumer, "consumer") if consumer not in (None, "", b"") else None
        min_idle_ms = parse_idle(min_idle_ms)
        cap = parse_int(cap, "cap", 1, MAX_CAP)
        rows: list[PendingEntry] = []
        lo = "-"
        try:
            while len(rows) < cap:
                count = min(1000, cap - len(rows))
                args: list[Any] = ["XPENDING", key, group, "IDLE", min_idle_ms, lo, "+", count]
                args += [who] if who is not None else []
                page = pending_rows(await self.client.execute_command(*args, **DETAIL))
                rows += page
                if len(page) < count:
                    break
                lo = next_id(page[-1].id)
        except Exception as exc:
            return fail(exc, "pending entries", key, group)
        owners: dict[bytes, int] = {}
        for p in rows:
            owners[p.consumer] = owners.get(p.consumer, 0) + 1
        of = f" of '{label(who)}'" if who is not None else ""
        idle = f" idle {min_idle_ms:,} ms or more" if min_idle_ms else ""
        return ActionResult(
            True,
            f"{len(rows):,} pending entries{of}{idle} in '{label(group)}'",
            {
                "rows": tuple(rows),
                "ids": [p.id for p in rows],
                "count": len(rows),
                "owners": owners,
                "capped": len(rows) >= cap,
            },
        )

    async def pending_ids(self, key: bytes | str, group: bytes | str, ids: Sequence[str]) -> ActionResult:
        """Which of these IDs are pending in the group (details["ids"]). A read."""
        key, group = check_name(key, "stream key"), check_name(group, "group")
        wanted = check_ids(ids, "pending entry")
        try:
            pipe = self.client.pipeline(transaction=False)
            for i in wanted:
                pipe.execute_command("XPENDING", key, group, i, i, 1, **DETAIL)
            replies = await pipe.execute()
        except Exception as exc:
            return fail(exc, "pending entries", key, group)
        found = [i for i, rep in zip(wanted, replies, strict=True) if pending_rows(rep)]
        return ActionResult(
            True,
            f"{len(found)} of {len(wanted)} are pending in '{label(group)}'",
            {"ids": found, "not_pending": [i for i in wanted if i not in set(found)]},
        )

    async def ack_consumer(self, key: bytes | str, group: bytes | str, consumer: bytes | str) -> ActionResult:
        """Ack every entry `consumer` holds (what a runbook does for a consumer whose work is known
        to be done elsewhere), in chunks of 1000 through `ack`."""
        key, group = check_name(key, "stream key"), check_name(group, "group")
        consumer = check_name(consumer, "consumer")
        if refused := self.refusal("ack"):
            return refused
        found = await self.pending_list(key, group, consumer)
        if not found.ok:
            return found
        ids: list[str] = found.details["ids"]
        if not ids:
            return ActionResult(
                True,
                f"nothing to ack: '{label(consumer)}' holds no pending entry in '{label(group)}'",
                {"acked": 0, "acked_ids": [], "nothing": True},
            )
        acked: list[str] = []
        for at in range(0, len(ids), 1000):
            res = await self.ack(key, group, ids[at : at + 1000])
            acked += list(res.details.get("acked_ids", ()))
            if not res.ok:
                return ActionResult(
                    False,
                    f"{res.message} ({len(acked):,} acked before that)",
                    {**res.details, "acked": len(acked), "acked_ids": acked},
                )
        return ActionResult(
            True,
            f"acked {len(acked):,} entries '{label(consumer)}' held in '{label(group)}'",
            {"acked": len(acked), "acked_ids": acked},
        )

    async def _owned(self, key: bytes, group: bytes, consumer: bytes) -> int | None:
        """How many pending entries `consumer` owns (None if unknown): the baseline for telling
        what an XAUTOCLAIM whose reply was lost did."""
        try:
            return dict(await self.consumers(key, group)).get(consumer, 0)
        except Exception:
            return None

    async def _autoclaim_lost(
        self,
        exc: BaseException,
        key: bytes,
        group: bytes,
        consumer: bytes,
        claimed: list[str],
        before: int | None,
    ) -> ActionResult:
        base = {"error": str(exc), "lost_reply": True, "claimed": len(claimed), "claimed_ids": claimed}
        head = (
            f"claim: {lost_words(exc)} after XAUTOCLAIM was sent ({one_line(exc)}); "
            f"{len(claimed)} claimed before that"
        )
        now = await self._owned(key, group, consumer)
        if now is None or before is None:
            return ActionResult(
                False,
                f"{head}; more may have been claimed: check with XPENDING "
                f"{label(key)} {label(group)} - + 100 {label(consumer)}",
                {**base, "may_have_applied": True},
            )
        return ActionResult(
            True,
            f"{head}; '{label(consumer)}' now owns {now:,} pending entries "
            f"({now - before:+,} since the claim started)",
            {**base, "owned_before": before, "owned_now": now},
        )

    async def _claim_lost(
        self, exc: BaseException, key: bytes, group: bytes, consumer: bytes, ids: tuple[str, ...]
    ) -> ActionResult:
        """The XCLAIM's reply was lost: who owns each of the IDs now."""
        got = await self._reread(*[("XPENDING", key, group, i, i, 1) for i in ids])
        base = {"error": str(exc), "lost_reply": True}
        head = f"claim: {lost_words(exc)} after XCLAIM was sent ({one_line(exc)})"
        if got is None or any(isinstance(g, Exception) for g in got):
            return ActionResult(
                False,
                f"{head}: it may have been applied; check with XPENDING {label(key)} {label(group)} - + 100",
                {**base, "may_have_applied": True},
            )
        owners: dict[str, bytes | None] = {}
        for i, rep in zip(ids, got, strict=True):
            rows = pending_rows(rep)
            owners[i] = rows[0].consumer if rows else None
        mine = [i for i, o in owners.items() if o == consumer]
        others: dict[bytes, int] = {}
        for o in owners.values():
            if o is not None and o != consumer:
                others[o] = others.get(o, 0) + 1
        msg = f"{head}: {len(mine)} of {len(ids)} now belong to '{label(consumer)}'"
        if others:
            msg += "; " + ", ".join(f"{n} to '{label(o)}'" for o, n in others.items())
        if gone := sum(1 for o in owners.values() if o is None):
            msg += f"; {gone} no longer pending"
        return ActionResult(
            bool(mine), msg, {**base, "claimed": len(mine), "claimed_ids": mine, "owners": owners}
        )

    # ---- entries without data ---------------------------------------------------------------

    async def without_data_preview(self, key: bytes | str, group: bytes | str) -> ActionResult:
        """Which pending entries of the group have no data any more (details["ids"]). A read."""
        from .deleted import preview

        key, group = check_name(key, "stream key"), check_name(group, "group")
        return await preview(self, key, group)

    async def ack_without_data(self, key: bytes | str, group: bytes | str) -> ActionResult:
        """XACK every pending entry of the group whose data is gone (it can never be processed)."""
        from .deleted import ack

        key, group = check_name(key, "stream key"), check_name(group, "group")
        if refused := self.refusal("ack entries without data"):
            return refused
        return await ack(self, key, group)

    # ---- trim -----------------------------------------------------------------------------

    async def trim_preview(
        self, key: bytes | str, strategy: str, threshold: int | str, approx: bool = False
    ) -> ActionResult:
        """What a trim would remove, without removing it: details["preview"] is a TrimPreview.
        A read, so it works in read-only mode too."""
        key, strategy, threshold = self._trim_args(key, strategy, threshold)
        return await preview(self, key, strategy, threshold, approx)

    async def trim(
        self, key: bytes | str, strategy: str, threshold: int | str, approx: bool = False
    ) -> ActionResult:
        """XTRIM; reports how many entries went and the stream's length after."""
        key, strategy, threshold = self._trim_args(key, strategy, threshold)
        if refused := self.refusal("trim"):
            return refused
        seen: int | None = None
        need = needs("+xtrim", (key,), "+xlen")
        try:
            seen = to_int(await self._cmd("XLEN", key)) or 0  # the baseline if the reply is lost
            # No MULTI (a user without +multi must get a true report, issue 24): XTRIM's reply is
            # the server's count of what it removed; the lengths around it are read in the same
            # round trip, and the length after is what the stream holds now.
            pipe = self.client.pipeline(transaction=False)
            pipe.execute_command("XLEN", key)
            pipe.execute_command("XTRIM", key, strategy, "~" if approx else "=", threshold)
            pipe.execute_command("XLEN", key)
            before, removed, after = await pipe.execute(raise_on_error=False)
        except Exception as exc:
            if is_lost(exc) and seen is not None:
                return await self._lost(self._trim_lost, exc, key, strategy, threshold, approx, seen)
            return fail(exc, "trim", key, need=need)
        if isinstance(removed, Exception):
            return fail(removed, "trim", key, need=need, removed=0)
        before = seen if isinstance(before, Exception) else to_int(before)
        after = None if isinstance(after, Exception) else to_int(after)
        removed = to_int(removed) or 0
        how = f"{strategy} {'~' if approx else '='} {threshold}"
        left = f"{after} left" if after is not None else "length now unknown (XLEN refused)"
        if not removed:
            msg = f"nothing trimmed from '{label(key)}' ({how}; {left})"
            if approx:
                msg += ": ~ removes whole nodes only"
        else:
            msg = f"trimmed {removed} entries from '{label(key)}' ({how}); {left}"
        return ActionResult(True, msg, {"removed": removed, "length_before": before, "length_after": after})

    async def _trim_lost(
        self, exc: BaseException, key: bytes, strategy: str, threshold: Any, approx: bool, seen: int
    ) -> ActionResult:
        """The trim's reply was lost: the length now against the length just before, and whether
        the stream now satisfies the trim (exact MAXLEN: length; MINID: the first ID)."""
        how = f"{strategy} {'~' if approx else '='} {threshold}"
        head = f"{lost_words(exc)} after the trim was sent ({one_line(exc)})"
        got = await self._reread(("XLEN", key), ("XRANGE", key, "-", "+", "COUNT", 1))
        base = {"error": str(exc), "lost_reply": True, "length_before": seen}
        if got is None or any(isinstance(g, Exception) for g in got):
            return ActionResult(
                False,
                f"{head}: it may have been applied; check with XLEN {label(key)}",
                {**base, "may_have_applied": True},
            )
        now = to_int(got[0]) or 0
        first = parse_entries(got[1])
        if strategy == "MAXLEN":
            holds = now <= threshold
        else:
            holds = not first or id_key(first[0][0]) >= id_key(threshold)
        details = {**base, "length_after": now, "removed": max(0, seen - now)}
        if now < seen:
            return ActionResult(
                True,
                f"{head}: '{label(key)}' now has {now:,} entries, {seen - now:,} fewer: the trim ran",
                details,
            )
        if holds:
            return ActionResult(
                True,
                f"{head}: '{label(key)}' has {now:,} entries ({seen:,} before) and "
                f"nothing left to trim for {how}",
                details,
            )
        return ActionResult(
            False,
            f"{head}: '{label(key)}' still has {now:,} entries ({seen:,} before): "
            f"not trimmed to {how}; run it again",
            details,
        )

    def _trim_args(self, key: Any, strategy: Any, threshold: Any) -> tuple[bytes, str, Any]:
        key = check_name(key, "stream key")
        strategy = check_strategy(strategy)
        if strategy == "MAXLEN":
            threshold = parse_int(threshold, "MAXLEN", 0)
            if threshold > MAX_MAXLEN:
                raise ValidationError(
                    f"MAXLEN must be at most {MAX_MAXLEN:,}: the server refuses more "
                    "('value is not an integer or out of range')"
                )
        else:
            threshold = check_id(threshold, "MINID")
        return key, strategy, threshold

    # ---- groups and consumers -------------------------------------------------------------

    async def group_create(
        self,
        key: bytes | str,
        group: bytes | str,
        start: str = "$",
        mkstream: bool = True,
        *,
        dry_run: bool = False,
    ) -> ActionResult:
        """XGROUP CREATE from `$` (new entries only), `0` (everything) or an ID. The checks the
        server would make (a stream, or MKSTREAM; no group of that name) are made first, in the dry
        run and the real run alike, so both refuse the same way."""
        key, group = check_name(key, "stream key"), check_name(group, "group")
        start = check_id(start, "start ID", special=("$",))
        if not dry_run and (refused := self.refusal("create group")):
            return refused
        try:
            kind = text(await self._cmd("TYPE", key)) or "?"
            names = [g["name"] for g in await self.groups(key)] if kind == "stream" else []
        except Exception as exc:
            return fail(exc, "create group", key, group)
        if kind == "none" and not mkstream:
            return ActionResult(
                False, f"create group failed: no stream '{label(key)}' (--mkstream creates it)", {}
            )
        if kind not in ("stream", "none"):
            return ActionResult(False, f"create group failed: '{label(key)}' is not a stream", {})
        if group in names:
            return ActionResult(
                False, f"create group failed: group '{label(group)}' already exists on '{label(key)}'", {}
            )
        made = f"; '{label(key)}' does not exist: a new stream will be created" if kind == "none" else ""
        if dry_run:
            return ActionResult(
                True,
                f"would create group '{label(group)}' on '{label(key)}' from {start}{made}",
                {"start": start, "dry_run": True},
            )
        args = ["XGROUP", "CREATE", key, group, start] + (["MKSTREAM"] if mkstream else [])
        try:
            await self._cmd(*args)
        except Exception as exc:
            return fail(exc, "create group", key, group)
        return ActionResult(
            True, f"created group '{label(group)}' on '{label(key)}' from {start}", {"start": start}
        )

    async def group_setid(
        self, key: bytes | str, group: bytes | str, entry_id: str, *, dry_run: bool = False
    ) -> ActionResult:
        """XGROUP SETID: where the group reads next (`$` = only new entries). The dry run makes
        the same checks (the ID, the group exists) and writes nothing."""
        key, group = check_name(key, "stream key"), check_name(group, "group")
        entry_id = check_id(entry_id, "ID", special=("$",))
        if not dry_run and (refused := self.refusal("set group ID")):
            return refused
        try:
            found = {g["name"]: g for g in await self.groups(key)}
        except Exception as exc:
            return fail(exc, "set group ID", key, group)
        if group not in found:
            return ActionResult(
                False, f"set group ID failed: no group '{label(group)}' on '{label(key)}'", {"exists": False}
            )
        if dry_run:
            now = text(found[group].get("last-delivered-id"))
            return ActionResult(
                True,
                f"would set group '{label(group)}' to read after {entry_id} (now after {now})",
                {"id": entry_id, "dry_run": True},
            )
        try:
            await self._cmd("XGROUP", "SETID", key, group, entry_id)
        except Exception as exc:
            return fail(exc, "set group ID", key, group)
        return ActionResult(True, f"group '{label(group)}' now reads after {entry_id}", {"id": entry_id})

    async def consumer_preview(
        self, key: bytes | str, group: bytes | str, consumer: bytes | str
    ) -> ActionResult:
        """How many entries a consumer holds (they leave the PEL when it is deleted). A read."""
        key, group = check_name(key, "stream key"), check_name(group, "group")
        consumer = check_name(consumer, "consumer")
        try:
            found = dict(await self.consumers(key, group))
        except Exception as exc:
            return fail(exc, "consumer preview", key, group)
        if consumer not in found:
            return ActionResult(
                False,
                f"no consumer '{label(consumer)}' in group '{label(group)}'",
                {"exists": False, "pending": 0},
            )
        n = found[consumer]
        msg = (
            f"consumer '{label(consumer)}' holds {n} pending entries: deleting it removes them "
            "from the PEL (they will never be redelivered)"
            if n
            else f"consumer '{label(consumer)}' holds no pending entries"
        )
        return ActionResult(True, msg, {"exists": True, "pending": n})

    async def consumer_delete(
        self, key: bytes | str, group: bytes | str, consumer: bytes | str
    ) -> ActionResult:
        """XGROUP DELCONSUMER; reports how many pending entries left the PEL with it."""
        key, group = check_name(key, "stream key"), check_name(group, "group")
        consumer = check_name(consumer, "consumer")
        if refused := self.refusal("delete consumer"):
            return refused
        try:
            reply = await self._cmd("XGROUP", "DELCONSUMER", key, group, consumer)
        except Exception as exc:
            return fail(exc, "delete consumer", key, group)
        n = to_int(reply) or 0
        return ActionResult(
            True,
            f"deleted consumer '{label(consumer)}'; {n} pending entries left the PEL",
            {"pending_dropped": n},
        )

    async def group_preview(self, key: bytes | str, group: bytes | str) -> ActionResult:
        """A group's consumers and pending count, shown before destroying it. A read."""
        key, group = check_name(key, "stream key"), check_name(group, "group")
        try:
            found = {g["name"]: g for g in await self.groups(key)}
        except Exception as exc:
            return fail(exc, "group preview", key, group)
        g = found.get(group)
        if g is None:
            return ActionResult(False, f"no group '{label(group)}' on '{label(key)}'", {"exists": False})
        pending, consumers = to_int(g.get("pending")) or 0, to_int(g.get("consumers")) or 0
        return ActionResult(
            True,
            f"group '{label(group)}': {consumers} consumers, {pending} pending",
            {
                "exists": True,
                "pending": pending,
                "consumers": consumers,
                "last_delivered_id": text(g.get("last-delivered-id")),
            },
        )

    async def group_destroy(self, key: bytes | str, group: bytes | str) -> ActionResult:
        """XGROUP DESTROY: the group, its consumers and its PEL go."""
        key, group = check_name(key, "stream key"), check_name(group, "group")
        if refused := self.refusal("destroy group"):
            return refused
        try:
            reply = await self._cmd("XGROUP", "DESTROY", key, group)
        except Exception as exc:
            return fail(exc, "destroy group", key, group)
        if not to_int(reply):
            return ActionResult(False, f"no group '{label(group)}' on '{label(key)}'", {"destroyed": 0})
        return ActionResult(True, f"destroyed group '{label(group)}' on '{label(key)}'", {"destroyed": 1})

    # ---- dead-letter ----------------------------------------------------------------------

    def default_dlq(self, key: bytes) -> bytes:
        """`<key>:dlq`; in a cluster, `{<key>}:dlq` unless `<key>:dlq` already hashes to the key's
        slot (a key with a hash tag), so the MULTI/EXEC of each move stays on one node."""
        plain = key + b":dlq"
        if self.server.mode != "cluster" or key_slot(plain) == key_slot(key):
            return plain
        return b"{" + key + b"}:dlq"

    async def dead_letter(
        self,
        key: bytes | str,
        group: bytes | str,
        ids: Sequence[str] | None = None,
        min_deliveries: int | str | None = None,
        dlq_key: bytes | str | None = None,
        *,
        dry_run: bool = False,
    ) -> ActionResult:
        """Move pending entries to a dead-letter stream and ack them, one MULTI/EXEC per entry.
        See deadletter.py for what happens when the connection drops and on retry. `dry_run`: the
        same checks and selection, nothing written (works in read-only mode)."""
        key, group = check_name(key, "stream key"), check_name(group, "group")
        if (ids is None or not len(ids)) == (min_deliveries is None or min_deliveries == ""):
            if ids is not None and not len(ids) and min_deliveries is None:
                raise ValidationError("no pending entry selected")
            raise ValidationError("give either the selected entries or a minimum delivery count")
        sel = check_ids(ids, "pending entry") if ids else None
        n = parse_int(min_deliveries, "minimum deliveries", 1) if sel is None else None
        dlq = (
            check_name(dlq_key, "dead-letter key")
            if dlq_key not in (None, "", b"")
            else self.default_dlq(key)
        )
        if dlq == key:
            raise ValidationError("the dead-letter stream must not be the source stream")
        if self.server.mode == "cluster" and key_slot(dlq) != key_slot(key):
            raise ValidationError(
                f"in a cluster the dead-letter stream must share the stream's hash slot "
                f"(each move is one MULTI/EXEC): '{label(dlq)}' is in slot {key_slot(dlq)}, "
                f"'{label(key)}' in slot {key_slot(key)}; use a hash tag, e.g. "
                f"'{label(self.default_dlq(key))}'"
            )
        if not dry_run and (refused := self.refusal("dead-letter")):
            return refused
        return await dead_letter(self, key, group, sel, n, dlq, dry_run)

    # ---- redrive --------------------------------------------------------------------------

    async def redrive(
        self,
        dlq_key: bytes | str,
        to: bytes | str | None = None,
        group: bytes | str | None = None,
        count: int | str = 10_000,
        *,
        start: str = "-",
        end: str = "+",
        dry_run: bool = False,
        all_groups: bool = False,
    ) -> ActionResult:
        """Move DLQ entries back to their source stream (dlq-source) or to `to`, with the original
        fields only, one MULTI/EXEC per entry (redrive.py). `group`: only entries dead-lettered from
        that group; `start`/`end`: a range of DLQ IDs. Refused when a group other than the one the
        entries came from reads the target, unless `all_groups`. `dry_run`: the same path, nothing
        written (a read)."""
        from .redrive import check_range, redrive

        dlq = check_name(dlq_key, "dead-letter key")
        target = check_name(to, "target stream") if to not in (None, "", b"") else None
        only = check_name(group, "group") if group not in (None, "", b"") else None
        count = parse_int(count, "count", 1, MAX_CAP)
        start = check_id(start, "start ID", special=("-",))
        end = check_id(end, "end ID", special=("+",))
        check_range(start, end)
        if target == dlq:
            raise ValidationError("the target stream must not be the dead-letter stream itself")
        if target is not None and self.server.mode == "cluster" and key_slot(target) != key_slot(dlq):
            raise ValidationError(
                f"in a cluster the target must share the dead-letter stream's hash slot (each move is "
                f"one MULTI/EXEC): '{label(target)}' is in slot {key_slot(target)}, '{label(dlq)}' in "
                f"slot {key_slot(dlq)}"
            )
        if not dry_run and (refused := self.refusal("redrive")):
            return refused
        return await redrive(self, dlq, target, only, start, end, count, dry_run, all_groups)
