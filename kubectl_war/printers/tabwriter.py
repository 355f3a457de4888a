"""The column aligner kubectl prints tables through (Go's text/tabwriter with remembered widths).

Cells end at a tab, lines at a newline; a column is as wide as its widest cell plus 3 spaces,
at least 6; the last cell of a line is not padded. With remembered widths (kubectl's setting),
a column never narrows between flushes, so `-w` output stays aligned with what came before.
"""

from __future__ import annotations

from typing import TextIO

__all__ = ["TabWriter"]


class TabWriter:
    """Buffer text, then `flush()` it aligned to `out` (minwidth 6, padding 3, pad with spaces)."""

    def __init__(self, out: TextIO, *, minwidth: int = 6, padding: int = 3) -> None:
        self.out = out
        self.minwidth = minwidth
        self.padding = padding
        self.remembered: list[int] = []
        self._lines: list[list[str]] = [[]]
        self._cell = ""

    def write(self, text: str) -> None:
        start = 0
        for i, ch in enumerate(text):
            if ch in "\t\v\n\f":
                self._cell += text[start:i]
                start = i + 1
                line = self._lines[-1]
                line.append(self._cell)
                self._cell = ""
                if ch in "\n\f":
                    self._lines.append([])
                    # a line of one cell cannot change later columns: Go flushes here
                    if ch == "\f" or len(line) == 1:
                        self.flush()
        self._cell += text[start:]

    def flush(self) -> None:
        if self._cell:
            self._lines[-1].append(self._cell)
            self._cell = ""
        parts: list[str] = []
        self._format(parts, [], 0, len(self._lines))
        self.out.write("".join(parts))
        self._lines = [[]]

    def _format(self, parts: list[str], widths: list[int], line0: int, line1: int) -> int:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(self._lines[this]) - 1:
                this += 1
                continue
            self._write_lines(parts, widths, line0, this)
            line0 = this
            width = self.minwidth
            while this < line1:
                line = self._lines[this]
                if column >= len(line) - 1:
                    break
                width = max(width, len(line[column]) + self.padding)
                this += 1
            if len(self.remembered) < len(widths):
                self.remembered.extend(widths[len(self.remembered) :])
            if len(self.remembered) == len(widths):
                self.remembered.append(width)
            elif self.remembered[column] > width:
                width = self.remembered[column]
            else:
                self.remembered[column] = width
            self._format(parts, [*widths, width], line0, this)
            line0 = this
        self._write_lines(parts, widths, line0, line1)
        return line1

    def _write_lines(self, parts: list[str], widths: list[int], line0: int, line1: int) -> None:
        for i in range(line0, line1):
            line = self._lines[i]
            for j, cell in enumerate(line):
                parts.append(cell)
                if j < len(widths):
                    parts.append(" " * (widths[j] - len(cell)))
            if i + 1 != len(self._lines):
                parts.append("\n")
