"""Short human forms of durations, rates and counts (units.py's, re-exported), and the one safe
form of what the server says (keys, names, field values, error texts), shared by the CLI commands and the UI.

Unknown (None) is always "?", never 0: a missing value must not read as "all fine".
Server text is data: `name_text` / `text` build a Rich `Text` (never parsed as markup) with
invalid UTF-8, control, ANSI/OSC and bidi characters and the backslash itself shown escaped, by the
one rule of `model.label` (two different byte strings never print the same; `model.unlabel`
reverses it); every place that shows a name goes through them, and widgets that would parse a str
as markup get the `Text`. `label` / `unlabel` are re-exported here: the plain-str form.
"""

from __future__ import annotations

import codecs
import hashlib

from rich.text import Text

from streamtop.pipeline.model import (
    ESCAPES,
    MESSAGE_ESCAPES,
    MESSAGE_UNSAFE,
    UNSAFE,
    label,
    unlabel,
)
from streamtop.pipeline.units import UNKNOWN, count, duration_ms, rate, time_lag

__all__ = ["UNKNOWN", "count", "duration_ms", "label", "rate", "time_lag", "unlabel"]

ESCAPE_STYLE = "reverse"  # an escape (\xff) looks unlike the same four characters typed literally
NAME_LIMIT = 60


def text(
    value: bytes | str | None, style: str = "", *, keep_newlines: bool = False, name: bool | None = None
) -> Text:
    """Server bytes (or a str that holds them, e.g. an error message) as a Text that shows each
    invalid byte and control character escaped, in ESCAPE_STYLE; never markup. Bytes (and any
    value with `name=True`) follow model.label's rule exactly, backslash included; a str is taken
    as a message streamtop wrote, whose backslashes stay (the names in it were escaped once)."""
    if value is None:
        return Text("-", style="dim")
    full = isinstance(value, bytes) if name is None else name
    s = value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
    table = ESCAPES if full else MESSAGE_ESCAPES
    out = Text(style=style, end="")
    start = 0
    for m in (UNSAFE if full else MESSAGE_UNSAFE).finditer(s):
        ch = m.group()
        if keep_newlines and ch == "\n":
            continue
        if m.start() > start:
            out.append(s[start : m.start()])
        out.append(table[ord(ch)], ESCAPE_STYLE)
        start = m.end()
    if start == 0 and not out:
        return Text(s, style=style, end="")  # the common case: nothing to escape
    out.append(s[start:])
    return out


def name_text(
    value: bytes | str | None, limit: int | None = NAME_LIMIT, style: str = "", *, tagged: bool = False
) -> Text:
    """A key or name on one line, escaped as `text` does, cut to `limit` cells with "…" (only the
    head of a long name is decoded, so a 10 MB name costs no more than a short one). `tagged`: a
    cut name ends in "#" and 16 hex digits of a hash of the whole name, as the exporter's labels
    do, so two names that differ only past the cut never print the same (where nothing else on
    the line names it: `status`'s table)."""
    if value is None:
        return Text("-", style="dim")
    if limit is None:
        return text(value, style, name=True)
    head = value[: limit * 4]
    cut = len(head) < len(value)
    if cut and isinstance(head, bytes):  # hold back a character split by the cut
        head = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(head, final=False)
    out = text(head, style, name=True)
    if out.cell_len > limit or cut:
        out.truncate(max(limit - 1, 0))
        out.append("…", "dim")
        if tagged:
            whole = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
            out.append("#" + hashlib.blake2b(whole, digest_size=8).hexdigest(), "dim")
    return out


def middle_name_text(value: bytes | str | None, limit: int = NAME_LIMIT, style: str = "") -> Text:
    """As `name_text`, but a long name loses its middle ("7eca2a56-b8…355618bf7"): generated
    names (uuids, host-pid) differ at both ends. Escapes are never split; huge names fall back to
    the end cut."""
    if value is None or len(value) > 4096 or limit < 5:
        return name_text(value, limit, style)
    full = text(value, style, name=True)
    if full.cell_len <= limit:
        return full
    s = value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
    tail_n = (limit - 1) // 2
    head_n = limit - 1 - tail_n
    while True:  # characters, shrinking until the escaped, maybe wide, ends fit in `limit` cells
        head, tail = text(s[:head_n], style, name=True), text(s[len(s) - tail_n :], style, name=True)
        if head.cell_len + tail.cell_len + 1 <= limit:
            return head + Text("…", "dim") + tail
        if head_n + tail_n <= 1:  # one escaped character is wider than the limit: the end cut
            return name_text(value, limit, style)
        if head_n > tail_n:
            head_n -= 1
        else:
            tail_n -= 1


def clean(value: str | bytes | None, keep_newlines: bool = False) -> str:
    """`text(value).plain`, for places that take no Text (a notification with markup off, a plain
    log line): bytes by model.label's rule, a str message with its backslashes as they are."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return label(value, keep_newlines=keep_newlines)
    return text(value, keep_newlines=keep_newlines).plain


# health verdicts (health.Verdict values): the word carries the meaning, colour only adds to it
HEALTH_STYLES = {
    "ok": "green",
    "idle": "dim",
    "unknown": "yellow",
    "falling_behind": "yellow",
    "stalled": "bold red",
    "stopped": "bold red",
    "stuck": "bold red",
}


def health_text(verdict: str | None) -> Text:
    """A verdict as coloured Text ('-' for a stream without groups)."""
    if verdict is None:
        return Text("-", style="dim")
    return Text(str(verdict), style=HEALTH_STYLES.get(str(verdict), ""))
