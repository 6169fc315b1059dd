"""Issue 29: `status --json` writes each stream's JSON as its turn comes, never the whole document
at once, and prints exactly what json.dumps(..., indent=2) printed."""

from __future__ import annotations

import io
import json

from streamtop.commands.status import Streamed, write_json


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
