"""Read istiod's `/debug/syncz` JSON (Istio 1.0+), as istiod serves it or saved.

Each type's state follows istioctl's nonce rule (`records.nonce_state`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace

from kubectl_war.sidecars.json_shape import (
    BLANK,
    JsonArray,
    json_list,
    json_object,
    json_string,
    shape_error,
)
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
    if istio_version:
        version, mismatch = istio_version, False
    else:
        version, mismatch = json_string(obj, "proxy_version", path) or None, True
    cluster = json_string(obj, "cluster_id", path) or None
    return ProxySync(proxy, cluster, istiod, version, types, mismatch, details)


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
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProxyStatusError(f"not UTF-8 text (byte {exc.start})") from None
    if text.strip() in ("", "null"):
        return []
    start = len(text) - len(text.lstrip(BLANK))
    if text.startswith("[", start):
        # An entry at a time: 50,000 proxies decoded at once would hold some 80 MB of
        # JSON beside their records. A body that is not a well-formed list is read
        # again whole below, for the error's words.
        array = JsonArray(json.JSONDecoder(), text, start)
        try:
            records = parse_syncz_entries(array, istiod)
            if not text[array.end :].strip(BLANK):
                return records
        except (ProxyStatusError, RecursionError):
            pass
    try:
        data = json.loads(text)
    except ValueError as exc:
        lineno = getattr(exc, "lineno", 1)
        line = text.split("\n")[lineno - 1].strip()
        shown = line if len(line) <= 60 else line[:57] + "..."
        raise ProxyStatusError(f"line {lineno}: not JSON: {shown!r}", lineno, line) from None
    except RecursionError:
        raise ProxyStatusError("JSON nested too deeply") from None
    return parse_syncz(data, istiod)
