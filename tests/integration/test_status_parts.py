"""Issue 29: `streamtop status` reads the keyspace a part at a time (Collector.parts) and judges and
writes each part before the next is read, so its memory is bounded by a part, not by the number of
streams; what needs every stream (the count, the breaches, `ok`, the exit code) is kept as it goes,
and nothing reaches stdout before every part was read. Real server; `status.PART` made small."""

from __future__ import annotations

import json

import pytest

from streamtop import cli
from streamtop.commands import status
from streamtop.pipeline import collector as collector_mod
from tests.support.status_schema import assert_valid

N, PART = 23, 5
KEYS = [f"p:{i:02d}" for i in range(N)]


@pytest.fixture
def streams(r):
    pipe = r.pipeline(transaction=False)
    for key in reversed(KEYS):  # created out of order: the output is in key order all the same
        pipe.xadd(key, {"n": "1"})
        pipe.xgroup_create(key, "g", id="0")
    pipe.execute()


@pytest.fixture
def events(monkeypatch) -> list[tuple[str, int]]:
    """What happened, in order: ("read", streams whose XINFO STREAM a round trip carried) and
    ("judged", streams a part had when the report took it)."""
    got: list[tuple[str, int]] = []
    raw, add = collector_mod.execute_raw, status.Report.add

    async def counting(client, commands, timeout):
        xinfo = sum(1 for c in commands if c[:2] == ("XINFO", "STREAM"))
        if xinfo:
            got.append(("read", xinfo))
        return await raw(client, commands, timeout)

    def judged(self, res):
        got.append(("judged", len(res.snapshot.streams)))
        return add(self, res)

    monkeypatch.setattr(collector_mod, "execute_raw", counting)
    monkeypatch.setattr(status.Report, "add", judged)
    monkeypatch.setattr(status, "PART", PART)
    return got


def test_each_part_is_judged_before_the_next_is_read(server, streams, events, capsys):
    code = cli.main(["status", "--json", "--max-length", "0", "--url", server.url, "p:*"])
    out, err = capsys.readouterr()
    assert err == ""
    sizes = [PART] * (N // PART) + [N % PART]
    assert events == [e for n in sizes for e in (("read", n), ("judged", n))]
    doc = json.loads(out)
    assert_valid(doc)
    assert [s["key"] for s in doc["streams"]] == KEYS
    assert doc["discovery"]["keys_found"] == N
    # every part's breaches, in stream order, before the streams; the verdict over all of them
    assert [(b["stream"], b["metric"]) for b in doc["breaches"]] == [(k, "length") for k in KEYS]
    assert code == 2 and doc["ok"] is False


def test_the_table_counts_and_marks_across_parts(server, streams, events, capsys):
    code = cli.main(["status", "--max-length", "0", "--health", "--url", server.url, "p:*"])
    out, _ = capsys.readouterr()
    assert code == 2
    lines = out.splitlines()
    assert lines[0].endswith(f"  {N} streams")
    heads = [line for line in lines if line.startswith("p:")]
    assert [h.split()[0] for h in heads] == KEYS
    assert all("length 1 !" in h for h in heads)
    breached = lines.index(f"BREACHED ({N}):")  # after every stream, each breach listed
    assert breached > lines.index(heads[-1])
    listed = [line.strip() for line in lines[breached + 1 : breached + 1 + N]]
    assert listed == [f"{k}: length 1 > 0" for k in KEYS]
    unhealthy = [line for line in lines if line.startswith("UNHEALTHY")]
    assert unhealthy == [f"UNHEALTHY ({N}, judged from one poll):"]  # every part's groups counted


def test_a_missing_key_in_a_later_part_prints_nothing_but_the_error(server, streams, events, capsys):
    code = cli.main(["status", "--json", "--url", server.url, *KEYS[:7], "p:zz"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err == "streamtop: error: no stream at key 'p:zz' (it does not exist)\n"
    assert ("read", PART) in events  # the first part had been read (and not printed)


def test_a_spool_that_cannot_be_written_is_one_line(server, streams, monkeypatch, capsys, tmp_path):
    """The streams wait in a temporary file (in memory up to SPOOL_IN_MEMORY): no $TMPDIR to put
    it in is one line and exit 1, as any other error, never a traceback or half a document."""
    monkeypatch.setattr(status, "SPOOL_IN_MEMORY", 1)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "gone"))
    code = cli.main(["status", "--json", "--url", server.url, "p:*"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith(f"streamtop: error: cannot keep the output in a temporary file in {tmp_path}/gone")
    assert err.count("\n") == 1
