"""Read the `istioctl proxy-status` table of every Istio release (1.0 to 1.27+).

Columns are found by header name, never by position; see `parse_text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from kubectl_war.sidecars.records import (
    IGNORED,
    STALE,
    STALE_NEVER_ACKNOWLEDGED,
    UNKNOWN,
    ProxySync,
    SyncState,
    add_type,
    decode_utf8,
    line_error,
    short_type,
)

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
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


def _read_header(line: str) -> list[_Column] | None:
    """The columns of a proxy-status header line, or None if it is not one."""
    columns = [_Column(m.start(), m.group()) for m in _HEADER_TOKEN.finditer(line)]
    if not columns or columns[0].title not in _NAME_HEADERS:
        return None
    titles = [c.title for c in columns]
    fixed = [t for t in titles if t in _FIXED_HEADERS]
    if len(fixed) != len(set(fixed)):
        return None
    if (
        sum(t in titles for t in _ISTIOD_HEADERS) != 1
        or sum(t in titles for t in _NAME_HEADERS) != 1
    ):
        return None
    typed = [t for t in titles if t not in _FIXED_HEADERS]
    if not all(_TYPE_HEADER.fullmatch(t) for t in typed):
        return None
    if bool(typed) == (_SUBSCRIBED in titles):  # exactly one of: type columns, summary
        return None
    return columns


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
    return state, ", ".join(notes) if notes else None


def _parse_version(cell: str) -> tuple[str | None, bool]:
    if cell.endswith("*"):
        return cell[:-1] or None, True
    return cell or None, False


def _parse_row(number: int, line: str, columns: list[_Column]) -> ProxySync:
    cells = _cells(line, columns)
    if cells is None:
        raise line_error(number, line, "row does not line up with the header's columns")
    types: dict[str, SyncState] = {}
    details: dict[str, str] = {}
    proxy = cluster = istiod = version_cell = None
    for column, cell in zip(columns, cells):
        title = column.title
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
        raise line_error(number, line, f"row has no {columns[0].title}")
    if not istiod:
        raise line_error(number, line, "row is cut short (no ISTIOD/PILOT value)")
    version, mismatch = _parse_version(version_cell or "")
    return ProxySync(proxy, cluster or None, istiod, version, types, mismatch, details)


def _split_lines(text: str) -> Iterator[tuple[int, str]]:
    if text.startswith("\ufeff"):
        text = text[1:]
    for index, line in enumerate(_LINE_BREAK.split(text), start=1):
        yield index, line.rstrip(" \t")


def parse_text(text: str | bytes) -> list[ProxySync]:
    """Parse `istioctl proxy-status` output of any Istio release.

    Columns are found by their header's name and start offset (istioctl prints through
    Go's tabwriter, so every value starts where its header starts); cells may contain
    spaces (`NOT SENT`, `STALE (Never Acknowledged)`) or be empty (CLUSTER). Blank lines,
    trailing spaces, Windows line endings and a repeated header (outputs pasted one after
    another) are fine. Empty text, or a header alone, is no proxies: istioctl prints
    nothing at all when no proxy is connected.

    Raises:
        ProxyStatusError: naming the first line that is not a header or a row under it.
    """
    if isinstance(text, bytes):
        text = decode_utf8(text)
    columns: list[_Column] | None = None
    result: list[ProxySync] = []
    for number, line in _split_lines(text):
        if not line.strip():
            continue
        if _CONTROL.search(line):
            raise line_error(number, line, "not text (control characters)")
        header = _read_header(line)
        if header is not None:
            columns = header
            continue
        if columns is None:
            raise line_error(number, line, "not an istioctl proxy-status header")
        result.append(_parse_row(number, line, columns))
    return result
