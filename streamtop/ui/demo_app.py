"""The dashboard as `streamtop demo` runs it: the demo keys at app level, and the first view on
group1 of app:event with its pending entries, the group the guide line talks about.

A subclass built here rather than edits to app.py, so the demo's additions stay in one place.
"""

from __future__ import annotations

from functools import cache

from ..demo.workload import GROUP, STREAM
from ..model import Snapshot
from .demo_panel import with_demo_keys


@cache
def demo_app_class() -> type:
    from .app import StreamtopApp

    base = with_demo_keys(StreamtopApp)

    class DemoApp(base):  # type: ignore[misc, valid-type]
        """Opens on group1 once the first snapshot that has it arrives (once: afterwards the
        user's selection is left alone)."""

        demo_opened = False

        def apply_snapshot(self, snapshot: Snapshot) -> None:
            super().apply_snapshot(snapshot)
            if self.demo_opened or not self._live_widgets():
                return
            stream = snapshot.stream(STREAM.encode())
            if stream is not None and stream.group(GROUP.encode()) is not None:
                self.demo_opened = True
                self.select(STREAM.encode(), GROUP.encode())
                self.w("lower").active = "pending-tab"

    DemoApp.__name__ = DemoApp.__qualname__ = f"Demo{StreamtopApp.__name__}"
    return DemoApp

