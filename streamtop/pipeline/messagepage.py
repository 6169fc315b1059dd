"""The Messages page of the focus stream: read whole once, then only what changed (issue 29).

`XREVRANGE key + - COUNT 50` every poll re-read every entry of the page: one 10 MB entry among the
newest 50 made a selected stream cost 9-11 MB/s. Stream entries never change; they only go away (a
trim from the head, an XDEL anywhere). So a page is read whole once; each later poll of the newest
page asks only for the entries added since (`XREVRANGE key + (newest COUNT n`), an older page for
nothing, and `XLEN` after it tells whether anything went away:

- the length is what it was plus the entries just read: nothing went away, the cached entries stand;
- else the entries below the stream's first entry (this poll's) are dropped (trimmed), and when this
  poll's max-deleted-entry-id (7.0+, read fresh) is below the page's oldest entry, no XDEL ever
  touched the page: the rest stands;
- else the page is read whole at the next poll (this poll shows what the stream proves: the new
  entries and the cached ones not trimmed). On 6.2, which has no max-deleted-entry-id, any removal
  re-reads the page; so does a stream that is XDEL'd at or above the page's oldest entry.

Values longer than VALUE_CAP bytes are kept cut, with their sizes (`Entry.sizes`): a page holds at
most COUNT x fields x VALUE_CAP bytes, and the entry screen reads an entry whole when asked (`w`).
Headless: the collector queues `commands()` and hands the replies to `result()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streamtop.pipeline.connection import Command
from streamtop.pipeline.model import Entry, Focus, StreamInfo, id_key
from streamtop.pipeline.parse import Reply, parse_entries, to_int

VALUE_CAP = 64 * 1024  # bytes of one value kept in a page (the collector's BIG_ENTRY); longer: cut


def capped(entry_id: str, fields: Sequence[tuple[bytes, bytes]], cap: int = VALUE_CAP) -> Entry:
    """An entry with every value longer than `cap` cut to it, and the sizes when one was cut."""
    if all(len(v) <= cap for _, v in fields):
        return Entry(entry_id, tuple(fields))
    return Entry(entry_id, tuple((f, v[:cap]) for f, v in fields), tuple(len(v) for _, v in fields))


@dataclass(slots=True)
class _Page:
    key: bytes
    end: str
    count: int
    entries: tuple[Entry, ...]  # newest first, as XREVRANGE
    length: int | None  # XLEN right after the read that made the page what it is
    whole: bool  # False: read it whole at the next poll


class MessagePages:
    """The focus stream's Messages page across polls (one page: the one on screen)."""

    def __init__(self) -> None:
        self._page: _Page | None = None
        self._sent: str = ""  # what the last commands() asked: "whole", "newer" or "length"
        self.bytes_read = 0  # entry bytes the replies carried (tests and the bench)

    def _current(self, focus: Focus) -> _Page | None:
        p = self._page
        if p is None or (p.key, p.end, p.count) != (focus.key, focus.messages_end, focus.messages_count):
            return None
        return p if p.whole else None

    def commands(self, focus: Focus) -> list[Command]:
        """What this poll sends for the page (none while the Messages tab is not shown)."""
        if focus.messages_count <= 0:
            self._sent = ""
            return []
        key, end, count = focus.key, focus.messages_end, focus.messages_count
        page = self._current(focus)
        if page is None:
            self._sent = "whole"
            return [("XREVRANGE", key, end, "-", "COUNT", count), ("XLEN", key)]
        if end == "+":
            self._sent = "newer"
            newest = f"({page.entries[0].id}" if page.entries else "-"
            return [("XREVRANGE", key, "+", newest, "COUNT", count), ("XLEN", key)]
        self._sent = "length"  # an older page: nothing can be added to it
        return [("XLEN", key)]

    def result(
        self, focus: Focus, replies: Sequence[Reply], stream: StreamInfo | None
    ) -> tuple[tuple[Entry, ...], BaseException | None]:
        """The page for this poll from the replies to `commands()`, and the error if one failed."""
        sent, self._sent = self._sent, ""
        if not sent:
            return (), None
        error = next((r for r in replies if isinstance(r, BaseException)), None)
        if error is not None:
            self._page = None
            return (), error
        length = to_int(replies[-1])
        new: tuple[Entry, ...] = ()
        if sent != "length":
            rows = parse_entries(replies[0])
            self.bytes_read += sum(len(f) + len(v) for _, fields in rows for f, v in fields)
            new = tuple(capped(i, f) for i, f in rows)
        if sent == "whole":
            self._page = _Page(focus.key, focus.messages_end, focus.messages_count, new, length, True)
            return new, None
        page = self._page
        assert page is not None
        added = len(new)
        entries = (new + page.entries)[: page.count]
        if added >= page.count:  # a page of new entries only: nothing cached is left on it
            page.whole = True
        elif length == 0:  # emptied, deleted (or retyped: XLEN then fails, see above)
            entries, page.whole = (), True
        elif length is None or page.length is None or length != page.length + added:
            entries, kept = _after_removal(entries, stream)
            page.whole = kept
        page.entries, page.length = entries, length
        return entries, None


def _after_removal(entries: tuple[Entry, ...], stream: StreamInfo | None) -> tuple[tuple[Entry, ...], bool]:
    """Something went away: the entries the stream still proves, and whether they are all there
    (else the page is read whole at the next poll)."""
    if stream is None or stream.error is not None:
        return entries, False
    if stream.length == 0:
        return (), True
    first = id_key(stream.first_entry_id)
    if first is not None:
        entries = tuple(e for e in entries if (id_key(e.id) or (0, 0)) >= first)
    maxdel = id_key(stream.max_deleted_entry_id) if stream.info_taken_at is None else None
    oldest = id_key(entries[-1].id) if entries else None
    return entries, maxdel is not None and (oldest is None or maxdel < oldest)
