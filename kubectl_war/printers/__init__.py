"""kubectl's template printers (`-o jsonpath=...`, `-o custom-columns=...`) and `--sort-by`.

`make_printer(output)` turns an `-o` value into a printer, or None when the value is not one
of these formats. They live in `printers.templates`, imported when one of these names is
first asked for: `printers.labels`, which every `list` reads, does not load them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubectl_war.onuse import names_loaded_on_use

if TYPE_CHECKING:
    from kubectl_war.printers.templates import (
        FORMATS,
        Printer,
        make_printer,
        sort_document,
        sort_objects,
    )

__all__ = ["FORMATS", "Printer", "make_printer", "sort_document", "sort_objects"]


# `printers.labels` is read by every `list`: the template printers load only when a name
# of theirs is first asked for (`printers.templates`).
__getattr__ = names_loaded_on_use(__name__, globals(), dict.fromkeys(__all__, "templates"))
