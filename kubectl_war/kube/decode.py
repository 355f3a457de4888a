"""Decoding lists of WARs without the parts no table reads, as fast as what is installed.

A WAR as the API server returns it is about 3 KB of JSON, of which some 1.2 KB, and
more than half of its objects, are `metadata.managedFields`: which manager wrote which
field. A table of WARs shows none of it, so `loads_without_managed_fields` cuts every
`"managedFields":[...]` array out of the raw page before decoding it, where that can
be done exactly (see `_cut`), and decodes the rest as it came.

Those pages are decoded by `orjson` when it is installed (a quarter to a half faster),
else by the standard library; nothing needs orjson (the single-file zipapp carries only
pure Python). Only for rows: orjson reads integers beyond 64 bits as floats, so every
answer that is printed or written back (`-o json`, describe, deletes) is decoded by the
standard library.
"""

from __future__ import annotations

import json
from typing import Any, Callable

Loads = Callable[[bytes], Any]  # bytes to JSON


def _fast() -> Loads | None:
    try:
        import orjson
    except ImportError:
        return None
    decode: Loads = orjson.loads
    refused = orjson.JSONDecodeError

    def loads(data: bytes) -> Any:
        try:
            return decode(data)
        except refused:
            # Stricter than the standard library in places (lone surrogates): what
            # json.loads accepts, it decodes; what it refuses, it says.
            return json.loads(data)

    return loads


#: The decoder pages of rows are read with: orjson's when installed, else the standard
#: library's.
row_loads: Loads = _fast() or json.loads
#: Which one `row_loads` is, for the benchmark and the tests.
DECODER = "json" if row_loads is json.loads else "orjson"

_KEY = b'"managedFields":['


def loads_without_managed_fields(data: bytes) -> Any:
    """`data` decoded less every `managedFields` array: for a list whose callers never
    read managedFields (tables of WARs). Arrays it cannot cut exactly stay in."""
    return row_loads(_cut(data, _KEY))


def _cut(data: bytes, key: bytes) -> bytes:
    """``data`` (compact JSON) without each member ``"<key>":[...]`` whose array holds no
    array and no escaped backslash, with the comma that joined it to its neighbours.

    Exact, without parsing: in JSON text an unescaped `"` is always a string's delimiter,
    so `"managedFields":[` preceded by `{` or `,` is a member whose value is an array (in
    a string, every `"` is escaped). Its array ends at the first `]` outside a string.
    Where the array holds no `[` and no `\\\\`, the `"` in it that are not string
    delimiters are exactly those written `\\"`, so an even count of delimiters before a
    `]` puts that `]` outside every string. Anything else (an array in the array, an
    escaped backslash, JSON with spaces) is left as it is, to be decoded in full.
    """
    find = data.find
    at = find(key)
    if at < 0:
        return data
    parts = []
    start = 0
    size = len(key)
    while at >= 0:
        end = _array_end(data, at + size)
        if end < 0:
            at = find(key, at + size)
            continue
        before = data[at - 1 : at] if at else b""
        if before == b",":
            parts.append(data[start : at - 1])  # the comma before goes too
            start = end + 1
        elif before == b"{" and data[end + 1 : end + 2] == b",":
            parts.append(data[start:at])  # the first member: the comma after goes
            start = end + 2
        elif before == b"{":
            parts.append(data[start:at])  # the only member
            start = end + 1
        at = find(key, end + 1)
    if not parts:
        return data
    parts.append(data[start:])
    return b"".join(parts)


def _array_end(data: bytes, start: int) -> int:
    """Where the array whose body starts at ``start`` ends (its `]`), or -1 when that
    cannot be told without parsing: an array or an escaped backslash inside it."""
    end = data.find(b"]", start)
    while end >= 0:
        body = data[start:end]
        if b"[" in body or b"\\\\" in body:
            return -1
        if (body.count(b'"') - body.count(b'\\"')) % 2 == 0:
            return end  # outside every string
        end = data.find(b"]", end + 1)  # that one was in a string
    return -1
