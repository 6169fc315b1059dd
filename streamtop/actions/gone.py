"""Delete the consumers that are gone and hold no pending entries (streamtop.pipeline.liveness).

The preview reads the group afresh (XINFO GROUPS, XINFO CONSUMERS, the first entry the group has
not been delivered, the server's TIME and, when the server lets us, CLIENT LIST), so a consumer is
called gone only on the evidence liveness asks for: a blocked reader on a quiet stream or a busy
handler is kept. Each delete is one script that checks, atomically with XGROUP DELCONSUMER, that
the consumer still holds nothing and is still idle: a worker that came back, or was handed
entries, since the preview is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from streamtop.pipeline import liveness
from streamtop.pipeline.liveness import Liveness, group_liveness, read_clients
from streamtop.pipeline.model import (
    GroupInfo,
    Lag,
    LagSource,
    TimeLag,
    TimeLagSource,
    id_ms,
    label,
    time_based,
)
from streamtop.pipeline.parse import Reply, parse_consumers, parse_entries, text, to_int

from .base import ActionResult, check_name, fail, is_lost, one_line
from .context import Context

# -1: it holds pending entries now; -2: it read or claimed since (idle below the minimum);
# -3: no such consumer any more; else DELCONSUMER's reply (0 pending dropped).
DELETE_IF_STILL_GONE = """
local info = redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
for _, c in ipairs(info) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if f['name'] == ARGV[2] then
    if tonumber(f['pending']) > 0 then return -1 end
    if tonumber(f['idle']) < tonumber(ARGV[3]) then return -2 end
    return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
  end
end
return -3
"""
SKIPPED = {-1: "holds pending entries now", -2: "read or claimed since", -3: "no longer exists"}

Row = tuple[bytes, int, Liveness]  # a consumer: (name, pending, liveness)


@dataclass(frozen=True, kw_only=True)
class GonePreview(ActionResult):
    """`gone`: every consumer that is gone; `deletable`: the names among them that hold nothing;
    `unsure`: those the server cannot tell; `kept`: idle past the gone-after time but waiting or
    busy (a blocked reader, a long handler); `clients`: CLIENT LIST was read; `exists` False:
    no such group."""

    gone: list[Row] = field(default_factory=list)
    deletable: list[bytes] = field(default_factory=list)
    unsure: list[Row] = field(default_factory=list)
    kept: list[Row] = field(default_factory=list)
    clients: bool = False
    exists: bool | None = None


@dataclass(frozen=True, kw_only=True)
class GoneDeleted(ActionResult):
    """`deleted` consumers, and those `skipped` with why."""

    deleted: list[bytes] = field(default_factory=list)
    skipped: list[tuple[bytes, str]] = field(default_factory=list)


async def read_group(ctx: Context, key: bytes, group: bytes) -> tuple[GroupInfo, float]:
    """The group's consumers, position, lag and time lag now, and the server's clock (epoch ms)."""
    groups = await ctx.groups(key)
    found = next((g for g in groups if g.get("name") == group), None)
    if found is None:
        raise LookupError(f"no group '{label(group)}' on '{label(key)}'")
    consumers = parse_consumers(await ctx.client.execute_command("XINFO", "CONSUMERS", key, group))
    position = text(found.get("last-delivered-id")) or "0-0"
    first = parse_entries(await ctx.client.execute_command("XRANGE", key, f"({position}", "+", "COUNT", 1))
    seconds, micros = await ctx.client.execute_command("TIME")
    now_ms = int(seconds) * 1000 + int(micros) / 1000
    server_lag = to_int(found.get("lag"))
    if server_lag is not None:
        lag = Lag(LagSource.EXACT, value=server_lag)
    else:  # at least the entry read, or none
        lag = Lag(LagSource.ESTIMATE, estimate=1 if first else 0, capped=bool(first))
    first_ms = id_ms(first[0][0]) if first else None
    if not first:
        time_lag = TimeLag(TimeLagSource.EXACT, 0)
    elif first_ms is not None and time_based(first_ms, int(now_ms)):
        time_lag = TimeLag(TimeLagSource.EXACT, max(0, int(now_ms) - first_ms))
    else:
        time_lag = TimeLag(TimeLagSource.NOT_TIME)
    info = GroupInfo(
        name=group,
        consumers=len(consumers),
        pending=to_int(found.get("pending")) or 0,
        last_delivered_id=position,
        entries_read=None,
        lag=lag,
        consumer_list=consumers,
        time_lag=time_lag,
    )
    return info, now_ms


async def gone_preview(
    ctx: Context, key: bytes | str, group: bytes | str, gone_after_ms: int | None = None
) -> GonePreview:
    """Which consumers would go (see GonePreview)."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    try:
        info, now_ms = await read_group(ctx, key, group)
    except LookupError as exc:
        return GonePreview(False, str(exc), exists=False)
    except Exception as exc:
        return fail(GonePreview, exc, "gone consumers", key, group)
    limit = gone_after_ms or liveness.GONE_AFTER_MS
    clients = await read_clients(ctx.client) if liveness.needs_clients([info], limit) else None
    states = group_liveness(info, now_ms, limit, clients, server_clock=True)
    rows = [(c.name, c.pending, states[c.name]) for c in info.consumer_list]
    gone: list[Row] = [r for r in rows if r[2].gone is True]
    unsure = [r for r in rows if r[2].gone is None]
    kept = [r for r in rows if r[2].gone is False and r[2].state is not liveness.State.ACTIVE]
    deletable = [name for name, pending, _ in gone if pending == 0]
    held = len(gone) - len(deletable)
    msg = f"{len(deletable)} of {len(info.consumer_list)} consumers are gone and hold no pending entries" + (
        f"; {held} more gone ones hold entries (claim them first)" if held else ""
    )
    if kept:
        msg += f"; {len(kept)} idle but waiting or busy (kept)"
    return GonePreview(
        True, msg, gone=gone, deletable=deletable, unsure=unsure, kept=kept, clients=clients is not None
    )


