"""A long value on the Messages page is kept cut (streamtop.pipeline.messagepage) and the entry screen says
so with its whole size; `w` reads the entry whole through the actions layer (issue 29)."""

from __future__ import annotations

from streamtop.pipeline.messagepage import VALUE_CAP
from streamtop.ui.entry_screen import EntryScreen
from tests.support.ui import SIZE, make_app
from tests.support.waiting import until

BIG = 300 * 1024


async def test_a_cut_entry_says_its_size_and_w_reads_it_whole(server, r) -> None:
    r.xadd("s", {"big": b"y" * BIG, "n": "1"})
    app = make_app(server.url, targets=("s",))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.selected_key == b"s")
        app.main.show_tab("messages-tab")
        await until(pilot, lambda: len(app.w("messages").entries) == 1)
        app.w("messages-table").focus()
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, EntryScreen)
        assert screen.entry.cut and len(screen.entry.fields[0][1]) == VALUE_CAP
        body = screen.body_text().plain
        assert "truncated: 300.0 KB in all" in body and "w: read it whole" in body
        assert body.count("y") < 10_000
        await pilot.press("w")
        await until(pilot, lambda: screen.whole, "the entry read whole")
        assert not screen.entry.cut and screen.entry.fields[0] == (b"big", b"y" * BIG)
        assert screen.body_text().plain.count("y") >= BIG
        await pilot.press("escape")
        assert not isinstance(app.screen, EntryScreen)
