"""Read saved or piped proxy-status output of any format: tell the istioctl table, syncz
JSON, and CSDS as JSON or YAML apart, and hand each to its reader.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from typing import IO

from kubectl_war.sidecars.csds import parse_csds
from kubectl_war.sidecars.istioctl_text import Warn, parse_lines, parse_text
from kubectl_war.sidecars.json_shape import BLANK, JsonArray, decode_at
from kubectl_war.sidecars.limits import CHUNK, capped_lines, read_capped, too_large
from kubectl_war.sidecars.records import ProxySync, decode_utf8, line_error
from kubectl_war.sidecars.syncz import parse_syncz, parse_syncz_entries


def _json_documents(text: str) -> Iterator[object]:
    """Every JSON value in text: istioctl -o json prints one object per istiod. An array
    comes as an `JsonArray` to iterate over (once, before the next value is asked for)."""
    decoder = json.JSONDecoder()
    position = 0
    length = len(text)
    while True:
        while position < length and text[position] in BLANK:
            position += 1
        if position >= length:
            return
        if text[position] == "[":
            array = JsonArray(decoder, text, position)
            yield array
            if array.end == position:  # not read by the caller: step over it
                for _ in array:
                    pass
            position = array.end
            continue
        value, position = decode_at(decoder, text, position)
        yield value


def _looks_like_syncz(value: object) -> bool:
    entry = value[0] if isinstance(value, list) and value else value
    return isinstance(entry, dict) and (
        "proxy" in entry or any(k.endswith(("_sent", "_acked")) for k in entry)
    )


# The top-level keys of what `istioctl proxy-status -o yaml` (1.30+) prints: a CSDS
# DiscoveryResponse per istiod, or a ClientStatusResponse or ClientConfig saved alone.
_YAML_KEY = re.compile(
    r"(?:controlPlane|resources|versionInfo|typeUrl|nonce|config|node|genericXdsConfigs"
    r"|xdsConfig|'@type'|\"@type\"):(?: |$)"
)


def _looks_like_yaml(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return first.rstrip() == "---" or _YAML_KEY.match(first) is not None


def _yaml_documents(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each YAML document.

    istioctl prints one document per istiod with nothing between them, so a top-level
    key seen twice starts the next document, as `---` does.
    """
    lines = text.splitlines(keepends=True)
    start = 0
    keys: set[str] = set()
    for index, line in enumerate(lines):
        if line.rstrip() == "---":
            yield start + 1, "".join(lines[start:index])
            start, keys = index + 1, set()
            continue
        match = re.match(r"([^\s#-][^:]*):(?: |$)", line.rstrip("\r\n"))
        if match is None:
            continue
        if match.group(1) in keys:
            yield start + 1, "".join(lines[start:index])
            start, keys = index, set()
        keys.add(match.group(1))
    yield start + 1, "".join(lines[start:])


def _parse_yaml(text: str) -> list[ProxySync]:
    import yaml  # PyYAML only where YAML is read or written

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    result: list[ProxySync] = []
    for index, (first, document) in enumerate(_yaml_documents(text)):
        try:
            value = yaml.load(document, Loader=loader)  # a safe loader: plain data only
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
            number = first + (mark.line if mark is not None else 0)
            line = text.splitlines()[number - 1] if number <= len(text.splitlines()) else ""
            problem = getattr(error, "problem", None) or "cannot be read"
            raise line_error(number, line, f"invalid YAML ({problem})") from None
        if value is None:
            continue
        path = "csds" if index == 0 else f"csds(document {index + 1})"
        result.extend(parse_csds(value, path=path))
    return result


def parse_any(text: str | bytes | bytearray, warn: Warn | None = None) -> list[ProxySync]:
    """Parse whichever of the formats text holds.

    Text starting with `[` or `{` is JSON: one or more documents, each a syncz list (or
    a single syncz entry) or CSDS in any shape `parse_csds` takes. Text starting with a
    CSDS key (`controlPlane:`, `resources:`, ...) or `---` is CSDS as YAML, one or more
    documents (`istioctl proxy-status -o yaml`, 1.30+). Anything else is the
    proxy-status table (`parse_text`, which tells `warn` what it skipped). Bytes are
    accepted and must be UTF-8.

    Raises:
        ProxyStatusError: naming the line (text, invalid JSON or YAML) or JSON path at fault.
    """
    if isinstance(text, (bytes, bytearray)):
        text = decode_utf8(text)
    body = text[1:] if text.startswith("\ufeff") else text
    if _looks_like_yaml(body):
        return _parse_yaml(body)
    if not body.lstrip().startswith(("[", "{")):
        return parse_text(body, warn)
    result: list[ProxySync] = []
    for index, document in enumerate(_json_documents(body)):
        if isinstance(document, JsonArray):
            items = iter(document)
            first = next(items, _NOTHING)
            if first is _NOTHING:
                continue  # an empty list
            if _looks_like_syncz([first]):
                result.extend(parse_syncz_entries(itertools.chain([first], items)))
                continue
            document = [first, *items]
        if _looks_like_syncz(document):
            entries = document if isinstance(document, list) else [document]
            result.extend(parse_syncz(entries))
        else:
            path = "csds" if index == 0 else f"csds(document {index + 1})"
            result.extend(parse_csds(document, path=path))
    return result


_NOTHING = object()
_BOM = b"\xef\xbb\xbf"


def parse_stream(stream: IO[bytes], limit: int, warn: Warn | None = None) -> list[ProxySync]:
    """`parse_any` over a byte stream, reading at most `limit` bytes of it.

    The table is read a line at a time (`limits.capped_lines`), so a large saved table is
    never held whole, and no line may be longer than `limits.MAX_LINE`; JSON and YAML
    are read whole (a JSON document may rightly be one long line) within `limit`.

    Raises:
        InputTooLarge: the stream holds more than `limit` bytes.
        ProxyStatusError: as `parse_any`, or a line of the table too long.
    """
    head = stream.read(CHUNK)
    while head and not head.strip():  # what comes first decides the format
        more = stream.read(CHUNK)
        if not more:
            break
        head += more
        if len(head) > limit:
            raise too_large(limit)
    if head.startswith(_BOM):
        head, limit = head[len(_BOM) :], limit - len(_BOM)
    start = head.lstrip()[:1]
    first_line = head.lstrip(b" \t\r\n").split(b"\n", 1)[0]
    if start in (b"[", b"{") or _looks_like_yaml(first_line.decode("utf-8", "replace")):
        data = read_capped(stream.read, limit, initial=head)
        del head
        text = decode_utf8(data)
        del data  # the text alone is parsed
        return parse_any(text, warn)
    return parse_lines(capped_lines(stream, limit, first=head), warn)
