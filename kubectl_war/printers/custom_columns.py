"""kubectl's `-o custom-columns=HDR:PATH,...` and `-o custom-columns-file=FILE` printer.

Each column is one JSONPath (`.a.b`, `a.b`, `{.a.b}`) run on each item; several results
join with `,`, none print `<none>`; the rows go through kubectl's tab aligner.
"""

from __future__ import annotations

import re
from typing import Any, TextIO

from kubectl_war.printers.gofmt import go_sprint
from kubectl_war.printers.jsonpath import JSONPath
from kubectl_war.printers.jsonpath_parser import JSONPathError
from kubectl_war.printers.sort import relaxed_jsonpath
from kubectl_war.printers.tabwriter import TabWriter

__all__ = ["ColumnsError", "CustomColumnsPrinter", "escape_terminal"]

_TEMPLATE_HINT = (
    "Expected format is one line of space separated headers, one line of space separated "
    "column specs."
)
# bufio.ScanWords' notion of space (Go's isSpace), not Python's str.split()
_GO_SPACE = re.compile(
    "[ \t\n\v\f\r\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
)


class ColumnsError(Exception):
    """A spec or template kubectl refuses, or a column that fails (kubectl's message)."""


def escape_terminal(text: str) -> str:
    """kubectl's EscapeTerminal: ESC as `^[` and CR as `\\r`, so cells cannot drive the terminal."""
    return text.replace("\x1b", "^[").replace("\r", "\\r")


def _column(header: str, path: str) -> tuple[str, str]:
    try:
        return header, relaxed_jsonpath(path)
    except ValueError as exc:
        raise ColumnsError(str(exc)) from None


class CustomColumnsPrinter:
    """Columns of (header, JSONPath template); keeps header and widths state across prints."""

    def __init__(self, columns: list[tuple[str, str]], *, no_headers: bool = False) -> None:
        self.columns = columns
        self.no_headers = no_headers
        self._last_type: str | None = None
        self._writer: TabWriter | None = None

    @classmethod
    def from_spec(cls, spec: str, *, no_headers: bool = False) -> CustomColumnsPrinter:
        if not spec:
            raise ColumnsError("custom-columns format specified but no custom columns given")
        columns = []
        for part in spec.split(","):
            pieces = part.split(":", 1)
            if len(pieces) != 2:
                raise ColumnsError(
                    f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"
                )
            columns.append(_column(pieces[0], pieces[1]))
        return cls(columns, no_headers=no_headers)

    @classmethod
    def from_template(cls, text: str) -> CustomColumnsPrinter:
        """The two-line file form; kubectl prints its header even under --no-headers."""
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
        if not lines:
            raise ColumnsError(f"invalid template, missing header line. {_TEMPLATE_HINT}")
        if len(lines) < 2:
            raise ColumnsError(f"invalid template, missing spec line. {_TEMPLATE_HINT}")
        headers = [w for w in _GO_SPACE.split(lines[0]) if w]
        specs = [w for w in _GO_SPACE.split(lines[1]) if w]
        if len(headers) != len(specs):
            raise ColumnsError(
                f"number of headers ({len(headers)}) and field specifications ({len(specs)}) "
                "don't match"
            )
        return cls([_column(h, s) for h, s in zip(headers, specs)])

    def print(self, document: Any, out: TextIO) -> None:
        """A List (one row per item) or one object (one row), as `kubectl get` prints it."""
        is_list = isinstance(document, dict) and isinstance(document.get("items"), list)
        rows = document["items"] if is_list else [document]
        self._print(rows, "list" if is_list else "object", out, TabWriter(out))

    def print_objects(self, objects: list[Any], out: TextIO) -> None:
        """Objects printed one after another and aligned together, as `kubectl get -w` does;
        the header comes once, and column widths only grow from one call to the next."""
        if self._writer is None or self._writer.out is not out:
            self._writer = TabWriter(out)
        for obj in objects:
            self._print([obj], "object", out, self._writer, flush=False)
        self._writer.flush()

    def _print(
        self, rows: list[Any], kind: str, out: TextIO, writer: TabWriter, flush: bool = True
    ) -> None:
        try:
            if not self.no_headers and kind != self._last_type:
                writer.write("\t".join(h for h, _ in self.columns) + "\n")
                self._last_type = kind
            parsers = []
            for ix, (_, spec) in enumerate(self.columns):
                parser = JSONPath(f"column{ix}", allow_missing_keys=True)
                parser.parse(spec)
                parsers.append(parser)
            for row in rows:
                writer.write("\t".join(self._cell(p, row) for p in parsers) + "\n")
        except JSONPathError as exc:
            writer.flush()
            raise ColumnsError(str(exc)) from None
        if flush:
            writer.flush()

    @staticmethod
    def _cell(parser: JSONPath, row: Any) -> str:
        groups = parser.find_results(row)
        values = ["<none>"] if not groups or not groups[0] else []
        values += [escape_terminal(go_sprint(v)) for group in groups for v in group]
        return ",".join(values)
