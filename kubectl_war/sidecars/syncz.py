"""Read istiod's `/debug/syncz` JSON (Istio 1.0+), as istiod serves it (read as it
arrives, `read_syncz`) or saved.

Each type's state follows istioctl's nonce rule (`records.nonce_state`).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace

from kubectl_war.sidecars.json_shape import (
    BLANK,
    json_list,
    json_object,
    json_string,
    shape_error,
)
from kubectl_war.sidecars.limits import too_large
from kubectl_war.sidecars.records import (
    CORE_TYPES,
    ERROR,
    IGNORED,
    NOT_SENT,
    ProxyStatusError,
    ProxySync,
    SyncState,
    add_type,
    nonce_state,
    short_type,
)

# SyncStatus fields of Istio 1.0+ (ECDS from 1.14), for each of `CORE_TYPES`.
_NONCE_FIELDS = tuple(
    zip(CORE_TYPES, ("cluster", "listener", "endpoint", "route", "extensionconfig"))
)


# istiod 1.14 added ECDS to syncz and istioctl 1.14 its ECDS column.
_ECDS_SINCE = (1, 14)
_VERSION = re.compile(r"(\d+)\.(\d+)")


def _knows_ecds(entries: list[object]) -> bool:
    """Whether the istiod that wrote these entries reports ECDS.

    istiod 1.14-1.22 leave empty fields out, so a proxy never sent ECDS has no
    `extensionconfig_*` keys, just as every proxy of an istiod before 1.14 has none. Any
    entry with those keys, or with `proxy_type` (1.18+), tells the istiod is 1.14+.
    """
    return any(
        isinstance(entry, dict)
        and any(k in entry for k in ("extensionconfig_sent", "extensionconfig_acked", "proxy_type"))
        for entry in entries
    )


def _at_least(version: str, release: tuple[int, int]) -> bool:
    match = _VERSION.match(version)
    return match is not None and (int(match.group(1)), int(match.group(2))) >= release


def _parse_syncz_entry(
    entry: object, path: str, istiod: str | None, knows_ecds: bool = False
) -> ProxySync:
    obj = json_object(entry, path)
    proxy = json_string(obj, "proxy", path)
    if not proxy:
        raise ProxyStatusError(f"{path}.proxy: missing")
    ztunnel = json_string(obj, "proxy_type", path) == "ztunnel"
    types: dict[str, SyncState] = {}
    details: dict[str, str] = {}
    resources = obj.get("resources")
    if resources is not None:
        # Istio 1.23+: every type the proxy watches, and only those.
        for url, status in json_object(resources, f"{path}.resources").items():
            where = f"{path}.resources[{url!r}]"
            status_obj = json_object(status, where)
            last_error = json_string(status_obj, "lastError", where)
            sent = json_string(status_obj, "sent", where)
            acked = json_string(status_obj, "acked", where)
            name = short_type(url)
            # istiod's own rule (statusgen): a rejected push is an error whatever the nonces.
            add_type(types, name, ERROR if last_error else nonce_state(sent, acked))
            if last_error:
                details[name] = last_error
        for name in CORE_TYPES:
            types.setdefault(name, IGNORED)
    else:
        for name, prefix in _NONCE_FIELDS:
            sent_key, acked_key = f"{prefix}_sent", f"{prefix}_acked"
            if name == "ECDS" and sent_key not in obj and acked_key not in obj:
                # Go omits empty fields: NOT SENT (as istioctl 1.14+ shows it) when the
                # istiod or the proxy is 1.14+; an istiod before 1.14 has no ECDS at all.
                version = json_string(obj, "istio_version", path)
                if not (knows_ecds or _at_least(version, _ECDS_SINCE)):
                    continue
            sent = json_string(obj, sent_key, path)
            acked = json_string(obj, acked_key, path)
            types[name] = IGNORED if ztunnel and not sent else nonce_state(sent, acked)
    percent = obj.get("endpoint_percent")  # Istio <= 1.2
    if percent is not None:
        if not isinstance(percent, int) or isinstance(percent, bool):
            raise shape_error(f"{path}.endpoint_percent", "a number", percent)
        details["EDS"] = f"{percent}%"
    istio_version = json_string(obj, "istio_version", path)
    shown: str | None
    if istio_version:
        shown, mismatch = istio_version, False
    else:
        shown, mismatch = json_string(obj, "proxy_version", path) or None, True
    cluster = json_string(obj, "cluster_id", path) or None
    return ProxySync(proxy, cluster, istiod, shown, types, mismatch, details)


def parse_syncz(data: object, istiod: str | None = None) -> list[ProxySync]:
    """Parse istiod's `/debug/syncz` JSON (already decoded): a list of SyncStatus objects.

    Each type's state is derived as istioctl and istiod derive it: a `lastError` (1.23+
    `resources` map) is ERROR; no nonce sent is NOT SENT (IGNORED for a ztunnel); sent ==
    acked is SYNCED; nothing acked is STALE (Never Acknowledged); otherwise STALE. With
    the `resources` map, core types missing from it are IGNORED. Without it, a type with
    no fields is NOT SENT, as istioctl shows it (ECDS only from an istiod 1.14+, known by
    another entry's ECDS or `proxy_type` fields or the proxy's own version).

    Args:
        data: the decoded JSON.
        istiod: the istiod instance it came from; syncz does not name itself.

    Raises:
        ProxyStatusError: naming the JSON path of the first value of the wrong shape.
    """
    return parse_syncz_entries(json_list(data, "syncz"), istiod)


def parse_syncz_entries(entries: Iterable[object], istiod: str | None = None) -> list[ProxySync]:
    """`parse_syncz` over the entries one at a time, as a large answer is decoded: no entry
    needs to outlive its record.

    Whether the istiod reports ECDS is known from any entry (`_knows_ecds`): records read
    before the entry that tells it gain their ECDS afterwards.
    """
    result: list[ProxySync] = []
    knows_ecds = False
    without_ecds: list[int] = []  # records left without ECDS while it was not known
    for index, entry in enumerate(entries):
        knows_ecds = knows_ecds or _knows_ecds([entry])
        record = _parse_syncz_entry(entry, f"syncz[{index}]", istiod, knows_ecds)
        if "ECDS" not in record.types:
            without_ecds.append(index)
        result.append(record)
    if knows_ecds:
        for index in without_ecds:
            # What _parse_syncz_entry gives a type with no fields (no ztunnel here: a
            # ztunnel's own proxy_type made ECDS known before its record was made).
            record = result[index]
            result[index] = replace(record, types={**record.types, "ECDS": NOT_SENT})
    return result


def parse_syncz_body(body: bytes, istiod: str) -> list[ProxySync]:
    """One istiod's `/debug/syncz` answer, each record naming that istiod.

    An istiod with no proxies answers `[]`, or `null` (a nil Go slice) in some releases.

    Raises:
        ProxyStatusError: the body is not UTF-8 JSON of the syncz shape.
    """
    return read_syncz((body,), istiod, len(body))


def read_syncz(chunks: Iterable[bytes], istiod: str, limit: int) -> list[ProxySync]:
    """`parse_syncz_body` of an answer read as it arrives, a chunk at a time.

    A list of entries is read an entry at a time, and each entry becomes its record at
    once: at 50,000 proxies an answer is some 20 MB, which is never held whole, as bytes
    or as text. A failure is told exactly as for the whole answer, in the same order: the
    chunks' own errors (a broken connection) first, then more than `limit` bytes, then
    bytes that are not UTF-8, then text that is not JSON (naming its line), then JSON
    that is not of the syncz shape (naming its path).

    Raises:
        InputTooLarge: more than `limit` bytes.
        ProxyStatusError: the answer is not UTF-8 JSON of the syncz shape.
    """
    pieces = _texts(chunks, limit)
    head = ""
    for piece in pieces:
        head += piece
        if head.strip(BLANK):
            break
    if not head.lstrip(BLANK).startswith("["):
        return _parse_text(head + "".join(pieces), istiod)
    array = _ArrayStream(pieces, head)
    failure: Exception | None = None
    try:
        try:
            records = parse_syncz_entries(array, istiod)
            if array.finish():
                return records
        except (ProxyStatusError, _NotJson) as exc:
            failure = exc
        text = array.remaining()
    except _Unread as unread:
        raise unread.error from None
    _decode(text)  # json's own words for the first thing in it that is not JSON
    if isinstance(failure, ProxyStatusError):
        raise failure  # the text is JSON: the entry that failed is at fault
    raise AssertionError("a JSON array json accepts but its elements do not make")


def _parse_text(text: str, istiod: str) -> list[ProxySync]:
    """An answer that is not a list (`null`, nothing, or not syncz at all), read whole."""
    if text.strip() in ("", "null"):
        return []
    return parse_syncz(_decode(text), istiod)


def _decode(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError as exc:
        lineno = getattr(exc, "lineno", 1)
        line = text.split("\n")[lineno - 1].strip()
        shown = line if len(line) <= 60 else line[:57] + "..."
        raise ProxyStatusError(f"line {lineno}: not JSON: {shown!r}", lineno, line) from None
    except RecursionError:
        raise ProxyStatusError("JSON nested too deeply") from None


def _texts(chunks: Iterable[bytes], limit: int) -> Iterator[str]:
    """The text of `chunks`, a piece per chunk (a character split between two chunks goes
    with the second).

    Raises (once every chunk up to `limit` is read, as a reader of the whole answer would):
        InputTooLarge: more than `limit` bytes.
        ProxyStatusError: bytes that are not UTF-8, naming the first.
    """
    size = 0
    pending = b""  # the start of a character the next chunk ends
    decoded = 0  # bytes decoded before `pending`
    bad: int | None = None  # the first byte that is not UTF-8
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        if bad is not None:
            continue
        data = pending + chunk if pending else chunk
        try:
            text, used = codecs.utf_8_decode(data, "strict", False)
        except UnicodeDecodeError as exc:
            bad = decoded + exc.start
            continue
        pending = data[used:]
        decoded += used
        if text:
            yield text
    if bad is None and pending:
        try:
            codecs.utf_8_decode(pending, "strict", True)
        except UnicodeDecodeError as exc:
            bad = decoded + exc.start
    if bad is not None:
        raise ProxyStatusError(f"not UTF-8 text (byte {bad})")


class _Unread(Exception):
    """The answer could not be read to its end: that is said before anything about what
    was read of it, as when it was read whole first."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class _NotJson(Exception):
    """The text is not the JSON list it began as: json's own words come from `remaining`."""


