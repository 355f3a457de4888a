"""Prometheus' text exposition format (version 0.0.4), written: `# HELP` and `# TYPE`
once per metric family, then one sample a line (pure).

Label values are escaped as the format says (backslash, double quote, newline); a
family with no samples is left out, so an absent count (not read) is no series rather
than a zero that would lie.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: The Content-Type of this format, for a server that serves it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Family:
    """One metric family: a name, its help, its type and its samples."""

    name: str
    help: str
    type: str = "gauge"
    samples: list[tuple[Mapping[str, str], float]] = field(default_factory=list)

    def add(self, labels: Mapping[str, str], value: float) -> None:
        self.samples.append((labels, value))


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def render(families: Iterable[Family]) -> str:
    """The families as exposition text, in the order given."""
    out: list[str] = []
    for fam in families:
        if not fam.samples:
            continue
        out.append(f"# HELP {fam.name} {escape_help(fam.help)}\n")
        out.append(f"# TYPE {fam.name} {fam.type}\n")
        for labels, value in fam.samples:
            inside = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
            series = f"{fam.name}{{{inside}}}" if inside else fam.name
            out.append(f"{series} {format_number(value)}\n")
    return "".join(out)
