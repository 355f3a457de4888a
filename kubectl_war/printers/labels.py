"""kubectl's label columns: `-L/--label-columns KEY,...` and `--show-labels` in a table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["CsvError", "LabelColumns", "split_csv"]


class CsvError(ValueError):
    """A `-L` value that is not one CSV record, in Go's `encoding/csv` words.

    Attributes:
        column: the 1-based byte column where reading failed, as Go counts it.
        reason: Go's text for the mistake.
    """

    def __init__(self, column: int, reason: str) -> None:
        super().__init__(f"parse error on line 1, column {column}: {reason}")
        self.column = column
        self.reason = reason


_QUOTE_ERROR = 'extraneous or missing " in quoted-field'
_BARE_QUOTE = 'bare " in non-quoted-field'


def split_csv(text: str) -> list[str]:
    """A `-L` value read as kubectl's flag library reads a string list: the first record
    of `text` as CSV (fields kept as given, spaces included; `"a,b"` is one field, `""`
    inside quotes one quote), nothing for an empty value.

    Raises:
        CsvError: a quote where CSV allows none, or a quoted field never closed.
    """
    if text == "":
        return []
    data = text.encode("utf-8", "surrogateescape")
    fields: list[str] = []
    at, end = 0, len(data)
    while True:
        if at < end and data[at] == 0x22:  # a quoted field
            field = bytearray()
            at += 1
            while True:
                close = data.find(b'"', at)
                if close < 0:
                    raise CsvError(end + 1, _QUOTE_ERROR)
                field += data[at:close]
                at = close + 1
                if data[at : at + 1] == b'"':
                    field += b'"'
                    at += 1
                    continue
                if at >= end or data[at : at + 1] in (b",", b"\n", b"\r"):
                    break
                raise CsvError(close + 1, _QUOTE_ERROR)
            fields.append(field.decode("utf-8", "surrogateescape"))
            if at >= end or data[at : at + 1] != b",":
                return fields
            at += 1
            continue
        stop = min([i for i in (data.find(b",", at), data.find(b"\n", at)) if i >= 0], default=end)
        raw = data[at:stop]
        quote = raw.find(b'"')
        if quote >= 0:
            raise CsvError(at + quote + 1, _BARE_QUOTE)
        fields.append(raw.rstrip(b"\r").decode("utf-8", "surrogateescape"))
        if stop >= end or data[stop : stop + 1] == b"\n":
            return fields
        at = stop + 1


@dataclass(frozen=True)
class LabelColumns:
    """The label columns a table ends with: one per `-L` key, then LABELS with `--show-labels`.

    Attributes:
        keys: the label keys of `-L`, in the order given.
        show_all: `--show-labels`.
    """

    keys: tuple[str, ...] = ()
    show_all: bool = False

    @classmethod
    def from_flags(cls, label_columns: Iterable[str], show_labels: bool) -> LabelColumns:
        """From `-L` values as given, each a CSV record of keys (`split_csv`), as kubectl
        reads them: spaces are part of a key, and an empty key is an empty column."""
        keys = tuple(key for value in label_columns for key in split_csv(value))
        return cls(keys, show_labels)

    def __bool__(self) -> bool:
        return bool(self.keys) or self.show_all

    def headers(self) -> list[str]:
        """kubectl's headers: a key's last `/`-separated part upper-cased, then LABELS."""
        cols = [key.rsplit("/", 1)[-1].upper() for key in self.keys]
        return [*cols, "LABELS"] if self.show_all else cols

    def cells(self, labels: Mapping[str, str] | None) -> list[str]:
        """One object's cells: each key's value (empty when absent), then `k=v,...`
        sorted by key, or `<none>`."""
        labels = labels or {}
        cells = [str(labels.get(key, "")) for key in self.keys]
        if self.show_all:
            shown = ",".join(f"{k}={labels[k]}" for k in sorted(labels))
            cells.append(shown or "<none>")
        return cells
