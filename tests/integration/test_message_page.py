"""The Messages page is read whole once, then only what changed (issue 29, streamtop.pipeline.messagepage):
a large entry on the page costs one read, is kept cut with its size, and every way an entry goes
away (XDEL, a trim) still leaves the page as the stream is, on every server flavour."""

from __future__ import annotations

from streamtop.pipeline.messagepage import VALUE_CAP
from streamtop.pipeline.model import Focus

BIG = 300 * 1024  # larger than VALUE_CAP


def ids(snap) -> list[str]:
    return [e.id for e in snap.focus.messages]


async def test_a_big_entry_is_read_once_and_kept_cut_with_its_size(any_server, any_r, collector_for):
    r = any_r
    for i in range(5):
        r.xadd("s", {"n": i})
    big_id = r.xadd("s", {"blob": b"x" * BIG, "n": "big"}).decode()
    for i in range(3):
        r.xadd("s", {"n": i})
    col = await collector_for(any_server, ["s"])
    col.focus = Focus(key=b"s")
    snap = await col.poll()
    first = col.pages.bytes_read
    assert first > BIG
    big = next(e for e in snap.focus.messages if e.id == big_id)
    assert big.cut and big.sizes == (BIG, 3)
    assert len(big.fields[0][1]) == VALUE_CAP and big.fields[1] == (b"n", b"big")
    for _ in range(3):  # idle: nothing read again
        snap = await col.poll()
    assert col.pages.bytes_read == first
    assert len(ids(snap)) == 9 and big_id in ids(snap)
    new = r.xadd("s", {"n": "new"}).decode()
    snap = await col.poll()
    assert ids(snap)[0] == new and len(ids(snap)) == 10
    assert col.pages.bytes_read - first < 100  # the new entry only


async def test_an_xdel_and_a_trim_leave_the_page_as_the_stream_is(any_server, any_r, collector_for):
    r = any_r
    added = [r.xadd("s", {"n": i}).decode() for i in range(30)]
    col = await collector_for(any_server, ["s"])
    col.focus = Focus(key=b"s", messages_count=20)
    snap = await col.poll()
    assert ids(snap) == added[::-1][:20]
    r.xdel("s", added[25])
    for _ in range(2):  # seen as gone at the latest one poll later: the page is read whole again
        snap = await col.poll()
    expected = [i for i in added if i != added[25]][::-1][:20]
    assert ids(snap) == expected
    r.xtrim("s", maxlen=5, approximate=False)
    for _ in range(2):
        snap = await col.poll()
    assert ids(snap) == expected[:5]
    newer = [r.xadd("s", {"n": "x"}).decode() for _ in range(3)]
    snap = await col.poll()
    assert ids(snap) == newer[::-1] + expected[:5]
