"""Terminal tables that fit the width: the least useful columns go first, names never cut.

Rich shrinks every column of a too-wide table, down to one letter each; dropping whole
columns, in an order the caller gives, keeps what remains readable in 80 columns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

PAD = 3  # a column's padding and border in rich's default box
# C0/C1 controls but tab and newline (ESC starts a terminal command), and the bidi
# overrides that reorder what a terminal shows: text from storage is not trusted.
UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` without the characters that would command a terminal."""
    return UNPRINTABLE.sub("", text)


def natural_width(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
    """Width of the table with no column wrapped or cut."""
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    return sum(w + PAD for w in widths) + 1


def fit(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int,
    drop: Sequence[str] = (),
    title: str | None = None,
) -> Table:
    """A table of ``rows`` that fits ``width``, dropping columns in ``drop`` order as needed.

    The first column (a study name, a trial number) never wraps nor is cut; the others
    wrap when dropping every droppable column is still not enough.
    """
    keep = list(range(len(columns)))
    for name in drop:
        if natural_width([columns[i] for i in keep], _cut(rows, keep)) <= width:
            break
        if name in columns and columns.index(name) in keep and len(keep) > 1:
            keep.remove(columns.index(name))
    table = Table(title=title)
    for n, i in enumerate(keep):
        first = n == 0
        table.add_column(columns[i], no_wrap=first, overflow="fold", min_width=len(columns[i]))
    for row in _cut(rows, keep):
        # plain text: no markup, nor terminal control characters, in user strings
        table.add_row(*(Text(printable(c)) for c in row))
    return table


def _cut(rows: Sequence[Sequence[str]], keep: list[int]) -> list[list[str]]:
    return [[r[i] for i in keep] for r in rows]
