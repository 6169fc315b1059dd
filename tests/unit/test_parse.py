"""The raw-reply parsers on hand-made odd shapes: they must never raise, and read only ASCII digits.
Real and mutated server replies are in tests/integration/test_parse_real_replies.py."""

from __future__ import annotations

import pytest

from streamtop.pipeline.model import id_ms
from streamtop.pipeline.parse import version_tuple
from tests.support.parse_check import parse_everything


@pytest.mark.parametrize(
    "reply",
    [
        None,
        0,
        b"",
        "x",
        [],
        {},
        [None],
        [None, None, None, None],
        [b"name"],
        [[b"name"]],
        {b"name": None},
        [[b"name", None, b"lag", None]],
        [b"length", float("inf")],
        [b"length", float("nan")],
        [[b"1-1"]],
        [[None, [b"f"]]],
        [[b"1-1", {b"f": None}]],
        [5, b"1-1"],
        [1, None, None, [[b"c"]]],
        [1, None, None, {b"c": b"1"}],
    ],
)
def test_hand_made_odd_shapes(reply):
    parse_everything(reply)


def test_version_and_id_digits_are_ascii():
    """str.isdigit() accepts '²', which int() refuses: those parsers must not raise on it."""
    assert version_tuple("7.²") == (7, 0, 0)
    assert version_tuple("9.1.2-rc1") == (9, 1, 2)
    assert version_tuple("") == (0, 0, 0)
    assert id_ms("²-1") is None
    assert id_ms("1700000000000-3") == 1700000000000


def test_a_summary_is_the_stream_replaced_field_for_field():
    """collector._as_summary writes `dataclasses.replace` out for speed (issue 28): every field
    of StreamInfo, set to a value other than its default, comes through."""
    import dataclasses

    from streamtop.pipeline.collector import _as_summary
    from streamtop.pipeline.model import StreamInfo

    values = {
        f.name: (True if f.type == "bool" else 7 if "int" in str(f.type) else f"v-{f.name}")
        for f in dataclasses.fields(StreamInfo)
    }
    values["key"] = b"k"
    values["summary_only"] = False
    values["groups"] = ()
    stream = StreamInfo(**values)
    groups = (object(),)
    got = _as_summary(stream, groups, "10.0.0.1:7000")  # type: ignore[arg-type]
    assert got == dataclasses.replace(stream, summary_only=True, groups=groups, node="10.0.0.1:7000")
    for f in dataclasses.fields(StreamInfo):
        if f.name not in ("summary_only", "groups", "node"):
            assert getattr(got, f.name) == values[f.name] != f.default, f.name


def test_entry_size_and_pairs_take_every_shape_the_fast_paths_skip():
    """The fast paths (a flat list of bytes joined; field names looked up in C) give way to the
    slow ones on other shapes with the same answers."""
    from streamtop.pipeline.parse import entry_size, pairs

    assert entry_size(["1-0", [b"ab", b"cde"]]) == 5
    assert entry_size(["1-0", [b"ab", "cd", 3, None]]) == 4
    assert entry_size(["1-0", {b"ab": b"c"}]) == 3
    assert pairs([b"length", 1, ["odd"], 2, "name", b"g"]) == {"length": 1, "['odd']": 2, "name": b"g"}
