"""Names the server gave, in a dialog: shown as escaped labels, typed back to their exact bytes."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from streamtop.pipeline.model import label

from .shared import name_of

SHOWN_NAMES = 20  # consumer names listed in a hint; the rest are counted


class Names:
    """Names shown as labels (escaped: invalid UTF-8, control characters) and mapped back to their
    exact bytes; only a typed name that is no shown label is encoded."""

    def __init__(self, names: Sequence[bytes]) -> None:
        self.raw: dict[str, bytes] = {}
        for n in names:
            self.raw.setdefault(label(n), n)

    @property
    def labels(self) -> list[str]:
        return list(self.raw)

    def resolve(self, text: str) -> bytes:
        return self.raw[text] if text in self.raw else text.encode()

    def known(self, text: str) -> bool:
        return text in self.raw


def names_hint(prefix: str, names: Sequence[bytes], none: Text) -> Text:
    """ "Consumer: a, b, c" with at most SHOWN_NAMES names, each cut, as data."""
    if not names:
        return Text.assemble(prefix, none)
    parts = Text(", ").join(name_of(n, 40) for n in names[:SHOWN_NAMES])
    more = f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else ""
    return Text.assemble(prefix, parts, more)
