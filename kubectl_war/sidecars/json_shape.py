"""Read decoded JSON (syncz, CSDS) whose shape is not trusted: each getter checks the type
and a wrong one is a `ProxyStatusError` naming the JSON path at fault.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubectl_war.printers.gofmt import json_kind
from kubectl_war.sidecars.records import ProxyStatusError

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
