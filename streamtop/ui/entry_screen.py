"""One stream entry in full: what a decoder read (an envelope's headers and body), then the fields as
stored: JSON pretty-printed, binary escaped, long values cut with their size.

An entry of the Messages page may come with values cut at 64 kB (streamtop.pipeline.messagepage: a 10 MB
entry is read once per page, not every poll); the screen says so with each value's whole size, and
`w` reads the entry whole (one XRANGE id id through the actions layer), then shows up to
WHOLE_VALUE_LIMIT bytes of each value."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from streamtop.pipeline.decode import AUTO, Decoded, decode_entry
from streamtop.pipeline.model import WITHHELD, Entry

from . import format as fmt

VALUE_LIMIT = 4096  # bytes of one value shown; the rest is summarised by its size
FIELD_LIMIT = 2000  # fields shown; an entry with more says how many it has
TEXT_BUDGET = 512 * 1024  # characters in all: many big values stop early and say so
DECODE_LIMIT = 1024 * 1024  # bytes of values decoded as a whole; a bigger entry shows its fields
WHOLE_VALUE_LIMIT = TEXT_BUDGET  # bytes of one value shown once the entry was read whole (`w`)


def format_value(value: bytes, limit: int = VALUE_LIMIT, size: int | None = None) -> Text:
    """JSON pretty-printed; UTF-8 as is; binary escaped and marked; anything long truncated.
    `size`: the value's whole size when `value` is only its head (a page entry)."""
    head = value[:limit]
    whole = len(value) if size is None else size
    cut = whole > limit or whole > len(value)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not cut and text.lstrip()[:1] in ("{", "["):
        try:
            pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
            return fmt.text(pretty, "green", keep_newlines=True)  # C1 / bidi are kept by dumps
        except ValueError:
            pass
    if text is None:
        out = fmt.text(head, "yellow")
        out.append(f"  (binary, {fmt.size(whole)})", "dim")
    else:  # lines stay lines; every other control (ANSI/OSC escapes, \r, \t) is shown escaped
        out = fmt.text(text, keep_newlines=True)
    if cut:
        shown = min(limit, len(value))
        out.append(f" … (truncated: {fmt.size(whole)} in all, first {fmt.size(shown)} shown)", "bold magenta")
    return out


def decoded_text(decoded: Decoded) -> Text:
    """What a decoder read: the envelope's headers, then the body (JSON pretty-printed)."""
    out = Text(f"decoded as {decoded.format}\n", "bold")
    for name, value in decoded.headers:
        out.append_text(fmt.name(name, 40, "cyan"))
        out.append(": ")
        out.append_text(fmt.text(value))
        out.append("\n")
    body = decoded.body
    shown = body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False)
    if len(shown) > TEXT_BUDGET:
        shown = shown[:TEXT_BUDGET] + f" … (cut at {TEXT_BUDGET} characters)"
    out.append_text(fmt.text(shown, "green", keep_newlines=True))
    out.append("\n\n")
    return out


def entry_text(key: bytes, entry: Entry, decode: str = AUTO, value_limit: int = VALUE_LIMIT) -> Text:
    out = Text()
    out.append_text(fmt.name(key, 80, "bold"))
    out.append(f"  {entry.id}  ", "bold")
    out.append(f"{len(entry.fields)} field{'s' if len(entry.fields) != 1 else ''}", "dim")
    sizes = entry.sizes or tuple(len(v) for _, v in entry.fields)
    if entry.cut:
        out.append(f", {fmt.size(sum(sizes))} of values: read in part (w: read it whole)", "bold magenta")
    out.append("\n\n")
    if entry.withheld:
        out.append(WITHHELD, "dim")
    elif not entry.fields:
        out.append("(deleted entry: no fields)", "dim")
    big = entry.cut or sum(sizes) > DECODE_LIMIT
    decoded = None if big else decode_entry(entry.fields, decode)
    if decoded is not None and (decoded.format not in ("text", "bytes") or decode != AUTO):
        out.append_text(decoded_text(decoded))
        out.append("fields as stored\n", "bold")
    shown = 0
    for (f, v), size in zip(entry.fields[:FIELD_LIMIT], sizes, strict=False):
        if len(out) > TEXT_BUDGET:
            break
        shown += 1
        out.append_text(fmt.name(f, 80, "bold cyan"))
        out.append(":\n")
        out.append_text(format_value(v, value_limit, size))
        out.append("\n")
    if len(entry.fields) > shown:
        out.append(f"… {len(entry.fields) - shown} more fields not shown", "bold magenta")
    return out


class TextScreen(ModalScreen[None]):
    """A text over the dashboard, scrolled when long; esc, q or enter closes it. The ids name the
    box and the body for the styles (streamtop.tcss) and the tests."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close")]
    BOX, BODY = "entry-box", "entry-body"

    def body_text(self) -> Text:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(id=self.BOX):
            with VerticalScroll():
                yield Static(self.body_text(), id=self.BODY)
            yield Static(self.hint(), classes="hint")

    def hint(self) -> str:
        return "esc: close"

    async def action_dismiss(self, result: None = None) -> None:  # no result to return
        self.dismiss(None)


class EntryScreen(TextScreen):
    """`fetch`: reads the entry whole (the main screen gives it the actions layer's read)."""

    BINDINGS = [*TextScreen.BINDINGS, Binding("w", "whole", "Read whole")]

    def __init__(
        self,
        key: bytes,
        entry: Entry,
        decode: str = AUTO,
        fetch: Callable[[], Awaitable[Entry | None]] | None = None,
    ) -> None:
        super().__init__()
        self.key = key
        self.entry = entry
        self.decode = decode
        self.fetch = fetch
        self.whole = False  # read whole by `w`: values shown up to WHOLE_VALUE_LIMIT

    def hint(self) -> str:
        return "w: read it whole  esc: close" if self.entry.cut and self.fetch is not None else "esc: close"

    def body_text(self) -> Text:
        limit = WHOLE_VALUE_LIMIT if self.whole else VALUE_LIMIT
        return entry_text(self.key, self.entry, self.decode, limit)

    async def action_whole(self) -> None:
        """Read the entry whole, once, and show more of each value."""
        if self.whole or self.fetch is None:
            return
        try:
            got = await self.fetch()
        except Exception as exc:  # the server's error, said as it is (never markup)
            self.notify(f"could not read the entry: {exc}", severity="error", markup=False)
            return
        if got is None:
            self.notify(f"entry {self.entry.id} is gone from the stream", severity="warning", markup=False)
            return
        self.entry, self.whole = got, True
        self.query_one(f"#{self.BODY}", Static).update(self.body_text())
        self.query_one(".hint", Static).update(self.hint())
