"""The hub's JSON document: one poll's snapshot, exactly, and the focus pages, exactly.

One writer for snapshots already exists that keeps every field the dashboard draws: the record
codec (streamtop.record.codec), whose per-stream lists a recording stores. The document is those
lists as JSON, with the poll's own fields beside them, so a snapshot read back from a document is
the snapshot that was written (tests/unit/test_hub_document.py). `status --json` is the schema for
scripts and alerts (names escaped for reading, verdicts judged); it is not a round trip by design.

JSON has no bytes: a byte string is {"b": text} when it is UTF-8, else {"x": hex}; no other
object occurs inside the codec's lists, so nothing else is read as bytes. Ages are stored as
moments against the poll's own time (the codec's rule), so they decode exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from streamtop.pipeline.model import Entry, Focus, FocusData, PendingEntry, Snapshot

from .. import __version__
from ..record.codec import (
    Encoded,
    decode_cost,
    decode_discovery,
    decode_nodes,
    decode_server,
    decode_stream,
    encode_cost,
    encode_discovery,
    encode_nodes,
    encode_server,
    encode_stream,
    taken_ms,
)

FORMAT = "streamtop-hub"
VERSION = 1  # bumped by any change a reader of the previous version would misread
# additions a reader of the same version may ignore: 2 = the hub's "reads" (what it reads in full:
# "everything", or "viewers": what its viewers show, posted to /api/v1/view; the rest summaries)
REVISION = 2
READS_EVERYTHING, READS_VIEWERS = "everything", "viewers"


class DocumentError(ValueError):
    """Not a hub document this streamtop reads (another format, a newer version, malformed)."""


def to_json(value: Any) -> Any:
    """The codec's lists with every byte string tagged."""
    if isinstance(value, bytes):
        try:
            return {"b": value.decode("utf-8")}
        except UnicodeDecodeError:
            return {"x": value.hex()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, dict):
        if "b" in value:
            return str(value["b"]).encode("utf-8")
        if "x" in value:
            return bytes.fromhex(str(value["x"]))
        raise DocumentError(f"unexpected object in a document: {sorted(value)[:3]}")
    return value


@dataclass(frozen=True, slots=True)
class HubState:
    """The hub's own poll, as the document says it: its state, error and last good poll."""

    seq: int = 0  # the hub's poll counter: a new value is a new poll
    state: str = "connecting"  # the hub's Monitor.state (live, stale, not answering, ...)
    error: str | None = None
    last_good_at: float | None = None  # epoch seconds of the hub's last good poll
    stale_since: float | None = None
    interval: float = 1.0
    url: str = ""  # the server the hub polls (no password)
    entries_exposed: bool = False  # --expose-entries: focus pages carry entry bodies
    reads: str = READS_EVERYTHING  # what the hub reads in full (revision 2; before, everything)


def snapshot_json(snap: Snapshot) -> dict[str, Any]:
    now = taken_ms(snap.taken_at)
    return {
        "taken_at": snap.taken_at,
        "server_time_ms": snap.server_time_ms,
        "duration_ms": snap.duration_ms,
        "round_trips": snap.round_trips,
        "discovery_round_trips": snap.discovery_round_trips,
        "server": encode_server(snap.server),
        "discovery": to_json(encode_discovery(snap.discovery)),
        "nodes": encode_nodes(snap.nodes),
        "uncovered": [list(r) for r in snap.uncovered],
        "cost": encode_cost(snap.cost),
        "streams": [to_json(encode_stream(s, now).packable()) for s in snap.streams],
    }


def snapshot_from_json(d: dict[str, Any]) -> Snapshot:
    now = taken_ms(d["taken_at"])
    return Snapshot(
        taken_at=d["taken_at"],
        server_time_ms=d["server_time_ms"],
        duration_ms=d["duration_ms"],
        round_trips=d["round_trips"],
        discovery_round_trips=d["discovery_round_trips"],
        server=decode_server(d["server"]),
        discovery=decode_discovery(from_json(d["discovery"])),
        nodes=decode_nodes(d["nodes"]),
        uncovered=tuple((r[0], r[1]) for r in d["uncovered"]),
        cost=decode_cost(d["cost"]),
        streams=tuple(decode_stream(Encoded.unpack(from_json(s)), now) for s in d["streams"]),
    )


def document(hub: HubState, snap: Snapshot | None) -> dict[str, Any]:
    """The document of one poll of the hub (`snap`: its last good snapshot, None before one)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "revision": REVISION,
        "generated_by": f"streamtop {__version__}",
        "seq": hub.seq,
        "hub": {
            "state": hub.state,
            "error": hub.error,
            "last_good_at": hub.last_good_at,
            "stale_since": hub.stale_since,
            "interval": hub.interval,
            "url": hub.url,
            "entries_exposed": hub.entries_exposed,
            "reads": hub.reads,
        },
        "snapshot": None if snap is None else snapshot_json(snap),
    }


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def read_document(data: bytes | str | dict[str, Any]) -> tuple[HubState, Snapshot | None]:
    """The hub's state and snapshot from a document; DocumentError when it is not one."""
    try:
        doc = json.loads(data) if isinstance(data, bytes | str) else data
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise DocumentError("not a streamtop hub document (is the URL a streamtop serve or web?)")
        if doc.get("version") != VERSION:
            raise DocumentError(
                f"hub document version {doc.get('version')!r}; this streamtop reads version {VERSION}"
            )
        h = doc["hub"]
        hub = HubState(
            seq=int(doc["seq"]),
            state=str(h["state"]),
            error=h["error"],
            last_good_at=h["last_good_at"],
            stale_since=h["stale_since"],
            interval=float(h["interval"]),
            url=str(h["url"]),
            entries_exposed=bool(h["entries_exposed"]),
            reads=str(h.get("reads", READS_EVERYTHING)),
        )
        snap = None if doc["snapshot"] is None else snapshot_from_json(doc["snapshot"])
    except DocumentError:
        raise
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise DocumentError(f"a malformed hub document: {type(exc).__name__}: {exc}") from None
    return hub, snap


