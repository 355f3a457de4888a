"""KYAML, the YAML dialect of `kubectl get -o kyaml` (kubectl 1.34+), byte for byte.

The rules, as kubectl 1.37 applies them to an object decoded from JSON:

- one document: `---`, the value, a newline;
- a mapping is `{`, one `key: value,` line per entry (keys sorted, as Go's JSON
  encoder sorts them) indented two spaces a level, then `}`; an empty one is `{}`;
- a sequence is `[`, one `item,` line per item, then `]`, unless every item is a
  mapping or a sequence: then the items are "cuddled", `[{ ... }, { ... }]`, each at the
  sequence's own indentation; an empty one is `[]`;
- numbers are printed as Go's JSON encoder prints a Kubernetes object's numbers
  (integers that fit in 64 bits as they are, others as a float64: `1e21`, `0.1`, `1`);
- every string value is double-quoted with YAML escapes (`\\n`, `\\x01`, `\\u2028` as
  `\\L`, ...); one that holds a newline is folded, one line of the source per line
  of output, with `\\` continuations;
- a key is written bare when it is letters, digits and `_` (with `-`, `.`, `/` inside)
  and YAML could not read it as a null, a boolean, a number or a time; else quoted.
"""

from __future__ import annotations

import re
import unicodedata

#: `typing` is read only by type checkers here: this module is imported with `render`, which
#: `kubectl war decode` loads without `typing`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["to_kyaml"]

_INDENT = "  "
_FOLD = "\\\n"
_INT64 = (-(2**63), 2**63 - 1)

_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\r": "\\r",
    "\v": "\\v",
    "\x00": "\\0",
    "\x1b": "\\e",
    "\x85": "\\N",
    "\xa0": "\\_",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


def to_kyaml(data: Any) -> str:
    """`data` (JSON-shaped: dicts, lists, strings, numbers, booleans, None) as one KYAML
    document, ending with a newline."""
    out: list[str] = ["---\n"]
    _node(data, 0, out)
    out.append("\n")
    return "".join(out)


def _node(value: Any, indent: int, out: list[str]) -> None:
    if isinstance(value, dict):
        _mapping(value, indent, out)
    elif isinstance(value, (list, tuple)):
        _sequence(value, indent, out)
    elif isinstance(value, str):
        out.append(_string(value, indent + 1, bare_if_safe=False, fold=True))
    else:
        out.append(_scalar(value))


def _mapping(value: dict[str, Any], indent: int, out: list[str]) -> None:
    if not value:
        out.append("{}")
        return
    out.append("{\n")
    inner = _INDENT * (indent + 1)
    for key in sorted(value, key=lambda k: str(k).encode("utf-8", "surrogatepass")):
        out.append(inner)
        out.append(_string(str(key), indent + 1, bare_if_safe=True, fold=False))
        out.append(": ")
        _node(value[key], indent + 1, out)
        out.append(",\n")
    out.append(_INDENT * indent + "}")


def _sequence(value: list[Any] | tuple[Any, ...], indent: int, out: list[str]) -> None:
    if not value:
        out.append("[]")
        return
    if all(isinstance(item, (dict, list, tuple)) for item in value):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(", ")
            _node(item, indent, out)
        out.append("]")
        return
    out.append("[\n")
    for item in value:
        out.append(_INDENT * (indent + 1))
        _node(item, indent + 1, out)
        out.append(",\n")
    out.append(_INDENT * indent + "]")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int) and _INT64[0] <= value <= _INT64[1]:
        return str(value)
    if isinstance(value, (int, float)):
        return go_float(float(value))
    return _string(str(value), 1, bare_if_safe=False, fold=True)


