"""Record and replay (issue 30): every poll kept in one SQLite file, read back as snapshots.

`writer.Recorder` is the Monitor's hook (one call per poll) and wraps the session's Actions to log
every write; `reader.Recording` rebuilds the snapshot of any recorded moment and a History as the
live one had it; `schema.py` documents the file; `codec.py` turns a stream into compact lists.
Headless: nothing here imports Textual.
"""

from .reader import Event, Recording
from .schema import SCHEMA_VERSION, RecordingError
from .writer import Recorder, attach, attach_from_args

__all__ = ["SCHEMA_VERSION", "Event", "Recorder", "Recording", "RecordingError", "attach", "attach_from_args"]
