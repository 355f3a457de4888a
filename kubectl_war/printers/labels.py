"""kubectl's label columns: `-L/--label-columns KEY,...` and `--show-labels` in a table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["LabelColumns"]


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
        """From `-L` values as given (each may hold several keys, comma-separated)."""
        keys = tuple(k.strip() for value in label_columns for k in value.split(",") if k.strip())
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
