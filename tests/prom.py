"""A real Prometheus server for tests, scraping the mesh telemetry that simulated VMs
would report: Istio's standard request metrics per VM of a FakeKube's WorkloadGroups,
with an error rate the test controls, and a gauge an alert rule fires on.

Prometheus is Debian's `prometheus` package (`apt-get install -y prometheus`). Without
it a test skips, saying how to install it, except under CI (`CI` set), where it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.fakekube import FakeKube

WARS = "workloadautoregistrations"
#: The alert the rule file defines: it fires while `war_test_hold` is above 0.
HOLD_ALERT = "MeshMaintenance"
# Requests each VM answers per scrape: healthy ones a few, failing ones many, so that a
# single scrape of a failing VM weighs on any window.
HEALTHY_REQUESTS = 10
FAILING_REQUESTS = 1000
BUCKETS = ("5", "10", "25", "100", "500", "+Inf")
INSTALL = "apt-get update && apt-get install -y prometheus (Debian's prometheus package)"


def prometheus_binary() -> str:
    """Prometheus' path; skips the test without it (fails it under CI)."""
    found = shutil.which("prometheus")
    if found is None:
        message = f"prometheus is not installed: {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI installs it in .ci/run")
        pytest.skip(message)
    return found


def promtool_binary() -> str:
    found = shutil.which("promtool")
    if found is None:
        message = f"promtool is not installed: {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI installs it in .ci/run")
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mesh:
    """What the VMs of a FakeKube report, served at /metrics for Prometheus to scrape.

    Every WAR of the cluster is a VM answering requests for its WorkloadGroup
    (`destination_workload`, as a WorkloadGroup-onboarded VM's proxy reports). A VM
    fails (answers 500 to everything) while `failing(namespace, name, uid)` says so;
    `hold` is the gauge the alert rule watches.
    """

    kube: FakeKube
    failing: Callable[[str, str, str | None], bool] = lambda ns, name, uid: False
    hold: float = 0
    counters: dict[tuple[str, ...], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def vms(self) -> list[tuple[str, str, str, str | None]]:
        """(namespace, group, WAR name, uid) of every WAR, and of every WAR seen before
        that is gone now (its agent is re-onboarding: uid None)."""
        out = []
        for obj in self.kube.objects(WARS):
            meta = obj["metadata"]
            owners = [
                r for r in meta.get("ownerReferences") or [] if r.get("kind") == "WorkloadGroup"
            ]
            group = owners[0]["name"] if owners else ""
            out.append((meta["namespace"], group, meta["name"], meta.get("uid")))
        return out

    def scrape(self) -> str:
        with self.lock:
            present = self.vms()
            seen = {(ns, name) for ns, _, name, _ in present}
            known = {k[:3] for k in self.counters}
            gone = [(ns, g, n, None) for ns, g, n in known if (ns, n) not in seen]
            for ns, group, name, uid in present + gone:
                failing = self.failing(ns, name, uid)
                ok = 0 if failing else HEALTHY_REQUESTS
                bad = FAILING_REQUESTS if failing else 0
                self._add((ns, group, name, "200"), ok)
                self._add((ns, group, name, "500"), bad)
                for le in BUCKETS:
                    # Healthy answers take 8ms, failing ones 200ms.
                    fast = ok if le in ("10", "25", "100", "500", "+Inf") else 0
                    slow = bad if le in ("500", "+Inf") else 0
                    self._add((ns, group, name, "le", le), fast + slow)
            lines = [
                "# TYPE istio_requests_total counter",
                *(
                    f'istio_requests_total{{reporter="destination",destination_workload="{g}",'
                    f'destination_workload_namespace="{ns}",vm="{n}",response_code="{code}"}} {v}'
                    for (ns, g, n, *rest), v in sorted(self.counters.items())
                    if len(rest) == 1
                    for code in rest
                ),
                "# TYPE istio_request_duration_milliseconds histogram",
                *(
                    f'istio_request_duration_milliseconds_bucket{{reporter="destination",'
                    f'destination_workload="{g}",destination_workload_namespace="{ns}",'
                    f'vm="{n}",le="{rest[1]}"}} {v}'
                    for (ns, g, n, *rest), v in sorted(self.counters.items())
                    if len(rest) == 2
                ),
                "# TYPE war_test_hold gauge",
                f"war_test_hold {self.hold:g}",
            ]
            return "\n".join(lines) + "\n"

    def _add(self, key: tuple[str, ...], n: int) -> None:
        self.counters[key] = self.counters.get(key, 0) + n


class _Handler(BaseHTTPRequestHandler):
    mesh: Mesh

    def do_GET(self) -> None:
        body = self.server.mesh.scrape().encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Prometheus:
    """A running Prometheus at `url` scraping `mesh` every second."""

    url: str
    mesh: Mesh
    process: subprocess.Popen[bytes]
    log: Path

    def query(self, promql: str) -> list[dict[str, Any]]:
        params = urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{params}", timeout=10) as resp:
            doc = json.loads(resp.read())
        assert doc["status"] == "success", doc
        return list(doc["data"]["result"])

    def through_proxy(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        """FakeKube's service proxy handler: the request passed on to this Prometheus, its
        answer passed back whatever its status."""
        url = self.url + path + "?" + urllib.parse.urlencode(query, doseq=True)
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                return resp.status, resp.headers.get("Content-Type", ""), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Content-Type", ""), exc.read()

    def wait_for(self, promql: str, what: str) -> list[dict[str, Any]]:
        """Ask `promql` until it answers a series (Prometheus has scraped and evaluated what
        the test needs); fails after a generous bound."""
        end = time.monotonic() + 60
        while time.monotonic() < end:
            found = self.query(promql)
            if found:
                return found
            if self.process.poll() is not None:
                pytest.fail(f"prometheus exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)
        pytest.fail(f"Prometheus never answered {what}: {promql}")


def _serve(binary: str, home: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Prometheus on a free port, started and ready. Tests run in several processes: a
    port another one took between `free_port` and Prometheus's bind is given up for
    another, and the server that answers is checked to be this one (its storage path)."""
    for _ in range(5):
        port = free_port()
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={home / 'prometheus.yml'}",
                    f"--storage.tsdb.path={home / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--web.enable-lifecycle",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        url = f"http://127.0.0.1:{port}"
        if _ready(proc, url, home / "data"):
            return proc, url
        _stop(proc)
        if "address already in use" not in log.read_text():
            pytest.fail(f"prometheus did not start: {log.read_text()[-2000:]}")
    pytest.fail(f"prometheus found no free port: {log.read_text()[-2000:]}")


def _ready(proc: subprocess.Popen[bytes], url: str, data: Path) -> bool:
    """Whether Prometheus `proc` answers at `url` (False once it has exited)."""
    end = time.monotonic() + 60
    while proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/api/v1/status/flags", timeout=5) as resp:
                flags = json.load(resp)["data"]
            if flags["storage.tsdb.path"] == str(data):
                with urllib.request.urlopen(f"{url}/-/ready", timeout=5) as resp:
                    if resp.status == 200:
                        return True
        except (OSError, ValueError, KeyError):
            pass
        if time.monotonic() > end:
            _stop(proc)
            pytest.fail("prometheus did not get ready in 60s")
        time.sleep(0.1)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def running(fake_kube: FakeKube, tmp_path: Path) -> Iterator[Prometheus]:
    """Prometheus scraping the VMs of `fake_kube` every second, with the hold alert rule
    (a test module's `prometheus` fixture)."""
    binary = prometheus_binary()
    mesh = Mesh(fake_kube)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.mesh = mesh  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = tmp_path / "prometheus"
    home.mkdir()
    (home / "rules.yml").write_text(
        "groups:\n"
        "  - name: kubectl-war-tests\n"
        "    rules:\n"
        f"      - alert: {HOLD_ALERT}\n"
        "        expr: war_test_hold > 0\n"
        "        for: 0s\n"
    )
    (home / "prometheus.yml").write_text(
        "global:\n"
        "  scrape_interval: 1s\n"
        "  evaluation_interval: 1s\n"
        "rule_files:\n"
        f"  - {home / 'rules.yml'}\n"
        "scrape_configs:\n"
        "  - job_name: mesh\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{server.server_address[1]}']\n"
    )
    log = home / "log"
    proc, url = _serve(binary, home, log)
    prom = Prometheus(url, mesh, proc, log)
    try:
        yield prom
    finally:
        _stop(proc)
        server.shutdown()
        server.server_close()
