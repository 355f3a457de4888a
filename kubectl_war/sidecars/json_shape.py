"""Read decoded JSON (syncz, CSDS) whose shape is not trusted: each getter checks the type
and a wrong one is a `ProxyStatusError` naming the JSON path at fault.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from kubectl_war.printers.gofmt import json_kind
from kubectl_war.sidecars.records import ProxyStatusError, line_error

#: The whitespace JSON allows between tokens.
BLANK = " \t\r\n"

# How an error names each kind of decoded JSON value.
_KIND_NAMES = {
    "null": "null",
    "bool": "a boolean",
    "int": "a number",
    "float": "a number",
    "string": "a string",
    "list": "a list",
    "object": "an object",
}


def _type_name(value: object) -> str:
    return _KIND_NAMES.get(json_kind(value)) or type(value).__name__


def shape_error(path: str, expected: str, value: object) -> ProxyStatusError:
    return ProxyStatusError(f"{path}: expected {expected}, got {_type_name(value)}")


def json_object(value: object, path: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise shape_error(path, "an object", value)
    return value


def json_list(value: object, path: str) -> list[object]:
    if not isinstance(value, list):
        raise shape_error(path, "a list", value)
    return value


def json_string(obj: Mapping[str, object], key: str, path: str) -> str:
    """obj[key] as a string; a missing key or null is "" (Go omits empty strings)."""
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise shape_error(f"{path}.{key}", "a string", value)
    return value


def _json_error(text: str, error: json.JSONDecodeError) -> ProxyStatusError:
    line = text.split("\n")[error.lineno - 1].rstrip("\r")
    return line_error(error.lineno, line, f"invalid JSON ({error.msg})")


def decode_at(decoder: json.JSONDecoder, text: str, position: int) -> tuple[object, int]:
    """The JSON value at `position` and where it ends; an error names its line."""
    try:
        return decoder.raw_decode(text, position)
    except json.JSONDecodeError as error:
        raise _json_error(text, error) from None
    except RecursionError:
        line_number = text.count("\n", 0, position) + 1
        line = text.split("\n")[line_number - 1].rstrip("\r")
        raise line_error(line_number, line, "JSON nested too deeply") from None


class JsonArray:
    """A top-level JSON array starting at `start`, decoded an element at a time: a large
    syncz list is never held as decoded JSON all at once, only as the records made from it.
    An error names the line at fault (`ProxyStatusError`); `end` is where the array ended."""

    def __init__(self, decoder: json.JSONDecoder, text: str, start: int) -> None:
        self._decoder = decoder
        self._text = text
        self._start = start
        self.end = start

    def __iter__(self) -> Iterator[object]:
        text, decoder = self._text, self._decoder
        position = self._skip(self._start + 1)
        if text.startswith("]", position):
            self.end = position + 1
            return
        while True:
            value, position = decode_at(decoder, text, position)
            yield value
            position = self._skip(position)
            if text.startswith(",", position):
                position = self._skip(position + 1)
            elif text.startswith("]", position):
                self.end = position + 1
                return
            else:
                # Not an array after all: decoded whole, it fails with json's own words.
                decode_at(decoder, text, self._start)
                raise AssertionError("a JSON array json accepts but its elements do not make")

    def _skip(self, position: int) -> int:
        text, length = self._text, len(self._text)
        while position < length and text[position] in BLANK:
            position += 1
        return position
