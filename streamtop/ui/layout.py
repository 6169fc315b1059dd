"""How the rows of the terminal are shared between the three bands of the main screen.

Groups and consumers are few: their band is sized to its rows (with a cap), and what is left goes
to the streams (two fifths) and to the pending entries and messages (the rest), so a selected group
shows its pending entries rather than empty group rows. Pure arithmetic, tested on its own and
through the pilot at 80x24 .. 250x70.
"""

from __future__ import annotations

from dataclasses import dataclass

TOP_CHROME = 3  # border (2) and the table header
MIDDLE_CHROME = 3
SPARK_ROWS = 3  # a label and a two-row sparkline
LOWER_CHROME = 4  # the tabs (2), the page's info line, the table header
SPARKLINES_FROM = 38  # body rows from which the sparklines are worth their rows
DETAIL_ROWS = 9  # the detail panel's fields: the top band shows them all when it can
NARROW_BELOW = 120  # columns under which the side panels (detail, consumers) get narrower


@dataclass(frozen=True, slots=True)
class RowPlan:
    """Outer heights of the top (streams, detail) and middle (groups, consumers) bands; the lower
    band (pending, messages) takes the rest."""

    top: int
    middle: int
    sparklines: bool


def plan_rows(
    body_height: int,
    groups: int,
    consumers: int,
    *,
    top_scrollbar: bool = False,
    middle_scrollbar: bool = False,
) -> RowPlan:
    """Heights for `body_height` rows below the header when the selected stream has `groups`
    groups and the selected group `consumers` consumers. A band whose table is wider than the
    terminal gets a row for its horizontal scrollbar, so the scrollbar does not eat a data row."""
    sparklines = body_height >= SPARKLINES_FROM
    top_chrome = TOP_CHROME + top_scrollbar
    middle_chrome = MIDDLE_CHROME + middle_scrollbar + (SPARK_ROWS if sparklines else 0)
    data = max(3, body_height - top_chrome - middle_chrome - LOWER_CHROME)
    middle = max(1, min(max(groups, consumers), max(3, data // 4)))
    rest = max(2, data - middle)
    top = max(1, rest * 2 // 5)
    want = DETAIL_ROWS - 1 + (SPARK_ROWS if sparklines else 0)  # the detail's rows past the header
    if top < want:
        top = max(top, min(want, rest // 2))
    return RowPlan(top=top + top_chrome, middle=middle + middle_chrome, sparklines=sparklines)
