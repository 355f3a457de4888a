"""What every proxy-status format shares: the per-proxy record, the sync states and the
rules istioctl applies to them (type names and order, nonces to state, merging istiods).

Pure: the format readers (`istioctl_text`, `syncz`, `csds`) turn input into `ProxySync`
records with these names; the sources and the views read them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from kubectl_war.errors import WarError

if TYPE_CHECKING:
    from kubectl_war.jsondata import JSON


class SyncState(str, Enum):
    """A proxy's sync state, per xDS type or overall, spelled as istioctl 1.23+ prints it.

    A `str`, so it compares equal to, prints as and serialises to JSON as its text.
    """

    SYNCED = "SYNCED"
    NOT_SENT = "NOT SENT"
    STALE = "STALE"
    STALE_NEVER_ACKNOWLEDGED = "STALE (Never Acknowledged)"
    ERROR = "ERROR"
    UNKNOWN = "UNKNOWN"
    IGNORED = "IGNORED"
    # Not a state istiod reports: what the join shows for a WAR whose agent is connected
    # while no istiod knows its proxy.
    MISSING = "MISSING"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


# The members by their short names, as the readers and views spell them.
SYNCED = SyncState.SYNCED
NOT_SENT = SyncState.NOT_SENT
STALE = SyncState.STALE
STALE_NEVER_ACKNOWLEDGED = SyncState.STALE_NEVER_ACKNOWLEDGED
ERROR = SyncState.ERROR
UNKNOWN = SyncState.UNKNOWN
IGNORED = SyncState.IGNORED
MISSING = SyncState.MISSING

# How a state is coloured in a table (a `render.Cell` style name); a state not listed
# (IGNORED, STALE (Never Acknowledged)) is not coloured.
STATE_STYLES: Mapping[str, str] = {
    SYNCED: "good",
    STALE: "warn",
    NOT_SENT: "warn",
    UNKNOWN: "warn",
    ERROR: "bad",
    MISSING: "bad",
}

# The types istioctl prints a column for (ECDS from Istio 1.13), in its column order;
# other types follow them, by name, wherever types are listed.
CORE_TYPES = ("CDS", "LDS", "EDS", "RDS", "ECDS")

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

TYPE_URL_PREFIX = "type.googleapis.com/"
# Short names as istio's model.GetShortType gives them, plus the v2 URLs of Istio <= 1.6.
_SHORT_TYPES = {
    TYPE_URL_PREFIX + "envoy.config.cluster.v3.Cluster": "CDS",
    TYPE_URL_PREFIX + "envoy.config.listener.v3.Listener": "LDS",
    TYPE_URL_PREFIX + "envoy.config.endpoint.v3.ClusterLoadAssignment": "EDS",
    TYPE_URL_PREFIX + "envoy.config.route.v3.RouteConfiguration": "RDS",
    TYPE_URL_PREFIX + "envoy.config.core.v3.TypedExtensionConfig": "ECDS",
    TYPE_URL_PREFIX + "envoy.extensions.transport_sockets.tls.v3.Secret": "SDS",
    TYPE_URL_PREFIX + "istio.networking.nds.v1.NameTable": "NDS",
    TYPE_URL_PREFIX + "istio.mesh.v1alpha1.ProxyConfig": "PCDS",
    TYPE_URL_PREFIX + "istio.workload.Address": "WDS",
    TYPE_URL_PREFIX + "istio.workload.Workload": "WDS",
    TYPE_URL_PREFIX + "istio.security.Authorization": "WADS",
    TYPE_URL_PREFIX + "envoy.api.v2.Cluster": "CDS",
    TYPE_URL_PREFIX + "envoy.api.v2.Listener": "LDS",
    TYPE_URL_PREFIX + "envoy.api.v2.ClusterLoadAssignment": "EDS",
    TYPE_URL_PREFIX + "envoy.api.v2.RouteConfiguration": "RDS",
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


def type_order(name: str) -> tuple[int, str]:
    """Sort key for short type names: `CORE_TYPES` in istioctl's order, then the rest."""
    return (CORE_TYPES.index(name) if name in CORE_TYPES else len(CORE_TYPES), name)


