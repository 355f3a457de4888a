"""An emulated istiod behind FakeKube's pod proxy: ``/debug/syncz`` for a set of proxies.

Each replica is a pod in the Istio namespace (labels ``app=istiod``, ``istio=pilot``,
``istio.io/rev``) and answers ``GET :15014/debug/syncz`` through the API server, as the
real istiod does, with only the proxies connected to it. States are turned into the
nonce pairs istiod reports (and, from Istio 1.23, the ``resources`` map), so a reader
has to derive them exactly as istioctl does. ``proxy_status_text`` prints the same
state as ``istioctl proxy-status`` (1.23-1.26 layout) for a stand-in istioctl.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .server import FakeKube

__all__ = ["MONITORING_PORT", "FakeIstiod", "ProxyState"]

MONITORING_PORT = 15014
TYPE_URLS = {
    "CDS": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
    "LDS": "type.googleapis.com/envoy.config.listener.v3.Listener",
    "EDS": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
    "RDS": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
    "ECDS": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
}
_FLAT = {
    "CDS": "cluster",
    "LDS": "listener",
    "EDS": "endpoint",
    "RDS": "route",
    "ECDS": "extensionconfig",
}
SIDECAR_TYPES = ("CDS", "LDS", "EDS", "RDS")
ALL_SYNCED = dict.fromkeys(SIDECAR_TYPES, "SYNCED")


@dataclass
class ProxyState:
    """One proxy connected to one replica: per-type states as istioctl names them."""

    proxy: str
    replica: int
    types: dict[str, str]
    istio_version: str
    cluster: str = "Kubernetes"
    proxy_type: str = "sidecar"
    errors: dict[str, str] = field(default_factory=dict)


def _nonce(proxy: str, type_name: str, n: int) -> str:
    """A nonce shaped like istiod's (push time / uuid), the same on every run."""
    digest = hashlib.sha256(f"{proxy}/{type_name}/{n}".encode()).hexdigest()
    return f"2024-05-16T11:5{n}:00Z/{n}{digest[:9]}-{digest[9:13]}-{digest[13:17]}"


