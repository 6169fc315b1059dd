"""One poll (Snapshot + History + health verdicts) -> Prometheus metric families.

Pure: no Redis, no clock, no HTTP. The names and label sets of redis_exporter's stream metrics are
kept (`redis_stream_*`, labels db, stream, group, consumer; its exporter/streams.go), so existing
Grafana dashboards, alerts and KEDA triggers work unchanged, with one deliberate difference: a lag
the server cannot tell (NULL on 7.0+, no field on 6.2) is ABSENT from `redis_stream_group_lag`,
where redis_exporter reports 0 and so fires no alert exactly when a group is lost. The estimate
goes to `streamtop_stream_group_lag_estimate`, flagged by `streamtop_stream_group_lag_is_estimate`.
Everything redis_exporter lacks is prefixed `streamtop_`. Any value streamtop does not know is
absent, never 0. In a cluster every series also has a `node` label (the primary's address).

Label values are the server's names in model.label's one form (UTF-8 text, a backslash doubled,
invalid bytes as `\\xNN`): data, never markup; exposition.py escapes backslash, quote and newline
as the text format says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from streamtop.pipeline.history import History
from streamtop.pipeline.model import LagSource, NodeStatus, Snapshot, StreamInfo, TimeLagSource, id_ms, label

from .exposition import Family

# Which families a page carries (issue 29: a page no larger than redis_exporter's for the same data).
# DEFAULT: what dashboards and alerts need, stream and group level; CONSUMERS (--consumer-metrics):
# one series per consumer and family, the bulk of a page (redis_exporter has them on by default,
# and -streams-exclude-consumer-metrics in its later versions); DETAIL (--detail-metrics): the
# rest, each derivable or rarely graphed. A family not named here is the exporter's own (always).
DEFAULT, CONSUMERS, DETAIL = "default", "consumers", "detail"
ALL_TIERS = frozenset({DEFAULT, CONSUMERS, DETAIL})
LEAN = frozenset({DEFAULT})
TIER = {
    "redis_stream_length": DEFAULT,
    "redis_stream_groups": DEFAULT,
    "redis_stream_last_generated_id": DEFAULT,
    "streamtop_stream_entries_added": DEFAULT,
    "redis_stream_group_consumers": DEFAULT,
    "redis_stream_group_messages_pending": DEFAULT,
    "redis_stream_group_lag": DEFAULT,
    "streamtop_stream_group_lag_estimate": DEFAULT,
    "streamtop_stream_group_time_lag_seconds": DEFAULT,
    "streamtop_stream_group_health": DEFAULT,
    "redis_stream_group_consumer_messages_pending": CONSUMERS,
    "redis_stream_group_consumer_idle_seconds": CONSUMERS,
    "streamtop_stream_group_consumer_inactive_seconds": CONSUMERS,
    "redis_stream_radix_tree_keys": DETAIL,
    "redis_stream_radix_tree_nodes": DETAIL,
    "redis_stream_first_entry_id": DETAIL,
    "redis_stream_last_entry_id": DETAIL,
    "redis_stream_max_deleted_entry_id": DETAIL,
    "streamtop_stream_added_per_second": DETAIL,
    "redis_stream_group_last_delivered_id": DETAIL,
    "redis_stream_group_entries_read": DETAIL,
    "streamtop_stream_group_lag_is_estimate": DETAIL,
    "streamtop_stream_group_lag_is_lower_bound": DETAIL,
    "streamtop_stream_group_read_per_second": DETAIL,
    "streamtop_stream_group_oldest_pending_age_seconds": DETAIL,
    "streamtop_stream_group_oldest_pending_idle_seconds": DETAIL,
    "streamtop_stream_group_pending_without_data": DETAIL,
}


def tiers_from(consumer_metrics: bool, detail_metrics: bool) -> frozenset[str]:
    """The families --consumer-metrics and --detail-metrics ask for, besides the default ones."""
    return LEAN | ({CONSUMERS} if consumer_metrics else set()) | ({DETAIL} if detail_metrics else set())


STREAM = ("db", "stream")
GROUP = (*STREAM, "group")
CONSUMER = (*GROUP, "consumer")


def label_value(name: bytes) -> str:
    """A key or name as a label value: model.label's one unambiguous form (a backslash doubled,
    invalid UTF-8 and controls as \\xNN, C1 and bidi as \\uNNNN), so two names never share a
    series and `curl /metrics` in a terminal never runs an escape sequence from a key. Newlines
    stay: the text format writes them as \\n (and quotes and backslashes escaped once more).
    Capped at LABEL_LIMIT characters (`capped`)."""
    head = 4 * LABEL_LIMIT + 8  # bytes that decode to more than LABEL_LIMIT characters, whatever
    # they hold: only the head of a long name is decoded (a 1 MB name costs what a short one does)
    return capped(name, label(name[:head] if len(name) > head else name, keep_newlines=True))


LABEL_LIMIT = 200  # characters of a name in a label; a 1 MB key made a 131 MB page
_HASH_HEX = 16  # hex digits of the name's hash after a cut


def capped(name: bytes, shown: str) -> str:
    """`shown` (the escaped name) whole when it fits in LABEL_LIMIT characters; else its first
    LABEL_LIMIT characters, "…#" and 16 hex digits of a hash of the whole name: two long names
    with the same head stay two series, and a cut label is longer than any uncut one, so it
    never reads as a real, shorter name."""
    if len(shown) <= LABEL_LIMIT:
        return shown
    digest = hashlib.blake2b(name, digest_size=_HASH_HEX // 2).hexdigest()
    return f"{shown[:LABEL_LIMIT]}…#{digest}"


@dataclass(frozen=True, slots=True)
class PollStats:
    """The exporter's own figures, beside the snapshot."""

    up: bool  # the last poll reached the server (in a cluster: at least one primary)
    polls: int = 0  # successful polls since start
    failures: int = 0  # failed polls since start
    duration_s: float | None = None  # the last successful poll
    round_trips: int | None = None  # of the last successful poll (collector + without-data count)
    last_success: float | None = None  # epoch seconds
    without_data: dict[tuple[bytes, bytes], int] = field(default_factory=dict)  # exact counts only


