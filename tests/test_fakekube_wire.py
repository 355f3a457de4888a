"""The fake API server's wire and its large fleet as kube-apiserver's: answers over 128 KiB
gzipped (level 1) for a client that accepts gzip, as kubectl does, and WARs shaped as a
real server returns them (managedFields of the onboarding plane's writes, annotations,
several conditions)."""

from __future__ import annotations

import gzip
import http.client
import json
import subprocess
from typing import Any, Callable
from urllib.parse import urlsplit

from tests.fakekube import Clock, FakeKube
from tests.fakekube.fleet import LARGE_FLEET_ANNOTATIONS, iter_large_fleet

WARS = "/apis/runtime.onboarding.tetrate.io/v1alpha1/workloadautoregistrations"
Run = Callable[..., "subprocess.CompletedProcess[str]"]


def _get(fake: FakeKube, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    url = urlsplit(fake.url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_large_answers_are_gzipped_for_a_client_that_accepts_gzip(fake_kube: FakeKube) -> None:
    fake_kube.seed_large_fleet(200)
    path = WARS + "?limit=100"
    code, plain_headers, plain = _get(fake_kube, path)
    assert code == 200
    assert len(plain) > 128 * 1024
    assert "Content-Encoding" not in plain_headers
    code, headers, body = _get(fake_kube, path, **{"Accept-Encoding": "gzip"})
    assert code == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"
    assert int(headers["Content-Length"]) == len(body) < len(plain) // 4
    assert gzip.decompress(body) == plain
    # Refused gzip, or a small answer: as it is.
    _, headers, body = _get(fake_kube, path, **{"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in headers and body == plain
    _, headers, body = _get(fake_kube, WARS + "?limit=5", **{"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in headers
    assert len(json.loads(body)["items"]) == 5


def test_kubectl_reads_gzipped_pages(fleet_kube: FakeKube, run_kubectl: Run) -> None:
    fleet_kube.seed_large_fleet(600)
    expected = len(fleet_kube.objects("workloadautoregistrations"))
    fleet_kube.clear_requests()
    r = run_kubectl("get", "war", "-A", "--no-headers")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == expected
    pages = [
        rq for rq in fleet_kube.requests if rq.method == "GET" and rq.path == WARS
    ]  # fmt: skip
    assert len(pages) == 2
    # Go's transport asks for gzip; the first page (500 rows) is over 128 KiB.
    assert all("gzip" in (rq.header("Accept-Encoding") or "") for rq in pages)


def test_large_fleet_wars_are_shaped_as_a_real_api_server_returns_them(
    kube_clock: Clock,
) -> None:
    wars = [o for o in iter_large_fleet(kube_clock(), 93) if o["kind"] != "Namespace"]
    wars = [o for o in wars if o["kind"] == "WorkloadAutoRegistration"]
    assert len(wars) == 93
    sizes = [len(json.dumps(o, separators=(",", ":"))) for o in wars]
    assert 2_500 < sum(sizes) / len(sizes) < 3_500
    for obj in wars:
        meta: dict[str, Any] = obj["metadata"]
        assert sorted(meta["annotations"]) == sorted(LARGE_FLEET_ANNOTATIONS)
        create = meta["managedFields"][0]
        assert (create["manager"], create["operation"], "subresource" in create) == (
            "onboarding-plane",
            "Update",
            False,
        )
        owner = meta["ownerReferences"][0]["uid"]
        owned = create["fieldsV1"]["f:metadata"]["f:ownerReferences"]
        assert owned == {".": {}, f'k:{{"uid":"{owner}"}}': {}}
        assert "f:spec" in create["fieldsV1"] and "f:status" not in create["fieldsV1"]
        status = obj.get("status")
        if status is None:
            assert len(meta["managedFields"]) == 1
            continue
        assert [e.get("subresource") for e in meta["managedFields"]] == [None, "status"]
        assert list(meta["managedFields"][1]["fieldsV1"]) == ["f:status"]
        types = [c["type"] for c in status["conditions"]]
        assert types == ["Registered", "AgentConnected", "WorkloadEntryCreated"]
        stamp = status["conditions"][1]["lastTransitionTime"]
        assert len(stamp) == len("2021-10-09T10:56:41.380102645Z") and stamp.endswith("Z")
