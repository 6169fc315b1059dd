"""One poll for everyone watching (issue 31): a dashboard attached to a hub shows what a direct one
shows, panel by panel, at the same moment; the hub killed and restarted turns it stale, then live;
N viewers of one focus page cost one read; the token and the entry bodies are guarded."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import socket
import threading
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from rich.console import Console

from streamtop.hub.attach import READ_ONLY_REASON, AttachedMonitor, HubSource, HubTrouble
from streamtop.hub.document import focus_query
from streamtop.monitor import Monitor, State
from streamtop.options import SessionOptions
from streamtop.pipeline.connection import build_spec
from streamtop.pipeline.model import Focus
from streamtop.pipeline.source import ListSource
from streamtop.ui.app import StreamtopApp
from streamtop.ui.entry_screen import EntryScreen
from streamtop.ui.header import header_text
from tests.support.hub import FAST, HubServed, live_attached
from tests.support.ui import SIZE, plain
from tests.support.waiting import until

TABLES = ("streams-table", "groups-table", "consumers-table", "pending-table", "messages-table")


def _arrange(r) -> None:
    for i in range(6):
        r.xadd("orders", {"n": i, "body": "x" * i})
    r.xgroup_create("orders", "billing", "0")
    r.xgroup_create("orders", "audit", "0")
    got = r.xreadgroup("billing", "c1", {"orders": ">"}, count=4)
    r.xack("orders", "billing", got[0][1][0][0])
    r.xreadgroup("billing", "c2", {"orders": ">"}, count=1)
    ids = [r.xadd(b"ev\xffents", {"n": i}) for i in range(5)]
    r.xgroup_create(b"ev\xffents", "late", "0")
    r.xreadgroup("late", "c1", {b"ev\xffents": ">"}, count=1)
    r.xdel(b"ev\xffents", ids[3])


def _work(r, step: int) -> None:
    """Between two polls: more entries, some read, some acknowledged."""
    for i in range(3 + step):
        r.xadd("orders", {"n": 100 + i})
    got = r.xreadgroup("billing", f"c{1 + step % 2}", {"orders": ">"}, count=2)
    if got:
        r.xack("orders", "billing", got[0][1][0][0])
    r.xadd(b"ev\xffents", {"n": 50 + step})


def _tables(app: StreamtopApp, skip: dict[str, int] | None = None) -> dict[str, list[list[str]]]:
    out = {}
    for tid in TABLES:
        table = app.w(tid)
        rows = []
        for key in table.row_keys:
            cells = [plain(c) for c in table.cells(key)]
            drop = (skip or {}).get(tid)
            if drop is not None:
                del cells[drop]
            rows.append([key, *cells])
        out[tid] = rows
    return out


def _text(renderable) -> str:
    console = Console(width=200, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def _panel_texts(app: StreamtopApp) -> dict[str, str]:
    return {
        "detail": _text(app.w("detail-fields").content),
        "in-spark": repr(list(app.w("in-spark").data or [])),
        "lag-spark": repr(list(app.w("lag-spark").data or [])),
    }


async def test_every_panel_of_an_attached_dashboard_shows_what_a_direct_one_shows(server, r):
    """Three polls with work in between: after each, the attached dashboard (through HTTP, SSE and
    the hub's focus page) and a dashboard given the same poll and its own focus read show the same
    rows in every table, the same stream detail and sparklines. The pending entries' idle column
    is compared as a number within the gap between the two focus reads (they are two reads)."""
    _arrange(r)
    # the hub polls when the test says: an interval long enough that waiting between two steps is
    # not "not answering" (an attached dashboard then ages what it shows)
    hub = HubServed.on(server, interval=5.0, expose_entries=True)
    attached = StreamtopApp(AttachedMonitor(hub.url, None, FAST))
    direct = StreamtopApp(Monitor.on(ListSource(), FAST))
    own = Monitor(build_spec(url=server.url))
    try:
        async with attached.run_test(size=SIZE) as pa, direct.run_test(size=SIZE) as pd:
            for step in range(3):
                _work(r, step)
                snap = await hub.poll()
                assert snap is not None
                seq = hub.hub.seq
                await until(
                    pa, lambda s=seq: attached.monitor.hub and attached.monitor.hub.seq == s, "the poll"
                )
                # shown, not only received: a select before the rows are in the table is undone by
                # the table's cursor at the next redraw (seen under load)
                await until(
                    pa,
                    lambda t=snap.taken_at: attached.snapshot is not None and attached.snapshot.taken_at == t,
                    "the poll shown",
                )
                attached.main.select(b"orders", b"billing")
                if step == 2:  # the messages page too (read only while its tab is shown)
                    for app in (attached, direct):
                        app.main.lower.active = "messages-tab"
                    await until(
                        pa, lambda: attached.monitor.focus.messages_count > 0, "the messages page asked"
                    )
                await until(pa, lambda: attached.monitor.focus is not None, "the attached focus")
                focus = dataclasses.replace(attached.monitor.focus, visible=frozenset())
                taken = snap.taken_at

                def arrived(f=focus, taken=taken) -> bool:
                    shown = attached.snapshot
                    return (
                        shown is not None
                        and shown.focus is not None
                        and dataclasses.replace(shown.focus.focus, visible=frozenset()) == f
                        and shown.taken_at == taken
                    )

                await until(pa, arrived, "the attached focus page")
                own.set_focus(focus)
                mine = await own.poll()
                assert mine is not None and mine.focus is not None
                direct.show_snapshot(dataclasses.replace(snap, focus=mine.focus))
                direct.main.select(b"orders", b"billing")
                direct.apply_snapshot(direct.snapshot)
                await pd.pause()
                await pa.pause()
                idle_at = 3  # ("", "mark"), id, consumer, idle ...
                assert _tables(attached, {"pending-table": idle_at}) == _tables(
                    direct, {"pending-table": idle_at}
                )
                assert _panel_texts(attached) == _panel_texts(direct)
                theirs = {p.id: p.idle_ms for p in attached.snapshot.focus.pending}
                ours = {p.id: p.idle_ms for p in mine.focus.pending}
                assert theirs.keys() == ours.keys() and theirs
                assert all(abs(theirs[k] - ours[k]) < 2_000 for k in ours)
                if step == 2:
                    assert _tables(attached)["messages-table"] and attached.snapshot.focus.messages[0].fields
                header = attached.header_info()
                assert f"via {hub.url}" in header.url and header.state == "live"
    finally:
        await own.close()
        await hub.close()


async def test_the_hub_killed_and_restarted_turns_an_attached_dashboard_stale_then_live(server, r):
    _arrange(r)
    hub = HubServed.on(server)
    async with live_attached(hub) as (app, pilot):
        hub.stop()
        await until(pilot, lambda: app.header_info().state == "stale", "stale once the hub is gone")
        # its stream closed first; then the retries: they said "hub URL: Cannot connect to host
        # 127.0.0.1:PORT ssl:default [Connect call failed ('127.0.0.1', PORT)]"
        refused = f"cannot reach the hub at {hub.url}: connection refused"
        await until(pilot, lambda: app.header_info().error == refused, refused)
        assert app.snapshot is not None and app.snapshot.stream(b"orders") is not None  # the last poll stays
        r.xadd("orders", {"n": "after"})
        hub.start()
        await hub.poll()
        length = r.xlen("orders")
        await until(
            pilot,
            lambda: app.header_info().state == "live" and app.snapshot.stream(b"orders").length == length,
            "live again, with the new poll, without a restart",
        )


async def test_the_hubs_server_down_is_stale_on_the_attached_dashboard(own_server):
    """The hub up, its server gone: the attached dashboard says stale with the hub's error."""
    hub = HubServed(build_spec(url=own_server.url))
    async with live_attached(hub) as (app, pilot):
        own_server.stop()
        await hub.poll()
        await until(pilot, lambda: app.monitor.state is State.STALE, "stale")
        assert (app.header_info().error or "").startswith("at the hub: ")


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    return _ask(urllib.request.Request(url, headers=headers or {}))


def _ask(req: urllib.request.Request) -> tuple[int, bytes]:
    """(status, body) of a request to the hub, an HTTP error's too."""
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


async def test_viewers_of_one_focus_page_cost_one_read_per_poll(server, r):
    import asyncio

    _arrange(r)
    hub = HubServed.on(server)
    try:
        await hub.poll()
        query = urlencode(focus_query(Focus(b"orders", b"billing")))
        url = f"{hub.url}/api/v1/focus?{query}"
        results: list[tuple[int, bytes]] = []

        def view() -> None:
            results.append(_get(url))

        threads = [threading.Thread(target=view) for _ in range(8)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):  # the hub reads on this loop: let it run
            await asyncio.sleep(0.01)
        assert [s for s, _ in results] == [200] * 8
        assert len({b for _, b in results}) == 1
        assert hub.hub.focus_reads == 1
        page = json.loads(results[0][1])
        assert page["pending"] and all(m[1] is None for m in page["messages"])  # no bodies by default
        await hub.poll()
        results.clear()
        t = threading.Thread(target=view)
        t.start()
        while t.is_alive():
            await asyncio.sleep(0.01)
        assert hub.hub.focus_reads == 2  # a new poll: read again
    finally:
        await hub.close()


@pytest.mark.parametrize(
    ("token", "loopback", "sent", "status"),
    [
        (None, True, None, 200),
        (None, False, None, 403),  # not loopback and no token: no API at all
        ("s3cret-token-0123456789", False, None, 401),
        ("s3cret-token-0123456789", False, "wrong-token-0123456789", 401),
        ("s3cret-token-0123456789", False, "wr\u00f3ng-t\u00f6ken-0123456789", 401),  # was no answer
        ("s3cret-token-0123456789", False, "s3cret-token-0123456789", 200),
    ],
)
async def test_the_api_asks_for_the_token(server, token, loopback, sent, status):
    hub = HubServed.on(server, token=token, loopback=loopback)
    try:
        await hub.poll()
        headers = {"Authorization": f"Bearer {sent}"} if sent else {}
        got, _ = _get(f"{hub.url}/api/v1/snapshot", headers)
        assert got == status
        assert _get(f"{hub.url}/metrics")[0] == 200  # /metrics is as it was
    finally:
        await hub.close()


async def test_an_attached_dashboard_without_url_refuses_writes_and_says_why(server, r):
    _arrange(r)
    async with live_attached(HubServed.on(server)) as (app, pilot):
        app.main.select(b"orders", b"billing")
        await pilot.press("t")
        await until(
            pilot,
            lambda: any(READ_ONLY_REASON in str(n.message) for n in app._notifications),
            "the refusal",
        )
        assert r.xlen("orders") == 6


async def test_w_on_an_attached_dashboard_without_url_says_to_give_it(server, r):
    """`w` reads an entry whole through the viewer's own connection: attached without --url it
    said "could not read the entry: no connection to the server"; it says what to do, in the
    words of the refusals and the footer."""
    r.xadd("orders", {"big": b"y" * 100_000})
    async with live_attached(HubServed.on(server, expose_entries=True)) as (app, pilot):
        app.main.select(b"orders")
        app.main.show_tab("messages-tab")
        await until(pilot, lambda: len(app.w("messages").entries) == 1, "the messages page")
        app.w("messages-table").focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EntryScreen), "the entry screen")
        await pilot.press("w")
        said = f"could not read the entry: {READ_ONLY_REASON}"
        await until(pilot, lambda: any(str(n.message) == said for n in app._notifications), said)


