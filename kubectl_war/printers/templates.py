"""The template printers (`-o jsonpath=...`, `-o custom-columns=...`) and `--sort-by`, as
kubectl runs them: `make_printer` and the `Printer` it makes, `sort_objects`.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any, Callable, TextIO

from kubectl_war.errors import UsageError, WarError
from kubectl_war.outputs import GO_TEMPLATES, TEMPLATE_FORMATS
from kubectl_war.printers.custom_columns import ColumnsError, CustomColumnsPrinter
from kubectl_war.printers.gofmt import go_quote, go_sharp
from kubectl_war.printers.jsonpath import JSONPath
from kubectl_war.printers.jsonpath_parser import JSONPathError
from kubectl_war.printers.sort import SortError, sort_items
from kubectl_war.printers.tabwriter import TabWriter

__all__ = ["FORMATS", "Printer", "make_printer", "sort_document", "sort_objects"]

#: The `-o` formats this package prints (each takes `=VALUE`).
FORMATS = TEMPLATE_FORMATS


def _kubectl_error(message: str) -> WarError:
    """kubectl's error as `error: MESSAGE` prints it (the CLI adds the final newline)."""
    return WarError(message[:-1] if message.endswith("\n") else message)


def _read(path: str, *, whole: bool) -> str:
    """A template file's text, or kubectl's wording of Go's open/read error."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        reason = f"open {path}: no such file or directory"
    except PermissionError:
        reason = f"open {path}: permission denied"
    except IsADirectoryError:
        if not whole:
            return ""  # kubectl opens the directory, reads nothing: "missing header line"
        reason = f"read {path}: is a directory"
    except OSError as exc:
        reason = f"open {path}: {exc.strerror or exc}".lower()
    if whole:
        raise WarError(f"error reading --template {path}, {reason}")
    raise _kubectl_error(f"error reading template {path}, {reason}\n")


class Printer:
    """One chosen printer: `print` a whole document, or `print_objects` for `-w`.

    Attributes:
        format: the `-o` format name (`jsonpath`, `custom-columns`, ...).
    """

    def __init__(self, fmt: str, engine: Any, template: str, sort_by: str | None) -> None:
        self.format = fmt
        self._engine = engine
        self._template = template
        self._sort_by = sort_by
        self._writer: TabWriter | None = None

    def print(self, document: Any, out: TextIO, *, rows: str = "items") -> None:
        """Print the document `-o json` would print (a `List` or any JSON value), sorted by
        `sort_by` first when it is a List, as `kubectl get -o FORMAT [--sort-by]` does.

        `rows` names the list in the document that custom-columns prints one row per entry
        of (a `List`'s `items`; another document's list of groups, say); a document without
        it is one row. Raises WarError (exit 1) with kubectl's message when the template
        fails on it.
        """
        if self._sort_by and isinstance(document, dict) and isinstance(document.get("items"), list):
            document = sort_document(document, self._sort_by)
        columns = self.format.startswith("custom-columns")
        if columns and rows != "items" and isinstance(document, dict):
            listed = document.get(rows)
            if isinstance(listed, list):
                document = {"items": listed}
        self._print(document, out)

    def print_objects(self, objects: list[Any], out: TextIO) -> None:
        """Print objects one at a time as `kubectl get -w -o FORMAT` prints its initial list
        and each watch event (no sorting, header once, column widths kept between calls)."""
        if self.format.startswith("custom-columns"):
            self._columns(self._engine.print_objects, objects, out)
            return
        # kubectl writes a watch through its table aligner, jsonpath output too: a tab in
        # the template aligns columns across objects and events.
        if self._writer is None or self._writer.out is not out:
            self._writer = TabWriter(out)
        for obj in objects:
            buf = StringIO()
            self._print(obj, buf)
            self._writer.write(buf.getvalue())
        self._writer.flush()

    def _columns(self, write: Callable[[Any, TextIO], None], what: Any, out: TextIO) -> None:
        """Run a custom-columns engine's `print` or `print_objects` with kubectl's errors."""
        try:
            write(what, out)
        except ColumnsError as exc:
            raise _kubectl_error(str(exc)) from None

    def _print(self, document: Any, out: TextIO) -> None:
        if self.format.startswith("custom-columns"):
            self._columns(self._engine.print, document, out)
            return
        buf = StringIO()
        try:
            self._engine.execute(buf, document)
        except JSONPathError as exc:
            raise _kubectl_error(
                f"error executing jsonpath {go_quote(self._template)}: Error executing template: "
                f"{exc}. Printing more information for debugging the template:\n"
                f"\ttemplate was:\n\t\t{self._template}\n"
                f"\tobject given to jsonpath engine was:\n\t\t{go_sharp(document)}\n\n\n"
            ) from None
        out.write(buf.getvalue())


def make_printer(
    output: str,
    *,
    no_headers: bool = False,
    allow_missing_keys: bool = True,
    sort_by: str | None = None,
) -> Printer | None:
    """The printer for an `-o` value, or None when `output` is not a template format.

    `allow_missing_keys` is kubectl's `--allow-missing-template-keys` (true by default);
    `no_headers` applies to `custom-columns=` only (kubectl prints a file's header always).
    Raises UsageError for `go-template` and WarError (exit 1, kubectl's message) for a
    template that does not parse or a file that cannot be read.
    """
    fmt, _, value = output.partition("=")
    if fmt in GO_TEMPLATES:
        raise UsageError(
            f"-o {fmt} is not supported: use -o jsonpath=TEMPLATE, or -o json | jq for "
            "anything a JSONPath cannot express"
        )
    if fmt not in FORMATS:
        return None
    if fmt.startswith("custom-columns"):
        if not value:
            raise WarError("custom-columns format specified but no custom columns given")
        try:
            if fmt == "custom-columns-file":
                engine: Any = CustomColumnsPrinter.from_template(_read(value, whole=False))
            else:
                engine = CustomColumnsPrinter.from_spec(value, no_headers=no_headers)
        except ColumnsError as exc:
            raise _kubectl_error(str(exc)) from None
        return Printer(fmt, engine, value, sort_by)

    if not value:
        raise WarError("template format specified but no template given")
    template = _read(value, whole=True) if fmt == "jsonpath-file" else value
    engine = JSONPath("out", allow_missing_keys=allow_missing_keys)
    try:
        engine.parse(template)
    except JSONPathError as exc:
        raise WarError(f"error parsing jsonpath {template}, {exc}") from None
    engine.output_json = fmt == "jsonpath-as-json"
    return Printer(fmt, engine, template, sort_by)


def sort_objects(objects: list[Any], sort_by: str, *, table: bool = False) -> list[Any]:
    """Objects in kubectl's `--sort-by` order; `table=True` for kubectl's table output path.

    Raises WarError (exit 1) with kubectl's message.
    """
    try:
        return sort_items(objects, sort_by, table=table)
    except SortError as exc:
        raise WarError(exc.message) from None


def sort_document(document: dict[str, Any], sort_by: str) -> dict[str, Any]:
    """A copy of a List document with its items in `--sort-by` order."""
    return {**document, "items": sort_objects(document["items"], sort_by)}
