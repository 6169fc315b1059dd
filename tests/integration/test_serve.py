"""`streamtop serve` against real servers: every scrape is parsed with prometheus_client's own
parser and compared with what XINFO says, read by redis-py at the same time."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading

import pytest
import redis

from streamtop.embedded import ClusterProcess
from streamtop.pipeline.connection import build_spec
from streamtop.pipeline.health import Verdict
from streamtop.pipeline.model import unlabel
from streamtop.serve.metrics import label_value
from tests.support.processes import stopped
from tests.support.scrape import Scrape, Served
from tests.support.waiting import until

STREAM_LABELS = frozenset({"db", "stream"})
GROUP_LABELS = frozenset({"db", "stream", "group"})
CONSUMER_LABELS = frozenset({"db", "stream", "group", "consumer"})
REDIS_EXPORTER = {
    "redis_stream_length": STREAM_LABELS,
    "redis_stream_groups": STREAM_LABELS,
    "redis_stream_group_consumers": GROUP_LABELS,
    "redis_stream_group_messages_pending": GROUP_LABELS,
    "redis_stream_group_lag": GROUP_LABELS,
    "redis_stream_group_consumer_messages_pending": CONSUMER_LABELS,
    "redis_stream_group_consumer_idle_seconds": CONSUMER_LABELS,
}


def _arrange(r: redis.Redis) -> None:
    """Two streams: `orders` with a busy group and an unread one, `events` with an XDEL after
    the group's position (7.0+ then says lag NULL: it cannot tell how many entries remain)."""
    for i in range(6):
        r.xadd("orders", {"n": i})
    r.xgroup_create("orders", "workers", "0")
    r.xgroup_create("orders", "audit", "0")
    got = r.xreadgroup("workers", "c1", {"orders": ">"}, count=4)
    r.xack("orders", "workers", got[0][1][0][0])
    r.xreadgroup("workers", "c2", {"orders": ">"}, count=1)
    ids = [r.xadd("events", {"n": i}) for i in range(5)]
    r.xgroup_create("events", "late", "0")
    r.xreadgroup("late", "c1", {"events": ">"}, count=1)
    r.xdel("events", ids[3])


def _proven_lag(info: dict, g: dict) -> int | None:
    """What the stream itself proves of a group's lag: its length when the group is below the first
    entry, 0 when at or past the last (streamtop.pipeline.model.entries_after_bound)."""
    pos = tuple(int(x) for x in g["last-delivered-id"].split(b"-"))
    first, last = (tuple(int(x) for x in e[0].split(b"-")) for e in (info["first-entry"], info["last-entry"]))
    return info["length"] if pos < first else 0 if pos >= last else None


def _consumer_idles(r: redis.Redis) -> dict[tuple[str, str, str], int]:
    out = {}
    for key in ("orders", "events"):
        for g in r.xinfo_groups(key):
            for c in r.xinfo_consumers(key, g["name"]):
                out[(key, g["name"].decode(), c["name"].decode())] = c["idle"]
    return out


