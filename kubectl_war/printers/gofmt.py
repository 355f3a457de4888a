"""Go's ways of turning JSON values into text, as kubectl's printers write them.

kubectl's printers print decoded JSON (maps, lists, strings, int64, float64, bool, nil) with
Go's `fmt` verbs and `encoding/json`; matching its bytes needs the same rules here.
"""

from __future__ import annotations

import math
import unicodedata
from decimal import Decimal
from typing import Any, Callable

__all__ = [
    "go_float",
    "go_json",
    "go_quote",
    "go_sharp",
    "go_sprint",
    "go_unicode",
    "json_kind",
]


# The kinds of a decoded JSON value, in the order they must be told apart (True is an int).
_KINDS: tuple[tuple[Any, str], ...] = (
    (type(None), "null"),
    (bool, "bool"),
    (int, "int"),
    (float, "float"),
    (str, "string"),
    (dict, "object"),
    ((list, tuple), "list"),
)


def json_kind(value: Any) -> str:
    """What a decoded JSON value is: `null`, `bool`, `int`, `float`, `string`, `object` or
    `list`; "" for anything JSON cannot hold."""
    for types, kind in _KINDS:
        if isinstance(value, types):
            return kind
    return ""


def _digits(x: float) -> tuple[str, int]:
    """The shortest round-trip digits of abs(x) and the decimal point's position."""
    _, digits, exponent = Decimal(repr(abs(x))).as_tuple()
    text = "".join(map(str, digits))
    point = len(text) + int(exponent)
    stripped = text.rstrip("0")
    if not stripped:
        return "0", 1
    lead = len(stripped) - len(stripped.lstrip("0"))
    return stripped[lead:], point - lead


def _fmt_e(neg: bool, digits: str, point: int) -> str:
    out = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exp = point - 1 if digits != "0" else 0
    sign = "-" if exp < 0 else "+"
    return ("-" if neg else "") + f"{out}e{sign}{abs(exp):02d}"


def _fmt_f(neg: bool, digits: str, point: int) -> str:
    if point <= 0:
        out = "0." + "0" * -point + digits
    elif point >= len(digits):
        out = digits + "0" * (point - len(digits))
    else:
        out = digits[:point] + "." + digits[point:]
    return ("-" if neg else "") + out


def go_float(x: float) -> str:
    """`fmt.Sprint(float64)`: strconv's shortest %g (exponent form from 1e+06 and below 1e-04)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    neg = math.copysign(1.0, x) < 0
    digits, point = _digits(x)
    if x == 0:
        return "-0" if neg else "0"
    exp = point - 1
    if exp < -4 or exp >= 6:
        return _fmt_e(neg, digits, point)
    return _fmt_f(neg, digits, point)


def _json_float(x: float) -> str:
    """encoding/json's float64: fixed notation between 1e-6 and 1e21, else e-notation."""
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    neg = x < 0
    digits, point = _digits(x)
    if abs(x) < 1e-6 or abs(x) >= 1e21:
        text = _fmt_e(neg, digits, point)
        # encoding/json writes e-7, not e-07
        if len(text) >= 4 and text[-4] == "e" and text[-3] == "-" and text[-2] == "0":
            text = text[:-2] + text[-1]
        return text
    return _fmt_f(neg, digits, point)


_JSON_SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b"}
_JSON_SHORT["\f"] = "\\f"


def _json_string(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch in _JSON_SHORT:
            out.append(_JSON_SHORT[ch])
        elif ch < " " or ch in "<>&\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_json(value: Any, indent: str | None = None, _level: int = 0) -> str:
    """`json.Marshal` (compact) or `json.MarshalIndent(v, "", indent)` of a decoded JSON value."""
    kind = json_kind(value)
    if kind == "object":
        colon = ":" if indent is None else ": "
        parts = [(_json_string(str(k)) + colon, v) for k, v in sorted(value.items())]
        brackets = "{}"
    elif kind == "list":
        parts = [("", v) for v in value]
        brackets = "[]"
    elif kind in _JSON:
        return _JSON[kind](value)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")
    if not parts:
        return brackets
    if indent is None:
        body = ",".join(key + go_json(v) for key, v in parts)
        return brackets[0] + body + brackets[1]
    pad = "\n" + indent * (_level + 1)
    body = ",".join(pad + key + go_json(v, indent, _level + 1) for key, v in parts)
    return brackets[0] + body + "\n" + indent * _level + brackets[1]


def go_sprint(value: Any) -> str:
    """`fmt.Sprint(v)`: maps as `map[k:v ...]` (sorted keys), lists as `[a b]`, nil `<nil>`."""
    return _SPRINT.get(json_kind(value), str)(value)


def _printable(ch: str) -> bool:
    """Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space."""
    if ch == " ":
        return True
    return unicodedata.category(ch)[0] in "LMNPS"


def go_quote(s: str) -> str:
    """`strconv.Quote`: a double-quoted Go string literal."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif _printable(ch):
            out.append(ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def go_sharp(value: Any) -> str:
    """`fmt.Sprintf("%#v", v)` of a decoded JSON value (held in `interface{}` slots)."""
    return _SHARP.get(json_kind(value), repr)(value)


def go_unicode(ch: str) -> str:
    """`fmt.Sprintf("%#U", r)`: `U+002A '*'`, without the quoted rune when it is not printable."""
    code = f"U+{ord(ch):04X}"
    return f"{code} '{ch}'" if _printable(ch) else code


def _go_bool(value: bool) -> str:
    return "true" if value else "false"


# How each printer writes each kind of value (go_json writes maps and lists itself);
# all three write bools and ints alike, so the later tables start from the earlier.
_JSON: dict[str, Callable[[Any], str]] = {
    "null": lambda _: "null",
    "bool": _go_bool,
    "int": str,
    "float": _json_float,
    "string": _json_string,
}
_SPRINT: dict[str, Callable[[Any], str]] = {
    **_JSON,
    "null": lambda _: "<nil>",
    "float": go_float,
    "string": str,
    "object": lambda d: (
        "map[" + " ".join(f"{k}:{go_sprint(v)}" for k, v in sorted(d.items())) + "]"
    ),
    "list": lambda a: "[" + " ".join(map(go_sprint, a)) + "]",
}
_SHARP: dict[str, Callable[[Any], str]] = {
    **_SPRINT,
    "null": lambda _: "interface {}(nil)",
    "string": go_quote,
    "object": lambda d: (
        "map[string]interface {}{"
        + ", ".join(f"{go_quote(str(k))}:{go_sharp(v)}" for k, v in sorted(d.items()))
        + "}"
    ),
    "list": lambda a: "[]interface {}{" + ", ".join(map(go_sharp, a)) + "}",
}