class Families:
    """Families by name, created on first use so a family with no sample is not emitted (an
    empty family would still print its HELP and TYPE). In a cluster, every series of a stream
    gets the `node` label last."""

    def __init__(self, cluster: bool, tiers: frozenset[str] = ALL_TIERS) -> None:
        self.cluster = cluster
        self.tiers = tiers
        self._families: dict[str, Family] = {}

    def add(
        self,
        name: str,
        doc: str,
        labels: tuple[str, ...],
        values: tuple[str, ...],
        value: float | bool | None,
        node: str | None = None,
        counter: bool = False,
    ) -> None:
        """One sample; a None value is left out (unknown is absent, never 0), and so is a family
        of a tier the page does not carry."""
        if value is None or TIER.get(name, DEFAULT) not in self.tiers:
            return
        by_node = self.cluster and bool(labels) and labels[0] == "db"
        fam = self._families.get(name)
        if fam is None:
            fam = self._families[name] = Family(name, doc, (*labels, "node") if by_node else labels, counter)
        fam.samples.append(((*values, node or "") if by_node else values, float(value)))

    def wants(self, name: str) -> bool:
        return TIER.get(name, DEFAULT) in self.tiers

    def __iter__(self) -> Iterator[Family]:
        return iter(self._families.values())


def _id_ms(entry_id: str | None) -> int | None:
    return id_ms(entry_id)


def _stream(f: Families, db: str, s: StreamInfo, history: History) -> None:
    sl = (db, label_value(s.key))
    node = s.node
    f.add("redis_stream_length", "Number of entries in the stream (XLEN)", STREAM, sl, s.length, node)
    f.add("redis_stream_groups", "Consumer groups of the stream", STREAM, sl, len(s.groups), node)
    f.add(
        "redis_stream_radix_tree_keys", "Radix tree keys of the stream", STREAM, sl, s.radix_tree_keys, node
    )
    f.add(
        "redis_stream_radix_tree_nodes",
        "Radix tree nodes of the stream",
        STREAM,
        sl,
        s.radix_tree_nodes,
        node,
    )
    f.add(
        "redis_stream_last_generated_id",
        "The ms part of the stream's last-generated-id",
        STREAM,
        sl,
        _id_ms(s.last_generated_id),
        node,
    )
    f.add(
        "redis_stream_first_entry_id",
        "The ms part of the stream's first entry ID (absent when empty)",
        STREAM,
        sl,
        _id_ms(s.first_entry_id),
        node,
    )
    f.add(
        "redis_stream_last_entry_id",
        "The ms part of the stream's last entry ID (absent when empty)",
        STREAM,
        sl,
        _id_ms(s.last_entry_id),
        node,
    )
    f.add(
        "redis_stream_max_deleted_entry_id",
        "The ms part of the stream's max-deleted-entry-id (7.0+)",
        STREAM,
        sl,
        _id_ms(s.max_deleted_entry_id),
        node,
    )
    f.add(
        "streamtop_stream_entries_added",
        "Entries ever added to the stream (XINFO STREAM entries-added, 7.0+)",
        STREAM,
        sl,
        s.entries_added,
        node,
        counter=True,
    )
    f.add(
        "streamtop_stream_added_per_second",
        "Entries added per second between the last two polls",
        STREAM,
        sl,
        history.stream_rate(s.key) if f.wants("streamtop_stream_added_per_second") else None,
        node,
    )


