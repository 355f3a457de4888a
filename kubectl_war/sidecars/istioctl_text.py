"""Read the `istioctl proxy-status` table of every Istio release (1.0 to 1.30+), as
istioctl prints it or as people save it (with lines before and after, tabs, single spaces).

Columns are found by header name, never by position; see `parse_text`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Callable

from kubectl_war.sidecars.records import (
    IGNORED,
    STALE,
    STALE_NEVER_ACKNOWLEDGED,
    UNKNOWN,
    ProxyStatusError,
    ProxySync,
    SyncState,
    add_type,
    clip_line,
    decode_utf8,
    line_error,
    short_type,
)

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Tabs are not control characters here: chat tools and editors turn column gaps into tabs.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# What ends a table that was saved with what istioctl (or kubectl's client library)
# printed after it: `Error: ...`, `Warning: ...`, or a klog line such as
# `W1129 10:00:00.123456    4242 warnings.go:70] ...`.
_TRAILER = re.compile(r"(?:Error|Warning):|[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [^ \]]+\]")
# A shell prompt pasted between two outputs: `$ istioctl proxy-status`.
_PROMPT = re.compile(r"[^\s$#]*[$#] ")
# Told, in one line each, what a reader skipped or worked around.
Warn = Callable[[str], None]
# tabwriter pads every cell with at least 5 spaces, so a header is words separated by
# single spaces ("SUBSCRIBED TYPES") with wider gaps between columns.
_HEADER_TOKEN = re.compile(r"[^ ]+(?: [^ ]+)*")
_TYPE_HEADER = re.compile(r"[A-Z][A-Z0-9]*DS|[\w.-]+(?:/[\w.-]+)+")
# A state word as istioctl prints it (some releases wrote NOT_SENT), then its notes in
# parentheses; `STALE (Never Acknowledged)` is STALE with a note.
_STATE_CELL = re.compile(
    r"(SYNCED|NOT SENT|NOT_SENT|STALE|ERROR|UNKNOWN|IGNORED)((?: \([^()]*\))*)"
)
_PARENTHESES = re.compile(r" \(([^()]*)\)")
_SUBSCRIBED_CELL = re.compile(r"(\d+)(?: \(([^()\s]+)\))?")

_NAME_HEADERS = ("NAME", "PROXY")  # PROXY until Istio 1.0
_ISTIOD_HEADERS = ("ISTIOD", "PILOT")  # PILOT until Istio 1.6
_SUBSCRIBED = "SUBSCRIBED TYPES"  # Istio 1.27+
_FIXED_HEADERS = frozenset({*_NAME_HEADERS, *_ISTIOD_HEADERS, "CLUSTER", "VERSION", _SUBSCRIBED})


@dataclass(frozen=True)
class _Column:
    start: int
    title: str


def _valid_titles(titles: Sequence[str]) -> bool:
    """Whether these are the titles of a proxy-status header, in order."""
    if not titles or titles[0] not in _NAME_HEADERS:
        return False
    fixed = [t for t in titles if t in _FIXED_HEADERS]
    if len(fixed) != len(set(fixed)):
        return False
    if (
        sum(t in titles for t in _ISTIOD_HEADERS) != 1
        or sum(t in titles for t in _NAME_HEADERS) != 1
    ):
        return False
    typed = [t for t in titles if t not in _FIXED_HEADERS]
    if not all(_TYPE_HEADER.fullmatch(t) for t in typed):
        return False
    return bool(typed) != (_SUBSCRIBED in titles)  # exactly one of: type columns, summary


def _read_header(line: str) -> list[_Column] | None:
    """The columns of a proxy-status header line as tabwriter pads it, or None."""
    columns = [_Column(m.start(), m.group()) for m in _HEADER_TOKEN.finditer(line)]
    return columns if _valid_titles([c.title for c in columns]) else None


def _cells(line: str, columns: list[_Column]) -> list[str] | None:
    """Cut a row at the header's column starts; None if the row does not line up."""
    if line[: columns[0].start].strip():
        return None
    cells = []
    for index, column in enumerate(columns):
        end = columns[index + 1].start if index + 1 < len(columns) else len(line)
        if column.start > 0 and len(line) > column.start and line[column.start - 1] != " ":
            return None  # text runs over a column boundary
        raw = line[column.start : end]
        cell = raw.strip()
        if cell and raw[0] == " ":
            return None  # tabwriter left-aligns: a value starts where its header starts
        if "  " in cell:
            return None  # two values in one column
        cells.append(cell)
    return cells


def _parse_state(cell: str) -> tuple[SyncState, str | None] | None:
    """(state, detail) of one type cell, or None if it is not a state istioctl prints."""
    if cell == "":
        # istioctl 1.14-1.22 left a type istiod did not report blank; 1.23+ says IGNORED.
        return IGNORED, None
    match = _STATE_CELL.fullmatch(cell)
    if match is None:
        return None
    state = SyncState(match.group(1).replace("_", " "))
    notes = _PARENTHESES.findall(match.group(2))
    if state == STALE and notes and notes[0] == "Never Acknowledged":
        state, notes = STALE_NEVER_ACKNOWLEDGED, notes[1:]
    # Notes repeat from row to row (`3m8s`, `100%`): one string each, not one per row.
    return state, sys.intern(", ".join(notes)) if notes else None