async def test_a_hub_nobody_answers_at_is_said_in_plain_words(server):
    """Nothing listens at the hub's port: the header says it cannot reach the hub and why, with
    the URL as typed, escaped (markup in it stays text)."""
    with socket.socket() as probe:  # bound, never listening: refused
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/[red]x[/red]"
        app = StreamtopApp(AttachedMonitor(url, None, FAST))
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.header_info().error, "the hub's error")
            assert app.header_info().error == f"cannot reach the hub at {url}: connection refused"
            line = header_text(app.header_info(), 300)
            assert f"cannot reach the hub at {url}: connection refused" in line.plain


async def test_a_port_that_drops_the_connection_is_said_as_such():
    """https:// to a port that accepts and closes at once (a plain server, a proxy that refuses):
    aiohttp says "Cannot connect to host ... ssl:default [None]", its error without a text."""
    with socket.socket() as port:
        port.bind(("127.0.0.1", 0))
        port.listen()

        def drop() -> None:
            with contextlib.suppress(OSError):
                conn, _ = port.accept()
                conn.close()

        closer = threading.Thread(target=drop, daemon=True)
        closer.start()
        url = f"https://127.0.0.1:{port.getsockname()[1]}"
        source = HubSource(url)
        try:
            with pytest.raises(HubTrouble) as got:
                await source.poll()
        finally:
            await source.aclose()
        closer.join(timeout=10)
    # "connection reset", or "connection reset by peer" when the system said it with its errno
    assert str(got.value).startswith(f"cannot reach the hub at {url}: connection reset")


