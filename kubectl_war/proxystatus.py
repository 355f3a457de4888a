"""Read sidecar sync status as istiod and istioctl report it, from every Istio release.

Three inputs, one record (`ProxySync`) per proxy: the `istioctl proxy-status` table (all
header layouts from Istio 1.0 to 1.27+), istiod's `/debug/syncz` JSON, and the CSDS JSON
of `istioctl proxy-status -o json`. Pure: text or decoded JSON in, records out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from kubectl_war.errors import WarError

# Per-type states, spelled as the istioctl of 1.23+ prints them.
SYNCED = "SYNCED"
NOT_SENT = "NOT SENT"
STALE = "STALE"
STALE_NEVER_ACKNOWLEDGED = "STALE (Never Acknowledged)"
ERROR = "ERROR"
UNKNOWN = "UNKNOWN"
IGNORED = "IGNORED"
# Not a state istiod reports: what callers show for a proxy absent from every source,
# i.e. not connected to any istiod.
MISSING = "MISSING"

STATES = (SYNCED, NOT_SENT, STALE, STALE_NEVER_ACKNOWLEDGED, ERROR, UNKNOWN, IGNORED)

# Envoy requests clusters and listeners over ADS as soon as it starts; every other type
# follows from what those contain (EDS for EDS clusters, RDS for HTTP listeners, ECDS for
# extension filters), so istiod may rightly never send them.
BASE_TYPES = ("CDS", "LDS")

# How bad a state is, to pick one when two reports disagree (higher is worse).
_SEVERITY = {
    IGNORED: 0,
    SYNCED: 1,
    UNKNOWN: 2,
    NOT_SENT: 3,
    STALE: 4,
    STALE_NEVER_ACKNOWLEDGED: 5,
    ERROR: 6,
}

_TYPE_URL_PREFIX = "type.googleapis.com/"
# Short names as istio's model.GetShortType gives them, plus the v2 URLs of Istio <= 1.6.
_SHORT_TYPES = {
    _TYPE_URL_PREFIX + "envoy.config.cluster.v3.Cluster": "CDS",
    _TYPE_URL_PREFIX + "envoy.config.listener.v3.Listener": "LDS",
    _TYPE_URL_PREFIX + "envoy.config.endpoint.v3.ClusterLoadAssignment": "EDS",
    _TYPE_URL_PREFIX + "envoy.config.route.v3.RouteConfiguration": "RDS",
    _TYPE_URL_PREFIX + "envoy.config.core.v3.TypedExtensionConfig": "ECDS",
    _TYPE_URL_PREFIX + "envoy.extensions.transport_sockets.tls.v3.Secret": "SDS",
    _TYPE_URL_PREFIX + "istio.networking.nds.v1.NameTable": "NDS",
    _TYPE_URL_PREFIX + "istio.mesh.v1alpha1.ProxyConfig": "PCDS",
    _TYPE_URL_PREFIX + "istio.workload.Address": "WDS",
    _TYPE_URL_PREFIX + "istio.workload.Workload": "WDS",
    _TYPE_URL_PREFIX + "istio.security.Authorization": "WADS",
    _TYPE_URL_PREFIX + "envoy.api.v2.Cluster": "CDS",
    _TYPE_URL_PREFIX + "envoy.api.v2.Listener": "LDS",
    _TYPE_URL_PREFIX + "envoy.api.v2.ClusterLoadAssignment": "EDS",
    _TYPE_URL_PREFIX + "envoy.api.v2.RouteConfiguration": "RDS",
}


def short_type(type_url: str) -> str:
    """The short name of an xDS type URL: `CDS`, `LDS`, `EDS`, `RDS`, `ECDS`, ...

    URLs istio has no short name for become their last path segment
    (`type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap` ->
    `envoy.config.bootstrap.v3.Bootstrap`); a string without `/` is returned unchanged.
    """
    known = _SHORT_TYPES.get(type_url)
    if known is not None:
        return known
    return type_url.rsplit("/", 1)[-1]


class ProxyStatusError(WarError):
    """Sync status that cannot be read: the message names the line or JSON path at fault.

    Attributes:
        line_number: 1-based line of the text (or JSON document) that could not be read,
            None for errors in already-decoded JSON.
        line: that line, untruncated (None when line_number is None).
    """

    def __init__(self, message: str, line_number: int | None = None, line: str | None = None):
        super().__init__(message)
        self.line_number = line_number
        self.line = line


def _clip(text: str, limit: int = 60) -> str:
    # Column padding would fill the message with blanks; two spaces still show the gaps.
    text = re.sub(r" {3,}", "  ", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _line_error(number: int, line: str, problem: str) -> ProxyStatusError:
    return ProxyStatusError(f"line {number}: {problem}: {_clip(line)!r}", number, line)


@dataclass(frozen=True)
class ProxySync:
    """The sync state of one proxy as one istiod reported it.

    Attributes:
        proxy: the proxy ID, `<name>.<namespace>`; the sidecar of WAR `NAME` in namespace
            `NS` is `NAME.NS`.
        cluster: istiod's cluster ID for the proxy (CLUSTER column, Istio 1.13+); None
            when not reported or empty.
        istiod: the istiod (or, before 1.7, pilot) instance holding the connection.
        version: the VERSION column without its trailing `*`: the proxy's Istio version
            (before 1.19, `istioctl x proxy-status` printed istiod's version there).
        types: xDS short type name (`CDS`, `LDS`, `EDS`, `RDS`, `ECDS`, ...) -> one of
            `STATES`: the types the source reports (syncz with a `resources` map also
            gets IGNORED for the core types it leaves out, as istioctl shows them).
        version_mismatch: istioctl marked the version with `*`: istiod did not know the
            proxy's Istio version and istioctl fell back to the Envoy proxy version, which
            need not match any Istio release.
        details: type -> what istioctl printed in parentheses after the state and the
            state does not carry (EDS `100%` in Istio <= 1.2, the ack lag of STALE in
            1.1-1.3, the time since the last push in 1.23+), or istiod's error text for
            an ERROR.
    """

    proxy: str
    cluster: str | None
    istiod: str | None
    version: str | None
    types: Mapping[str, str]
    version_mismatch: bool = False
    details: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Own copies, so the caller's dicts can change without changing the record; plain
        # dicts, so dataclasses.asdict and json.dumps still work on it. Treat as read-only.
        object.__setattr__(self, "types", dict(self.types))
        object.__setattr__(self, "details", dict(self.details))

    def __hash__(self) -> int:
        return hash(
            (
                self.proxy,
                self.cluster,
                self.istiod,
                self.version,
                tuple(sorted(self.types.items())),
                self.version_mismatch,
                tuple(sorted(self.details.items())),
            )
        )

    @property
    def name(self) -> str:
        """The proxy ID up to its last dot.

        Kubernetes namespaces are DNS labels and never contain a dot, while the name may
        (a JWT-onboarded workload's subject such as `vm007-datacenter1-us-east.internal.corp`
        becomes part of its WAR name), so the namespace is what follows the last dot.
        """
        return self.proxy.rpartition(".")[0] if "." in self.proxy else self.proxy

    @property
    def namespace(self) -> str | None:
        """The proxy ID after its last dot; None for an ID without a dot."""
        return self.proxy.rpartition(".")[2] if "." in self.proxy else None

    @property
    def overall(self) -> str:
        """One state for the whole proxy, for display and for waiting on a sync.

        IGNORED types (not subscribed) are left out; then, in order:

        - nothing left: UNKNOWN;
        - any type ERROR (the proxy rejected a push): ERROR;
        - any type STALE, with or without "Never Acknowledged": STALE;
        - any type UNKNOWN: UNKNOWN (the 1.27+ summary table gives only which types
          are subscribed, so all of them are UNKNOWN);
        - CDS or LDS NOT SENT, or no type SYNCED at all: NOT SENT;
        - otherwise SYNCED.

        So SYNCED means every subscribed type is SYNCED, counting a NOT SENT EDS, RDS,
        ECDS or other type as not subscribed: istiod before 1.23 reported types a proxy
        never asked for as NOT SENT (ECDS reads NOT SENT for nearly every sidecar), and a
        proxy only asks for them when its clusters and listeners need them.
        """
        states = [state for state in self.types.values() if state != IGNORED]
        if not states:
            return UNKNOWN
        if ERROR in states:
            return ERROR
        if STALE in states or STALE_NEVER_ACKNOWLEDGED in states:
            return STALE
        if UNKNOWN in states:
            return UNKNOWN
        if SYNCED not in states or any(self.types.get(t) == NOT_SENT for t in BASE_TYPES):
            return NOT_SENT
        return SYNCED


def _worse(a: str, b: str) -> str:
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def _add_type(types: dict[str, str], name: str, state: str) -> None:
    # Two URLs can share a short name (ztunnel's Address and Workload are both WDS).
    types[name] = _worse(types[name], state) if name in types else state


# --- istioctl proxy-status text ------------------------------------------------------

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# tabwriter pads every cell with at least 5 spaces, so a header is words separated by
# single spaces ("SUBSCRIBED TYPES") with wider gaps between columns.
_HEADER_TOKEN = re.compile(r"[^ ]+(?: [^ ]+)*")
_TYPE_HEADER = re.compile(r"[A-Z][A-Z0-9]*DS|[\w.-]+(?:/[\w.-]+)+")
_STATE_CELL = re.compile(
    r"(SYNCED|NOT SENT|NOT_SENT|STALE|ERROR|UNKNOWN|IGNORED)((?: \([^()]*\))*)"
)
_PARENTHESES = re.compile(r" \(([^()]*)\)")
_SUBSCRIBED_CELL = re.compile(r"(\d+)(?: \(([^()\s]+)\))?")

_NAME_HEADERS = ("NAME", "PROXY")  # PROXY until Istio 1.0
_ISTIOD_HEADERS = ("ISTIOD", "PILOT")  # PILOT until Istio 1.6
_SUBSCRIBED = "SUBSCRIBED TYPES"  # Istio 1.27+
_FIXED_HEADERS = frozenset({*_NAME_HEADERS, *_ISTIOD_HEADERS, "CLUSTER", "VERSION", _SUBSCRIBED})


@dataclass(frozen=True)
class _Column:
    start: int
    title: str


def _read_header(line: str) -> list[_Column] | None:
    """The columns of a proxy-status header line, or None if it is not one."""
    columns = [_Column(m.start(), m.group()) for m in _HEADER_TOKEN.finditer(line)]
    if not columns or columns[0].title not in _NAME_HEADERS:
        return None
    titles = [c.title for c in columns]
    fixed = [t for t in titles if t in _FIXED_HEADERS]
    if len(fixed) != len(set(fixed)):
        return None
    if (
        sum(t in titles for t in _ISTIOD_HEADERS) != 1
        or sum(t in titles for t in _NAME_HEADERS) != 1
    ):
        return None
    typed = [t for t in titles if t not in _FIXED_HEADERS]
    if not all(_TYPE_HEADER.fullmatch(t) for t in typed):
        return None
    if bool(typed) == (_SUBSCRIBED in titles):  # exactly one of: type columns, summary
        return None
    return columns


def _cells(line: str, columns: list[_Column]) -> list[str] | None:
    """Cut a row at the header's column starts; None if the row does not line up."""
    if line[: columns[0].start].strip():
        return None
    cells = []
    for index, column in enumerate(columns):
        end = columns[index + 1].start if index + 1 < len(columns) else len(line)
        if column.start > 0 and len(line) > column.start and line[column.start - 1] != " ":
            return None  # text runs over a column boundary
        raw = line[column.start : end]
        cell = raw.strip()
        if cell and raw[0] == " ":
            return None  # tabwriter left-aligns: a value starts where its header starts
        if "  " in cell:
            return None  # two values in one column
        cells.append(cell)
    return cells


def _parse_state(cell: str) -> tuple[str, str | None] | None:
    """(state, detail) of one type cell, or None if it is not a state istioctl prints."""
    if cell == "":
        # istioctl 1.14-1.22 left a type istiod did not report blank; 1.23+ says IGNORED.
        return IGNORED, None
    match = _STATE_CELL.fullmatch(cell)
    if match is None:
        return None
    state = match.group(1).replace("_", " ")
    notes = _PARENTHESES.findall(match.group(2))
    if state == STALE and notes and notes[0] == "Never Acknowledged":
        state, notes = STALE_NEVER_ACKNOWLEDGED, notes[1:]
    return state, ", ".join(notes) if notes else None


def _parse_version(cell: str) -> tuple[str | None, bool]:
    if cell.endswith("*"):
        return cell[:-1] or None, True
    return cell or None, False


def _parse_row(number: int, line: str, columns: list[_Column]) -> ProxySync:
    cells = _cells(line, columns)
    if cells is None:
        raise _line_error(number, line, "row does not line up with the header's columns")
    types: dict[str, str] = {}
    details: dict[str, str] = {}
    proxy = cluster = istiod = version_cell = None
    for column, cell in zip(columns, cells):
        title = column.title
        if title not in _FIXED_HEADERS:
            parsed = _parse_state(cell)
            if parsed is None:
                raise _line_error(number, line, f"unknown {title} state {cell!r}")
            name = short_type(title)
            _add_type(types, name, parsed[0])
            if parsed[1] is not None:
                details[name] = parsed[1]
            continue
        if " " in cell and title != _SUBSCRIBED:
            raise _line_error(number, line, f"{title} value {cell!r} contains a space")
        if title in _NAME_HEADERS:
            proxy = cell
        elif title in _ISTIOD_HEADERS:
            istiod = cell
        elif title == "CLUSTER":
            cluster = cell
        elif title == "VERSION":
            version_cell = cell
        else:
            match = _SUBSCRIBED_CELL.fullmatch(cell)
            names = match.group(2).split(",") if match and match.group(2) else []
            if match is None or int(match.group(1)) != len(names) or "" in names:
                raise _line_error(number, line, f"cannot read {_SUBSCRIBED} {cell!r}")
            for name in names:
                # The summary says which types are subscribed, not how they are doing.
                _add_type(types, short_type(name), UNKNOWN)
    if not proxy:
        raise _line_error(number, line, f"row has no {columns[0].title}")
    if not istiod:
        raise _line_error(number, line, "row is cut short (no ISTIOD/PILOT value)")
    version, mismatch = _parse_version(version_cell or "")
    return ProxySync(proxy, cluster or None, istiod, version, types, mismatch, details)


def _split_lines(text: str) -> Iterator[tuple[int, str]]:
    if text.startswith("\ufeff"):
        text = text[1:]
    for index, line in enumerate(_LINE_BREAK.split(text), start=1):
        yield index, line.rstrip(" \t")


def parse_text(text: str | bytes) -> list[ProxySync]:
    """Parse `istioctl proxy-status` output of any Istio release.

    Columns are found by their header's name and start offset (istioctl prints through
    Go's tabwriter, so every value starts where its header starts); cells may contain
    spaces (`NOT SENT`, `STALE (Never Acknowledged)`) or be empty (CLUSTER). Blank lines,
    trailing spaces, Windows line endings and a repeated header (outputs pasted one after
    another) are fine. Empty text, or a header alone, is no proxies: istioctl prints
    nothing at all when no proxy is connected.

    Raises:
        ProxyStatusError: naming the first line that is not a header or a row under it.
    """
    if isinstance(text, bytes):
        text = _decode_bytes(text)
    columns: list[_Column] | None = None
    result: list[ProxySync] = []
    for number, line in _split_lines(text):
        if not line.strip():
            continue
        if _CONTROL.search(line):
            raise _line_error(number, line, "not text (control characters)")
        header = _read_header(line)
        if header is not None:
            columns = header
            continue
        if columns is None:
            raise _line_error(number, line, "not an istioctl proxy-status header")
        result.append(_parse_row(number, line, columns))
    return result


# --- JSON helpers --------------------------------------------------------------------


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _shape_error(path: str, expected: str, value: object) -> ProxyStatusError:
    return ProxyStatusError(f"{path}: expected {expected}, got {_type_name(value)}")


def _object(value: object, path: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _shape_error(path, "an object", value)
    return value


def _list(value: object, path: str) -> list[object]:
    if not isinstance(value, list):
        raise _shape_error(path, "a list", value)
    return value


def _string(obj: Mapping[str, object], key: str, path: str) -> str:
    """obj[key] as a string; a missing key or null is "" (Go omits empty strings)."""
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _shape_error(f"{path}.{key}", "a string", value)
    return value


# --- istiod /debug/syncz ----------------------------------------------------------------

# SyncStatus fields of Istio 1.0+ (ECDS from 1.14).
_NONCE_FIELDS = (
    ("CDS", "cluster"),
    ("LDS", "listener"),
    ("EDS", "endpoint"),
    ("RDS", "route"),
    ("ECDS", "extensionconfig"),
)
_CORE_TYPES = ("CDS", "LDS", "EDS", "RDS", "ECDS")


def _nonce_state(sent: str, acked: str) -> str:
    # istioctl's rule since 1.5 (1.1-1.3 printed the lag instead of a bare STALE).
    if not sent:
        return NOT_SENT
    if sent == acked:
        return SYNCED
    if not acked:
        return STALE_NEVER_ACKNOWLEDGED
    return STALE


def _parse_syncz_entry(entry: object, path: str, istiod: str | None) -> ProxySync:
    obj = _object(entry, path)
    proxy = _string(obj, "proxy", path)
    if not proxy:
        raise ProxyStatusError(f"{path}.proxy: missing")
    ztunnel = _string(obj, "proxy_type", path) == "ztunnel"
    types: dict[str, str] = {}
    details: dict[str, str] = {}
    resources = obj.get("resources")
    if resources is not None:
        # Istio 1.23+: every type the proxy watches, and only those.
        for url, status in _object(resources, f"{path}.resources").items():
            where = f"{path}.resources[{url!r}]"
            status_obj = _object(status, where)
            last_error = _string(status_obj, "lastError", where)
            sent = _string(status_obj, "sent", where)
            acked = _string(status_obj, "acked", where)
            name = short_type(url)
            # istiod's own rule (statusgen): a rejected push is an error whatever the nonces.
            _add_type(types, name, ERROR if last_error else _nonce_state(sent, acked))
            if last_error:
                details[name] = last_error
        for name in _CORE_TYPES:
            types.setdefault(name, IGNORED)
    else:
        for name, prefix in _NONCE_FIELDS:
            sent_key, acked_key = f"{prefix}_sent", f"{prefix}_acked"
            if name == "ECDS" and sent_key not in obj and acked_key not in obj:
                continue  # Go omits empty fields; an istiod before 1.14 has no ECDS at all
            sent = _string(obj, sent_key, path)
            acked = _string(obj, acked_key, path)
            types[name] = IGNORED if ztunnel and not sent else _nonce_state(sent, acked)
    percent = obj.get("endpoint_percent")  # Istio <= 1.2
    if percent is not None:
        if not isinstance(percent, int) or isinstance(percent, bool):
            raise _shape_error(f"{path}.endpoint_percent", "a number", percent)
        details["EDS"] = f"{percent}%"
    istio_version = _string(obj, "istio_version", path)
    if istio_version:
        version, mismatch = istio_version, False
    else:
        version, mismatch = _string(obj, "proxy_version", path) or None, True
    cluster = _string(obj, "cluster_id", path) or None
    return ProxySync(proxy, cluster, istiod, version, types, mismatch, details)


def parse_syncz(data: object, istiod: str | None = None) -> list[ProxySync]:
    """Parse istiod's `/debug/syncz` JSON (already decoded): a list of SyncStatus objects.

    Each type's state is derived as istioctl and istiod derive it: a `lastError` (1.23+
    `resources` map) is ERROR; no nonce sent is NOT SENT (IGNORED for a ztunnel); sent ==
    acked is SYNCED; nothing acked is STALE (Never Acknowledged); otherwise STALE. With
    the `resources` map, core types missing from it are IGNORED.

    Args:
        data: the decoded JSON.
        istiod: the istiod instance it came from; syncz does not name itself.

    Raises:
        ProxyStatusError: naming the JSON path of the first value of the wrong shape.
    """
    return [
        _parse_syncz_entry(entry, f"syncz[{index}]", istiod)
        for index, entry in enumerate(_list(data, "syncz"))
    ]


# --- CSDS (istioctl proxy-status -o json) -----------------------------------------------

_CONFIG_STATUS = {
    "SYNCED": SYNCED,
    "NOT_SENT": NOT_SENT,
    "STALE": STALE,
    "ERROR": ERROR,
    # istiod reports UNKNOWN for types a ztunnel does not watch; istioctl 1.18+ shows
    # them, and any type missing from the list, as IGNORED.
    "UNKNOWN": IGNORED,
}
_CONFIG_STATUS_NUMBERS = {0: IGNORED, 1: SYNCED, 2: NOT_SENT, 3: STALE, 4: ERROR}
# PerXdsConfig oneof fields of the deprecated `xdsConfig` list (istiod <= 1.13).
_LEGACY_CONFIG_KEYS = {
    "clusterConfig": "CDS",
    "listenerConfig": "LDS",
    "endpointConfig": "EDS",
    "routeConfig": "RDS",
}
_CLIENT_CONFIG_TYPE = _TYPE_URL_PREFIX + "envoy.service.status.v3.ClientConfig"


def _config_status(value: object, path: str) -> str:
    # protojson leaves out an enum at its zero value, UNKNOWN.
    if value is None:
        return IGNORED
    if isinstance(value, str) and value in _CONFIG_STATUS:
        return _CONFIG_STATUS[value]
    if isinstance(value, int) and not isinstance(value, bool) and value in _CONFIG_STATUS_NUMBERS:
        return _CONFIG_STATUS_NUMBERS[value]
    raise ProxyStatusError(f"{path}: unknown config status {value!r}")


def _parse_client_config(value: object, path: str, istiod: str | None) -> ProxySync:
    obj = _object(value, path)
    kind = _string(obj, "@type", path)
    if kind and kind != _CLIENT_CONFIG_TYPE:
        raise ProxyStatusError(f"{path}: a {kind}, not a CSDS ClientConfig")
    node = _object(obj.get("node"), f"{path}.node")
    proxy = _string(node, "id", f"{path}.node")
    if not proxy:
        raise ProxyStatusError(f"{path}.node.id: missing")
    metadata_value = node.get("metadata")
    metadata = {} if metadata_value is None else _object(metadata_value, f"{path}.node.metadata")
    cluster = _string(metadata, "CLUSTER_ID", f"{path}.node.metadata") or None
    version = _string(metadata, "ISTIO_VERSION", f"{path}.node.metadata") or None
    types: dict[str, str] = {}
    details: dict[str, str] = {}
    generic = obj.get("genericXdsConfigs")
    if generic is not None:
        for index, item in enumerate(_list(generic, f"{path}.genericXdsConfigs")):
            where = f"{path}.genericXdsConfigs[{index}]"
            config = _object(item, where)
            url = _string(config, "typeUrl", where)
            if not url:
                raise ProxyStatusError(f"{where}.typeUrl: missing")
            # configStatus is istiod's view and what istioctl shows; clientStatus is
            # Envoy's own, which istiod never fills in.
            state = _config_status(config.get("configStatus"), f"{where}.configStatus")
            name = short_type(url)
            _add_type(types, name, state)
            error_state = config.get("errorState")
            if error_state is not None:
                message = _string(_object(error_state, f"{where}.errorState"), "details", where)
                if message:
                    details[name] = message
    else:
        legacy = obj.get("xdsConfig")
        for index, item in enumerate(_list(legacy or [], f"{path}.xdsConfig")):
            where = f"{path}.xdsConfig[{index}]"
            config = _object(item, where)
            names = [n for key, n in _LEGACY_CONFIG_KEYS.items() if key in config]
            if names:  # istioctl skips scoped routes and anything else
                _add_type(types, names[0], _config_status(config.get("status"), f"{where}.status"))
    return ProxySync(proxy, cluster, istiod, version, types, False, details)


def _control_plane_id(response: Mapping[str, object], path: str) -> str | None:
    control_plane = response.get("controlPlane")
    if control_plane is None:
        return None
    identifier = _string(_object(control_plane, f"{path}.controlPlane"), "identifier", path)
    try:
        decoded = json.loads(identifier)
    except ValueError:
        return None
    if isinstance(decoded, dict) and isinstance(decoded.get("ID"), str) and decoded["ID"]:
        return decoded["ID"]
    return None


def _parse_csds_value(value: object, path: str, istiod: str | None) -> list[ProxySync]:
    if isinstance(value, list):
        result: list[ProxySync] = []
        for index, item in enumerate(value):
            result.extend(_parse_csds_object(item, f"{path}[{index}]", istiod))
        return result
    return _parse_csds_object(value, path, istiod)


def _parse_csds_object(value: object, path: str, istiod: str | None) -> list[ProxySync]:
    obj = _object(value, path)
    if "resources" in obj:  # a DiscoveryResponse from one istiod (istioctl 1.30+ -o json)
        own = _control_plane_id(obj, path) or istiod
        resources = _list(obj.get("resources"), f"{path}.resources")
        return [
            _parse_client_config(item, f"{path}.resources[{index}]", own)
            for index, item in enumerate(resources)
        ]
    if "config" in obj:  # a ClientStatusResponse
        configs = _list(obj.get("config"), f"{path}.config")
        return [
            _parse_client_config(item, f"{path}.config[{index}]", istiod)
            for index, item in enumerate(configs)
        ]
    if "node" in obj:
        return [_parse_client_config(obj, path, istiod)]
    raise ProxyStatusError(
        f"{path}: neither a CSDS ClientConfig, ClientStatusResponse nor DiscoveryResponse"
    )


def parse_csds(data: object, istiod: str | None = None) -> list[ProxySync]:
    """Parse CSDS JSON (already decoded), as `istioctl proxy-status -o json` prints it.

    Accepts a DiscoveryResponse (what istioctl prints, one per istiod; the istiod comes
    from its `controlPlane.identifier`), a ClientStatusResponse (`{"config": [...]}`), a
    ClientConfig, or a list of any of these. Per type, `configStatus` maps SYNCED,
    NOT_SENT, STALE and ERROR to themselves and UNKNOWN (or no status) to IGNORED, as
    istioctl shows them; the deprecated `xdsConfig` list of older istiods is read when
    `genericXdsConfigs` is absent.

    Args:
        data: the decoded JSON.
        istiod: the istiod instance, for input that does not name it.

    Raises:
        ProxyStatusError: naming the JSON path of the first value of the wrong shape.
    """
    return _parse_csds_value(data, "csds", istiod)


# --- any of the above --------------------------------------------------------------------


def _decode_bytes(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_number = data.count(b"\n", 0, error.start) + 1
        raise ProxyStatusError(
            f"line {line_number}: not UTF-8 text (byte {error.start})", line_number, None
        ) from None


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
            raise _line_error(error.lineno, line, f"invalid JSON ({error.msg})") from None
        except RecursionError:
            line_number = text.count("\n", 0, position) + 1
            line = text.split("\n")[line_number - 1].rstrip("\r")
            raise _line_error(line_number, line, "JSON nested too deeply") from None
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
        text = _decode_bytes(text)
    body = text[1:] if text.startswith("\ufeff") else text
    if not body.lstrip().startswith(("[", "{")):
        return parse_text(body)
    result: list[ProxySync] = []
    for index, document in enumerate(_json_documents(body)):
        if _looks_like_syncz(document):
            entries = document if isinstance(document, list) else [document]
            result.extend(
                _parse_syncz_entry(entry, f"syncz[{n}]", None) for n, entry in enumerate(entries)
            )
        elif isinstance(document, list) and not document:
            continue
        else:
            path = "csds" if index == 0 else f"csds(document {index + 1})"
            result.extend(_parse_csds_value(document, path, None))
    return result


# --- several istiods --------------------------------------------------------------------


def _known_types(status: ProxySync) -> int:
    return sum(state != UNKNOWN for state in status.types.values())


def merge(*sources: Iterable[ProxySync]) -> dict[str, ProxySync]:
    """Combine reports from several istiods (or formats) into one record per proxy.

    Each istiod replica reports only the proxies connected to it, so most proxies appear
    once. A proxy appears twice while istiod has not yet dropped the connection a
    reconnecting proxy left behind, or when the same data comes in two formats. Then:

    1. the record that knows more per-type states wins (syncz or CSDS over the 1.27+
       summary table, whose states are all UNKNOWN);
    2. then the one with the worse `overall` state, so a problem one istiod sees is
       not hidden by another's good report;
    3. then the one seen first.

    Returns:
        proxy ID -> record, in the order proxies were first seen.
    """
    merged: dict[str, ProxySync] = {}
    for source in sources:
        for status in source:
            current = merged.get(status.proxy)
            if current is None or _prefer(status, current):
                merged[status.proxy] = status
    return merged


def _prefer(candidate: ProxySync, current: ProxySync) -> bool:
    known = _known_types(candidate) - _known_types(current)
    if known:
        return known > 0
    return _overall_rank(candidate) > _overall_rank(current)


def _overall_rank(status: ProxySync) -> int:
    return _SEVERITY[status.overall]
