"""The benchmark's fake API server, in a process of its own.

A process forked from a large parent starts out with the parent's resident memory
counted as its own peak RSS; with 50,000 WARs held by an in-process server, every
command measured would have reported the server's gigabyte. So the server lives
here, and `bench/run.py` talks to it over stdin/stdout, one JSON line each way.

Started with one JSON argument:

    {"kubeconfig": PATH, "wars": N}            the large fleet of N WARs, and an
                                               emulated istiod knowing every
                                               connected WAR's sidecar as SYNCED
    {"kubeconfig": PATH, "rollout": {...}}     one WorkloadGroup (bookinfo/ratings) of
                                               3 * per_zone outdated WARs, istiod, and
                                               simulated agents that re-onboard after
                                               delay + jitter, connect_delay, sync_delay

Then:

    started: {"url", "kubeconfig", "war": {"namespace", "name"},
              "group": {"namespace", "name", "wars"}, "seed_seconds"}
    "timings" -> [[method, path, table, seconds], ...] recorded since the last ask
    "rollout" -> {"deletes": [[name, t], ...], "back": [[name, t], ...],
                  "max_unavailable": n}: each DELETE of a WAR as it arrived, and each
                 moment a re-created WAR was back (agent connected and sidecar SYNCED),
                 in time.monotonic() seconds of this process
    "stop"    -> the server stops and the process exits
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakekube import FakeKube, RecordedRequest  # noqa: E402
from tests.fakekube.istiod import MONITORING_PORT, FakeIstiod, ProxyState  # noqa: E402
from tests.fakekube.onboarding import OnboardingPlane, rollout_fleet  # noqa: E402

WARS = "workloadautoregistrations"


class BenchIstiod(FakeIstiod):
    """FakeIstiod that builds each replica's syncz body once per change of state.

    The emulation builds every answer in Python (nonces hashed per proxy, indented
    JSON): at 50,000 proxies that is seconds a request, which would be charged to
    the command measured. Real istiod answers from memory; so does this, until a
    proxy's state changes. It also notes when each proxy became SYNCED.
    """

    def __init__(self, kube: FakeKube, **kw: Any) -> None:
        self._version = 0
        self._cache: dict[int, tuple[int, bytes]] = {}
        self.synced_at: list[tuple[str, float]] = []
        self._build_lock = threading.Lock()
        super().__init__(kube, **kw)
        for index, pod in enumerate(self.pods):
            kube.register_pod_proxy(self.namespace, pod, MONITORING_PORT, self._cached(index))

    def connect(self, proxy: str, states: Mapping[str, str] | None = None, **kw: Any) -> ProxyState:
        state = super().connect(proxy, states, **kw)
        if all(state.types.get(t) == "SYNCED" for t in ("CDS", "LDS", "EDS", "RDS")):
            self.synced_at.append((proxy, time.monotonic()))
        self._version += 1
        return state

    def set_states(self, proxy: str, **states: str) -> None:
        super().set_states(proxy, **states)
        self._version += 1

    def disconnect(self, proxy: str) -> None:
        super().disconnect(proxy)
        self._version += 1

    def warm(self) -> None:
        """Build every replica's answer now, not in the first command measured."""
        for index in range(len(self.pods)):
            self._cached(index)("/debug/syncz", {})

    def _cached(self, replica: int) -> Any:
        lock = self._build_lock

        def handle(path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
            if path.rstrip("/") != "/debug/syncz":
                return 404, "text/plain", b"404 page not found\n"
            with lock:
                version = self._version
                cached = self._cache.get(replica)
                if cached is None or cached[0] != version:
                    body = json.dumps(self.syncz(replica), indent=2).encode()
                    cached = self._cache[replica] = (version, body)
            return 200, "application/json", cached[1]

        return handle


def _proxies(wars: list[dict[str, Any]]) -> list[str]:
    """``<war>.<namespace>`` of every WAR whose agent is connected."""
    out = []
    for war in wars:
        conditions = (war.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "AgentConnected" and c.get("status") == "True" for c in conditions):
            out.append(f"{war['metadata']['name']}.{war['metadata']['namespace']}")
    return out


def _group(wars: list[dict[str, Any]], namespace: str) -> dict[str, Any]:
    """The first WorkloadGroup of ``namespace`` and how many WARs it has."""
    counts: dict[str, int] = {}
    for war in wars:
        meta = war["metadata"]
        if meta["namespace"] != namespace:
            continue
        for ref in meta.get("ownerReferences") or []:
            if ref.get("kind") == "WorkloadGroup":
                counts[ref["name"]] = counts.get(ref["name"], 0) + 1
    name = next(iter(counts))
    return {"namespace": namespace, "name": name, "wars": counts[name]}


def main(argv: list[str]) -> int:
    config = json.loads(argv[0])
    fake = FakeKube().start()
    plane: OnboardingPlane | None = None
    deletes: list[tuple[str, float]] = []
    try:
        start = time.perf_counter()
        rollout = config.get("rollout")
        if rollout is None:
            fake.seed_large_fleet(int(config["wars"]))
        else:
            fake.add_all(rollout_fleet(fake.clock(), per_zone=int(rollout["per_zone"])))
        wars = fake.objects(WARS)
        first = wars[0]["metadata"]
        group = _group(wars, first["namespace"])
        istiod = BenchIstiod(fake, replicas=2)
        istiod.connect_all(_proxies(wars))
        istiod.warm()
        del wars
        seeded = time.perf_counter() - start
        if rollout is not None:

            def on_request(req: RecordedRequest) -> None:
                if req.method == "DELETE" and f"/{WARS}/" in req.path:
                    deletes.append((req.path.rsplit("/", 1)[1], time.monotonic()))

            fake.request_hooks.append(on_request)
            plane = OnboardingPlane(
                fake,
                delay=float(rollout["delay"]),
                jitter=float(rollout["jitter"]),
                connect_delay=float(rollout.get("connect_delay", 0.0)),
                sync_delay=float(rollout["sync_delay"]),
                istiod=istiod,
                seed=1,
                lifetime=float(rollout.get("lifetime", 600.0)),
            ).start()
        fake.timings = []
        hello = {
            "url": fake.url,
            "kubeconfig": fake.write_kubeconfig(config["kubeconfig"]),
            "war": {"namespace": first["namespace"], "name": first["name"]},
            "group": group,
            "seed_seconds": seeded,
        }
        print(json.dumps(hello), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "timings":
                taken, fake.timings = fake.timings, []
                rows = [[t.method, t.path, t.table, t.seconds] for t in taken]
                print(json.dumps(rows), flush=True)
            elif command == "rollout":
                print(json.dumps(_rollout_record(fake, plane, istiod, deletes)), flush=True)
            elif command == "stop":
                break
    finally:
        if plane is not None:
            plane.stop()
        fake.stop()
    return 0


def _rollout_record(
    fake: FakeKube,
    plane: OnboardingPlane | None,
    istiod: BenchIstiod,
    deletes: list[tuple[str, float]],
) -> dict[str, Any]:
    """Every DELETE, and when each deleted WAR was back: connected (as the agents'
    record has it) and SYNCED (as istiod has it), whichever came later."""
    if plane is not None:
        plane.idle(30.0)
    connected: dict[str, list[float]] = {}
    for change in plane.record if plane is not None else []:
        if change.kind == "connected":
            connected.setdefault(change.name, []).append(change.at)
    synced: dict[str, list[float]] = {}
    for proxy, at in list(istiod.synced_at):
        synced.setdefault(proxy.rsplit(".", 1)[0], []).append(at)
    back = []
    for name, deleted in deletes:
        conn = [t for t in connected.get(name, []) if t > deleted]
        sync = [t for t in synced.get(name, []) if t > deleted]
        if conn and sync:
            back.append([name, max(conn[0], sync[0])])
    return {
        "deletes": [[name, t] for name, t in deletes],
        "back": back,
        "max_unavailable": fake.max_unavailable("bookinfo", "ratings"),
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