async def test_with_its_own_url_an_attached_session_writes_to_the_server_directly(server, r):
    """The viewer's own connection: the ack goes to the server (not through the hub, which has
    no way to write), and the hub's next poll shows it."""
    _arrange(r)
    hub = HubServed.on(server)
    await hub.poll()
    session = AttachedMonitor(hub.url, build_spec(url=server.url))
    try:
        snap = await session.poll()
        assert snap is not None and session.actions is not None and not session.read_only
        pel = r.xpending_range("orders", "billing", "-", "+", 10)
        result = await session.actions.ack(b"orders", b"billing", [pel[0]["message_id"].decode()])
        assert result.ok, result.message
        assert r.xpending("orders", "billing")["pending"] == len(pel) - 1
        assert hub.hub.focus_reads == 0 and session.action_client is not None
    finally:
        await session.close()
        await hub.close()


async def test_an_attached_viewer_holds_the_hubs_clock_while_attached(server, r):
    """serve polls at its scrapers' pace unless something holds its clock: an attached viewer's
    event stream does, from the moment it opens to the moment it ends."""
    _arrange(r)
    hub = HubServed.on(server)
    held: list[int] = []

    def hold():
        held.append(1)

        def release() -> None:
            held.append(-1)

        return release

    hub.hub.hold = hold
    await hub.poll()
    session = AttachedMonitor(hub.url, None)
    try:
        assert await session.poll() is not None
        assert sum(held) == 1
        await session.close()
        await until(None, lambda: sum(held) == 0 and len(held) == 2, "the hold released")
    finally:
        await session.close()
        await hub.close()


