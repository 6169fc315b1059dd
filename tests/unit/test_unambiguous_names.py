"""Two different byte strings never print the same (issue 24, item 6), wherever a person or a
program reads a name: the table (render.text / name_text), `status --json` and `tail` (model.label,
render.clean) and the exporter's labels (serve.metrics.label_value). The escaped form is printable
and model.unlabel gives the exact bytes back."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from streamtop.pipeline.history import History
from streamtop.pipeline.model import Snapshot, StreamInfo, label, unlabel
from streamtop.pipeline.render import clean, middle_name_text, name_text, text
from streamtop.serve.exposition import render
from streamtop.serve.metrics import PollStats, families, label_value

ESC_X, BACKSLASH_X = b"\x1bX", b"\\x1bX"
BIDI = ("LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI", "LRM", "RLM", "ALM")

# byte strings made of the characters that used to collide: backslashes, escapes spelled out,
# controls, C1 (as UTF-8 and as lone bytes), bidi, invalid UTF-8, plain text
_PIECES = st.sampled_from(
    [b"\\", b"x", b"u", b"n", b"1b", b"ff", b"009b", b"\x1b", b"\n", b"\xff", b"\x9b", "\x9b".encode()]
    + ["\u202e".encode(), b"a", "\u00e9".encode(), b"\xc3", b"\x00", b"\x7f"]
)
NAMES = st.one_of(st.binary(max_size=24), st.lists(_PIECES, max_size=8).map(b"".join))


def renderings(name: bytes) -> dict[str, str]:
    return {
        "label": label(name),
        "clean": clean(name),
        "text": text(name).plain,
        "name_text": name_text(name, None).plain,
        "middle_name_text (fits)": middle_name_text(name, 4096).plain,
        "label_value": label_value(name),
    }


def test_an_escape_and_the_four_characters_that_spell_it_print_differently():
    for shown_a, shown_b in zip(renderings(ESC_X).values(), renderings(BACKSLASH_X).values(), strict=True):
        assert shown_a != shown_b
    assert label(ESC_X) == "\\x1bX" and label(BACKSLASH_X) == "\\\\x1bX"
    assert label(b"\xff") == "\\xff" and label(b"\\xff") == "\\\\xff"
    # U+009B (a C1 CSI) and the lone byte 0x9B are different strings
    assert label("\x9b".encode()) == "\\u009b" and label(b"\x9b") == "\\x9b"


@given(NAMES, NAMES)
def test_distinct_byte_strings_never_render_the_same(a: bytes, b: bytes):
    if a == b:
        return
    ra, rb = renderings(a), renderings(b)
    for how in ra:
        assert ra[how] != rb[how], how


@given(NAMES)
def test_every_rendering_is_the_same_printable_text_and_unlabel_gives_the_bytes_back(name: bytes):
    shown = renderings(name)
    assert len({v for k, v in shown.items() if k != "label_value"}) == 1
    assert unlabel(shown["label"]) == name
    assert unlabel(shown["label_value"]) == name  # newlines kept raw, the rest the same
    for ch in shown["label"]:
        assert unicodedata.category(ch) not in ("Cc", "Cs") and unicodedata.bidirectional(ch) not in BIDI, ch


def test_two_streams_whose_names_once_collided_are_two_series_on_the_metrics_page():
    snap = Snapshot(streams=(StreamInfo(ESC_X, length=1), StreamInfo(BACKSLASH_X, length=2)))
    history = History()
    history.update(snap)
    page = render(families(snap, history, 0, PollStats(up=True))).decode()
    lengths = {
        s.labels["stream"]: s.value
        for fam in text_string_to_metric_families(page)
        for s in fam.samples
        if s.name == "redis_stream_length"
    }
    assert {unlabel(k): v for k, v in lengths.items()} == {ESC_X: 1, BACKSLASH_X: 2}
