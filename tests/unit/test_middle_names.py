"""Long names lose their middle, never an escape, never more than the cells given."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from streamtop.pipeline.render import middle_name_text, text

UUID = b"7eca2a56-b8f4-4b22-8410-cab3a82e6f1f"


def test_a_uuid_keeps_both_ends() -> None:
    assert middle_name_text(UUID, 24).plain == "7eca2a56-b8f…ab3a82e6f1f"
    assert middle_name_text(UUID, 40).plain == UUID.decode()


def test_escapes_are_not_split() -> None:
    assert middle_name_text(b"a\xffb" * 20, 10).plain == "a\\xff…b"


@given(st.binary(max_size=200), st.integers(min_value=5, max_value=60))
@example(b"\xc2\x80", 5)  # one escape (\\u0080) wider than the limit: it once came out 7 wide
def test_fits_and_is_escaped(value: bytes, limit: int) -> None:
    out = middle_name_text(value, limit)
    assert out.cell_len <= limit
    assert "\x1b" not in out.plain and "\n" not in out.plain
    if text(value).cell_len <= limit:
        assert out.plain == text(value).plain