async def test_a_plain_session_on_a_hub_source_goes_stale_when_the_hub_goes(server, r):
    """HubSource is a PollSource: any session polls it, and its trouble is connection trouble
    (the session keeps the last poll, says stale, backs off)."""
    from streamtop.hub.attach import HubSource

    _arrange(r)
    hub = HubServed.on(server)
    await hub.poll()
    session = Monitor.on(HubSource(hub.url))
    try:
        snap = await session.poll()
        assert snap is not None and snap.stream(b"orders") is not None and session.state is State.LIVE
        hub.stop()
        assert await session.poll() is snap
        assert session.state is State.STALE and session.retry_in() is not None
    finally:
        await session.close()
        await hub.close()


async def test_a_hub_document_over_512_kB_reaches_an_attached_session(server, r):
    """aiohttp's line reader stops at 512 kB: a hub of ~2,000 streams (or fewer, longer names) sent
    one line too long and every attached dashboard and web page stayed CONNECTING."""
    from streamtop.hub.attach import HubSource

    pipe = r.pipeline(transaction=False)
    for i in range(300):
        pipe.xadd(f"{i:04d}:" + "n" * 2000, {"f": "v"})
    pipe.execute()
    hub = HubServed.on(server)
    await hub.poll()
    assert len(hub.hub.current()) > 600_000
    session = Monitor.on(HubSource(hub.url))
    try:
        snap = await session.poll()
        assert session.state is State.LIVE, session.error
        assert snap is not None and len(snap.streams) == 300
    finally:
        await session.close()
        await hub.close()


async def test_an_url_that_is_no_hub_says_so(server):
    """--attach to serve's /metrics (any path of serve answers its page): not "the hub closed its
    event stream", retried for ever, but what the URL is not."""
    from streamtop.hub.attach import HubSource

    hub = HubServed.on(server)
    await hub.poll()
    session = Monitor.on(HubSource(hub.url + "/metrics"))
    try:
        assert await session.poll() is None
        assert "not a streamtop hub" in (session.error or ""), session.error
    finally:
        await session.close()
        await hub.close()


