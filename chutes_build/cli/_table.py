"""Tables that stay readable at any width, 80 columns included.

Rich folds a cell that does not fit wherever the column ends, which cuts names in the
middle (``chutes/tools/typed_echo.p`` / ``y:chute``). A :class:`FitTable` lays itself
out when printed, for the width it is given:

- every column gets its natural width when the table fits;
- otherwise the columns marked ``drop`` go first (highest first), until the rest fits;
- then foldable columns give up width, widest first, down to their longest piece
  that cannot be broken; values fold only after ``/``, ``:``, ``-``, ``_``, ``,`` or a
  space (a path folds at its ``/``), and are cut inside a piece only when one piece alone
  is wider than the screen;
- a column marked ``fold=False`` (a URL, a state, a key) is never broken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Column, Table
from rich.text import Text

__all__ = ["Col", "FitTable", "fold_at_separators"]

#: A value breaks after ``/``, ``,`` or a space; a piece still too wide, after ``:``,
#: ``-`` or ``_`` too (never inside a run of other characters).
_PIECE = re.compile(r"[^/, ]*(?:[/, ]+|$)")
_SUBPIECE = re.compile(r"[^/:\-_, ]*(?:[/:\-_, ]+|$)")
#: Width between two columns: their padding (a space each) and the divider between them.
_PAD = 3


@dataclass(frozen=True)
class Col:
    """A column: its header; whether its values may fold; when it is dropped (0: never,
    a higher number is dropped before a lower one)."""

    header: str
    fold: bool = True
    drop: int = 0
    justify: str = "left"


def _pieces(text: str, width: int = 0) -> list[str]:
    """The pieces ``text`` may break between (for ``width``: the finer ones where a piece
    is wider; without, the finest)."""
    out = []
    for piece in (p for p in _PIECE.findall(text) if p):
        if len(piece.rstrip(" ")) > width:
            out.extend(p for p in _SUBPIECE.findall(piece) if p)
        else:
            out.append(piece)
    return out


def fold_at_separators(text: str, width: int) -> list[int]:
    """Offsets in ``text`` where its lines break so that none is wider than ``width``,
    breaking after separators (inside a piece only when that piece alone is wider)."""
    offsets, at = [], 0
    for chunk in text.split("\n"):
        used = 0
        for piece in _pieces(chunk, width):
            if used and used + len(piece.rstrip(" ")) > width:
                offsets.append(at)
                used = 0
            while len(piece.rstrip(" ")) > width > 0:  # one piece alone is too wide: cut it
                offsets.append(at + width)
                at, piece, used = at + width, piece[width:], 0
            at, used = at + len(piece), used + len(piece)
        at += 1  # the newline
    return sorted({o for o in offsets if 0 < o < len(text)})


def _lines(cell: Text) -> list[str]:
    return cell.plain.split("\n") or [""]


@dataclass
class FitTable:
    """A table printed with ``console.print(table)``; ``add_row`` takes markup strings."""

    columns: list[Col]
    rows: list[list[Text]] = field(default_factory=list)

    def add_row(self, *cells: str) -> None:
        self.rows.append([Text.from_markup(c) if isinstance(c, str) else c for c in cells])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.layout(options.max_width)

    def layout(self, width: int) -> Table:
        """The rich table for ``width`` columns, cells folded at their separators."""
        keep = list(range(len(self.columns)))
        natural = [self._natural(i) for i in keep]
        least = [self._least(i) for i in keep]
        for i in sorted(keep, key=lambda i: -self.columns[i].drop):
            if self.columns[i].drop == 0 or self._total(natural, keep) <= width:
                break
            keep.remove(i)
        widths = self._shrink({i: natural[i] for i in keep}, least, width)
        table = Table(
            *(Column(self.columns[i].header, width=widths[i], no_wrap=not self.columns[i].fold,
                     overflow="fold", justify=self.columns[i].justify) for i in keep),
            box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
        )  # fmt: skip
        for row in self.rows:
            table.add_row(*(self._fold(row[i], widths[i], self.columns[i].fold) for i in keep))
        return table

    def _cells(self, i: int) -> list[Text]:
        return [Text(self.columns[i].header)] + [row[i] for row in self.rows if i < len(row)]

    def _natural(self, i: int) -> int:
        return max(len(line) for cell in self._cells(i) for line in _lines(cell))

    def _least(self, i: int) -> int:
        if not self.columns[i].fold:
            return self._natural(i)
        pieces = [p.rstrip(" ") for c in self._cells(i) for ln in _lines(c) for p in _pieces(ln)]
        header = max(len(w) for w in self.columns[i].header.split())
        return max([header, *(len(p) for p in pieces)])

    @staticmethod
    def _total(widths, keep) -> int:
        values = [widths[i] for i in keep]
        return sum(values) + _PAD * (len(values) - 1)

    def _shrink(self, widths: dict[int, int], least: list[int], width: int) -> dict[int, int]:
        """Take width from the widest foldable column, one at a time, down to its least."""
        while self._total(widths, list(widths)) > width:
            wide = [i for i in widths if self.columns[i].fold and widths[i] > max(least[i], 1)]
            if not wide:  # nothing folds further at a separator: cut the widest foldable
                wide = [i for i in widths if self.columns[i].fold and widths[i] > 4]
                if not wide:
                    break
            widest = max(wide, key=lambda i: widths[i])
            widths[widest] -= 1
        return widths

    @staticmethod
    def _fold(cell: Text, width: int, fold: bool) -> Text:
        if not fold or all(len(line) <= width for line in _lines(cell)):
            return cell
        offsets = fold_at_separators(cell.plain, width)
        parts = cell.divide(offsets)
        for part in parts:
            part.rstrip()
        return Text("\n").join(part for part in parts if part.plain != "\n")
