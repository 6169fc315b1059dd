"""Issue 29: `status --json` writes each stream's JSON as its turn comes, never the whole document
at once, and prints exactly what json.dumps(..., indent=2) printed."""

from __future__ import annotations

import io
import json

from hypothesis import given
from hypothesis import strategies as st

from streamtop.commands.status import Spooled, Streamed, dumps, write_json


class Out(io.StringIO):
    pass


def test_each_stream_is_made_after_the_one_before_was_written():
    out = Out()
    seen_when_made: list[str] = []

    def streams():
        for i in range(3):
            seen_when_made.append(out.getvalue())
            yield {"key": f"s{i}", "name": "é\u202e"}

    write_json({"ok": True, "streams": Streamed(streams, 3), "empty": Streamed(lambda: iter(()), 0)}, out)
    made = [{"key": f"s{i}", "name": "é\u202e"} for i in range(3)]
    assert (
        out.getvalue()
        == json.dumps({"ok": True, "streams": made, "empty": []}, ensure_ascii=False, indent=2) + "\n"
    )
    assert '"s0"' in seen_when_made[1] and '"s1"' in seen_when_made[2]  # written before the next was made
    assert '"s1"' not in seen_when_made[1]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES, st.integers(min_value=0, max_value=3))
def test_dumps_writes_what_json_dumps_writes_at_any_depth(value, level):
    """status's own encoder (json's indent path is pure Python: most of status's time at 100,000
    streams) writes json.dumps(ensure_ascii=False, indent=2)'s text, as it reads `level` deep."""
    expected = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * level)
    assert dumps(value, level) == expected


def test_a_spooled_list_is_written_as_json_writes_a_list():
    items = [{"key": "s0", "groups": []}, {"key": "é\u202e", "groups": [{"n": 1.5, "x": None}]}]
    spooled, empty = Spooled(1), Spooled(1)
    for item in items:
        spooled.add(item)
    out = io.StringIO()
    write_json({"ok": False, "streams": spooled, "none": empty, "after": [1]}, out)
    doc = {"ok": False, "streams": items, "none": [], "after": [1]}
    assert out.getvalue() == json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
