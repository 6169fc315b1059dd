"""The libraries' own workers (FastStream, taskiq) as real processes for the tests: each runs
tests/support/<library>_worker.py, and the test reads the lines it prints."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading


class LibraryWorker:
    """A worker process of a library (tests/support/*_worker.py) and the lines it prints."""

    def __init__(self, module: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"tests.support.{module}", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, ""):
            self.lines.put(line.strip())

    def said(self, text: str) -> bool:
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return text in self.seen

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=30)


def taskiq_worker(url: str, name: str, mode: str, idle_timeout: int = 300) -> LibraryWorker:
    return LibraryWorker("taskiq_worker", url, name, str(idle_timeout), mode)


def faststream_worker(url: str, name: str, mode: str, reclaim_ms: int | None = None) -> LibraryWorker:
    return LibraryWorker("faststream_worker", url, name, mode, *([str(reclaim_ms)] if reclaim_ms else []))
