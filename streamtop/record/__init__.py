"""Record and replay (issue 30): every poll kept in one SQLite file, read back as snapshots.

`writer.Recorder` is the Monitor's hook (one call per poll) and wraps the session's Actions to log
every write; `reader.Recording` rebuilds the snapshot of any recorded moment and a History as the
live one had it; `schema.py` documents the file; `codec.py` turns a stream into compact lists.
Headless: nothing here imports Textual. The names below are imported when first used (PEP 562):
every command's parser reads `record.moments`, and only a process that records or replays needs
SQLite, msgpack and the reader and writer (issue 29: serve's memory).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .reader import Event, Recording
    from .schema import SCHEMA_VERSION, RecordingError
    from .writer import Recorder, attach, attach_from_args

_WHERE = {
    "Event": "reader",
    "Recording": "reader",
    "SCHEMA_VERSION": "schema",
    "RecordingError": "schema",
    "Recorder": "writer",
    "attach": "writer",
    "attach_from_args": "writer",
}

__all__ = ["SCHEMA_VERSION", "Event", "Recorder", "Recording", "RecordingError", "attach", "attach_from_args"]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{where}", __name__), name)
    globals()[name] = value
    return value
