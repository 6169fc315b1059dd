"""Screenshots of the real app on a real server with a small workload: `python screenshots/make.py`.

Starts a private Valkey (embedded.start_server), writes a few streams, groups, consumers and
pending entries, runs the dashboard headless (App.run_test) and saves SVGs next to this file: the
main views at 140x42, the main screen at the smallest and largest sizes it is made for (80x24,
250x70), the demo, and the Messages panel on streams that FastStream and taskiq-redis wrote
through their own brokers (`make.py libraries`; both are in the test extra).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import redis
from textual.pilot import Pilot

from streamtop.embedded import start_server
from streamtop.monitor import Monitor
from streamtop.options import SessionOptions
from streamtop.pipeline.connection import parse_url
from streamtop.ui.app import StreamtopApp

OUT = Path(__file__).resolve().parent
SIZE = (140, 42)
LIVE = SessionOptions(interval=0.5, follow_screen=True)  # the dashboard's session, polled every 0.5 s
SIZES = {"main-80x24": (80, 24), "main-250x70": (250, 70)}


def workload(r: redis.Redis) -> None:
    for i in range(120):
        payload = json.dumps({"sku": f"A-{i % 7}", "qty": i % 3 + 1})
        r.xadd("orders", {"order": str(1000 + i), "payload": payload})
    for i in range(40):
        r.xadd(
            "app:event",
            {
                "sensor_id": f"sensor{i % 3 + 1}",
                "temp": f"{(i * 37 % 100) / 100:.2f}",
                "humidity": f"{(i * 53 % 100) / 100:.2f}",
            },
        )
    r.xadd(b"sensor readings \xf0\x9f\x8c\xa1", {"blob": b"\x00\x01\xfe\xff"})
    r.xgroup_create("orders", "billing", id="0")
    r.xgroup_create("orders", "shipping", id="0")
    r.xgroup_create("app:event", "group1", id="0")
    r.xreadgroup("billing", "worker-1", {"orders": ">"}, count=30)
    r.xreadgroup("billing", "worker-2", {"orders": ">"}, count=20)
    r.xreadgroup("shipping", "ship-1", {"orders": ">"}, count=110)
    r.xack("orders", "shipping", *[e[0] for e in r.xrange("orders", count=100)])
    r.xreadgroup("group1", "c1", {"app:event": ">"}, count=25)
    for _ in range(6):  # a poison entry: delivered again and again
        r.xclaim("orders", "billing", "worker-2", 0, [r.xrange("orders", count=1)[0][0]])


async def shoot() -> None:
    srv = start_server("valkey-9.1")
    try:
        r = redis.Redis(port=srv.port)
        workload(r)
        app = StreamtopApp(Monitor(parse_url(srv.url), LIVE), stuck_ms=1_000)
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(8):  # a few polls with traffic, for rates and sparklines
                r.xadd("orders", {"order": "live"})
                r.xadd("app:event", {"sensor_id": "sensor1", "temp": "0.5", "humidity": "0.5"})
                await pilot.pause(0.5)
            await show_billing(app, pilot)
            app.save_screenshot("main.svg", str(OUT))
            app.main.pending.table.focus()
            await pilot.press("x", "down", "x", "down")
            app.save_screenshot("pending.svg", str(OUT))
            await pilot.press("2")
            app.main.messages.table.focus()
            await pilot.pause(0.2)
            app.save_screenshot("messages.svg", str(OUT))
            await pilot.press(*["down"] * 9, "enter")
            await pilot.pause(0.2)
            app.save_screenshot("entry.svg", str(OUT))
            await pilot.press("escape", "question_mark")
            await pilot.pause(0.2)
            app.save_screenshot("help.svg", str(OUT))
            await pilot.press("escape")
            for name, size in SIZES.items():
                await shoot_size(r, Monitor(parse_url(srv.url), LIVE), name, size)
            srv.stop()
            while app.header_info().state not in ("stale", "reconnecting"):
                await pilot.pause(0.1)
            await pilot.pause(1.1)
            app.save_screenshot("stale.svg", str(OUT))
    finally:
        srv.cleanup()
    for name in ("main", *SIZES, "pending", "messages", "entry", "help", "stale"):
        print(OUT / f"{name}.svg")
    await shoot_only(list(SHOTS))


async def show_billing(app: StreamtopApp, pilot: Pilot[int]) -> None:
    """orders/billing selected, its pending page on screen, the rates settled."""
    app.select(b"orders", b"billing")
    deadline = time.monotonic() + 10
    while len(app.main.pending.entries) < 50 and time.monotonic() < deadline:
        await pilot.pause(0.1)
    await pilot.pause(1.2)


async def shoot_size(r: redis.Redis, monitor: Monitor, name: str, size: tuple[int, int]) -> None:
    """The main screen at another terminal size, on the same server and workload."""
    app = StreamtopApp(monitor, stuck_ms=1_000)
    async with app.run_test(size=size) as pilot:
        for _ in range(4):
            r.xadd("orders", {"order": "live"})
            await pilot.pause(0.5)
        await show_billing(app, pilot)
        app.save_screenshot(f"{name}.svg", str(OUT))


@asynccontextmanager
async def demo_app(
    size: tuple[int, int], seed: int | None = None, away_seconds: float | None = None
) -> AsyncIterator[tuple[Any, Pilot, Any]]:  # the demo app, its pilot, the workload
    """`streamtop demo` as a user runs it (a private Valkey, the workload at 10 events/s, the
    dashboard under the pilot), for the shots below; the workload and the server stopped after."""
    from argparse import Namespace

    from streamtop.commands.demo import build_app
    from streamtop.demo.workload import DemoController

    srv = start_server("valkey-9.1")
    controller = DemoController(parse_url(srv.url), rate=10, seed=seed)
    if away_seconds is not None:
        controller.away_seconds = away_seconds
    try:
        controller.start()
        app = build_app(
            Namespace(interval=0.5, max_streams=1000, lesson=None), parse_url(srv.url), controller
        )
        async with app.run_test(size=size) as pilot:
            yield app, pilot, controller
    finally:
        controller.stop()
        srv.cleanup()


async def shoot_demo() -> None:
    """`streamtop demo` as a user sees it: the workload running, one consumer crashed; at 160x45
    and at 80x24 (where the demo panel is its guide and key lines)."""
    for name, size in (("demo", (160, 45)), ("demo-80x24", (80, 24))):
        async with demo_app(size, seed=2) as (app, pilot, controller):
            await pilot.pause(4)
            controller.crash_consumer("c2")
            app.select(b"app:event", b"group1")
            await pilot.pause(3)
            app.save_screenshot(f"{name}.svg", str(OUT))


async def shoot_lessons() -> None:
    """The demo with its lessons view open (F9) at lesson 8 after the learner's e and F7 (done,
    ✓) while the workload showed others (seen, ~); at 160x45 and 80x24. Then the command log
    (L) with what e sent."""
    for name, size in (("lessons", (160, 45)), ("lessons-80x24", (80, 24))):
        async with demo_app(size, seed=1) as (app, pilot, controller):
            await pilot.pause(3)
            app.main.streams.table.focus()
            await pilot.press("e")
            await pilot.press("f7")
            app.open_lessons(8)
            await pilot.pause(4.5)  # F7's entries idle: lesson 8 done
            app.save_screenshot(f"{name}.svg", str(OUT))
            if name == "lessons":
                await pilot.press("f9", "L")
                await pilot.pause(1.0)
                app.save_screenshot("commands.svg", str(OUT))
                print(OUT / "commands.svg")


async def shoot_pubsub() -> None:
    """F8: the pub/sub subscriber, the group consumer audit1 and the stream reader away for a
    while; back, the panel compares what each got of what was published meanwhile."""
    async with demo_app((160, 45), seed=1) as (app, pilot, controller):  # 10 s away: ~100 events
        await pilot.pause(2)
        await pilot.press("f8")
        run = controller.away_run
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
            run.over and run.counts().read == run.counts().consumed == run.counts().published
        ):
            await pilot.pause(0.2)
        await pilot.pause(1.2)
        app.save_screenshot("pubsub.svg", str(OUT))


async def library_workload(url: str) -> None:
    """Streams written by the libraries' own brokers (FastStream, taskiq-redis: the test extra)."""
    from faststream.redis import RedisBroker, StreamSub
    from taskiq_redis import RedisStreamBroker

    got: list[dict] = []
    fs = RedisBroker(url)

    @fs.subscriber(stream=StreamSub("orders.events", group="billing", consumer="billing-worker-1"))
    async def handle(msg: dict) -> None:
        got.append(msg)

    events = ("order_created", "order_paid", "order_shipped")
    async with fs:
        await fs.start()
        for n in range(12):
            await fs.publish(
                {"event": events[n % 3], "order_id": 5000 + n // 3, "amount": 19.9 + n, "currency": "EUR"},
                stream="orders.events",
                headers={"x-tenant": "acme"},
            )
        while len(got) < 10:
            await asyncio.sleep(0.05)

    tq = RedisStreamBroker(url, queue_name="tasks")

    @tq.task(task_name="app.images:resize")
    async def resize(image: str, width: int) -> None: ...

    @tq.task(task_name="app.mail:send_receipt")
    async def send_receipt(order_id: int, to: str) -> None: ...

    await tq.startup()
    for n in range(6):
        await resize.kiq(f"photo-{n}.png", 320 * (n % 3 + 1))
        await send_receipt.kiq(5000 + n, f"customer{n}@example.com")
    done = 0
    async for message in tq.listen():  # one worker takes a few tasks and acknowledges them
        await message.ack()
        done += 1
        if done == 4:
            break
    await tq.shutdown()


async def shoot_libraries() -> None:
    """The Messages panel on a FastStream stream and on a taskiq stream (decoded previews)."""
    srv = start_server("valkey-9.1")
    try:
        await library_workload(srv.url)
        app = StreamtopApp(Monitor(parse_url(srv.url), LIVE))
        async with app.run_test(size=SIZE) as pilot:
            for key, group, name in (
                (b"orders.events", b"billing", "faststream"),
                (b"tasks", b"taskiq", "taskiq"),
            ):
                app.select(key, group)
                await pilot.press("2")
                app.main.messages.table.focus()
                deadline = time.monotonic() + 10
                while not app.main.messages.entries and time.monotonic() < deadline:
                    await pilot.pause(0.1)
                await pilot.pause(1.2)
                app.save_screenshot(f"messages-{name}.svg", str(OUT))
                await pilot.press("enter")
                await pilot.pause(0.3)
                app.save_screenshot(f"entry-{name}.svg", str(OUT))
                await pilot.press("escape")
                print(OUT / f"messages-{name}.svg", OUT / f"entry-{name}.svg")
    finally:
        srv.stop()
        srv.cleanup()


SHOTS = {"demo": shoot_demo, "lessons": shoot_lessons, "pubsub": shoot_pubsub, "libraries": shoot_libraries}


async def shoot_only(names: list[str]) -> None:
    for name in names:
        await SHOTS[name]()
        if (OUT / f"{name}.svg").exists():  # "libraries" prints its own files
            print(OUT / f"{name}.svg")


if __name__ == "__main__":
    # no argument: every screenshot; or only the named ones: make.py lessons pubsub
    names = sys.argv[1:]
    if names and not set(names) <= set(SHOTS):
        sys.exit(
            f"unknown screenshot(s): {' '.join(sorted(set(names) - set(SHOTS)))}; known: {' '.join(SHOTS)}"
        )
    asyncio.run(shoot_only(names) if names else shoot())
    sys.exit(0)
