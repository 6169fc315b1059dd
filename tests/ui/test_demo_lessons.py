"""The lessons view of `streamtop demo` in the real demo app on a real embedded server: the steps
the view runs itself (a manual ID, the range reads, the trim and XADD MAXLEN ~ with their
previews), and the view's keys. Each test checks the lesson is not done before its step, performs
the step as a learner would, and sees the mark, which comes from the server's state
(demo.lessons). tests/ui/test_lessons_earned.py runs every lesson's own action in one run."""

from __future__ import annotations

import argparse

import pytest
from textual.widgets import Input

from streamtop.commands.demo import build_app
from streamtop.demo.lessons import LESSONS
from streamtop.demo.workload import DLQ, GROUP, STREAM, DemoController
from streamtop.pipeline.connection import ConnectionSpec
from streamtop.ui.lessons import TICK, LessonsPanel
from tests.support.waiting import until

SIZE = (160, 48)
pytestmark = pytest.mark.slow  # each lesson runs the demo workload for a few seconds

QUIET = 1.5  # seconds the observer runs a few rounds in, to show a lesson is not ticked early


class Demo:
    """The demo app at lesson N on a fresh server; `paused`: the producer starts paused."""

    def __init__(self, server, lesson: int, paused: bool = True, **kw) -> None:
        opts = dict(
            rate=20,
            stuck_ms=300,
            retry_every=None,
            poison_deliveries=3,
            consumers=2,
            work_seconds=0.0,
            seed=4,
        )
        opts.update(kw)
        self.ctl = DemoController(ConnectionSpec(host=server.host, port=server.port), **opts)
        self.ctl.observe_every = 0.1
        if paused:
            self.ctl.pause_producer()
        self.ctl.start()
        self.lesson = lesson
        self.app = build_app(
            argparse.Namespace(interval=0.2, max_streams=1000, lesson=lesson), self.ctl.spec, self.ctl
        )

    def ticked(self) -> bool:
        return self.ctl.lessons.done(self.lesson)

    def panel(self) -> LessonsPanel:
        return self.app.query_one(LessonsPanel)

    def _text(self, widget_id: str) -> str:
        """The widget's text, '' while the view is still being composed (mounted, no children yet)."""
        found = self.panel().query(widget_id)
        return str(found.first().render()) if found else ""

    def shown(self) -> str:
        return self._text("#lesson-body")

    def output(self) -> str:
        return self._text("#lesson-output")

    async def start(self, pilot) -> None:
        await until(pilot, lambda: self.app.query(LessonsPanel), "the lessons view (--lesson)")
        await until(pilot, lambda: self.app.selected_group == GROUP.encode(), "the demo on group1")
        assert self.panel().number == self.lesson
        await until(
            pilot, lambda: f"Lesson {self.lesson} of {len(LESSONS)}" in self.shown(), "the lesson shown"
        )

    async def not_yet(self, pilot) -> None:
        await pilot.pause(QUIET)
        assert not self.ticked(), f"lesson {self.lesson} ticked before its step"
        assert "not done yet" in self.shown()

    async def see_tick(self, pilot) -> None:
        await until(pilot, self.ticked, f"the server to show lesson {self.lesson}")
        await until(pilot, lambda: f"{TICK} done" in self.shown(), "the tick on screen")

    def stop(self) -> None:
        self.ctl.stop()


