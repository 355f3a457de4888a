"""Join WARs with the proxies a source reported (pure): the view `list`, `describe`,
`status` and `proxy-status` show.

The sidecar of WAR `NAME` in namespace `NS` is the proxy `NAME.NS`; proxies named like
an onboarded workload that no WAR accounts for are orphans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubectl_war.errors import UsageError
from kubectl_war.identity import decode_name, group_from_name
from kubectl_war.sidecars.records import MISSING, SYNCED, ProxySync, SyncState
from kubectl_war.war import War

if TYPE_CHECKING:
    from kubectl_war.jsondata import JSON


@dataclass(frozen=True)
class Sidecar:
    """A WAR's sidecar as the source saw it.

    Attributes:
        proxy: the proxy ID the sidecar should have, `<war-name>.<namespace>`.
        state: the proxy's overall state (`SYNCED`, `STALE`, `ERROR`, `NOT SENT`,
            `UNKNOWN`); `MISSING` when the agent is connected but no istiod knows the
            proxy; None when neither the agent nor the proxy is connected.
        status: what istiod reported, None when it knows no such proxy.
    """

    proxy: str
    state: SyncState | None
    status: ProxySync | None = None

    @property
    def synced(self) -> bool:
        return self.state == SYNCED

    def to_dict(self) -> JSON:
        """As data, for `-o json|yaml` (states as plain strings: YAML's safe dumper
        represents no str subclass)."""
        status = self.status
        state = str(self.state) if self.state is not None else None
        out: JSON = {"proxy": self.proxy, "state": state}
        if status is not None:
            out.update(
                istiod=status.istiod,
                cluster=status.cluster,
                istioVersion=status.version,
                types={name: str(value) for name, value in status.types.items()},
            )
            if status.version_mismatch:
                # istioctl's `*`: the version is Envoy's, istiod did not know the sidecar's.
                out["versionMismatch"] = True
            if status.details:
                out["details"] = dict(status.details)
        return out


def sidecar_of(war: War, proxies: Mapping[str, ProxySync]) -> Sidecar:
    """The WAR's sidecar in what a source reported."""
    status = proxies.get(war.proxy_name)
    if status is not None:
        return Sidecar(war.proxy_name, status.overall, status)
    return Sidecar(war.proxy_name, MISSING if war.is_connected else None)


def orphans(
    proxies: Mapping[str, ProxySync], wars: Iterable[War], namespace: str | None
) -> list[ProxySync]:
    """Proxies named like an onboarded workload that no WAR accounts for.

    Such a proxy is a machine whose WAR is gone (removed after a disconnect, or deleted
    and not yet re-created) while its sidecar still talks to istiod.

    Args:
        proxies: what the source reported.
        wars: every WAR in scope.
        namespace: the namespace looked in; None for all.
    """
    known = {w.proxy_name for w in wars}
    out = []
    for status in proxies.values():
        if status.proxy in known or status.namespace is None:
            continue
        if namespace is not None and status.namespace != namespace:
            continue
        try:
            decode_name(status.name)
        except UsageError:
            continue
        out.append(status)
    return sorted(out, key=lambda s: (s.namespace or "", s.name))


@dataclass(frozen=True)
class Entry:
    """One row of the joined view: a WAR with its sidecar, or an orphaned proxy.

    Attributes:
        namespace, name: the WAR's (for an orphan, read from its proxy ID).
        group: the WorkloadGroup (for an orphan, read from its name; None if ambiguous).
        war: the WAR, None for an orphan.
        sidecar: the sidecar as the source saw it.
    """

    namespace: str
    name: str
    group: str | None
    war: War | None
    sidecar: Sidecar

    @property
    def orphan(self) -> bool:
        return self.war is None

    @property
    def synced(self) -> bool:
        return self.sidecar.synced


def join(
    wars: Iterable[War], proxies: Mapping[str, ProxySync], namespace: str | None
) -> list[Entry]:
    """Every WAR with its sidecar, plus the orphans, by namespace then name."""
    wars = list(wars)
    entries = [Entry(w.namespace, w.name, w.group, w, sidecar_of(w, proxies)) for w in wars]
    for status in orphans(proxies, wars, namespace):
        sidecar = Sidecar(status.proxy, status.overall, status)
        entries.append(
            Entry(status.namespace or "", status.name, group_from_name(status.name), None, sidecar)
        )
    return sorted(entries, key=lambda e: (e.namespace, e.name))
