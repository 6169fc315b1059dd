"""The dead-letter format read back: the count says where the entry's own fields end; an entry
that ends in neither streamtop format is all its own fields (no server needed)."""

from __future__ import annotations

from streamtop.actions.dlqformat import decode, encode


def test_decode_tells_the_formats_apart():
    new = decode("1-0", [(b"dlq-missing", b"0"), (b"dlq-source", b"h"), (b"dlq-fields", b"2")])
    assert new.fields == ((b"dlq-missing", b"0"), (b"dlq-source", b"h")) and new.meta == {b"dlq-fields": b"2"}
    foreign = decode("1-0", [(b"a", b"1"), (b"dlq-fields", b"9")])  # a count that cannot be ours
    assert foreign.fields == ((b"a", b"1"), (b"dlq-fields", b"9")) and foreign.meta == {}


def test_encode_then_decode_keeps_own_fields_named_like_metadata():
    own = [(b"dlq-source", b"x"), (b"dlq-fields", b"1"), (b"dlq-missing", b"1")]
    e = decode("2-0", list(zip(*[iter(encode(own, "1-1", b"g", b"c", 3, b"h", False))] * 2, strict=True)))
    assert list(e.fields) == own and e.source == b"h" and e.group == b"g" and not e.missing
    assert e.original_id == "1-1"