async def test_a_scrape_matches_xinfo_names_labels_values_and_an_unknown_lag_is_absent(any_server, any_r):
    """Redis 6.2 has no lag field: every redis_stream_group_lag is absent there and the estimate
    carries the count. On 7.0+ `events`/`late` has lag NULL after the XDEL: absent too, where
    redis_exporter would say 0."""
    _arrange(any_r)
    served = Served.on(any_server)
    try:
        before = _consumer_idles(any_r)
        snap = await served.poll()
        after = _consumer_idles(any_r)
        page = served.scrape()
    finally:
        await served.close()
    assert snap is not None and snap.round_trips >= 1
    assert page.value("streamtop_up") == 1
    for name, label_set in REDIS_EXPORTER.items():
        assert page.label_names.get(name, set()) <= {label_set}, name
    nulls = 0
    for key in ("orders", "events"):
        info = any_r.xinfo_stream(key)
        assert page.value("redis_stream_length", db="db0", stream=key) == info["length"]
        assert page.value("redis_stream_groups", db="db0", stream=key) == info["groups"]
        for g in any_r.xinfo_groups(key):
            name = g["name"].decode()
            at = {"db": "db0", "stream": key, "group": name}
            assert page.value("redis_stream_group_consumers", **at) == g["consumers"]
            assert page.value("redis_stream_group_messages_pending", **at) == g["pending"]
            lag = g.get("lag")  # missing on 6.2, None when the server says NULL
            if lag is None and (proven := _proven_lag(info, g)) is not None:
                lag = proven  # the stream says it exactly (below its first entry, or past its last)
            estimate = page.value("streamtop_stream_group_lag_estimate", **at)
            if lag is None:
                nulls += 1
                assert page.value("redis_stream_group_lag", **at) is None, (key, name)
                assert page.value("streamtop_stream_group_lag_is_estimate", **at) == 1
                # the count of entries after last-delivered-id, as XRANGE gives it
                start = "(" + g["last-delivered-id"].decode()
                assert estimate == len(any_r.xrange(key, start, "+"))
            else:
                assert page.value("redis_stream_group_lag", **at) == lag
                assert estimate == lag
                assert page.value("streamtop_stream_group_lag_is_estimate", **at) == 0
            verdict = served.monitor.history.health(key.encode(), g["name"]).verdict
            shown = {v for v in Verdict if page.value("streamtop_stream_group_health", **at, verdict=str(v))}
            assert shown == {verdict}
            for c in any_r.xinfo_consumers(key, g["name"]):
                cat = {**at, "consumer": c["name"].decode()}
                assert page.value("redis_stream_group_consumer_messages_pending", **cat) == c["pending"]
                idle_ms = page.value("redis_stream_group_consumer_idle_seconds", **cat) * 1000
                k = (key, name, c["name"].decode())
                assert before[k] <= round(idle_ms) <= after[k]
    assert nulls >= (1 if "lag" in any_r.xinfo_groups("orders")[0] else 2)  # 6.2: audit is exact


async def test_a_stream_key_with_newline_quote_and_backslash_round_trips(server, r):
    """Names are label values: escaped in the exposition by prometheus_client, read back whole."""
    key, group, consumer = 'we"ird\\key\nline2 {x="1"}', 'g"\\\n', 'c\n\\"1'
    r.xadd(key, {"f": "v"})
    r.xgroup_create(key, group, "0")
    r.xreadgroup(group, consumer, {key: ">"})
    served = Served.on(server)
    try:
        await served.poll()
        text = served.scrape_text()
    finally:
        await served.close()
    page = Scrape.parse(text)
    # a backslash is doubled first (model.label's one rule: issue 24), then the text format's own
    # escapes round-trip; unlabel gives the exact name back
    key, group, consumer = (label_value(n.encode()) for n in (key, group, consumer))
    assert unlabel(key) == b'we"ird\\key\nline2 {x="1"}'
    assert page.value("redis_stream_length", db="db0", stream=key) == 1
    at = {"db": "db0", "stream": key, "group": group, "consumer": consumer}
    assert page.value("redis_stream_group_consumer_messages_pending", **at) == 1
    assert not any(line.startswith("line2") for line in text.splitlines())


def _calls(r: redis.Redis) -> dict[str, int]:
    """Calls per command (XINFO's subcommands summed as `xinfo`), from INFO commandstats."""
    out: dict[str, int] = {}
    for name, s in r.info("commandstats").items():
        base = name.removeprefix("cmdstat_").split("|")[0]
        out[base] = out.get(base, 0) + s["calls"]
    return out