async def test_a_messages_page_through_the_hub_is_read_once_then_appended_and_cut(server, r):
    """Issue 29 through the hub: the hub re-read the whole page (XREVRANGE COUNT 50) at every poll
    a viewer asked for it, a 200 kB value each time, and sent it whole (the 64 kB cut and its size
    lost). Now the page is read whole once, then only what was added, with the values cut."""
    import asyncio

    from streamtop.hub.attach import HubSource

    r.xadd("big", {"small": "s", "v": "x" * 200_000})
    hub = HubServed.on(server, expose_entries=True)
    source = HubSource(hub.url)

    def sent() -> int:
        return int(r.info("stats")["total_net_output_bytes"])

    async def page_at_next_poll():
        await hub.poll()
        polled = asyncio.ensure_future(source.poll())
        while not polled.done():  # the hub reads the page on this loop: let it run
            await asyncio.sleep(0.01)
        snap = polled.result()
        return snap.focus.messages if snap.focus is not None else ()

    try:
        await page_at_next_poll()  # no focus yet: the hub's first document
        source.set_focus(Focus(b"big", None))
        first = await page_at_next_poll()
        assert first[0].cut and first[0].sizes == (1, 200_000)
        assert len(first[0].fields[1][1]) == 64 * 1024
        before = sent()
        r.xadd("big", {"n": "1"})
        second = await page_at_next_poll()
        assert [e.id for e in second[1:]] == [first[0].id] and second[1].sizes == (1, 200_000)
        assert sent() - before < 100_000  # the new entry and the polls, not the 200 kB value again
    finally:
        await source.aclose()
        await hub.close()


async def test_entries_withheld_by_the_hub_are_not_shown_as_deleted(server, r):
    """Without --expose-entries the messages page came as entries without fields, which the
    Messages panel and the entry screen show as "(deleted)": a claim the hub cannot make."""
    import asyncio

    from streamtop.hub.attach import HubSource
    from streamtop.pipeline.model import WITHHELD
    from streamtop.ui.entry_screen import entry_text
    from streamtop.ui.messages import message_cells

    r.xadd("orders", {"n": "1"})
    hub = HubServed.on(server)
    source = HubSource(hub.url)
    try:
        await hub.poll()
        await source.poll()
        source.set_focus(Focus(b"orders", None))
        polled = asyncio.ensure_future(source.poll())
        while not polled.done():  # the hub reads the page on this loop: let it run
            await asyncio.sleep(0.01)
        (entry,) = polled.result().focus.messages
        assert entry.withheld and not entry.fields
        cells = message_cells(entry)
        assert cells[1] == "?" and WITHHELD in str(cells[2]) and "deleted" not in str(cells[2])
        shown = entry_text(b"orders", entry).plain
        assert WITHHELD in shown and "deleted" not in shown
    finally:
        await source.aclose()
        await hub.close()


async def test_a_focus_page_is_read_only_for_a_stream_the_hub_polls(server, r):
    """A hub of `orders*` read any key asked for: the entries (with --expose-entries) and the
    pending entries of streams outside its targets."""
    r.xadd("orders", {"n": "1"})
    r.xadd("secret", {"card": "4111"})
    r.xgroup_create("secret", "g", "0")
    hub = HubServed.on(server, expose_entries=True, targets=("orders*",))
    try:
        await hub.poll()
        for key in (b"secret", b"nothing-here"):
            query = urlencode(focus_query(Focus(key, b"g")))
            status, body = await asyncio.to_thread(_get, f"{hub.url}/api/v1/focus?{query}")
            page = json.loads(body)
            assert status == 200 and page["messages"] == [] and page["pending"] == []
            assert page["error"] == "not a stream this hub polls"
        status, body = await asyncio.to_thread(_get, f"{hub.url}/api/v1/focus?key={b'orders'.hex()}")
        assert json.loads(body)["messages"][0][1] == [[{"b": "n"}, {"b": "1"}]]
    finally:
        await hub.close()


# the hub reads what its viewers show (web's own hub: nothing scrapes it) -----------------------


