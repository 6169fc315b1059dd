"""`tail --json` lines are data: nothing in a decoded body reaches a terminal raw."""

from __future__ import annotations

import json

from streamtop.tail import entry_json


def test_c1_and_bidi_characters_in_a_decoded_body_are_escaped_and_the_json_is_the_same():
    body = {"v": "a\x1b[2J\u202eb\x9bc", "k\u2066": 1}
    line = entry_json("1-0", [(b"data", json.dumps(body, ensure_ascii=False).encode())], "json")
    assert not any(ch in line for ch in "\x1b\x9b\u202e\u2066"), line
    assert json.loads(line)["body"] == body