async def test_fifty_concurrent_scrapes_cost_no_command_one_poll_costs_one_round_trip(server, r):
    """INFO commandstats before and after: 50 scrapes at once send nothing to the server; each
    poll sends the same XINFO calls in one round trip, whatever the number of scrapers."""
    for s in range(20):
        for i in range(3):
            r.xadd(f"s{s}", {"i": i})
        r.xgroup_create(f"s{s}", "g", "0")
        r.xreadgroup("g", "c", {f"s{s}": ">"}, count=1)
    served = Served.on(server)
    try:
        await served.poll()  # discovery and the groups' first round trip
        c0 = _calls(r)
        snap = await served.poll()
        c1 = _calls(r)
        pages: list[str] = []
        errors: list[BaseException] = []

        def scrape() -> None:
            try:
                pages.append(served.scrape_text())
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=scrape) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        c2 = _calls(r)
        await served.poll()
        c3 = _calls(r)
    finally:
        await served.close()
    assert not errors and len(pages) == 50 and len(set(pages)) == 1
    assert snap.round_trips == 1
    per_poll = c1["xinfo"] - c0["xinfo"]
    assert per_poll == 20 * 3  # XINFO STREAM, GROUPS, CONSUMERS per stream
    # the scrapes: no command at all (the test's own INFO calls apart)
    assert {k: v - c1.get(k, 0) for k, v in c2.items() if k != "info" and v != c1.get(k, 0)} == {}
    assert c3["xinfo"] - c2["xinfo"] == per_poll
    assert Scrape.parse(pages[0]).value("streamtop_poll_round_trips") == 1


async def test_serve_reads_every_stream_in_full_and_stretches_its_interval_to_the_budget(server, r):
    """No screen in serve: every stream in full each poll (consumers of all 30 exported), and a
    budget the polls exceed stretches the period between polls, on the page too (issue 17)."""
    for s in range(30):
        r.xadd(f"s{s}", {"i": 1})
        r.xgroup_create(f"s{s}", "g", "0")
        r.xreadgroup("g", f"c{s}", {f"s{s}": ">"})
    roomy, tight = Served.on(server, interval=1.0), Served.on(server, interval=1.0, max_server_load=0.001)
    try:
        for _ in range(3):  # discovery, the groups' first read, then measured polls
            await roomy.poll()
            await tight.poll()
        free, held = roomy.scrape(), tight.scrape()
        assert roomy.monitor.poll_delay() == 1.0
        assert tight.monitor.poll_delay() > 1.0
    finally:
        await roomy.close()
        await tight.close()
    for page in (free, held):
        consumers = page.samples["redis_stream_group_consumer_messages_pending"]
        assert len(consumers) == 30 and set(consumers.values()) == {1}
        assert page.value("streamtop_server_load_ratio") > 0
    assert free.value("streamtop_poll_period_seconds") == 1.0
    assert held.value("streamtop_poll_period_seconds") > 1.0
    assert held.value("streamtop_server_load_budget_ratio") == pytest.approx(0.00001)


async def test_a_server_that_stops_answering_is_up_0_and_its_streams_absent(own_server):
    rc = redis.Redis(host=own_server.host, port=own_server.port)
    rc.xadd("s", {"f": "v"})
    rc.close()
    served = Served.on(own_server)
    try:
        await served.poll()
        live = served.scrape()
        own_server.stop()
        await served.poll()
        down = served.scrape()
    finally:
        await served.close()
    assert live.value("streamtop_up") == 1 and live.value("redis_stream_length", db="db0", stream="s") == 1
    assert down.value("streamtop_up") == 0
    assert down.value("streamtop_poll_failures_total") == 1
    assert not any(n.startswith("redis_stream") or n.startswith("streamtop_stream") for n in down.names())


async def test_pending_entries_without_data_are_counted_exactly_or_absent(server, r):
    """Trimmed pending entries are counted (one bounded XPENDING in one more round trip when a
    group holds entries on both sides of the first entry); after an XDEL in the stream the count
    is not exact any more, and the metric is absent."""
    ids = [r.xadd("s", {"n": i}) for i in range(10)]
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c", {"s": ">"})  # 10 pending
    r.xgroup_create("s", "none", "$")  # nothing pending
    r.xtrim("s", maxlen=6, approximate=False)  # 4 pending entries lose their data
    served = Served.on(server)
    try:
        snap = await served.poll()
        await served.poll()
        page = served.scrape()
        r.xdel("s", ids[8])
        await served.poll()
        after_xdel = served.scrape()
    finally:
        await served.close()
    at = {"db": "db0", "stream": "s"}
    assert page.value("streamtop_stream_group_pending_without_data", **at, group="g") == 4
    assert page.value("streamtop_stream_group_pending_without_data", **at, group="none") == 0
    assert page.value("streamtop_poll_round_trips") == 2  # the poll + the bounded count
    assert snap is not None
    assert after_xdel.value("streamtop_stream_group_pending_without_data", **at, group="g") is None
    assert after_xdel.value("streamtop_stream_group_pending_without_data", **at, group="none") == 0