class _ViewersHub:
    """web's hub as web.start_hub makes it (a ViewersMonitor: follow_screen with the viewers'
    screens), polled by hand."""

    def __init__(self, srv, interval: float = 0.2) -> None:
        from functools import partial

        from streamtop.commands.web import _NoMetrics
        from streamtop.hub.api import Hub, ViewersMonitor
        from streamtop.serve.http import listen
        from streamtop.serve.hubapi import serve_api

        spec = build_spec(url=srv.url)
        options = SessionOptions(interval=interval, follow_screen=True, read_only=True)
        self.monitor = ViewersMonitor(spec, options)
        self.hub = Hub(self.monitor, interval, spec.display_url())
        self.httpd, self.thread = listen(0, "127.0.0.1", _NoMetrics(), (), partial(serve_api, self.hub))
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    async def poll(self):
        snap = await self.monitor.poll()
        self.hub.publish()
        return snap

    async def close(self) -> None:
        from streamtop.serve.http import stop

        stop(self.httpd, self.thread)
        await self.monitor.close()


def _full(snap) -> set[bytes]:
    return {s.key for s in snap.streams if not s.summary_only}


async def _viewer(hub_url: str, key: bytes, visible: set[bytes]):
    """A viewer (the attached dashboard's source) showing `visible` rows, `key` selected, its view
    taken by the hub."""
    from streamtop.hub.attach import HubSource, HubTrouble

    src = HubSource(hub_url)
    src.set_focus(Focus(key, visible=frozenset(visible)))
    with contextlib.suppress(HubTrouble):  # its first document: the hub's, maybe before a poll
        await asyncio.wait_for(src.poll(), 10)
    await until(None, lambda: src.view_sent == frozenset(visible | {key}), "the hub took the view")
    return src


async def test_the_hub_reads_in_full_what_its_viewers_show_and_the_rest_as_summaries(server, r):
    keys = [f"s{i}".encode() for i in range(8)]
    for k in keys:
        r.xadd(k, {"n": 1})
        r.xgroup_create(k, "g", "0")
    hub = _ViewersHub(server)
    try:
        snap = await hub.poll()
        assert {s.key for s in snap.streams} == set(keys)
        assert _full(snap) == set()  # no viewer: summaries only
        a = await _viewer(hub.url, b"s0", {b"s0", b"s1"})
        snap = await hub.poll()
        assert _full(snap) == {b"s0", b"s1"}
        assert {s.key for s in snap.streams if s.summary_only} >= {b"s2", b"s5"}  # off screen
        b = await _viewer(hub.url, b"s5", {b"s1", b"s2"})
        snap = await hub.poll()
        assert _full(snap) >= {b"s0", b"s1", b"s2", b"s5"}  # the union of the two
        assert hub.monitor.wants().visible == {b"s0", b"s1", b"s2", b"s5"}
        assert hub.monitor.wants().follow_screen and not hub.monitor.wants().everything_visible
        got = await asyncio.wait_for(a.poll(), 10)  # a viewer sees every row: summaries too
        assert {s.key for s in got.streams} == set(keys)
        assert not got.streams[[s.key for s in got.streams].index(b"s0")].summary_only
        assert a.hub is not None and a.hub.reads == "viewers"
        # a viewer scrolls: its new view replaces its old one
        a.set_focus(Focus(b"s6", visible=frozenset({b"s6", b"s7"})))
        await until(None, lambda: a.view_sent == {b"s6", b"s7"}, "the new view taken")
        snap = await hub.poll()
        assert {b"s6", b"s7", b"s1", b"s2", b"s5"} <= _full(snap)
        assert hub.monitor.wants().visible == {b"s1", b"s2", b"s5", b"s6", b"s7"}
        # a viewer gone (its event stream closed): its view is forgotten
        await a.aclose()
        await until(None, lambda: hub.monitor.viewers_visible == {b"s1", b"s2", b"s5"}, "a's view gone")
        await b.aclose()
        await until(None, lambda: hub.monitor.viewers_visible == frozenset(), "b's view gone")
        snap = await hub.poll()
        assert snap.cost is not None and snap.cost.detailed == 0
    finally:
        await hub.close()


def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    return _ask(urllib.request.Request(url, data=body, headers=headers or {}, method="POST"))