def go_float(value: float) -> str:
    """A float64 as Go's encoding/json writes it: positional notation for magnitudes from
    1e-6 to below 1e21, else exponent notation (`1e+21`, `1.5e-7`); shortest digits."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{value!r} has no JSON form")
    sign, digits, point = _shortest(value)
    if not digits:
        return sign + "0"
    if 1e-6 <= abs(value) < 1e21:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return sign + digits + "0" * (point - len(digits))
        return f"{sign}{digits[:point]}.{digits[point:]}"
    power = point - 1
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exp = f"{'-' if power < 0 else '+'}{abs(power):02d}"
    if exp.startswith("-0"):
        exp = "-" + exp[2:]
    return f"{sign}{mantissa}e{exp}"


def _shortest(value: float) -> tuple[str, str, int]:
    """A finite float's sign ("-" or ""), its shortest round-trip digits (no leading or
    trailing zeros; "" for zero) and where the decimal point goes among them: `repr`'s
    digits, read without the `decimal` module (a start-up cost the KYAML path need not pay)."""
    text = repr(value)
    sign = "-" if text.startswith("-") else ""
    mantissa, _, exponent = text.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).rstrip("0")
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    return sign, stripped, point - (len(digits) - len(stripped))


def _string(text: str, indent: int, *, bare_if_safe: bool, fold: bool) -> str:
    """A string as KYAML writes it; `bare_if_safe` for keys (written bare when nothing
    could misread them), `fold` for values (a newline breaks the output line too)."""
    multi = "\n" in text
    if bare_if_safe and not multi and not _needs_quotes(text):
        return text
    newline = "\\n" + (_FOLD if fold else "")
    folded = multi and fold
    buf: list[str] = ['"']
    if folded:
        buf.append(_FOLD)
    at_line_start = folded
    for ch in text:
        if at_line_start:
            buf.append(_INDENT * indent)
            # Leading whitespace of a folded line is kept by escaping it; other lines
            # get one space, which YAML drops, to keep the text aligned.
            buf.append("\\" if ch.isspace() and ch != "\n" else " ")
            at_line_start = False
        if ch in '"\\':
            buf.append("\\" + ch)
        elif ch == "\n":
            buf.append(newline)
            at_line_start = folded
        elif ch == "\t" or (ch.isprintable() and not _is_surrogate(ch)):
            buf.append(ch)
        elif ch in _ESCAPES:
            buf.append(_ESCAPES[ch])
        elif _is_surrogate(ch):
            buf.append("\ufffd")
        else:
            code = ord(ch)
            if code < 0x20 or code == 0x7F:
                buf.append(f"\\x{code:02x}")
            elif code < 0x10000:
                buf.append(f"\\u{code:04x}")
            else:
                buf.append(f"\\U{code:08x}")
    if folded:
        if not at_line_start:
            buf.append(_FOLD)
        buf.append(_INDENT * indent)
    buf.append('"')
    return "".join(buf)


def _is_surrogate(ch: str) -> bool:
    return 0xD800 <= ord(ch) <= 0xDFFF


def _needs_quotes(text: str) -> bool:
    """Whether a key must be quoted: empty, readable by YAML as another type, or holding a
    character other than letters, digits, `_` and (inside) `-`, `.`, `/`."""
    if not text or _yaml_guesses_wrong(text):
        return True
    last = len(text) - 1
    for i, ch in enumerate(text):
        if unicodedata.category(ch)[0] in "LN" or ch == "_":
            continue
        if 0 < i < last and ch in "-./":
            continue
        return True
    return False


_GO_BOOLS = {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}
_YAML_WORDS = {"null", "~", "true", "y", "yes", "on", "false", "n", "no", "off"}
_YAML_FLOATS = {".inf", "-.inf", "+.inf", ".nan"}
# Patterns as strings: `re` compiles (and caches) each on first use, so that importing this
# module with `render` costs `kubectl war decode` nothing.
_SEXAGESIMAL = r"^[+-]?[1-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$"
_GO_INT = r"^[+-]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)$"
_GO_FLOAT = (
    r"(?i)^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf|infinity|nan"
    r"|0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+)$"
)
_TIMESTAMP = (
    r"^\d{4}-\d{1,2}-\d{1,2}"
    r"([Tt]\d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?(Z|[+-]\d{2}:\d{2})|[ ]\d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?)?$"
)


def _yaml_guesses_wrong(text: str) -> bool:
    """Whether a YAML reader could take `text` for a null, a boolean, a number or a time."""
    if len(text) <= 5 and text.lower() in _YAML_WORDS:
        return True
    if text in _GO_BOOLS:
        return True
    bare = text.replace("_", "")
    if re.match(_GO_INT, bare) or re.match(_GO_FLOAT, bare):
        return True
    if re.match(_SEXAGESIMAL, text):
        return True
    if len(text) <= 5 and text.lower() in _YAML_FLOATS:
        return True
    return bool(re.match(_TIMESTAMP, text))