def _groups(f: Families, db: str, s: StreamInfo, history: History, stats: PollStats) -> None:
    node = s.node
    for g in s.groups:
        gl = (db, label_value(s.key), label_value(g.name))
        f.add("redis_stream_group_consumers", "Consumers in the group", GROUP, gl, g.consumers, node)
        f.add(
            "redis_stream_group_messages_pending",
            "Entries delivered to the group and not acknowledged (its PEL)",
            GROUP,
            gl,
            g.pending,
            node,
        )
        f.add(
            "redis_stream_group_last_delivered_id",
            "The ms part of the group's last-delivered-id",
            GROUP,
            gl,
            _id_ms(g.last_delivered_id),
            node,
        )
        f.add(
            "redis_stream_group_entries_read",
            "Entries the group has read (7.0+; absent when the server does not say)",
            GROUP,
            gl,
            g.entries_read,
            node,
        )
        lag = g.lag
        f.add(
            "redis_stream_group_lag",
            "Entries not yet delivered to the group, as the server counts them; ABSENT when the "
            "server cannot tell (NULL, or Redis 6.2): see streamtop_stream_group_lag_estimate",
            GROUP,
            gl,
            lag.value if lag.source is LagSource.EXACT else None,
            node,
        )
        best = lag.best
        f.add(
            "streamtop_stream_group_lag_estimate",
            "Entries not yet delivered: the server's lag, else streamtop's bounded XRANGE count "
            "(absent when neither is known)",
            GROUP,
            gl,
            best,
            node,
        )
        if best is not None:
            estimated = lag.source is not LagSource.EXACT
            f.add(
                "streamtop_stream_group_lag_is_estimate",
                "1 when streamtop_stream_group_lag_estimate was counted by streamtop, 0 when exact",
                GROUP,
                gl,
                1 if estimated else 0,
                node,
            )
            f.add(
                "streamtop_stream_group_lag_is_lower_bound",
                "1 when the count stopped at its cap: the lag is at least the estimate",
                GROUP,
                gl,
                1 if estimated and lag.capped else 0,
                node,
            )
        f.add(
            "streamtop_stream_group_read_per_second",
            "Entries the group read per second between the last two polls (7.0+)",
            GROUP,
            gl,
            history.group_rate(s.key, g.name) if f.wants("streamtop_stream_group_read_per_second") else None,
            node,
        )
        tl = g.time_lag
        f.add(
            "streamtop_stream_group_time_lag_seconds",
            "Age of the oldest entry not yet delivered to the group (0: caught up); absent unless exact",
            GROUP,
            gl,
            tl.ms / 1000 if tl.source is TimeLagSource.EXACT and tl.ms is not None else None,
            node,
        )
        f.add(
            "streamtop_stream_group_oldest_pending_age_seconds",
            "Since the oldest pending entry was added (from its ID)",
            GROUP,
            gl,
            None if g.oldest_pending_age_ms is None else g.oldest_pending_age_ms / 1000,
            node,
        )
        idle = g.oldest_pending_idle_ms
        f.add(
            "streamtop_stream_group_oldest_pending_idle_seconds",
            "Since the oldest pending entry was last delivered",
            GROUP,
            gl,
            None if idle is None else idle / 1000,
            node,
        )
        f.add(
            "streamtop_stream_group_pending_without_data",
            "Pending entries whose data is gone (trimmed away); absent when not known exactly",
            GROUP,
            gl,
            stats.without_data.get((s.key, g.name)),
            node,
        )
        f.add(
            "streamtop_stream_group_health",
            "The group's health verdict over the window, as the `verdict` label (value 1): ok, "
            "falling_behind, stalled, stopped, stuck, idle or unknown",
            (*GROUP, "verdict"),
            (*gl, str(history.health(s.key, g.name).verdict)),
            1,
            node,
        )
        if CONSUMERS not in f.tiers:
            continue
        for c in g.consumer_list:
            cl = (*gl, label_value(c.name))
            f.add(
                "redis_stream_group_consumer_messages_pending",
                "Pending entries the consumer holds",
                CONSUMER,
                cl,
                c.pending,
                node,
            )
            f.add(
                "redis_stream_group_consumer_idle_seconds",
                "Since the consumer's last attempted interaction (XINFO CONSUMERS idle)",
                CONSUMER,
                cl,
                c.idle_ms / 1000,
                node,
            )
            f.add(
                "streamtop_stream_group_consumer_inactive_seconds",
                "Since the consumer's last successful read or claim (7.2+; absent if never)",
                CONSUMER,
                cl,
                c.inactive_ms / 1000 if c.inactive_ms is not None and c.inactive_ms >= 0 else None,
                node,
            )