def nonce_state(sent: str, acked: str) -> SyncState:
    """One type's state from the nonces istiod last sent and the proxy last acked.

    istioctl's rule since 1.5 (1.1-1.3 printed the lag instead of a bare STALE).
    """
    if not sent:
        return NOT_SENT
    if sent == acked:
        return SYNCED
    if not acked:
        return STALE_NEVER_ACKNOWLEDGED
    return STALE


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


def clip_line(text: str, limit: int = 60) -> str:
    """A line shortened for a message, column padding squeezed to two spaces."""
    # Column padding would fill the message with blanks; two spaces still show the gaps.
    text = re.sub(r" {3,}", "  ", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def line_error(number: int, line: str, problem: str) -> ProxyStatusError:
    """The error for a line of text that cannot be read, quoting it shortened."""
    return ProxyStatusError(f"line {number}: {problem}: {clip_line(line)!r}", number, line)


def decode_utf8(data: bytes | bytearray) -> str:
    """Saved output as text; an error names the line of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_number = data.count(b"\n", 0, error.start) + 1
        raise ProxyStatusError(
            f"line {line_number}: not UTF-8 text (byte {error.start})", line_number, None
        ) from None


# The maps records share (see ProxySync.__post_init__), by their items in order: one
# cache for types, one for details, so the many details (ages) do not push out the few
# type maps. Bounded: past this many distinct maps a cache starts again, which costs
# sharing, never correctness.
_SHARED_TYPES: dict[tuple[tuple[str, Any], ...], JSON] = {}
_SHARED_DETAILS: dict[tuple[tuple[str, Any], ...], JSON] = {}
_SHARED_LIMIT = 4096


def _shared(values: Mapping[str, Any], cache: dict[Any, JSON]) -> JSON:
    """A dict equal to `values` (same order), the same object for every equal map."""
    key = tuple(values.items())
    found = cache.get(key)
    if found is not None and any(
        type(mine) is not type(theirs) for mine, theirs in zip(found.values(), values.values())
    ):
        return dict(values)  # equal text, other types (a str for a SyncState): not the same
    if found is None:
        if len(cache) >= _SHARED_LIMIT:
            cache.clear()
        found = cache[key] = dict(values)
    return found


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
        types: xDS short type name (`CDS`, `LDS`, `EDS`, `RDS`, `ECDS`, ...) -> its state
            (never MISSING): the types the source reports (syncz with a `resources` map
            also gets IGNORED for the core types it leaves out, as istioctl shows them).
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
    types: Mapping[str, SyncState]
    version_mismatch: bool = False
    details: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Copies, so the caller's dicts can change without changing the record; plain
        # dicts, so dataclasses.asdict and json.dumps still work on it. Records with equal
        # maps share one copy (a mesh's proxies repeat a few), so treat them as read-only.
        object.__setattr__(self, "types", _shared(self.types, _SHARED_TYPES))
        object.__setattr__(self, "details", _shared(self.details, _SHARED_DETAILS))
        for name in ("cluster", "istiod", "version"):
            value = getattr(self, name)
            if type(value) is str:
                # A few istiods, clusters and versions serve every proxy: one string each.
                object.__setattr__(self, name, sys.intern(value))

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
    def shown_version(self) -> str | None:
        """The version as istioctl shows it: `1.19.0*` when marked, None when unknown."""
        if self.version and self.version_mismatch:
            return f"{self.version}*"
        return self.version

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
    def overall(self) -> SyncState:
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


def _worse(a: SyncState, b: SyncState) -> SyncState:
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def add_type(types: dict[str, SyncState], name: str, state: SyncState) -> None:
    """Record one type's state; two reports for one short name keep the worse state.

    Two URLs can share a short name (ztunnel's Address and Workload are both WDS).
    """
    types[name] = _worse(types[name], state) if name in types else state


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
