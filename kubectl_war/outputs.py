"""The `-o` names of kubectl's template formats, declared once.

The flag parser (cli/output_flags.py) checks `-o` without loading the printers, and the
printers (printers/) print these formats: both read the names from here.
"""

from __future__ import annotations

#: kubectl's template formats that `printers` prints (each takes `=VALUE`).
TEMPLATE_FORMATS = (
    "jsonpath",
    "jsonpath-file",
    "jsonpath-as-json",
    "custom-columns",
    "custom-columns-file",
)
#: kubectl's Go template formats: refused with a pointer to -o jsonpath.
GO_TEMPLATES = ("go-template", "go-template-file", "template", "templatefile")