def _parse_version(cell: str) -> tuple[str | None, bool]:
    if cell.endswith("*"):
        return cell[:-1] or None, True
    return cell or None, False


def _record(number: int, line: str, titles: Sequence[str], cells: Sequence[str]) -> ProxySync:
    """One row's record from its cells, one per title."""
    types: dict[str, SyncState] = {}
    details: dict[str, str] = {}
    proxy = cluster = istiod = version_cell = None
    for title, cell in zip(titles, cells):
        if title not in _FIXED_HEADERS:
            parsed = _parse_state(cell)
            if parsed is None:
                raise line_error(number, line, f"unknown {title} state {cell!r}")
            name = short_type(title)
            add_type(types, name, parsed[0])
            if parsed[1] is not None:
                details[name] = parsed[1]
            continue
        if " " in cell and title != _SUBSCRIBED:
            raise line_error(number, line, f"{title} value {cell!r} contains a space")
        if title in _NAME_HEADERS:
            proxy = cell
        elif title in _ISTIOD_HEADERS:
            istiod = cell
        elif title == "CLUSTER":
            cluster = cell
        elif title == "VERSION":
            version_cell = cell
        else:
            match = _SUBSCRIBED_CELL.fullmatch(cell)
            names = match.group(2).split(",") if match and match.group(2) else []
            if match is None or int(match.group(1)) != len(names) or "" in names:
                raise line_error(number, line, f"cannot read {_SUBSCRIBED} {cell!r}")
            for name in names:
                # The summary says which types are subscribed, not how they are doing.
                add_type(types, short_type(name), UNKNOWN)
    if not proxy:
        raise line_error(number, line, f"row has no {titles[0]}")
    if not istiod:
        raise line_error(number, line, "row is cut short (no ISTIOD/PILOT value)")
    version, mismatch = _parse_version(version_cell or "")
    return ProxySync(proxy, cluster or None, istiod, version, types, mismatch, details)


def _words(text: str) -> list[str]:
    """Cells of a line whose gaps were squeezed to single spaces (or tabs).

    Names, versions and istiod pods never hold a space; what does is known: `NOT SENT`,
    a state's notes in parentheses (`STALE (Never Acknowledged)`, `SYNCED (100%)`), the
    1.27+ `4 (CDS,LDS,EDS,RDS)` cell and the `SUBSCRIBED TYPES` title.
    """
    cells: list[str] = []
    for word in text.split():
        if cells and (
            word.startswith("(")
            or cells[-1].count("(") > cells[-1].count(")")
            or (cells[-1], word) in (("NOT", "SENT"), ("SUBSCRIBED", "TYPES"))
        ):
            cells[-1] += " " + word
        else:
            cells.append(word)
    return cells


@dataclass(frozen=True)
class _Header:
    """A header found in the text: how its rows are cut into cells.

    Attributes:
        titles: the column titles.
        columns: where each column starts, for tabwriter's padded layout; None when the
            gaps were squeezed to single spaces or tabs (rows are then split by `_words`).
    """

    titles: tuple[str, ...]
    columns: tuple[_Column, ...] | None

    def cells(self, line: str) -> list[str] | None:
        if self.columns is not None:
            return _cells(line, list(self.columns))
        count = len(self.titles)
        if "\t" in line:
            split = [cell.strip(" ") for cell in line.split("\t")]
            if len(split) == count:  # a tab per gap keeps empty cells (CLUSTER)
                return split
        words = _words(line)
        if len(words) == count - 1 and self.titles[-1] == "VERSION":
            words.append("")  # the trailing empty VERSION of a proxy istiod has no version of
        return words if len(words) == count else None

    def row(self, number: int, line: str) -> ProxySync:
        cells = self.cells(line)
        if cells is not None:
            try:
                return _record(number, line, self.titles, cells)
            except ProxyStatusError:
                # A squeezed row one cell short was taken to end at an empty VERSION; if
                # it does not read that way, the cell that is missing cannot be told.
                if self.columns is not None or len(_words(line)) == len(self.titles):
                    raise
        if self.columns is not None:
            problem = "row does not line up with the header's columns"
        else:
            problem = f"row does not split into the header's {len(self.titles)} cells"
        raise line_error(number, line, problem)