# the focus pages -------------------------------------------------------------------------------


def focus_query(focus: Focus) -> dict[str, str]:
    """The query string of /api/v1/focus for a focus (names in hex: any bytes)."""
    q = {
        "key": focus.key.hex(),
        "pending_start": focus.pending_start,
        "pending_count": str(focus.pending_count),
        "messages_end": focus.messages_end,
        "messages_count": str(focus.messages_count),
    }
    if focus.group is not None:
        q["group"] = focus.group.hex()
    if focus.consumer is not None:
        q["consumer"] = focus.consumer.hex()
    return q


PAGE_LIMIT = 1000  # entries a focus page may ask for (the dashboard asks 100 pending, 50 messages)


def focus_from_query(q: dict[str, str]) -> Focus:
    """The focus a query asks for; ValueError (a 400) when malformed."""

    def name(field: str) -> bytes | None:
        v = q.get(field)
        return None if v is None else bytes.fromhex(v)

    key = name("key")
    if key is None:
        raise ValueError("key is required")
    counts = int(q.get("pending_count", "100")), int(q.get("messages_count", "50"))
    if not all(0 <= c <= PAGE_LIMIT for c in counts):
        raise ValueError(f"a page is 0..{PAGE_LIMIT} entries")
    ids = q.get("pending_start", "-"), q.get("messages_end", "+")
    if not all(0 < len(i) <= 64 and " " not in i for i in ids):
        raise ValueError("a bad entry ID")
    return Focus(
        key=key,
        group=name("group"),
        pending_start=ids[0],
        pending_count=counts[0],
        consumer=name("consumer"),
        messages_end=ids[1],
        messages_count=counts[1],
    )


def focus_json(data: FocusData, seq: int) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "seq": seq,
        "focus": focus_query(data.focus),
        "pending": [to_json([p.id, p.consumer, p.idle_ms, p.deliveries]) for p in data.pending],
        # [id, fields, sizes]: sizes when a value was cut (streamtop.pipeline.messagepage), else none
        "messages": [
            # fields null: withheld by the hub (no --expose-entries), not an entry without fields
            to_json(
                [
                    e.id,
                    None if e.withheld else [list(f) for f in e.fields],
                    *([list(e.sizes)] if e.sizes else []),
                ]
            )
            for e in data.messages
        ],
        "error": data.error,
        "without_data": sorted(data.without_data),
        "trimmed_pending": data.trimmed_pending,
        "trimmed_pending_capped": data.trimmed_pending_capped,
    }


def read_focus(data: bytes | str) -> tuple[int, FocusData]:
    try:
        doc = json.loads(data)
        if doc.get("format") != FORMAT or doc.get("version") != VERSION:
            raise DocumentError("not a streamtop hub focus document of this version")
        pending = tuple(PendingEntry(*from_json(p)) for p in doc["pending"])
        messages = tuple(
            Entry(m[0], withheld=True)
            if m[1] is None
            else Entry(m[0], tuple((f[0], f[1]) for f in m[1]), tuple(m[2]) if len(m) > 2 else ())
            for m in (from_json(x) for x in doc["messages"])
        )
        fd = FocusData(
            focus=focus_from_query(doc["focus"]),
            pending=pending,
            messages=messages,
            error=doc["error"],
            without_data=frozenset(doc["without_data"]),
            trimmed_pending=doc["trimmed_pending"],
            trimmed_pending_capped=bool(doc["trimmed_pending_capped"]),
        )
        return int(doc["seq"]), fd
    except DocumentError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise DocumentError(f"a malformed hub focus document: {type(exc).__name__}: {exc}") from None


# a viewer's screen (POST /api/v1/view?viewer=ID) ------------------------------------------------

VIEW_KEYS = 2048  # keys one viewer may say it shows (a screen shows a few hundred rows at most)
VIEW_BODY = 512 * 1024  # bytes of one view's body
VIEWER_ID = 64  # characters of a viewer's id: letters, digits, "-" and "_"


def check_viewer(viewer: str | None) -> str:
    """A viewer's id as the query gives it; ValueError (a 400) when missing or malformed."""
    ok = all(c.isascii() and (c.isalnum() or c in "-_") for c in viewer or "")
    if not viewer or len(viewer) > VIEWER_ID or not ok:
        raise ValueError(f"viewer must be 1..{VIEWER_ID} letters, digits, '-' or '_'")
    return viewer


def view_body(keys: frozenset[bytes]) -> bytes:
    """The body of a view: the keys on screen, in hex (any bytes), sorted (the same screen, the
    same bytes)."""
    return encode({"format": FORMAT, "version": VERSION, "visible": sorted(k.hex() for k in keys)})


def view_from_body(body: bytes) -> frozenset[bytes]:
    """The keys of a view's body; ValueError (a 400) when malformed or over the bounds."""
    if len(body) > VIEW_BODY:
        raise ValueError(f"a view is at most {VIEW_BODY} bytes")
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise ValueError("not a streamtop hub view of this version")
    keys = doc.get("visible")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ValueError("visible must be a list of hex strings")
    if len(keys) > VIEW_KEYS:
        raise ValueError(f"a view names at most {VIEW_KEYS} keys")
    return frozenset(bytes.fromhex(k) for k in keys)
