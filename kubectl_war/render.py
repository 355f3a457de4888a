"""Every byte the plugin prints goes through here.

Tables look like kubectl's (upper-case headers, columns three spaces apart, the
last column unpadded, nothing truncated or wrapped); colour only when writing to
a terminal and `NO_COLOR` is unset; JSON and YAML shaped as kubectl prints them.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence

from kubectl_war.kyaml import to_kyaml as encode_kyaml

#: `typing` is read only by type checkers here: importing it costs some 5 ms of start-up on
#: the paths that run without click (`kubectl war --help`, `decode`).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

    from kubectl_war.jsondata import JSON

NONE = "<none>"
GAP = "   "

# ANSI colours by meaning; a cell is styled by its style name, never by its text.
_STYLES = {
    "good": "\x1b[32m",
    "bad": "\x1b[31m",
    "warn": "\x1b[33m",
    "dim": "\x1b[2m",
    "bold": "\x1b[1m",
}
_RESET = "\x1b[0m"


# What terminal_safe replaces: C0 controls (tab and newline too: a value is one line, and
# cannot forge another line of a table or of describe), DEL, and C1 controls (U+0080-U+009F:
# 0x9B alone starts an escape sequence on some terminals).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
# kubectl's forms (cli-runtime printers.EscapeTerminal) for the two it escapes, C's for
# tab and newline; the other C0 controls and DEL in caret notation, as `^[` is ESC's.
_ESCAPES = {"\x1b": "^[", "\r": "\\r", "\n": "\\n", "\t": "\\t", "\x7f": "^?"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _ESCAPES:
        return _ESCAPES[char]
    if code < 0x20:
        return "^" + chr(code + 0x40)
    return f"\\x{code:02x}"


def terminal_safe(text: str) -> str:
    """Text from the cluster as it may reach a terminal: every control character escaped.

    ESC becomes `^[` and CR `\\r` (as kubectl's printers write them), tab and newline
    `\\t` and `\\n`, other C0 controls and DEL caret notation (BEL `^G`), C1 controls
    `\\x9b`. Used by tables, describe and the rollout views; `-o json`/`-o yaml` print
    the server's text exactly.
    """
    if text.isprintable():  # nearly every cell: no search at all
        return text
    return _CONTROLS.sub(_escape, text)


def use_colour(stream: IO[str] | None = None) -> bool:
    """Colour only for a person at a terminal: never when piped, never with NO_COLOR."""
    if os.environ.get("NO_COLOR", "") != "":
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    stream = stream or sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Cell(str):
    """A table cell: its text, plus how to colour it on a terminal."""

    __slots__ = ("style",)  # no __dict__ per cell: a table may hold 100,000 of them
    style: str | None

    def __new__(cls, text: str, style: str | None = None) -> Cell:
        obj = super().__new__(cls, text)
        obj.style = style
        return obj


def _paint(text: str, style: str | None, colour: bool) -> str:
    if not colour or not style or style not in _STYLES:
        return text
    return f"{_STYLES[style]}{text}{_RESET}"


class Table:
    """Rows laid out the way kubectl's tabwriter lays them out, every cell `terminal_safe`.

    Column widths come from every row given so far; `format_row` reuses them, so a
    watch can print one line per change aligned with the table above it.
    """

    def __init__(self, headers: Sequence[str], *, colour: bool = False) -> None:
        self.headers = [h.upper() for h in headers]
        self.colour = colour
        self.widths = [len(h) for h in self.headers]

    def fit(self, rows: Iterable[Sequence[str]]) -> list[Sequence[str]]:
        rows = list(rows)
        widths = self.widths
        for row in rows:
            for i, cell in enumerate(row):
                size = len(cell) if cell.isprintable() else len(terminal_safe(cell))
                if size > widths[i]:
                    widths[i] = size
        return rows

    def format_row(self, row: Sequence[str], *, header: bool = False) -> str:
        last = len(row) - 1
        if not self.colour and last >= 0:
            # Nothing to paint: the loop below comes down to ljust, a tenth of its cost
            # over the rows of a long list.
            texts = [
                terminal_safe(str(cell)).ljust(width)
                for cell, width in zip(row[:last], self.widths)
            ]
            texts.append(terminal_safe(str(row[last])))
            # As Go's tabwriter: every cell but the last is padded, so an empty last
            # cell leaves the padding of the one before it (`kubectl get -L key`).
            return GAP.join(texts)
        parts = []
        for i, cell in enumerate(row):
            text = terminal_safe(str(cell))
            pad = "" if i == last else " " * (self.widths[i] - len(text))
            style = "bold" if header else getattr(cell, "style", None)
            parts.append(_paint(text, style, self.colour) + pad)
        return GAP.join(parts)

    def render(self, rows: Iterable[Sequence[str]], *, headers: bool = True) -> str:
        fitted = self.fit(rows)
        lines = [self.format_row(self.headers, header=True)] if headers else []
        lines.extend(self.format_row(r) for r in fitted)
        return "\n".join(lines) + "\n" if lines else ""

    def write(
        self,
        rows: Iterable[Sequence[str]],
        stream: IO[str] | None = None,
        *,
        headers: bool = True,
        lead: str = "",
    ) -> None:
        """`render`'s text (after `lead`), written a block of lines at a time.

        A table of 50,000 rows is some 20 MB of text: built whole, then encoded for
        the stream, it would be held three times over at the end of a command that
        already holds the rows.
        """
        fitted = self.fit(rows)
        if not fitted and not headers:
            if lead:
                write(lead, stream)
            return
        block = [self.format_row(self.headers, header=True)] if headers else []
        for row in fitted:
            if len(block) >= _BLOCK_LINES:
                write(lead + "\n".join(block) + "\n", stream)
                lead, block = "", []
            block.append(self.format_row(row))
        write(lead + "\n".join(block) + "\n", stream)


# Lines `Table.write` writes at a time: about 0.4 MB of a wide table.
_BLOCK_LINES = 1000


def as_list(items: Sequence[Mapping[str, Any]], resource_version: str = "") -> JSON:
    """A `v1 List` holding the objects exactly as the server returned them (kubectl -o json)."""
    return {
        "apiVersion": "v1",
        "items": list(items),
        "kind": "List",
        "metadata": {"resourceVersion": resource_version},
    }


def to_json(data: Any) -> str:
    """JSON as kubectl prints it: four-space indent, a trailing newline."""
    return json.dumps(data, indent=4, ensure_ascii=False) + "\n"


def to_yaml(data: Any) -> str:
    """YAML as kubectl prints it: block style, keys sorted."""
    import yaml  # PyYAML only where YAML is read or written

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(
        data, Dumper=dumper, default_flow_style=False, sort_keys=True, allow_unicode=True
    )


def to_kyaml(data: Any) -> str:
    """KYAML as `kubectl get -o kyaml` (kubectl 1.34+) prints it: one `---` document,
    flow style, every string value double-quoted, keys quoted only where YAML would read
    them as something else (`kyaml.to_kyaml`)."""
    return encode_kyaml(data)


def as_printed(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An object as `kubectl get -o kyaml` prints it: without `metadata.managedFields`,
    which kubectl leaves out unless asked (`--show-managed-fields`)."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return dict(obj)
    return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


def to_document(data: Any, output: str) -> str:
    """`data` as the `-o json`, `-o yaml` or `-o kyaml` document kubectl would print."""
    if output == "json":
        return to_json(data)
    if output == "kyaml":
        return to_kyaml(data)
    return to_yaml(data)


def write(text: str, stream: IO[str] | None = None) -> None:
    (stream or sys.stdout).write(text)


def kv_lines(pairs: Iterable[tuple[str, str]], indent: int = 0) -> list[str]:
    """`Key:  value` lines with values aligned, as kubectl describe prints a block."""
    pairs = list(pairs)
    if not pairs:
        return []
    width = max(len(k) for k, _ in pairs) + 3
    pad = " " * indent
    return [f"{pad}{(k + ':').ljust(width)}{v}".rstrip() for k, v in pairs]


class ListDocument:
    """A `v1 List` (`-o json|yaml`) written as its items arrive, in the very bytes
    `to_json`/`to_yaml` print for `as_list` of them all: only one item is held at a time.

    The head is written with the first item (or at `close`), so a list that fails before
    any item arrives has printed nothing. `add_encoded` takes items already encoded with
    `encode` (one or several, concatenated), as kept aside by a caller that cannot write
    them yet.
    """

    _JSON_HEAD = '{\n    "apiVersion": "v1",\n    "items": ['
    _YAML_HEAD = "apiVersion: v1\n"

    def __init__(self, output: str, out: IO[str]) -> None:
        if output not in ("json", "yaml"):
            raise ValueError(output)
        self.output = output
        self.out = out
        self.started = False
        self.empty = True

    def encode(self, obj: Any) -> str:
        """One item as it stands in the List: JSON with its separator first, indented
        two levels; YAML as a block sequence entry."""
        if self.output == "json":
            return ",\n        " + to_json(obj)[:-1].replace("\n", "\n        ")
        return to_yaml([obj])

    def start(self, before_items: Mapping[str, Any] | None = None) -> None:
        """Write the head; `before_items` are the keys YAML sorts before `items` (JSON
        has them after, given to `close`)."""
        if self.started:
            return
        self.started = True
        if self.output == "json":
            self.out.write(self._JSON_HEAD)
            return
        self.out.write(self._YAML_HEAD)
        if before_items:
            self.out.write(to_yaml(dict(before_items)))

    def add(self, obj: Any) -> None:
        self.add_encoded(self.encode(obj))

    def add_encoded(self, text: str) -> None:
        if not text:
            return
        self.start()
        if self.empty:
            self.empty = False
            if self.output == "json":
                text = text[1:]  # the first item has no comma before it
            else:
                self.out.write("items:\n")
        self.out.write(text)

    def close(
        self, resource_version: str = "", after_items: Mapping[str, Any] | None = None
    ) -> None:
        """Write what follows the items: `kind`, `metadata` and `after_items` (JSON's
        order: as given; YAML's: sorted, so those were given to `start`)."""
        self.start()
        tail: JSON = {"kind": "List", "metadata": {"resourceVersion": resource_version}}
        if self.output == "json":
            tail.update(after_items or {})
            items_end = "]," if self.empty else "\n    ],"
            # The tail as the rest of the same object: its "{" line dropped.
            self.out.write(items_end + "\n" + to_json(tail)[2:])
            return
        if self.empty:
            self.out.write("items: []\n")
        self.out.write(to_yaml(tail))