def _header_at(line: str, following: Callable[[], str | None]) -> _Header | None:
    """The header `line` is, or None; `following()` gives the next non-blank line.

    A padded header is recognised alone. A header whose gaps were squeezed (single
    spaces, or tabs) only when the next non-blank line splits into as many cells: a
    line of single-spaced capitals alone is not what istioctl prints.
    """
    if not line.lstrip(" \t").startswith(_NAME_HEADERS):
        return None  # every header starts with its name column: rows end here, cheaply
    columns = _read_header(line)
    if columns is not None:
        return _Header(tuple(c.title for c in columns), tuple(columns))
    titles = [t.strip(" ") for t in line.split("\t") if t.strip(" ")] if "\t" in line else []
    if not _valid_titles(titles):
        titles = _words(line)
        if not _valid_titles(titles):
            return None
    header = _Header(tuple(titles), None)
    if "\t" in line:
        return header
    after = following()
    if after is None or header.cells(after) is None:
        return None
    return header


class _Lines:
    """The non-blank (number, line) pairs of the text, one at a time, with a look ahead:
    only the line being read and the next are held."""

    def __init__(self, lines: Iterable[tuple[int, str]]) -> None:
        self._lines = iter(lines)
        self._next: tuple[int, str] | None = None

    def __iter__(self) -> Iterator[tuple[int, str]]:
        return self

    def __next__(self) -> tuple[int, str]:
        if self._next is not None:
            found, self._next = self._next, None
            return found
        for number, line in self._lines:
            if line.strip():
                return number, line
        raise StopIteration

    def peek(self) -> str | None:
        """The next non-blank line, left to be read."""
        if self._next is None:
            self._next = next(self, None)
        return self._next[1] if self._next is not None else None


def _quote(lines: Sequence[tuple[int, str]], total: int, limit: int = 3) -> str:
    """The first `limit` of `total` lines, quoted."""
    shown = ", ".join(f"line {n} {clip_line(text)!r}" for n, text in lines[:limit])
    more = total - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _split_lines(text: str) -> Iterator[tuple[int, str]]:
    if text.startswith("\ufeff"):
        text = text[1:]
    for index, line in enumerate(_LINE_BREAK.split(text), start=1):
        yield index, line.rstrip(" \t")


def parse_text(text: str | bytes, warn: Warn | None = None) -> list[ProxySync]:
    """Parse `istioctl proxy-status` output of any Istio release.

    Columns are found by their header's name and start offset (istioctl prints through
    Go's tabwriter, so every value starts where its header starts); cells may contain
    spaces (`NOT SENT`, `STALE (Never Acknowledged)`) or be empty (CLUSTER). Blank lines,
    trailing spaces, Windows line endings and a repeated header (outputs pasted one after
    another) are fine. Empty text, or a header alone, is no proxies: istioctl prints
    nothing at all when no proxy is connected.

    Saved output is read as people save it, each with one message to `warn`:

    - lines before the first header (klog lines, `Warning:` lines, the shell prompt) are
      skipped;
    - an `Error:`, `Warning:` or klog line after the rows ends the table; what follows
      is not read;
    - a shell prompt between two pasted outputs is skipped.

    Tables whose gaps became tabs, or were squeezed to single spaces, are read when every
    row splits into the header's cells (a row one short of a trailing VERSION has none).

    Raises:
        ProxyStatusError: naming the first line that is not a header or a row under it;
            text with no header at all names its first line.
    """
    if isinstance(text, bytes):
        text = decode_utf8(text)
    return parse_lines(_split_lines(text), warn)


def parse_lines(lines: Iterable[tuple[int, str]], warn: Warn | None = None) -> list[ProxySync]:
    """`parse_text` over (number, line) pairs, lines without their line breaks, read one
    at a time: a large saved output is never held whole (see `limits.capped_lines`)."""
    rows = _Lines(lines)
    skipped: list[tuple[int, str]] = []  # the first few lines before the header, to quote
    skipped_count = 0
    header = None
    for number, line in rows:
        if not _CONTROL.search(line):
            header = _header_at(line, rows.peek)
            if header is not None:
                break
        skipped_count += 1
        if len(skipped) < 3:
            skipped.append((number, line))
    if header is None:
        if not skipped:
            return []
        number, line = skipped[0]
        if _CONTROL.search(line):
            raise line_error(number, line, "not text (control characters)")
        raise line_error(number, line, "not an istioctl proxy-status header")
    if skipped and warn is not None:
        warn(
            f"skipped {_plural(skipped_count, 'line')} before the header: "
            f"{_quote(skipped, skipped_count)}"
        )
    result: list[ProxySync] = []
    for number, line in rows:
        if _CONTROL.search(line):
            raise line_error(number, line, "not text (control characters)")
        if _TRAILER.match(line):
            rest = 1 + sum(1 for _ in rows)
            if warn is not None:
                warn(f"stopped at line {number}, not a row: {_quote([(number, line)], rest, 1)}")
            break
        if _PROMPT.match(line):
            if warn is not None:
                warn(f"skipped line {number}, a shell prompt: {clip_line(line)!r}")
            continue
        again = _header_at(line, rows.peek)
        if again is not None:
            header = again
            continue
        result.append(header.row(number, line))
    return result
