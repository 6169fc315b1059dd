"""`tail` lines are data (issue 24, item 7): every field kept in order, nothing in a decoded body
reaches a terminal raw (not even through `jq -r`), and different bytes never print the same in the
text, `--json` and `--raw` forms."""

from __future__ import annotations

import json

import msgpack
from hypothesis import given
from hypothesis import strategies as st

from streamtop.commands.tail import entry_json, entry_line
from streamtop.pipeline.decode import RAW
from streamtop.pipeline.model import unlabel

UNSAFE = "\x1b\x07\x9b\u202e\u2066"


def test_c1_and_bidi_characters_in_a_decoded_body_are_escaped_like_the_fields():
    body = {"v": "a\x1b[2J\u202eb\x9bc", "k\u2066": 1}
    line = entry_json("1-0", [(b"data", json.dumps(body, ensure_ascii=False).encode())], "json")
    assert not any(ch in line for ch in UNSAFE), line
    doc = json.loads(line)
    assert doc["body"] == {"v": "a\\x1b[2J\\u202eb\\u009bc", "k\\u2066": 1}
    # what `jq -r .body.v` writes: the escaped text, the same as a field value would show
    assert not any(ch in doc["body"]["v"] for ch in UNSAFE)
    assert unlabel(doc["body"]["v"]) == body["v"].encode()


def test_an_osc_sequence_in_a_json_body_never_comes_out_of_jq_r():
    value = "see \x1b]8;;http://evil\x07here\x1b]8;;\x07"
    doc = json.loads(entry_json("1-0", [(b"msg", json.dumps({"msg": value}).encode())], "auto"))
    assert doc["format"] == "json" and "\x1b" not in doc["body"]["msg"] and "\x07" not in doc["body"]["msg"]


def test_repeated_field_names_are_all_kept_in_order():
    fields = [(b"a", b"1"), (b"a", b"2"), (b"b", b"3"), (b"a", b"4")]
    for fmt in ("auto", RAW):
        doc = json.loads(entry_json("1-0", fields, fmt))
        assert doc["fields"] == [["a", "1"], ["a", "2"], ["b", "3"], ["a", "4"]]
        assert entry_line("1-0", fields, fmt) == "1-0  a=1  a=2  b=3  a=4"


def test_the_four_characters_backslash_x_f_f_and_the_byte_ff_print_differently():
    typed, byte = [(b"v", b"\\xff")], [(b"v", b"\xff")]
    for fmt in ("auto", RAW, "bytes"):
        assert entry_line("1-0", typed, fmt) != entry_line("1-0", byte, fmt)
        assert entry_json("1-0", typed, fmt) != entry_json("1-0", byte, fmt)
    assert entry_line("1-0", byte, RAW) == "1-0  v=\\xff"
    assert entry_line("1-0", typed, RAW) == "1-0  v=\\\\xff"


def test_msgpack_bin_values_are_bytes_not_text():
    packed = msgpack.packb({"blob": b"\xde\xad\xbe\xef", "text": "\\xde"}, use_bin_type=True)
    doc = json.loads(entry_json("1-0", [(b"payload", packed)], "auto"))
    assert doc["format"] == "msgpack"
    assert doc["body"] == {"blob": "\\xde\\xad\\xbe\\xef", "text": "\\\\xde"}
    assert unlabel(doc["body"]["blob"]) == b"\xde\xad\xbe\xef"
    line = entry_line("1-0", [(b"payload", packed)], "auto")
    assert "blob=\\xde\\xad\\xbe\\xef" in line and "\u07ad" not in line


_NO_SPACE = st.lists(st.integers(0, 255).filter(lambda c: c != 0x20), max_size=6).map(bytes)
LINE_FIELDS = st.lists(st.tuples(_NO_SPACE, _NO_SPACE), min_size=1, max_size=3)
FIELDS = st.lists(st.tuples(st.binary(max_size=6), st.binary(max_size=6)), min_size=1, max_size=3)


@given(FIELDS, FIELDS)
def test_different_entries_never_print_the_same(a, b):
    if a == b:
        return
    for fmt in ("auto", RAW):
        assert entry_json("1-0", a, fmt) != entry_json("1-0", b, fmt)


@given(LINE_FIELDS, LINE_FIELDS)
def test_different_entries_never_print_the_same_line(a, b):
    """The text line is `name=value` pairs two spaces apart, for people (--json is for programs):
    names and values are each unambiguous, and a name never holds a raw "=" (it prints \\x3d)."""
    if a != b:
        assert entry_line("1-0", a, RAW) != entry_line("1-0", b, RAW)
    assert entry_line("1-0", [(b"a=b", b"c")], RAW) != entry_line("1-0", [(b"a", b"b=c")], RAW)


@given(FIELDS)
def test_json_fields_give_the_exact_bytes_back(fields):
    doc = json.loads(entry_json("1-0", fields, RAW))
    assert [(unlabel(f), unlabel(v)) for f, v in doc["fields"]] == fields
