"""Read saved or piped proxy-status output of any format: tell the istioctl table, syncz
JSON and CSDS JSON apart, and hand each to its reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from kubectl_war.sidecars.csds import parse_csds
from kubectl_war.sidecars.istioctl_text import parse_text
from kubectl_war.sidecars.records import ProxySync, decode_utf8, line_error
from kubectl_war.sidecars.syncz import parse_syncz


def _json_documents(text: str) -> Iterator[object]:
    """Every JSON value in text: istioctl -o json prints one object per istiod."""
    decoder = json.JSONDecoder()
    position = 0
    length = len(text)
    while True:
        while position < length and text[position] in " \t\r\n":
            position += 1
        if position >= length:
            return
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            line = text.split("\n")[error.lineno - 1].rstrip("\r")
            raise line_error(error.lineno, line, f"invalid JSON ({error.msg})") from None
        except RecursionError:
            line_number = text.count("\n", 0, position) + 1
            line = text.split("\n")[line_number - 1].rstrip("\r")
            raise line_error(line_number, line, "JSON nested too deeply") from None
        yield value


def _looks_like_syncz(value: object) -> bool:
    entry = value[0] if isinstance(value, list) and value else value
    return isinstance(entry, dict) and (
        "proxy" in entry or any(k.endswith(("_sent", "_acked")) for k in entry)
    )


def parse_any(text: str | bytes) -> list[ProxySync]:
    """Parse whichever of the three formats text holds.

    Text starting with `[` or `{` is JSON: one or more documents, each a syncz list (or
    a single syncz entry) or CSDS in any shape `parse_csds` takes. Anything else is the
    proxy-status table. Bytes are accepted and must be UTF-8.

    Raises:
        ProxyStatusError: naming the line (text, invalid JSON) or JSON path at fault.
    """
    if isinstance(text, bytes):
        text = decode_utf8(text)
    body = text[1:] if text.startswith("\ufeff") else text
    if not body.lstrip().startswith(("[", "{")):
        return parse_text(body)
    result: list[ProxySync] = []
    for index, document in enumerate(_json_documents(body)):
        if _looks_like_syncz(document):
            entries = document if isinstance(document, list) else [document]
            result.extend(parse_syncz(entries))
        elif isinstance(document, list) and not document:
            continue
        else:
            path = "csds" if index == 0 else f"csds(document {index + 1})"
            result.extend(parse_csds(document, path=path))
    return result
