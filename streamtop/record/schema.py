"""The recording file: one SQLite database (the stdlib's sqlite3, WAL mode), its schema and version.

Tables (every time `t` is epoch seconds, REAL; names are text with invalid UTF-8 and control
characters escaped, as `status --json` prints them; the exact bytes are in the `*_hex` columns):

    meta(key, value)        schema_version, created_by, created_at, url, targets
    polls(id, t, keyframe, data)
                            one row per poll; `data` is zlib(msgpack) of what changed since the
                            previous poll (codec.py), or of every stream when keyframe = 1. Replay
                            starts at a keyframe and applies the polls after it.
    groups(id, stream, grp, stream_hex, grp_hex, first_seen, gone_at)
                            every consumer group seen; gone_at: the poll that no longer listed it
    lag(gid, t, lag, lag_text, pending, time_lag_ms)
                            written when a group's lag or pending count changes (or its time lag
                            by a tenth), so it is a step function in time; lag: the server's
                            number or streamtop's estimate (then lag_text says "~12" or ">=1000";
                            NULL when exact), NULL unknown
    verdicts(gid, t, verdict, reason)
                            written when a group's health verdict changes
    consumers(gid, name, name_hex, first_seen, last_seen, gone_at)
                            last_seen: when the consumer last talked to the server (the poll's
                            time minus its idle time); gone_at: the poll that no longer listed it
    outages(start, end, state, error)
                            the server down ("stale") or not answering; end NULL while it lasts
    actions(t, who, command, args, ok, result)
                            every change streamtop sent, with its one-line result

A reader refuses a file whose schema_version is newer than SCHEMA_VERSION, and any file that is not
such a database, with one line (RecordingError), never a traceback.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = 1

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS polls (
    id INTEGER PRIMARY KEY, t REAL NOT NULL, keyframe INTEGER NOT NULL, data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS polls_t ON polls (t);
CREATE TABLE IF NOT EXISTS groups (
    id INTEGER PRIMARY KEY, stream TEXT NOT NULL, grp TEXT NOT NULL,
    stream_hex TEXT NOT NULL, grp_hex TEXT NOT NULL, first_seen REAL NOT NULL, gone_at REAL,
    UNIQUE (stream_hex, grp_hex)
);
CREATE TABLE IF NOT EXISTS lag (
    gid INTEGER NOT NULL, t REAL NOT NULL, lag INTEGER, lag_text TEXT,
    pending INTEGER NOT NULL, time_lag_ms INTEGER, PRIMARY KEY (gid, t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS verdicts (
    gid INTEGER NOT NULL, t REAL NOT NULL, verdict TEXT NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (gid, t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS consumers (
    gid INTEGER NOT NULL, name TEXT NOT NULL, name_hex TEXT NOT NULL,
    first_seen REAL NOT NULL, last_seen REAL, gone_at REAL,
    PRIMARY KEY (gid, name_hex)
);
CREATE TABLE IF NOT EXISTS outages (start REAL NOT NULL, "end" REAL, state TEXT NOT NULL, error TEXT);
CREATE TABLE IF NOT EXISTS actions (
    t REAL NOT NULL, who TEXT NOT NULL, command TEXT NOT NULL, args TEXT NOT NULL,
    ok INTEGER NOT NULL, result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS actions_t ON actions (t);
"""


class RecordingError(Exception):
    """A file that cannot be recorded to or read: the message is one line for a person."""


def _refuse(path: Path, exc: BaseException) -> RecordingError:
    return RecordingError(f"{path}: not a streamtop recording, or damaged ({exc})")


def check_version(db: sqlite3.Connection, path: Path) -> int:
    """The file's schema version; RecordingError when it is not a recording or a newer one."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise _refuse(path, exc) from None
    if row is None or not str(row[0]).isdigit():
        raise RecordingError(f"{path}: not a streamtop recording (no schema version)")
    version = int(row[0])
    if version > SCHEMA_VERSION:
        raise RecordingError(
            f"{path}: recorded by a newer streamtop (schema version {version}; this one reads up to "
            f"{SCHEMA_VERSION}): upgrade streamtop to open it"
        )
    return version


def open_for_reading(path: str | Path) -> sqlite3.Connection:
    """Open an existing recording to read, also while another process is writing it (WAL); a
    file on a read-only medium is opened read-only."""
    p = Path(path)
    if not p.is_file():
        raise RecordingError(f"{p}: no such recording")
    try:
        db = sqlite3.connect(p, timeout=5.0, check_same_thread=False)
        try:
            db.execute("PRAGMA query_only = 1")
            check_version(db, p)
        except RecordingError:
            db.close()
            raise
        except sqlite3.OperationalError:  # cannot take the WAL's shared memory: read-only medium
            db.close()
            db = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            check_version(db, p)
        return db
    except RecordingError:
        raise
    except sqlite3.Error as exc:
        raise _refuse(p, exc) from None
