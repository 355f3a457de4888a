"""Decoding the API server's JSON: the fastest decoder installed, and lists decoded
without the parts no caller reads.

`orjson`, when it is installed, decodes about twice as fast as the standard library;
nothing needs it (the single-file zipapp carries only pure Python), and an answer it
refuses (numbers beyond 64 bits, say) is decoded by the standard library instead.

A WAR as the API server returns it is about 3 KB of JSON, of which some 1.2 KB, and
more than half of its objects, are `metadata.managedFields`: which manager wrote which
field. A table of WARs shows none of it, so `loads_without_managed_fields` cuts every
`"managedFields":[...]` array out of the raw page before decoding it, where that can
be done exactly (see `_cut`), and decodes the rest as it came.
"""

from __future__ import annotations

import json
from typing import Any, Callable

Loads = Callable[[Any], Any]


def _fast() -> Loads | None:
    try:
        import orjson
    except ImportError:
        return None
    decode: Loads = orjson.loads
    refused = orjson.JSONDecodeError

    def loads(data: Any) -> Any:
        try:
            return decode(data)
        except refused:
            # orjson is stricter than the standard library (numbers beyond 64 bits, lone
            # surrogates): what json.loads accepts, it decodes; what it refuses, it says.
            return json.loads(data)

    return loads


#: The decoder answers are read with: orjson's when installed, else the standard library's.
loads: Loads = _fast() or json.loads
#: Which decoder `loads` is, for `--debug`, the benchmark and the tests.
DECODER = "json" if loads is json.loads else "orjson"

_KEY = b'"managedFields":['


def loads_without_managed_fields(data: bytes) -> Any:
    """`loads(data)`, less every `managedFields` array: for a list whose callers never
    read managedFields (tables of WARs). Arrays it cannot cut exactly stay in."""
    return loads(_cut(data, _KEY))


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
        end = find(b"]", at + size)
        if end < 0:
            break
        body = data[at + size : end]
        before = data[at - 1 : at] if at else b""
        if (
            before in (b"{", b",")
            and b"[" not in body
            and b"\\\\" not in body
            and (body.count(b'"') - body.count(b'\\"')) % 2 == 0
        ):
            if before == b",":
                parts.append(data[start : at - 1])  # the comma before goes too
                start = end + 1
            elif data[end + 1 : end + 2] == b",":
                parts.append(data[start:at])  # the first member: the comma after goes
                start = end + 2
            else:
                parts.append(data[start:at])  # the only member
                start = end + 1
        at = find(key, end + 1)
    if not parts:
        return data
    parts.append(data[start:])
    return b"".join(parts)