@pytest.mark.slow
async def test_a_cluster_exports_every_primary_with_a_node_label():
    """Three primaries: each stream once, labelled with the address of the node that holds it."""
    with ClusterProcess() as cluster:
        rc = redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port)
        keys = [f"s{i}" for i in range(12)]
        for k in keys:
            rc.xadd(k, {"f": "v"})
            rc.xgroup_create(k, "g", "0")
        owners = {k: rc.get_node_from_key(k) for k in keys}
        rc.close()
        served = Served(build_spec(url=cluster.url, cluster=True))
        try:
            await served.poll()
            page = served.scrape()
        finally:
            await served.close()
    nodes = {f"127.0.0.1:{n.port}" for n in cluster.nodes}
    assert {dict(lbl)["node"] for lbl in page.samples["streamtop_node_up"]} == nodes
    assert set(page.samples["streamtop_node_up"].values()) == {1}
    for k in keys:
        node = f"127.0.0.1:{owners[k].port}"
        assert page.value("redis_stream_length", db="db0", stream=k, node=node) == 1
        assert page.value("redis_stream_group_lag", db="db0", stream=k, group="g", node=node) == 1
    assert len(page.samples["redis_stream_length"]) == len(keys)
    assert len({dict(lbl)["node"] for lbl in page.samples["redis_stream_length"]}) > 1


async def test_a_hung_server_is_up_0_while_the_poll_waits_and_up_again_after(own_server):
    """SIGSTOP: the poll in flight raises nothing for up to 30 s, so a scrape looks at how long
    it has waited (the hung-server rule, here shortened to 0.3 s) and serves the down set."""
    rc = redis.Redis(host=own_server.host, port=own_server.port)
    rc.xadd("s", {"f": "v"})
    rc.close()
    served = Served.on(own_server, answer_timeout=0.3)
    try:
        await served.poll()
        with stopped(own_server):
            hung = asyncio.ensure_future(served.poll())
            await until(None, lambda: served.monitor.not_answering_for() is not None, "not answering")
            down = served.scrape()
        await hung
        back = served.scrape()
    finally:
        await served.close()
    assert down.value("streamtop_up") == 0
    assert "redis_stream_length" not in down.names()
    assert back.value("streamtop_up") == 1 and back.value("redis_stream_length", db="db0", stream="s") == 1


