"""The progress of a move that runs in batches (dead-letter `D`, redrive `R`): a progress bar shown
when the move starts and advanced after each batch (one MULTI/EXEC), and escape while it runs stops
it before the next batch; the result then says what was moved and what was left."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.widgets import ProgressBar


class BatchProgress:
    def __init__(self) -> None:
        self.cancel = asyncio.Event()
        self.bar: ProgressBar | None = None
        self.running = False

    def widget(self) -> ProgressBar:
        """The bar, for the dialog's fields; hidden until a move starts."""
        self.bar = ProgressBar(total=None, show_eta=False, id="progress")
        self.bar.display = False
        return self.bar

    def start(self) -> Callable[[int, int], None]:
        """Show the bar; the callback the action calls after each batch (handled, selected)."""
        self.cancel.clear()
        self.running = True
        bar = self.bar
        if bar is not None:
            bar.display = True
            bar.update(total=None, progress=0)

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.update(total=total, progress=done)

        return progress

    def stop(self) -> bool:
        """Escape while a move runs: stop it before the next batch (True), else False."""
        if not self.running:
            return False
        self.cancel.set()
        return True