_BLANKS = re.compile(f"[{BLANK}]*")


def _blanks_end(text: str, pos: int) -> int:
    """Where the blanks from `pos` end (`_BLANKS` matches the empty string too)."""
    m = _BLANKS.match(text, pos)
    return m.end() if m is not None else pos


_DECODER = json.JSONDecoder()


class _ArrayStream:
    """A top-level JSON list read from pieces of text as they arrive, an element at a time.

    Only the text from the first line of the element being read is held: the text before
    it goes once a comma and a line break have closed the element before. (JSON with
    several elements on a line is held whole, as it would be without this.) Iterating
    raises `_NotJson` at the first thing that is not the list json would read, and
    `_Unread` when a piece could not be read.
    """

    def __init__(self, pieces: Iterator[str], head: str) -> None:
        self._pieces = pieces
        self._text = head
        self._pos = _blanks_end(head, 0) + 1  # after the `[`
        self._cut = 0  # where the text held may start: a line after a comma
        self._dropped = 0  # line breaks in the text let go
        self._eof = False

    def __iter__(self) -> Iterator[object]:
        if not self._skip():
            raise _NotJson
        if self._text[self._pos] == "]":
            self._pos += 1
            return
        while True:
            yield self._value()
            if not self._skip():
                raise _NotJson
            char = self._text[self._pos]
            self._pos += 1
            if char == "]":
                return
            if char != "," or not self._skip(after_comma=True):
                raise _NotJson

    def finish(self) -> bool:
        """After the list: whether nothing but blanks follows it to the end."""
        return not self._skip()

    def remaining(self) -> str:
        """Everything from the first line held to the end (read now), after a first line
        `[0,` and as many line breaks as were let go: json fails on it at the same line,
        for the same reason, as on the whole answer, every element let go being whole."""
        while self._more():
            pass
        return ("[0," + "\n" * self._dropped if self._dropped else "") + self._text

    def _more(self) -> bool:
        """Read the next piece; False at the end."""
        if self._eof:
            return False
        try:
            piece = next(self._pieces, None)
        except Exception as exc:
            raise _Unread(exc) from None
        if piece is None:
            self._eof = True
            return False
        if self._cut:
            self._dropped += self._text.count("\n", 0, self._cut)
            self._text = self._text[self._cut :] + piece
            self._pos -= self._cut
            self._cut = 0
        else:
            self._text += piece
        return True

    def _skip(self, *, after_comma: bool = False) -> bool:
        """Step over blanks (noting, after a comma, where a line starts); False at the end."""
        while True:
            text, start = self._text, self._pos
            self._pos = end = _blanks_end(text, start)
            if after_comma:
                line = text.rfind("\n", start, end)
                if line >= 0:
                    self._cut = line + 1
            if end < len(text):
                return True
            if not self._more():
                return False

    def _value(self) -> object:
        while True:
            try:
                value, end = _DECODER.raw_decode(self._text, self._pos)
            except (ValueError, RecursionError):
                if self._more():
                    continue  # an element the next piece ends
                raise _NotJson from None
            # A number could go on in the next piece.
            if end == len(self._text) and self._more():
                continue
            self._pos = end
            return value