def _nodes(f: Families, nodes: tuple[NodeStatus, ...]) -> None:
    for n in nodes:
        f.add(
            "streamtop_node_up",
            "1 when the cluster primary answered the last poll",
            ("node",),
            (n.address,),
            n.ok,
        )


def families(
    snap: Snapshot | None, history: History, db: int, stats: PollStats, tiers: frozenset[str] = ALL_TIERS
) -> list[Family]:
    """The families of one poll that `tiers` ask for (TIER). With `stats.up` false, or no
    snapshot yet, only the exporter's own figures: the stream metrics are absent, so no stale
    value looks current."""
    cluster = snap is not None and snap.server.mode == "cluster"
    f = Families(cluster, tiers)
    up = stats.up and not (snap is not None and snap.unreadable)  # answers, but no stream can be read
    f.add("streamtop_up", "1 when the last poll read the server, else 0", (), (), 1 if up else 0)
    f.add("streamtop_polls", "Successful polls since the exporter started", (), (), stats.polls, counter=True)
    f.add(
        "streamtop_poll_failures",
        "Failed polls since the exporter started",
        (),
        (),
        stats.failures,
        counter=True,
    )
    f.add(
        "streamtop_last_poll_success_timestamp_seconds",
        "When the last successful poll ended (epoch seconds)",
        (),
        (),
        stats.last_success,
    )
    if not stats.up or snap is None:
        return list(f)
    f.add("streamtop_poll_duration_seconds", "Time the last poll took", (), (), stats.duration_s)
    f.add(
        "streamtop_poll_round_trips",
        "Round trips of the last poll (discovery SCANs apart)",
        (),
        (),
        stats.round_trips,
    )
    f.add(
        "streamtop_poll_discovery_round_trips",
        "SCAN calls the last poll made for discovery",
        (),
        (),
        snap.discovery_round_trips,
    )
    f.add("streamtop_streams", "Streams exported", (), (), len(snap.streams))
    f.add(
        "streamtop_streams_capped",
        "1 when --max-streams left streams out (stderr says how many; the largest lag is kept)",
        (),
        (),
        1 if snap.discovery.capped else 0,
    )
    cost = snap.cost
    if cost is not None:
        f.add(
            "streamtop_server_load_ratio",
            "Measured share of the server's time the polls take (0.008 is 0.8 %); absent until measured",
            (),
            (),
            cost.load,
        )
        f.add("streamtop_server_load_budget_ratio", "--max-server-load as a ratio", (), (), cost.budget)
        f.add(
            "streamtop_poll_period_seconds",
            "Least seconds between polls (scrapes pace them): --interval, or longer when the server "
            "budget stretched it",
            (),
            (),
            cost.visible_period,
        )
    _nodes(f, snap.nodes)
    if cluster:
        f.add(
            "streamtop_cluster_slots_uncovered",
            "Hash slots no answering primary serves: unassigned, refused with CLUSTERDOWN, or a"
            " primary's that is down",
            (),
            (),
            snap.unserved_slots,
        )
    dbl = f"db{db}"
    for s in snap.streams:
        if s.error is not None or s.stale:  # unreadable, or its node did not answer: absent
            continue
        _stream(f, dbl, s, history)
        _groups(f, dbl, s, history, stats)
    return list(f)