async def test_a_view_is_validated_bounded_and_taken_only_from_an_open_viewer(server, r):
    from streamtop.hub.document import VIEW_KEYS, view_body

    r.xadd("s", {"n": 1})
    hub = _ViewersHub(server)
    try:
        await hub.poll()
        good = view_body(frozenset({b"s"}))
        loop = asyncio.get_running_loop()

        async def post(query: str, body: bytes, headers: dict[str, str] | None = None) -> int:
            return (await loop.run_in_executor(None, _post, f"{hub.url}/api/v1/view?{query}", body, headers))[
                0
            ]

        assert await post("viewer=nobody", good) == 409  # no event stream of it: nothing to forget it by
        assert await post("viewer=bad%20id", good) == 400
        assert await post("", good) == 400
        assert await post("viewer=v1", b"[1, 2]") == 400
        assert await post("viewer=v1", b'{"format": "streamtop-hub", "version": 1, "visible": ["zz"]}') == 400
        many = view_body(frozenset(i.to_bytes(4, "big") for i in range(VIEW_KEYS + 1)))
        assert await post("viewer=v1", many) == 400
        assert await post("viewer=v1", good, {"Origin": "http://evil.example"}) == 403
        assert (await loop.run_in_executor(None, _get, f"{hub.url}/api/v1/view?viewer=v1"))[0] == 405
        assert hub.hub.views_taken == 0 and hub.monitor.viewers_visible == frozenset()
    finally:
        await hub.close()


async def test_rows_coming_into_view_wake_web_hubs_poller(server, r):
    """web's poller (hub.api.poll_forever) polls when a viewer's rows come into view, not at the
    end of its interval (8 s here: the quarter-interval floor is 2 s, the wait below 6 s)."""
    from streamtop.hub.api import poll_forever

    for k in (b"s0", b"s1", b"s2"):
        r.xadd(k, {"n": 1})
    hub = _ViewersHub(server, interval=8.0)
    stop = asyncio.Event()
    poller = asyncio.create_task(poll_forever(hub.hub, stop))
    viewer = None
    try:
        await until(None, lambda: hub.hub.seq >= 1 and hub.hub.snapshot is not None, "the first poll")
        seq = hub.hub.seq
        viewer = await _viewer(hub.url, b"s1", {b"s1"})
        snap = await until(
            None,
            lambda: hub.hub.seq > seq and hub.hub.snapshot,
            "a poll woken by the view",
            timeout=6.0,
        )
        assert b"s1" in _full(snap) and b"s2" not in _full(snap)
    finally:
        stop.set()
        await poller
        if viewer is not None:
            await viewer.aclose()
        await hub.close()


async def test_an_attached_dashboard_posts_the_rows_it_shows_and_the_hub_reads_them_in_full(server, r):
    """The real screen: an attached dashboard with more streams than rows posts the rows it shows
    (and its selection); the hub's next poll reads those in full and the others as summaries;
    the dashboard still lists every stream."""
    keys = [f"k{i:03d}".encode() for i in range(60)]
    pipe = r.pipeline(transaction=False)
    for k in keys:
        pipe.xadd(k, {"n": 1})
    pipe.execute()
    hub = _ViewersHub(server, interval=5.0)
    app = StreamtopApp(AttachedMonitor(hub.url, None, FAST))
    try:
        await hub.poll()
        async with app.run_test(size=SIZE) as pilot:
            source = app.monitor.source
            await until(
                pilot,
                lambda: app.main.rows_shown and source.view_sent and app.main.rows_shown <= source.view_sent,
                "the rows shown posted",
            )
            shown = set(app.main.rows_shown)
            assert 0 < len(shown) < len(keys)
            await until(
                pilot, lambda: hub.monitor.viewers_visible == source.view_sent, "the hub took the view"
            )
            assert shown <= hub.monitor.viewers_visible
            snap = await hub.poll()
            assert _full(snap) == set(hub.monitor.viewers_visible)
            seq = hub.hub.seq
            await until(pilot, lambda: app.monitor.hub and app.monitor.hub.seq == seq, "the poll shown")
            await pilot.pause()
            assert len(app.w("streams-table").row_keys) == len(keys)  # every row, summaries too
    finally:
        await hub.close()
