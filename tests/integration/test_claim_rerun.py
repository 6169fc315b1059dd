"""Who re-runs a claimed entry (issue 25, item 6), shown with the real libraries, and what
`streamtop claim` says after a claim. FastStream's `min_idle_time` subscriber and taskiq's recovery
re-running a claimed entry are shown in tests/integration/test_libraries.py (the killed-worker tests)."""

from __future__ import annotations

import pytest

from streamtop import rerun
from tests.support.commands import run

walrus = pytest.importorskip("walrus")


def test_a_walrus_consumer_never_reads_an_entry_claimed_into_it(server, r):
    """walrus ConsumerGroup.read() asks for '>' only: an entry claimed into its consumer stays in its
    pending list while it reads on; only the newer entry comes back."""
    db = walrus.Database(host=server.host, port=server.port, socket_timeout=None)
    cg = db.consumer_group("g", ["s"], consumer="c1")
    cg.create()
    first = r.xadd("s", {"n": "1"})
    r.xreadgroup("g", "c0", {"s": ">"}, count=1)  # c0 takes it and dies
    r.xclaim("s", "g", "c1", 0, [first])  # streamtop's claim into the walrus consumer
    newer = r.xadd("s", {"n": "2"})
    got = cg.read(count=10, block=100)
    assert [i for _, entries in got for i, _ in entries] == [newer]
    assert cg.read(count=10, block=100) == []
    assert [p["message_id"] for p in r.xpending_range("s", "g", "-", "+", 10, consumername="c1")] == [
        first,
        newer,
    ]


def test_streamtop_claim_says_who_re_runs_what_it_claimed(server, r, capsys):
    r.xgroup_create("s", "g", id="0", mkstream=True)
    r.xadd("s", {"n": "1"})
    r.xreadgroup("g", "c0", {"s": ">"}, count=1)
    code, out, err = run(server, capsys, "claim", "s", "g", "--to", "c1", "--min-idle", "0", "--yes")
    assert code == 0 and out.startswith("claimed 1 into 'c1'"), (out, err)
    assert f"claimed entries are {rerun.AFTER_CLAIM}" in " ".join(err.split())
    code, out, err = run(server, capsys, "claim", "s", "g", "--to", "c1", "--min-idle", "60000", "--yes")
    assert code == 2 and "re-run only" not in err  # nothing claimed: nothing to say
