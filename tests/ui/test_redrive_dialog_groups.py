"""The redrive dialog shows every group of the target (issue 25 item 1): the dry run names the
group that would process the entries again and refuses; the choice is a retry stream (To) or the
"every group" box, after which the dry run and the move go through."""

from __future__ import annotations

from textual.widgets import Checkbox

from streamtop.ui.context import ActionContext
from streamtop.ui.dialogs import ConfirmDialog
from streamtop.ui.registry import open_dialog
from tests.support.dialogs import shown
from tests.support.waiting import until


async def test_redrive_dialog_names_the_other_group_and_offers_the_choice(host, r):
    app, pilot = host
    ids = [r.xadd("s", {"n": str(i)}).decode() for i in range(2)]
    for g in ("g1", "g2"):
        r.xgroup_create("s", g, "0")
        r.xreadgroup(g, "c", {"s": ">"})
    r.xack("s", "g2", *ids)
    assert (await app.actions.dead_letter(b"s", b"g1", min_deliveries=1)).ok
    open_dialog(app, "redrive", ActionContext(key=b"s:dlq"))
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: "redrive refused" in shown(app, "error"))
    said = shown(app, "error")
    assert "'g2' (had already acked 2 of 2: it would process them again)" in said
    assert "'g1' (dead-lettered them: the retry)" in said
    assert "(To)" in said and 'tick "every group"' in said
    assert r.xlen("s:dlq") == 2 and r.xlen("s") == 2
    app.screen.query_one("#all_groups", Checkbox).value = True
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: "would redrive 2 entries from 's:dlq': 2 to 's'" in shown(app, "info"))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await until(pilot, lambda: app.results)
    assert app.results[0].ok and r.xlen("s:dlq") == 0 and r.xlen("s") == 4