class FakeIstiod:
    """istiod replicas in a FakeKube, each serving ``/debug/syncz`` for its own proxies.

    Args:
        kube: the FakeKube to add the pods to.
        replicas: how many istiod pods.
        namespace: the Istio namespace.
        revision: the ``istio.io/rev`` label (None: ``default``); the pods are named
            ``istiod-<revision>-...`` for a non-default revision, as istioctl installs them.
        version: istiod's Istio version.
        resources: answer with the 1.23+ ``resources`` map as well as the nonce pairs.
    """

    def __init__(
        self,
        kube: FakeKube,
        *,
        replicas: int = 2,
        namespace: str = "istio-system",
        revision: str | None = None,
        version: str = "1.20.8-tetrate1",
        resources: bool = False,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.revision = revision
        self.version = version
        self.resources = resources
        base = "istiod" if revision is None else f"istiod-{revision}"
        suffixes = ("6f9c7d8b5-x7k2p", "6f9c7d8b5-q4m9z", "6f9c7d8b5-h2w5n", "6f9c7d8b5-t8r3v")
        self.pods = [
            f"{base}-{suffixes[i % len(suffixes)]}{'' if i < 4 else i}" for i in range(replicas)
        ]
        self._lock = threading.Lock()
        self._proxies: dict[str, ProxyState] = {}
        # replica -> (HTTP status, content type, body) to answer instead of syncz
        self._broken: dict[int, tuple[int, str, bytes]] = {}
        self._slow: dict[int, float] = {}
        self._released = threading.Event()
        self.requests: list[tuple[str, str]] = []
        self._install()

    # -- set-up ----------------------------------------------------------------------

    def _install(self) -> None:
        if self.kube.get("namespaces", None, self.namespace) is None:
            self.kube.add(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": self.namespace},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                }
            )
        for index, name in enumerate(self.pods):
            self.kube.add(self.pod(name, index))
            self.kube.register_pod_proxy(
                self.namespace, name, MONITORING_PORT, self._handler(index)
            )

    def pod(self, name: str, index: int, phase: str = "Running") -> dict[str, Any]:
        """The istiod pod object, as the istiod chart labels it."""
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": {
                    "app": "istiod",
                    "istio": "pilot",
                    "istio.io/rev": self.revision or "default",
                    "pod-template-hash": name.rsplit("-", 2)[-2],
                },
            },
            "spec": {
                "containers": [
                    {
                        "name": "discovery",
                        "image": f"docker.io/istio/pilot:{self.version}",
                        "ports": [
                            {"containerPort": 8080, "protocol": "TCP"},
                            {"containerPort": 15010, "protocol": "TCP"},
                            {"containerPort": 15017, "protocol": "TCP"},
                        ],
                    }
                ]
            },
            "status": {"phase": phase, "podIP": f"10.244.0.{10 + index}"},
        }

    def close(self) -> None:
        """Release any request held by ``slow``."""
        self._released.set()

    # -- proxies ---------------------------------------------------------------------

    def connect(
        self,
        proxy: str,
        states: Mapping[str, str] | None = None,
        *,
        replica: int = 0,
        istio_version: str | None = None,
        cluster: str = "Kubernetes",
        errors: Mapping[str, str] | None = None,
    ) -> ProxyState:
        """Connect ``proxy`` (``<name>.<namespace>``) to one replica with these states.

        ``states`` maps CDS, LDS, EDS, RDS, ECDS to SYNCED, NOT SENT, STALE,
        ``STALE (Never Acknowledged)``, ERROR (needs ``resources=True``) or IGNORED;
        types left out are IGNORED. Default: CDS, LDS, EDS, RDS all SYNCED.
        """
        state = ProxyState(
            proxy,
            replica % len(self.pods),
            dict(ALL_SYNCED if states is None else states),
            istio_version or self.version,
            cluster,
            errors=dict(errors or {}),
        )
        with self._lock:
            self._proxies[proxy] = state
        return state

    def connect_all(self, proxies: Iterable[str], states: Mapping[str, str] | None = None) -> None:
        """Connect each proxy, spread over the replicas in turn."""
        for index, proxy in enumerate(proxies):
            self.connect(proxy, states, replica=index)

    def set_states(self, proxy: str, **states: str) -> None:
        """Change some types of a connected proxy: ``set_states(p, EDS="STALE")``."""
        with self._lock:
            self._proxies[proxy].types.update(states)

    def disconnect(self, proxy: str) -> None:
        with self._lock:
            self._proxies.pop(proxy, None)

    def proxies(self) -> list[ProxyState]:
        with self._lock:
            return [self._copy(p) for p in sorted(self._proxies.values(), key=lambda p: p.proxy)]

    @staticmethod
    def _copy(p: ProxyState) -> ProxyState:
        return ProxyState(
            p.proxy,
            p.replica,
            dict(p.types),
            p.istio_version,
            p.cluster,
            p.proxy_type,
            dict(p.errors),
        )

    # -- faults ----------------------------------------------------------------------

    def break_replica(
        self,
        replica: int,
        code: int = 200,
        body: bytes = b"<html>oops</html>",
        content_type: str = "text/html",
    ) -> None:
        """Make one replica answer ``body`` instead of its syncz."""
        self._broken[replica] = (code, content_type, body)

    def slow(self, replica: int, seconds: float) -> None:
        """Make one replica hold each answer for ``seconds`` (or until ``close``)."""
        self._slow[replica] = seconds

    # -- what istiod serves -----------------------------------------------------------

    def syncz(self, replica: int) -> list[dict[str, Any]]:
        """The ``/debug/syncz`` JSON of one replica."""
        return [self._entry(p) for p in self.proxies() if p.replica == replica]

    def _entry(self, p: ProxyState) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "cluster_id": p.cluster,
            "proxy": p.proxy,
            "proxy_type": p.proxy_type,
            "proxy_version": p.istio_version,
            "istio_version": p.istio_version,
        }
        resources: dict[str, Any] = {}
        for name, prefix in _FLAT.items():
            state = p.types.get(name, "IGNORED")
            sent, acked = self._nonces(p.proxy, name, state)
            if sent:
                entry[f"{prefix}_sent"] = sent
            if acked:
                entry[f"{prefix}_acked"] = acked
            if state != "IGNORED":
                item: dict[str, Any] = {}
                if sent:
                    item["sent"] = sent
                    item["sentTime"] = "2024-05-16T11:59:00Z"
                if acked:
                    item["acked"] = acked
                if state == "ERROR":
                    item["lastError"] = p.errors.get(name, "rejected by Envoy")
                resources[TYPE_URLS[name]] = item
        if self.resources:
            entry["resources"] = resources
        return entry

    @staticmethod
    def _nonces(proxy: str, name: str, state: str) -> tuple[str, str]:
        if state == "SYNCED":
            nonce = _nonce(proxy, name, 1)
            return nonce, nonce
        if state == "STALE":
            return _nonce(proxy, name, 2), _nonce(proxy, name, 1)
        if state == "STALE (Never Acknowledged)":
            return _nonce(proxy, name, 1), ""
        if state == "ERROR":
            # Envoy NACKs by acknowledging the previous version.
            return _nonce(proxy, name, 2), _nonce(proxy, name, 1)
        return "", ""  # NOT SENT, IGNORED

    def _handler(self, replica: int) -> Any:
        def handle(path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
            self.requests.append((self.pods[replica], path))
            delay = self._slow.get(replica)
            if delay:
                self._released.wait(delay)
            if replica in self._broken:
                return self._broken[replica]
            if path.rstrip("/") != "/debug/syncz":
                return 404, "text/plain", b"404 page not found\n"
            body = json.dumps(self.syncz(replica), indent=2).encode()
            return 200, "application/json", body

        return handle

    # -- what istioctl prints ----------------------------------------------------------

    def proxy_status_text(self, *, namespace: str | None = None) -> str:
        """``istioctl proxy-status`` as 1.23-1.26 print it for the current state."""
        header = ["NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ECDS", "ISTIOD", "VERSION"]
        rows = [header]
        for p in self.proxies():
            if namespace is not None and not p.proxy.endswith("." + namespace):
                continue
            cells = [p.proxy, p.cluster]
            cells += [p.types.get(t, "IGNORED") for t in ("CDS", "LDS", "EDS", "RDS", "ECDS")]
            cells += [self.pods[p.replica], p.istio_version]
            rows.append(cells)
        return _tabwrite(rows)


def _tabwrite(rows: Sequence[Sequence[str]]) -> str:
    """Go's tabwriter as istioctl configures it: minwidth 0, padding 5, spaces."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [c.ljust(widths[i] + 5) for i, c in enumerate(r[:-1])] + [r[-1]]
        lines.append("".join(cells))
    return "\n".join(lines) + "\n"