async def test_a_scraper_that_accepts_gzip_gets_the_same_page_gzipped(server, r):
    """Prometheus asks for gzip: the page is compressed once per poll and reads back the same."""
    import gzip
    import urllib.request

    r.xadd("s", {"f": "v"})
    served = Served.on(server)
    try:
        await served.poll()
        plain = served.scrape_text()
        req = urllib.request.Request(served.url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            encoding = resp.headers.get("Content-Encoding")
            content_type = resp.headers.get("Content-Type")
            body = resp.read()
    finally:
        await served.close()
    assert encoding == "gzip" and content_type.startswith("text/plain; version=0.0.4")
    assert gzip.decompress(body).decode() == plain
    assert Scrape.parse(plain).value("redis_stream_length", db="db0", stream="s") == 1


def _many_streams(r: redis.Redis, n: int) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.xadd(f"s:{i:05d}", {"n": 1})
    pipe.execute()


async def test_every_stream_is_exported_by_default(server, r):
    """issue 25: 2,001 streams used to export 1,000 (--max-streams' default, an arbitrary 1,000,
    nothing said). Now every stream has its redis_stream_length series, and nothing is capped."""
    _many_streams(r, 2001)
    served = Served.on(server)
    try:
        await served.poll()
        page = served.scrape()
    finally:
        await served.close()
    said = (served.monitor.failures, served.monitor.error, served.logged)  # a failed poll says why
    assert len(page.samples["redis_stream_length"]) == 2001, said
    assert page.value("streamtop_streams_capped") == 0 and served.logged == []


async def test_a_cap_keeps_the_largest_lag_and_says_how_many_were_left_out(server, r):
    """--max-streams 2 of 5 streams: the two with the largest lag are exported (the same two every
    poll), and one line says 3 were left out; nothing more is said while that stays so."""
    for i, unread in enumerate([1, 7, 3, 9, 2]):
        key = f"q:{i}"
        for _ in range(unread):
            r.xadd(key, {"n": 1})
        r.xgroup_create(key, "g", "0")
    served = Served.on(server, cap=2)
    try:
        await served.poll()
        page = served.scrape()
        await served.poll()
        again = served.scrape()
    finally:
        await served.close()
    exported = {dict(k)["stream"] for k in page.samples["redis_stream_length"]}
    assert exported == {"q:1", "q:3"}
    assert {dict(k)["stream"] for k in again.samples["redis_stream_length"]} == exported
    assert page.value("streamtop_streams_capped") == 1
    assert len(served.logged) == 1 and "3 left out" in served.logged[0] and "of 5" in served.logged[0]


def _get(port: int, host: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", "/metrics", skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


async def test_a_foreign_host_is_refused_as_web_does(server, r):
    """issue 24: serve answered any Host, so a page on another site whose name points at
    127.0.0.1 (DNS rebinding) could read every stream name through a visitor's browser."""
    r.xadd("secret:orders", {"n": 1})
    served = Served.on(server)
    try:
        await served.poll()
        port = served.httpd.server_port
        status, body = _get(port, f"rebind.example:{port}")
        assert status == 403 and b"secret:orders" not in body and b"not served here" in body
        for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            status, body = _get(port, host)
            assert status == 200 and b"secret:orders" in body, host
    finally:
        await served.close()


@pytest.mark.slow
async def test_300_slow_clients_make_no_thread_and_scrapes_go_on(server, r, monkeypatch):
    """issue 24: one thread per connection made 300 threads for 300 clients that send half a
    request; and none was ever timed out. Now they cost no thread, a scrape is answered meanwhile,
    and each is closed once its request has not arrived in time."""
    from streamtop.serve import http as metrics_http

    monkeypatch.setattr(metrics_http, "REQUEST_TIMEOUT", 1.0)
    r.xadd("orders", {"n": 1})
    served = Served.on(server)
    slow: list[socket.socket] = []
    try:
        await served.poll()
        threads = threading.active_count()
        for _ in range(300):
            s = socket.create_connection(("127.0.0.1", served.httpd.server_port))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            slow.append(s)
        page = await asyncio.to_thread(served.scrape)
        assert page.value("redis_stream_length", db="db0", stream="orders") == 1
        assert threading.active_count() <= threads + 2  # the scrape's own to_thread worker

        def closed(s: socket.socket) -> bool:
            s.settimeout(30)
            return s.recv(1) == b""

        assert all(await asyncio.to_thread(lambda: [closed(s) for s in slow]))
    finally:
        for s in slow:
            s.close()
        await served.close()


async def test_long_names_are_capped_in_labels_and_stay_distinct(server, r):
    """issue 24: two 1 MB keys made a 131 MB page. Now a label holds the name's first 200
    characters and a hash of the whole, so two keys with the same head are still two series."""
    head = b"k" * 1_000_000
    for key in (head + b"a", head + b"b"):
        r.xadd(key, {"n": 1})
    served = Served.on(server)
    try:
        await served.poll()
        text = served.scrape_text()
        page = Scrape.parse(text)
    finally:
        await served.close()
    streams = {dict(k)["stream"] for k in page.samples["redis_stream_length"]}
    assert len(streams) == 2
    assert all(len(s) <= 220 and s.startswith("k" * 200 + "…#") for s in streams)
    assert len(text) < 100_000
