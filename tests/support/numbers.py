"""Texts people type where a number goes (specials, arbitrary text, huge and odd numerals) and how
one field answers one text: shared by the number tests in unit/, ui/ and e2e/."""

from __future__ import annotations

from hypothesis import strategies as st

from streamtop import numbers as num

SPECIALS = [
    "1e308",
    "-1e308",
    "-1",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "0x10",
    " 5 ",
    "٣",
    "１２",
    "5",
    "0",
    "-0",
    "1e-300",
    "",
    "   ",
    "1,000",
    "1_000",
    "+5",
    "0.5",
    "1e3",
    "5ms",
    "2m",
    "1h",
    "1e99999",
    "9" * 400,
    "4" * 4400,
    "-" + "9" * 5000,
    "0" * 500 + "7",
    "1" * 20,
    "9223372036854775807",
    "9223372036854775808",
    "10000001",
    "1000001",
    "0.01",
    "0.009",
    "600",
    "600.5",
    "3.1536e+08",
    "5 s",
    "5\n",
    "1e3ms",
    ".5",
    "5.",
    "--5",
    "1e",
    "e5",
]
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
TEXTS = st.one_of(
    st.sampled_from(SPECIALS),
    _text,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=300, max_value=6000).map(lambda n: "7" * n),
)


def short(value: object) -> str | None:
    """A test id: a long text cut, a Field by its name."""
    if isinstance(value, num.Field):
        return value.what.replace(" ", "-")
    if isinstance(value, str) and len(value) > 12:
        return value[:12] + f"..{len(value)}"
    if isinstance(value, list):
        return " ".join(str(short(a) or a) for a in value)
    return None


def outcome(field: num.Field, text: str) -> object:
    """The parsed value, or the NumberError: nothing else may come out."""
    try:
        return field.parse(text)
    except num.NumberError as exc:
        return exc