@pytest.fixture
def demo(server):
    made: list[Demo] = []

    def make(lesson: int, **kw) -> Demo:
        d = Demo(server, lesson, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.stop()


async def test_lesson_2_manual_id_refused_then_accepted(demo, r):
    d = demo(2)
    async with d.app.run_test(size=SIZE) as pilot:
        await d.start(pilot)
        await pilot.press("e")
        await until(pilot, lambda: r.xlen(STREAM) == 1, "one entry")
        last = r.xrevrange(STREAM, count=1)[0][0].decode()
        await d.not_yet(pilot)
        field = d.panel().query_one("#lesson-id", Input)
        d.panel().focus()
        await pilot.press("right", "left")  # back at lesson 2: the field holds the last ID now
        await until(pilot, lambda: field.value == last, "the field prefilled with the last ID")
        field.focus()
        await pilot.press("enter")  # the last ID itself: not greater, refused
        await until(pilot, lambda: "refused by the server" in d.output(), "the server's error")
        assert "equal or smaller" in d.output()
        await pilot.pause(QUIET)
        assert not d.ticked(), "a refused ID is not a manual entry"
        ms = int(last.split("-")[0]) + 1
        field.value = f"{ms}-5"
        await pilot.press("enter")
        await until(pilot, lambda: f"added {ms}-5" in d.output(), "the entry added")
        await d.see_tick(pilot)
        assert r.xrange(STREAM, f"{ms}-5", f"{ms}-5")[0][1][b"sensor_id"] == b"manual"


def cmdstat(r, command: str) -> int:
    return int((r.info("commandstats").get(f"cmdstat_{command}") or {}).get("calls") or 0)


async def test_lesson_3_xrange_xrevrange_xread(demo, r):
    # the workload dead-letters (the dead-letter action reads each entry with XRANGE), reader1
    # XREADs and the Messages tab XREVRANGEs: the server serves all three, but none is the user's
    d = demo(3, paused=False, fail_above=0.0, retry_every=0.2, retry_success=0.0, poison_deliveries=2)
    async with d.app.run_test(size=SIZE) as pilot:
        await d.start(pilot)
        await pilot.press("2")  # the Messages tab: it says the command it runs
        info = d.app.w("messages-info")
        await until(pilot, lambda: "XREVRANGE app:event + - COUNT 50" in str(info.render()), "the command")
        await until(pilot, lambda: r.exists(DLQ) and r.xlen(DLQ) > 0, "the workload's dead-letter moves")
        before = {c: cmdstat(r, c) for c in ("xrange", "xrevrange", "xread")}
        await d.not_yet(pilot)
        assert all(cmdstat(r, c) > n for c, n in before.items()), "the server served all three meanwhile"
        d.panel().focus()
        await pilot.press("r")
        await until(pilot, lambda: "XRANGE - + COUNT 3:" in d.output(), "the replies")
        assert "XREVRANGE + - COUNT 3:" in d.output() and "XREAD COUNT 3 STREAMS app:event 0:" in d.output()
        await d.see_tick(pilot)
        d.app.w("messages-table").focus()
        await pilot.press("]")  # an older page: the command says where it starts
        await until(pilot, lambda: "XREVRANGE app:event (" in str(info.render()), "the older page's command")


async def test_lesson_11_trim(demo, r):
    d = demo(11)
    async with d.app.run_test(size=SIZE) as pilot:
        await d.start(pilot)
        await pilot.press(*["e"] * 6)
        await until(pilot, lambda: r.xlen(STREAM) == 6, "six entries")
        await d.not_yet(pilot)
        d.panel().focus()
        await pilot.press("r")  # the preview first, per group; nothing removed yet
        await until(pilot, lambda: "y: XTRIM app:event MAXLEN = 3" in d.output(), "the preview")
        lines = d.output().splitlines()  # lines, not a literal \n
        assert lines[0] == "preview: XTRIM app:event MAXLEN = 3 removes 3 of 6 entries"
        assert any(line.startswith("  group1: ") for line in lines), lines
        assert r.xlen(STREAM) == 6
        await pilot.press("y")
        await until(pilot, lambda: "3 entries removed" in d.output(), "the trim")
        await d.see_tick(pilot)
        assert r.xlen(STREAM) == 3


async def test_lesson_11_xadd_maxlen_approx(demo, r):
    """m: the producer adds with XADD MAXLEN ~ 100. Nothing goes until a whole node (100
    entries) can, then the length stays bounded; the tick comes from XINFO STREAM."""
    d = demo(11, paused=False, rate=400)
    async with d.app.run_test(size=SIZE) as pilot:
        await d.start(pilot)
        await until(pilot, lambda: r.xlen(STREAM) > 120, "more than 100 entries")
        await d.not_yet(pilot)  # the producer adds without MAXLEN: nothing removed
        before = r.xinfo_stream(STREAM)  # (walrus made the stream with an entry 0-1, deleted)
        assert before["entries-added"] == before["length"] + 1
        d.panel().focus()
        await pilot.press("m")
        await until(pilot, lambda: "MAXLEN ~ 100 * ... · esc: cancel" in d.output(), "the preview")
        assert d.output().startswith("preview: XTRIM app:event MAXLEN ~ 100 removes between 0 and")
        assert not d.ctl.producer.approximate, "nothing changes before y"
        await pilot.press("y")
        await until(pilot, lambda: "the producer now adds with" in d.output(), "on")
        await d.see_tick(pilot)
        info = r.xinfo_stream(STREAM)
        # trims leave max-deleted-entry-id alone (only XDEL moves it): the removed count is
        # entries-added - length, and the first entry moved on
        assert info["max-deleted-entry-id"] == before["max-deleted-entry-id"]
        assert info["entries-added"] > info["length"] + 1
        assert info["first-entry"][0] != before["first-entry"][0]
        await pilot.pause(0.5)
        assert r.xlen(STREAM) < 100 + 100 + 400, "bounded: whole nodes go as the producer adds"
        await pilot.press("m")  # off again
        await until(pilot, lambda: "without MAXLEN ~ again" in d.output(), "off")
        assert not d.ctl.producer.approximate


async def test_f9_toggles_the_view_and_arrows_change_lesson(demo):
    d = demo(1)
    d.app.start_lesson = None
    async with d.app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: d.app.snapshot is not None, "a poll")
        assert not d.app.query(LessonsPanel)
        await pilot.press("f9")
        await until(pilot, lambda: d.app.query(LessonsPanel), "the view")
        assert d.panel().has_focus
        await pilot.press("right", "right")
        assert d.panel().number == 3
        await pilot.press("left")
        assert d.panel().number == 2
        assert "Lesson 2 of 12" in d.shown()
        await pilot.press("escape")
        await until(pilot, lambda: not d.app.query(LessonsPanel), "the view to close")
        await pilot.press("f9")  # back where the learner was, not at lesson 1
        await until(pilot, lambda: d.app.query(LessonsPanel), "the view again")
        assert d.panel().number == 2


async def test_r_in_lesson_2_focuses_the_field_and_esc_leaves_only_the_field(demo):
    d = demo(2)
    async with d.app.run_test(size=SIZE) as pilot:
        await d.start(pilot)
        d.panel().focus()
        field = d.panel().query_one("#lesson-id", Input)
        assert not field.has_focus
        await pilot.press("r")
        assert field.has_focus, "the lesson says to type: the focus goes there"
        await pilot.press("escape")
        assert d.app.query(LessonsPanel), "esc leaves the field, not the lessons"
        assert d.panel().has_focus and not field.has_focus
        await pilot.press("escape")
        await until(pilot, lambda: not d.app.query(LessonsPanel), "the second esc closes the lessons")
