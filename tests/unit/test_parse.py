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