async def delete_gone(
    ctx: Context,
    key: bytes | str,
    group: bytes | str,
    names: Sequence[bytes],
    min_idle_ms: int | None = None,
) -> GoneDeleted:
    """XGROUP DELCONSUMER each named consumer that still holds nothing and is still idle."""
    key, group = check_name(key, "stream key"), check_name(group, "group")
    if refused := ctx.refusal(GoneDeleted, "delete gone consumers"):
        return refused
    deleted: list[bytes] = []
    skipped: list[tuple[bytes, str]] = []
    for name in names:
        try:
            reply: Reply = await ctx.client.execute_command(
                "EVAL", DELETE_IF_STILL_GONE, 1, key, group, name, min_idle_ms or liveness.GONE_AFTER_MS
            )
        except Exception as exc:
            if not is_lost(exc):
                return fail(GoneDeleted, exc, "delete gone consumers", key, group)
            # The reply was lost: whether this one was deleted is on the server, not in the error.
            present = await _still_there(ctx, key, group, name)
            if present is None:
                return GoneDeleted(
                    False,
                    f"delete gone consumers: the connection dropped after deleting '{label(name)}' was "
                    f"sent ({one_line(exc)}): it may have been deleted; check with XINFO CONSUMERS "
                    f"{label(key)} {label(group)}",
                    deleted=deleted,
                    skipped=skipped,
                    may_have_applied=True,
                    error=str(exc),
                )
            if present:
                skipped.append((name, "the reply was lost and it is still there"))
            else:
                deleted.append(name)
            continue
        code = to_int(reply)
        if code is not None and code in SKIPPED:
            skipped.append((name, SKIPPED[code]))
        else:
            deleted.append(name)
    msg = f"deleted {len(deleted)} gone consumer{'s' if len(deleted) != 1 else ''} of '{label(group)}'"
    if skipped:
        msg += "; kept " + ", ".join(f"'{label(n)}' ({why})" for n, why in skipped)
    return GoneDeleted(True, msg, deleted=deleted, skipped=skipped)


async def _still_there(ctx: Context, key: bytes, group: bytes, name: bytes) -> bool | None:
    """After a lost reply: is the consumer still in the group? None when the server cannot say."""
    got = await ctx.reread(("XINFO", "CONSUMERS", key, group))
    if got is None or isinstance(got[0], Exception):
        return None
    return any(c.name == name for c in parse_consumers(got[0]))
