"""The fake API server behaves like a real one: for kubectl, for the Python client, on the wire."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.factories import EC2 as NAME_EC2
from tests.factories import JWT as NAME_JWT
from tests.factories import call, ns, too_old
from tests.fakekube import (
    Clock,
    FakeKube,
    build_fleet,
    build_large_fleet,
    human_duration,
    parse_time,
)

WAR_GROUP = "runtime.onboarding.tetrate.io"
WARS = f"/apis/{WAR_GROUP}/v1alpha1"
WAR_RESOURCE = f"workloadautoregistrations.{WAR_GROUP}"
TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)
NAME_ECS = (
    "payments-api-aws-aws-123456789012-us-east-1a-ecs-payments-3a151358f03a4e32bf8cd401c1c74653"
)

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# -- helpers -----------------------------------------------------------------------


@contextmanager
def watching(fake: FakeKube, path: str) -> Iterator[Callable[[], dict[str, Any] | None]]:
    """Open a watch; yields ``next_event()`` (None once the stream has ended)."""
    # A stream that never ends fails the read after a minute (a hang), not sooner.
    resp = _OPENER.open(urllib.request.Request(fake.url + path), timeout=60)
    try:

        def next_event() -> dict[str, Any] | None:
            line = resp.readline()
            return json.loads(line) if line else None

        yield next_event
    finally:
        resp.close()


def war(
    namespace: str,
    name: str,
    *,
    created: str | None = None,
    connected: bool | None = True,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if created:
        meta["creationTimestamp"] = created
    if labels:
        meta["labels"] = labels
    obj: dict[str, Any] = {
        "apiVersion": f"{WAR_GROUP}/v1alpha1",
        "kind": "WorkloadAutoRegistration",
        "metadata": meta,
        "spec": {"identity": {"jwt": {"issuer": "https://issuer.corp", "subject": name}}},
    }
    if connected is not None:
        obj["status"] = {
            "observedGeneration": 1,
            "conditions": [
                {
                    "type": "AgentConnected",
                    "status": "True" if connected else "False",
                    "reason": "AgentEstablishedConnection" if connected else "AgentDisconnected",
                    "lastTransitionTime": created or "2024-05-16T11:00:00Z",
                }
            ],
        }
    return obj


def wg(namespace: str, name: str, *, version: str = "v1beta1") -> dict[str, Any]:
    return {
        "apiVersion": f"networking.istio.io/{version}",
        "kind": "WorkloadGroup",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"serviceAccount": name, "ports": {"http": 8080}}},
    }


def names(items: list[dict[str, Any]]) -> list[str]:
    return [i["metadata"]["name"] for i in items]


def small_fleet(fake: FakeKube) -> None:
    """Three WARs: connected for 1m, disconnected and 3d1h old, no status yet and 2m10s old."""
    fake.add(ns("bookinfo"))
    fake.add(ns("payments"))
    fake.add(war("bookinfo", NAME_EC2, created="2024-05-16T11:59:00Z"))
    fake.add(war("bookinfo", NAME_JWT, created="2024-05-13T11:00:00Z", connected=False))
    fake.add(war("payments", NAME_ECS, created="2024-05-16T11:57:50Z", connected=None))


def managed(obj: dict[str, Any], manager: str, subresource: str | None = None) -> dict[str, Any]:
    [entry] = [
        e
        for e in obj["metadata"]["managedFields"]
        if e["manager"] == manager and e.get("subresource") == subresource
    ]
    return entry


# -- real kubectl --------------------------------------------------------------------


def test_kubectl_get_war_all_namespaces_prints_the_crd_table(
    fake_kube: FakeKube, run_kubectl: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    small_fleet(fake_kube)
    first = run_kubectl("get", "war", "-A")
    fake_kube.clock_ctl.advance(90)
    later = run_kubectl("get", "war", "-A")

    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout == (
        "NAMESPACE   NAME                                                                                         AGENT CONNECTED   AGE\n"  # noqa: E501
        "bookinfo    ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0                              True              60s\n"  # noqa: E501
        "bookinfo    ratings-jwt-my-corp--vm007-datacenter1-us-east.internal.corp                                 False             3d1h\n"  # noqa: E501
        "payments    payments-api-aws-aws-123456789012-us-east-1a-ecs-payments-3a151358f03a4e32bf8cd401c1c74653                     2m10s\n"  # noqa: E501
    )
    assert [line.split()[-1] for line in later.stdout.splitlines()] == [
        "AGE",
        "2m30s",
        "3d1h",
        "3m40s",
    ]
    lists = [r for r in fake_kube.requests if r.path == f"{WARS}/workloadautoregistrations"]
    assert lists[0].query == {"limit": ["500"]}
    assert lists[0].header("Accept") == TABLE_ACCEPT


def test_kubectl_get_war_in_one_namespace(
    fake_kube: FakeKube, run_kubectl: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    small_fleet(fake_kube)

    result = run_kubectl("get", "war", "-n", "bookinfo")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        "NAME                                                              AGENT CONNECTED   AGE\n"
        "ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0   True              60s\n"
        "ratings-jwt-my-corp--vm007-datacenter1-us-east.internal.corp      False             3d1h\n"
    )
    empty = run_kubectl("get", "war", "-n", "nowhere")
    assert (empty.returncode, empty.stdout, empty.stderr) == (
        0,
        "",
        "No resources found in nowhere namespace.\n",
    )


def test_kubectl_get_war_as_json_round_trips(
    fake_kube: FakeKube, run_kubectl: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    small_fleet(fake_kube)

    shown = run_kubectl("get", "war", NAME_EC2, "-n", "bookinfo", "-o", "json")
    full = run_kubectl(
        "get", "war", NAME_EC2, "-n", "bookinfo", "-o", "json", "--show-managed-fields"
    )

    stored = fake_kube.get("workloadautoregistrations", "bookinfo", NAME_EC2)
    assert stored is not None
    assert json.loads(full.stdout) == stored
    del stored["metadata"]["managedFields"]  # kubectl hides them unless asked
    assert json.loads(shown.stdout) == stored
    by_name = run_kubectl("get", "war", NAME_EC2, "-n", "bookinfo", "-o", "name")
    assert by_name.stdout == f"workloadautoregistration.{WAR_GROUP}/{NAME_EC2}\n"


def test_kubectl_delete_war(
    fake_kube: FakeKube, run_kubectl: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    small_fleet(fake_kube)

    result = run_kubectl("delete", "war", NAME_JWT, "-n", "bookinfo")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        f'workloadautoregistration.{WAR_GROUP} "{NAME_JWT}" deleted from bookinfo namespace\n'
    )
    assert fake_kube.get("workloadautoregistrations", "bookinfo", NAME_JWT) is None
    [delete] = [r for r in fake_kube.requests if r.method == "DELETE"]
    assert delete.path == f"{WARS}/namespaces/bookinfo/workloadautoregistrations/{NAME_JWT}"
    assert delete.body == {"propagationPolicy": "Background"}
    missing = run_kubectl("delete", "war", NAME_JWT, "-n", "bookinfo")
    assert (missing.returncode, missing.stderr) == (
        1,
        f'Error from server (NotFound): {WAR_RESOURCE} "{NAME_JWT}" not found\n',
    )


def test_kubectl_get_wg_all_namespaces(
    fleet_kube: FakeKube, run_kubectl: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    result = run_kubectl("get", "wg", "-A")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        "NAMESPACE   NAME           AGE\n"
        "bookinfo    ratings        60d\n"
        "bookinfo    reviews-v2     30d\n"
        "onprem      edge-gw        90d\n"
        "payments    ledger-2       14d\n"
        "payments    payments-api   45d\n"
    )
    assert fleet_kube.requests[-1].path == "/apis/networking.istio.io/v1/workloadgroups"


def test_kubectl_api_resources_lists_war_and_wg(
    fake_kube: FakeKube, run_kubectl: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    result = run_kubectl("api-resources", "--api-group", WAR_GROUP)
    wgs = run_kubectl("api-resources", "--api-group", "networking.istio.io", "--no-headers")

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        "NAME                        SHORTNAMES   APIVERSION                               NAMESPACED   KIND\n"  # noqa: E501
        "workloadautoregistrations   war          runtime.onboarding.tetrate.io/v1alpha1   true         WorkloadAutoRegistration\n"  # noqa: E501
    )
    assert wgs.stdout.split() == [
        "workloadgroups",
        "wg",
        "networking.istio.io/v1",
        "true",
        "WorkloadGroup",
    ]
    discovery = [r for r in fake_kube.requests if r.path in ("/api", "/apis")]
    assert (
        discovery[0]
        .header("Accept", "")
        .startswith("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
    )


def test_kubectl_without_the_war_api_says_no_such_resource(
    kubectl_bin: str,
    make_kubeconfig: Callable[..., str],
    make_kube_env: Callable[[str], dict[str, str]],
) -> None:
    with FakeKube(serve_wars=False) as fake:
        env = make_kube_env(make_kubeconfig(fake))
        result = subprocess.run(
            [kubectl_bin, "get", "war", "-A"], env=env, capture_output=True, text=True, timeout=30
        )

    assert result.returncode == 1
    assert result.stderr.endswith('error: the server doesn\'t have a resource type "war"\n')


# -- lists: paging, selectors ------------------------------------------------------------


def test_paging_returns_every_war_exactly_once(fake_kube: FakeKube) -> None:
    fake_kube.add_all(build_large_fleet(fake_kube.clock(), 1200))
    seen: list[str] = []
    remaining: list[int | None] = []
    versions: set[str] = set()
    path = f"{WARS}/workloadautoregistrations?limit=500"
    while True:
        status, body = call(fake_kube, "GET", path)
        assert status == 200
        seen += [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in body["items"]]
        remaining.append(body["metadata"].get("remainingItemCount"))
        versions.add(body["metadata"]["resourceVersion"])
        token = body["metadata"].get("continue")
        if not token:
            break
        path = f"{WARS}/workloadautoregistrations?limit=500&continue={token}"

    assert len(seen) == 1200
    assert len(set(seen)) == 1200
    assert seen == sorted(seen)
    assert remaining == [700, 200, None]
    assert versions == {fake_kube.resource_version}


def test_continue_serves_the_snapshot_of_the_first_page(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    for i in range(6):
        fake_kube.add(war("a", f"w{i}"))
    _, first = call(fake_kube, "GET", f"{WARS}/namespaces/a/workloadautoregistrations?limit=2")
    fake_kube.delete("workloadautoregistrations", "a", "w4")
    fake_kube.add(war("a", "w3b"))
    fake_kube.update(
        "workloadautoregistrations", "a", "w5", lambda o: o["metadata"].update(labels={"x": "y"})
    )
    token = first["metadata"]["continue"]

    _, second = call(
        fake_kube, "GET", f"{WARS}/namespaces/a/workloadautoregistrations?limit=3&continue={token}"
    )
    _, fresh = call(fake_kube, "GET", f"{WARS}/namespaces/a/workloadautoregistrations")

    assert names(first["items"]) == ["w0", "w1"]
    assert first["metadata"]["remainingItemCount"] == 4
    assert names(second["items"]) == ["w2", "w3", "w4"]
    assert second["metadata"]["remainingItemCount"] == 1
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    token = second["metadata"]["continue"]
    _, third = call(
        fake_kube, "GET", f"{WARS}/namespaces/a/workloadautoregistrations?limit=3&continue={token}"
    )
    assert names(third["items"]) == ["w5"]
    assert "labels" not in third["items"][0]["metadata"]
    assert "continue" not in third["metadata"]
    assert names(fresh["items"]) == ["w0", "w1", "w2", "w3", "w3b", "w5"]


def test_expired_continue_token_answers_410(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    for i in range(3):
        fake_kube.add(war("a", f"w{i}"))
    _, first = call(fake_kube, "GET", f"{WARS}/workloadautoregistrations?limit=1")
    fake_kube.expire_continue_tokens()

    status, body = call(
        fake_kube,
        "GET",
        f"{WARS}/workloadautoregistrations?limit=1&continue={first['metadata']['continue']}",
    )

    assert status == 410
    assert body["metadata"]["continue"]  # the token to continue inconsistently
    del body["metadata"]
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": (
            "The provided continue parameter is too old to display a consistent list result. "
            "You can start a new list without the continue parameter, or use the continue token "
            "in this response to retrieve the remainder of the results. Continuing with the "
            "provided token results in an inconsistent list - objects that were created, "
            "modified, or deleted between the time the first chunk was returned and now may "
            "show up in the list."
        ),
        "reason": "Expired",
        "code": 410,
    }
    status, again = call(fake_kube, "GET", f"{WARS}/workloadautoregistrations?limit=1")
    status, second = call(
        fake_kube,
        "GET",
        f"{WARS}/workloadautoregistrations?limit=1&continue={again['metadata']['continue']}",
    )
    assert (status, names(second["items"])) == (200, ["w1"])


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=ratings", ["r1", "r2"]),
        ("app==ratings,tier=vm", ["r1"]),
        ("app!=ratings", ["p1", "x1"]),
        ("app in (ratings, payments)", ["p1", "r1", "r2"]),
        ("app notin (ratings)", ["p1", "x1"]),
        ("tier", ["p1", "r1"]),
        ("!tier", ["r2", "x1"]),
        ("app in (ratings),!tier", ["r2"]),
        ("", ["p1", "r1", "r2", "x1"]),
    ],
)
def test_label_selectors(fake_kube: FakeKube, selector: str, expected: list[str]) -> None:
    fake_kube.add(ns("a"))
    fake_kube.add(war("a", "r1", labels={"app": "ratings", "tier": "vm"}))
    fake_kube.add(war("a", "r2", labels={"app": "ratings"}))
    fake_kube.add(war("a", "p1", labels={"app": "payments", "tier": "ecs"}))
    fake_kube.add(war("a", "x1"))
    query = urllib.parse.quote(selector)

    status, body = call(fake_kube, "GET", f"{WARS}/workloadautoregistrations?labelSelector={query}")

    assert (status, names(body["items"])) == (200, expected)


def test_bad_label_selector_is_a_bad_request(fake_kube: FakeKube) -> None:
    status, body = call(
        fake_kube, "GET", f"{WARS}/workloadautoregistrations?labelSelector=a%20in%20b"
    )

    assert (status, body["reason"], body["code"]) == (400, "BadRequest", 400)
    assert body["message"] == "unable to parse requirement: found 'b', expected: '('"


def test_field_selectors(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    fake_kube.add(ns("b"))
    fake_kube.add(war("a", "w1"))
    fake_kube.add(war("a", "w2"))
    fake_kube.add(war("b", "w1"))
    target = fake_kube.get("workloadautoregistrations", "a", "w1")
    assert target is not None
    for name, involved in (("e1", "w1"), ("e2", "w2")):
        fake_kube.add(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": name, "namespace": "a"},
                "involvedObject": {
                    "kind": "WorkloadAutoRegistration",
                    "name": involved,
                    "namespace": "a",
                    "uid": target["metadata"]["uid"] if involved == "w1" else "other",
                },
                "reason": "AgentConnected",
            }
        )

    def select(path: str, selector: str) -> list[str]:
        status, body = call(
            fake_kube, "GET", f"{path}?fieldSelector={urllib.parse.quote(selector)}"
        )
        assert status == 200, body
        return [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in body["items"]]

    wars = f"{WARS}/workloadautoregistrations"
    assert select(wars, "metadata.name=w1") == ["a/w1", "b/w1"]
    assert select(wars, "metadata.name==w1,metadata.namespace!=a") == ["b/w1"]
    assert select(f"{WARS}/namespaces/a/workloadautoregistrations", "metadata.name!=w1") == ["a/w2"]
    uid = target["metadata"]["uid"]
    events = "/api/v1/namespaces/a/events"
    assert select(events, f"involvedObject.name=w1,involvedObject.uid={uid}") == ["a/e1"]
    assert select(events, "involvedObject.kind=WorkloadAutoRegistration") == ["a/e1", "a/e2"]
    status, body = call(fake_kube, "GET", f"{wars}?fieldSelector=spec.identity=x")
    assert (status, body["message"], body["reason"]) == (
        400,
        "field label not supported: spec.identity",
        "BadRequest",
    )


# -- get, create, update, patch ---------------------------------------------------------------


def test_get_missing_war_is_not_found(fake_kube: FakeKube) -> None:
    status, body = call(fake_kube, "GET", f"{WARS}/namespaces/a/workloadautoregistrations/x")

    assert status == 404
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'{WAR_RESOURCE} "x" not found',
        "reason": "NotFound",
        "details": {"name": "x", "group": WAR_GROUP, "kind": "workloadautoregistrations"},
        "code": 404,
    }


def test_create_stamps_the_object_like_the_api_server(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    body = war("a", "w1")

    status, created = call(
        fake_kube,
        "POST",
        f"{WARS}/namespaces/a/workloadautoregistrations",
        headers={"User-Agent": "onboarding-plane/v1.9.2 (linux/amd64)"},
        body=body,
    )
    again, conflict = call(
        fake_kube, "POST", f"{WARS}/namespaces/a/workloadautoregistrations", body=body
    )
    missing_ns, no_ns = call(
        fake_kube, "POST", f"{WARS}/namespaces/zz/workloadautoregistrations", body=war("zz", "w1")
    )

    assert status == 201
    meta = created["metadata"]
    assert "status" not in created  # the status subresource owns status
    assert meta["generation"] == 1
    assert meta["creationTimestamp"] == "2024-05-16T12:00:00Z"
    assert re.fullmatch(r"[0-9a-f-]{36}", meta["uid"])
    assert meta["resourceVersion"] == fake_kube.resource_version
    assert meta["managedFields"] == [
        {
            "manager": "onboarding-plane",
            "operation": "Update",
            "apiVersion": f"{WAR_GROUP}/v1alpha1",
            "time": "2024-05-16T12:00:00Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:spec": {
                    ".": {},
                    "f:identity": {
                        ".": {},
                        "f:jwt": {".": {}, "f:issuer": {}, "f:subject": {}},
                    },
                }
            },
        }
    ]
    assert (again, conflict["reason"], conflict["message"]) == (
        409,
        "AlreadyExists",
        f'{WAR_RESOURCE} "w1" already exists',
    )
    assert (missing_ns, no_ns["message"]) == (404, 'namespaces "zz" not found')


def test_update_with_a_stale_resource_version_conflicts(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    obj = fake_kube.add(war("a", "w1"))
    fake_kube.update("workloadautoregistrations", "a", "w1", lambda o: o["spec"].update(x=1))
    obj["spec"]["x"] = 2

    status, body = call(
        fake_kube, "PUT", f"{WARS}/namespaces/a/workloadautoregistrations/w1", body=obj
    )

    assert status == 409
    assert body["message"] == (
        f'Operation cannot be fulfilled on {WAR_RESOURCE} "w1": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_generation_moves_only_with_spec(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    fake_kube.add(war("a", "w1"))
    path = f"{WARS}/namespaces/a/workloadautoregistrations/w1"
    merge = "application/merge-patch+json"

    def patch(body: dict[str, Any], sub: str = "") -> dict[str, Any]:
        status, obj = call(fake_kube, "PATCH", path + sub, body=body, content_type=merge)
        assert status == 200, obj
        return obj

    labelled = patch({"metadata": {"labels": {"a": "b"}}})
    spec = patch({"spec": {"registration": {"agent": {"version": "1.9.3"}}}})
    status = patch({"status": {"observedGeneration": 2}}, "/status")
    ignored = patch({"status": {"observedGeneration": 9}})  # the main resource ignores status
    same = patch({"spec": {"registration": {"agent": {"version": "1.9.3"}}}})

    assert labelled["metadata"]["generation"] == 1
    assert spec["metadata"]["generation"] == 2
    assert status["metadata"]["generation"] == 2
    assert status["status"]["observedGeneration"] == 2
    assert ignored["status"]["observedGeneration"] == 2
    assert same["metadata"]["resourceVersion"] == ignored["metadata"]["resourceVersion"]
    assert ignored["metadata"]["resourceVersion"] == status["metadata"]["resourceVersion"]


def test_managed_fields_time_moves_on_spec_change_not_on_status_change(
    fake_kube: FakeKube,
) -> None:
    fake_kube.add(ns("a"))
    fake_kube.add(wg("a", "ratings"), manager="kubectl-client-side-apply")
    path = "/apis/networking.istio.io/v1/namespaces/a/workloadgroups/ratings"
    fake_kube.clock_ctl.advance(60)
    status, edited = call(
        fake_kube,
        "PATCH",
        path + "?fieldManager=kubectl-edit",
        body={"spec": {"template": {"serviceAccount": "ratings-v2"}}},
        content_type="application/merge-patch+json",
    )
    fake_kube.clock_ctl.advance(60)
    status2, reported = call(
        fake_kube,
        "PATCH",
        path + "/status",
        headers={"User-Agent": "pilot-discovery/1.22.1"},
        body={"status": {"conditions": [{"type": "Reconciled", "status": "True"}]}},
        content_type="application/merge-patch+json",
    )

    assert (status, status2) == (200, 200)
    assert edited["metadata"]["generation"] == 2
    assert managed(edited, "kubectl-edit") == {
        "manager": "kubectl-edit",
        "operation": "Update",
        "apiVersion": "networking.istio.io/v1",
        "time": "2024-05-16T12:01:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:template": {"f:serviceAccount": {}}}},
    }
    creator = managed(edited, "kubectl-client-side-apply")
    assert creator["time"] == "2024-05-16T12:00:00Z"
    assert "f:serviceAccount" not in creator["fieldsV1"]["f:spec"]["f:template"]
    assert reported["metadata"]["generation"] == 2
    assert managed(reported, "kubectl-edit")["time"] == "2024-05-16T12:01:00Z"
    assert managed(reported, "pilot-discovery", "status")["time"] == "2024-05-16T12:02:00Z"
    assert managed(reported, "pilot-discovery", "status")["fieldsV1"] == {
        "f:status": {".": {}, "f:conditions": {}}
    }


def test_patch_content_types(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    fake_kube.add(war("a", "w1", labels={"app": "x"}))
    path = f"{WARS}/namespaces/a/workloadautoregistrations/w1"

    json_patch = call(
        fake_kube,
        "PATCH",
        path,
        body=[{"op": "replace", "path": "/metadata/labels/app", "value": "y"}],
        content_type="application/json-patch+json",
    )
    strategic = call(
        fake_kube,
        "PATCH",
        path,
        body={"metadata": {"labels": {"app": "z"}}},
        content_type="application/strategic-merge-patch+json",
    )

    assert (json_patch[0], json_patch[1]["metadata"]["labels"]) == (200, {"app": "y"})
    assert (strategic[0], strategic[1]["reason"]) == (415, "UnsupportedMediaType")


def test_workload_groups_are_served_under_every_version(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    fake_kube.add(wg("a", "ratings", version="v1alpha3"))

    got = {
        version: call(
            fake_kube,
            "GET",
            f"/apis/networking.istio.io/{version}/namespaces/a/workloadgroups/ratings",
        )
        for version in ("v1", "v1beta1", "v1alpha3")
    }
    _, group = call(fake_kube, "GET", "/apis/networking.istio.io")

    assert {v: (s, o["apiVersion"]) for v, (s, o) in got.items()} == {
        "v1": (200, "networking.istio.io/v1"),
        "v1beta1": (200, "networking.istio.io/v1beta1"),
        "v1alpha3": (200, "networking.istio.io/v1alpha3"),
    }
    assert got["v1"][1]["spec"] == got["v1alpha3"][1]["spec"]
    assert group["preferredVersion"] == {"groupVersion": "networking.istio.io/v1", "version": "v1"}


def test_only_the_given_workload_group_versions_are_served() -> None:
    with FakeKube(wg_versions=("v1beta1", "v1alpha3")) as fake:
        _, group = call(fake, "GET", "/apis/networking.istio.io")
        status, _ = call(fake, "GET", "/apis/networking.istio.io/v1/workloadgroups")

    assert [v["version"] for v in group["versions"]] == ["v1beta1", "v1alpha3"]
    assert group["preferredVersion"]["version"] == "v1beta1"
    assert status == 404


# -- delete ----------------------------------------------------------------------------------


def test_delete_answers_the_object_and_it_is_gone(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    obj = fake_kube.add(war("a", "w1"))

    status, body = call(
        fake_kube,
        "DELETE",
        f"{WARS}/namespaces/a/workloadautoregistrations/w1?propagationPolicy=Foreground&gracePeriodSeconds=0",
        body={
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "preconditions": {"uid": obj["metadata"]["uid"]},
        },
    )

    assert (status, body) == (200, obj)
    assert fake_kube.get("workloadautoregistrations", "a", "w1") is None
    assert fake_kube.requests[-1].query == {
        "propagationPolicy": ["Foreground"],
        "gracePeriodSeconds": ["0"],
    }


def test_delete_with_a_uid_precondition_mismatch_conflicts_and_keeps_the_object(
    fake_kube: FakeKube,
) -> None:
    fake_kube.add(ns("a"))
    obj = fake_kube.add(war("a", "w1"))
    options = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "0000-stale"}}

    status, body = call(
        fake_kube, "DELETE", f"{WARS}/namespaces/a/workloadautoregistrations/w1", body=options
    )

    assert status == 409
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": (
            f'Operation cannot be fulfilled on {WAR_RESOURCE} "w1": Precondition failed: '
            f"UID in precondition: 0000-stale, UID in object meta: {obj['metadata']['uid']}"
        ),
        "reason": "Conflict",
        "details": {"name": "w1", "group": WAR_GROUP, "kind": "workloadautoregistrations"},
        "code": 409,
    }
    assert fake_kube.get("workloadautoregistrations", "a", "w1") == obj
    assert fake_kube.requests[-1].body == options


def test_delete_with_a_resource_version_precondition_mismatch_conflicts(
    fake_kube: FakeKube,
) -> None:
    fake_kube.add(ns("a"))
    obj = fake_kube.add(war("a", "w1"))
    rv = obj["metadata"]["resourceVersion"]

    status, body = call(
        fake_kube,
        "DELETE",
        f"{WARS}/namespaces/a/workloadautoregistrations/w1",
        body={"preconditions": {"resourceVersion": "1"}},
    )

    assert (status, body["reason"]) == (409, "Conflict")
    assert body["message"] == (
        f'Operation cannot be fulfilled on {WAR_RESOURCE} "w1": Precondition failed: '
        f"ResourceVersion in precondition: 1, ResourceVersion in object meta: {rv}"
    )


def test_delete_dry_run_keeps_the_object(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    obj = fake_kube.add(war("a", "w1"))
    rv = fake_kube.resource_version

    status, body = call(
        fake_kube, "DELETE", f"{WARS}/namespaces/a/workloadautoregistrations/w1?dryRun=All"
    )

    assert (status, body) == (200, obj)
    assert fake_kube.get("workloadautoregistrations", "a", "w1") == obj
    assert fake_kube.resource_version == rv
    assert fake_kube.requests[-1].query == {"dryRun": ["All"]}


def test_deleting_a_workload_group_collects_its_wars(fleet_kube: FakeKube) -> None:
    before = len(fleet_kube.objects("workloadautoregistrations", "payments"))

    fleet_kube.delete("workloadgroups", "payments", "ledger-2")

    after = names(fleet_kube.objects("workloadautoregistrations", "payments"))
    assert before == 7
    assert all(n.startswith("payments-api-") for n in after)
    assert len(after) == 4


# -- watch ------------------------------------------------------------------------------------


def test_watch_from_a_resource_version_streams_later_changes(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    fake_kube.add(ns("b"))
    fake_kube.add(war("a", "w1"))
    _, listed = call(fake_kube, "GET", f"{WARS}/namespaces/a/workloadautoregistrations")
    rv = listed["metadata"]["resourceVersion"]
    fake_kube.add(war("a", "w2"))
    fake_kube.add(war("b", "elsewhere"))

    path = f"{WARS}/namespaces/a/workloadautoregistrations?watch=1&resourceVersion={rv}"
    with watching(fake_kube, path) as next_event:
        added = next_event()
        fake_kube.update(
            "workloadautoregistrations",
            "a",
            "w1",
            lambda o: o["status"]["conditions"][0].update(status="False"),
            subresource="status",
        )
        modified = next_event()
        fake_kube.delete("workloadautoregistrations", "a", "w2")
        deleted = next_event()

    assert added is not None and modified is not None and deleted is not None
    seen = [(e["type"], e["object"]["metadata"]["name"]) for e in (added, modified, deleted)]
    assert seen == [("ADDED", "w2"), ("MODIFIED", "w1"), ("DELETED", "w2")]
    assert modified["object"]["status"]["conditions"][0]["status"] == "False"
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in (added, modified, deleted)]
    assert rvs == sorted(rvs) and rvs[0] > int(rv)
    assert deleted["object"]["metadata"]["resourceVersion"] == fake_kube.resource_version


def test_watch_from_zero_starts_with_the_current_objects(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    fake_kube.add(war("a", "w1", labels={"app": "x"}))
    fake_kube.add(war("a", "w2", labels={"app": "y"}))

    path = f"{WARS}/workloadautoregistrations?watch=true&resourceVersion=0&labelSelector=app%3Dx"
    with watching(fake_kube, path) as next_event:
        first = next_event()
        fake_kube.update(
            "workloadautoregistrations",
            "a",
            "w2",
            lambda o: o["metadata"]["labels"].update(app="x"),
        )
        joined = next_event()
        fake_kube.update(
            "workloadautoregistrations",
            "a",
            "w1",
            lambda o: o["metadata"]["labels"].update(app="z"),
        )
        left = next_event()

    assert first is not None and joined is not None and left is not None
    assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", "w1")
    assert (joined["type"], joined["object"]["metadata"]["name"]) == ("ADDED", "w2")
    assert (left["type"], left["object"]["metadata"]["name"]) == ("DELETED", "w1")


def test_watch_after_compaction_gets_a_410_error_event(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    fake_kube.add(war("a", "w1"))
    _, listed = call(fake_kube, "GET", f"{WARS}/workloadautoregistrations")
    rv = listed["metadata"]["resourceVersion"]
    fake_kube.compact()

    path = f"{WARS}/workloadautoregistrations?watch=1&resourceVersion={rv}&allowWatchBookmarks=true"
    with watching(fake_kube, path) as next_event:
        error = next_event()
        end = next_event()
    _, relisted = call(fake_kube, "GET", f"{WARS}/workloadautoregistrations")
    fresh_rv = relisted["metadata"]["resourceVersion"]
    fresh = f"{WARS}/workloadautoregistrations?watch=1&resourceVersion={fresh_rv}"
    with watching(fake_kube, fresh) as next_event:
        fake_kube.add(war("a", "w2"))
        after = next_event()

    assert error == {
        "type": "ERROR",
        "object": too_old(rv),
    }
    assert end is None
    assert after is not None and after["type"] == "ADDED"


def test_watch_older_than_the_window_is_too_old(kube_clock: Clock) -> None:
    watch = f"{WARS}/workloadautoregistrations?watch=1&resourceVersion="
    with FakeKube(clock=kube_clock, watch_window=3) as fake:
        rv = int(fake.resource_version)
        fake.add(ns("a"))
        for i in range(3):
            fake.add(war("a", f"w{i}"))  # four writes: the namespace's falls out of the window
        with watching(fake, f"{watch}{rv}") as next_event:
            old = next_event()
        with watching(fake, f"{watch}{rv + 1}") as next_event:
            kept = [next_event(), next_event(), next_event()]

    assert old is not None and old["type"] == "ERROR"
    assert old["object"]["message"] == f"too old resource version: {rv} ({rv + 1})"
    assert [e["object"]["metadata"]["name"] for e in kept if e] == ["w0", "w1", "w2"]


def test_a_watcher_that_falls_behind_the_window_gets_410(kube_clock: Clock) -> None:
    with FakeKube(clock=kube_clock, watch_window=3) as fake:
        fake.add(ns("a"))
        rv = int(fake.resource_version)
        with watching(
            fake, f"{WARS}/workloadautoregistrations?watch=1&resourceVersion={rv}"
        ) as nxt:
            # One batch under the store lock: the watcher cannot keep up in between.
            fake.add_all(war("a", f"w{i}") for i in range(5))
            error = nxt()
            end = nxt()

    assert error is not None and error["type"] == "ERROR"
    assert error["object"]["message"] == f"too old resource version: {rv} ({rv + 2})"
    assert end is None


def test_watch_timeout_ends_the_stream_with_a_bookmark(fake_kube: FakeKube) -> None:
    rv = fake_kube.resource_version
    path = (
        f"{WARS}/workloadautoregistrations?watch=1&resourceVersion={rv}"
        "&timeoutSeconds=0.2&allowWatchBookmarks=true"
    )

    with watching(fake_kube, path) as next_event:
        bookmark = next_event()
        end = next_event()  # ended by the server: without timeoutSeconds it would hang

    assert bookmark == {
        "type": "BOOKMARK",
        "object": {
            "kind": "WorkloadAutoRegistration",
            "apiVersion": f"{WAR_GROUP}/v1alpha1",
            "metadata": {"resourceVersion": rv},
        },
    }
    assert end is None


def test_stopping_the_server_ends_open_watches(kube_clock: Clock) -> None:
    fake = FakeKube(clock=kube_clock).start()
    events: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def consume() -> None:
        with watching(fake, f"{WARS}/workloadautoregistrations?watch=1") as next_event:
            while (event := next_event()) is not None:
                events.put(event)
            events.put(None)

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    fake.add(ns("a"))
    fake.add(war("a", "w1"))
    first = events.get(timeout=60)
    fake.stop()
    end = events.get(timeout=60)  # the stream ended, which only the stop can do
    reader.join(60)

    assert first is not None and first["type"] == "ADDED"
    assert end is None
    assert not reader.is_alive()


# -- authentication, authorization, discovery ---------------------------------------------------


def test_a_token_is_required_when_set(kube_clock: Clock) -> None:
    with FakeKube(clock=kube_clock, token="s3cret") as fake:
        anonymous = call(fake, "GET", f"{WARS}/workloadautoregistrations")
        wrong = call(fake, "GET", "/version", headers={"Authorization": "Bearer nope"})
        good = call(fake, "GET", "/version", headers={"Authorization": "Bearer s3cret"})

    assert anonymous == (
        401,
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Unauthorized",
            "reason": "Unauthorized",
            "code": 401,
        },
    )
    assert wrong[0] == 401
    assert good[0] == 200 and good[1]["gitVersion"] == "v1.31.0"


def test_forbidden_verbs_answer_403_with_the_rbac_message(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("a"))
    fake_kube.add(war("a", "w1"))
    fake_kube.forbid("list", "workloadautoregistrations", "a")
    fake_kube.forbid("list", "workloadautoregistrations", "")  # cluster scope only
    fake_kube.forbid("delete", "workloadautoregistrations")

    in_ns = call(fake_kube, "GET", f"{WARS}/namespaces/a/workloadautoregistrations")
    cluster = call(
        fake_kube, "GET", f"{WARS}/workloadautoregistrations", headers={"Impersonate-User": "jane"}
    )
    other_ns = call(fake_kube, "GET", f"{WARS}/namespaces/b/workloadautoregistrations")
    delete = call(fake_kube, "DELETE", f"{WARS}/namespaces/a/workloadautoregistrations/w1")

    user = 'User "system:serviceaccount:default:tester"'
    assert in_ns[0] == 403
    assert in_ns[1]["message"] == (
        f'{WAR_RESOURCE} is forbidden: {user} cannot list resource "workloadautoregistrations" '
        f'in API group "{WAR_GROUP}" in the namespace "a"'
    )
    assert in_ns[1]["details"] == {"group": WAR_GROUP, "kind": "workloadautoregistrations"}
    assert cluster[1]["message"] == (
        f'{WAR_RESOURCE} is forbidden: User "jane" cannot list resource '
        f'"workloadautoregistrations" in API group "{WAR_GROUP}" at the cluster scope'
    )
    assert other_ns[0] == 200
    assert (delete[0], delete[1]["reason"]) == (403, "Forbidden")
    assert delete[1]["message"] == (
        f'{WAR_RESOURCE} "w1" is forbidden: {user} cannot delete resource '
        f'"workloadautoregistrations" in API group "{WAR_GROUP}" in the namespace "a"'
    )
    assert fake_kube.get("workloadautoregistrations", "a", "w1") is not None


def test_unserved_war_api_is_absent_from_discovery_and_404(kube_clock: Clock) -> None:
    with FakeKube(clock=kube_clock, serve_wars=False) as fake:
        _, groups = call(fake, "GET", "/apis")
        status, body = call(fake, "GET", f"{WARS}/workloadautoregistrations")
        with pytest.raises(ValueError, match="not served"):
            fake.add(war("a", "w1"))

    # Built-in groups first, as the API server lists them: Leases are served.
    assert [g["name"] for g in groups["groups"]] == ["coordination.k8s.io", "networking.istio.io"]
    assert (status, body["reason"], body["message"]) == (
        404,
        "NotFound",
        "the server could not find the requested resource",
    )


def test_server_version_is_configurable(kube_clock: Clock) -> None:
    with (
        FakeKube(clock=kube_clock) as default,
        FakeKube(clock=kube_clock, server_version="v1.36.2") as new,
    ):
        _, old_info = call(default, "GET", "/version")
        _, new_info = call(new, "GET", "/version")

    assert (old_info["gitVersion"], old_info["major"], old_info["minor"]) == ("v1.31.0", "1", "31")
    assert (new_info["gitVersion"], new_info["major"], new_info["minor"]) == ("v1.36.2", "1", "36")


def test_discovery_answers_aggregated_or_legacy_as_asked(fake_kube: FakeKube) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    req = urllib.request.Request(fake_kube.url + "/apis", headers={"Accept": accept})
    with _OPENER.open(req, timeout=5) as resp:
        content_type = resp.headers["Content-Type"]
        aggregated = json.loads(resp.read())
    _, legacy = call(fake_kube, "GET", "/apis")
    _, resources = call(fake_kube, "GET", WARS)

    assert content_type == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    assert aggregated["kind"] == "APIGroupDiscoveryList"
    assert aggregated["items"][0]["metadata"]["name"] == "coordination.k8s.io"
    (war_group,) = [g for g in aggregated["items"] if g["metadata"]["name"] == WAR_GROUP]
    [war_resource] = war_group["versions"][0]["resources"]
    assert war_resource["shortNames"] == ["war"]
    assert war_resource["scope"] == "Namespaced"
    assert war_resource["responseKind"] == {
        "group": WAR_GROUP,
        "version": "v1alpha1",
        "kind": "WorkloadAutoRegistration",
    }
    assert legacy["kind"] == "APIGroupList"
    assert [g["preferredVersion"]["groupVersion"] for g in legacy["groups"]] == [
        "coordination.k8s.io/v1",
        f"{WAR_GROUP}/v1alpha1",
        "networking.istio.io/v1",
        "authorization.onboarding.tetrate.io/v1alpha1",
        "install.tetrate.io/v1alpha1",
    ]
    assert [r["name"] for r in resources["resources"]] == [
        "workloadautoregistrations",
        "workloadautoregistrations/status",
    ]


def test_table_cells_are_what_the_crd_printer_columns_give(fake_kube: FakeKube) -> None:
    small_fleet(fake_kube)

    status, table = call(
        fake_kube,
        "GET",
        f"{WARS}/workloadautoregistrations",
        headers={"Accept": TABLE_ACCEPT},
    )

    assert status == 200
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [(c["name"], c["type"], c["format"]) for c in table["columnDefinitions"]] == [
        ("Name", "string", "name"),
        ("Agent Connected", "string", ""),
        ("Age", "date", ""),
    ]
    assert [row["cells"] for row in table["rows"]] == [
        [NAME_EC2, "True", "60s"],
        [NAME_JWT, "False", "3d1h"],
        [NAME_ECS, None, "2m10s"],
    ]
    row_object = table["rows"][0]["object"]
    assert row_object["kind"] == "PartialObjectMetadata"
    assert row_object["metadata"]["namespace"] == "bookinfo"


def test_pod_proxy_dispatches_to_the_registered_handler(fake_kube: FakeKube) -> None:
    calls: list[tuple[str, dict[str, list[str]]]] = []

    def istiod(path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        calls.append((path, query))
        return 200, "application/json", b'[{"proxy": "w1.a"}]'

    fake_kube.register_pod_proxy("istio-system", "istiod-5d6f7c8b9-abcde", 15014, istiod)
    # The Python client quotes path parameters: ':' and '/' arrive percent-encoded.
    ok = call(
        fake_kube,
        "GET",
        "/api/v1/namespaces/istio-system/pods/istiod-5d6f7c8b9-abcde%3A15014/proxy/debug%2Fsyncz?a=1",
    )
    plain = call(
        fake_kube,
        "GET",
        "/api/v1/namespaces/istio-system/pods/istiod-5d6f7c8b9-abcde:15014/proxy/debug/syncz",
    )
    missing = call(
        fake_kube, "GET", "/api/v1/namespaces/istio-system/pods/nope:15014/proxy/debug/syncz"
    )

    assert ok == (200, [{"proxy": "w1.a"}])
    assert plain == ok
    assert calls == [("/debug/syncz", {"a": ["1"]}), ("/debug/syncz", {})]
    assert (missing[0], missing[1]["message"]) == (404, 'pods "nope" not found')


# -- the Python client ------------------------------------------------------------------------


def test_the_python_client_lists_and_deletes_with_preconditions(
    fleet_kube: FakeKube, kubeconfig: str
) -> None:
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=kubeconfig)
    custom = client.CustomObjectsApi(api)
    pages, token = [], None
    while True:
        page = custom.list_cluster_custom_object(
            WAR_GROUP, "v1alpha1", "workloadautoregistrations", limit=7, _continue=token
        )
        pages.append(len(page["items"]))
        token = page["metadata"].get("continue")
        if not token:
            break
    target = fleet_kube.objects("workloadautoregistrations", "onprem")[0]
    name = target["metadata"]["name"]
    with pytest.raises(client.ApiException) as stale:
        custom.delete_namespaced_custom_object(
            WAR_GROUP,
            "v1alpha1",
            "onprem",
            "workloadautoregistrations",
            name,
            body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="stale")),
        )
    custom.delete_namespaced_custom_object(
        WAR_GROUP,
        "v1alpha1",
        "onprem",
        "workloadautoregistrations",
        name,
        body=client.V1DeleteOptions(
            preconditions=client.V1Preconditions(uid=target["metadata"]["uid"])
        ),
    )
    api.close()

    assert pages == [7, 7, 6]
    assert stale.value.status == 409
    assert fleet_kube.get("workloadautoregistrations", "onprem", name) is None


# -- the fleet ----------------------------------------------------------------------------------


def test_demo_fleet_matches_the_documented_shapes(kube_clock: Clock) -> None:
    objs = build_fleet(kube_clock())
    wars = [o for o in objs if o["kind"] == "WorkloadAutoRegistration"]
    groups = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o
        for o in objs
        if o["kind"] == "WorkloadGroup"
    }
    now = kube_clock()

    assert build_fleet(kube_clock()) == objs  # deterministic
    assert 15 <= len(wars) <= 25
    for w in wars:
        meta = w["metadata"]
        [owner] = meta["ownerReferences"]
        group = groups[(meta["namespace"], owner["name"])]
        assert owner["uid"] == group["metadata"]["uid"]
        assert (owner["controller"], owner["blockOwnerDeletion"]) == (True, True)
        assert owner["apiVersion"] == "networking.istio.io/v1beta1"
        identity = w["spec"]["identity"]
        if "jwt" in identity:
            assert meta["name"].startswith(f"{owner['name']}-jwt-")
            assert meta["name"].endswith(f"--{identity['jwt']['subject']}")
        else:
            aws = identity["aws"]
            assert re.fullmatch(r"\d{12}", aws["account"])
            kind = "ec2" if "ec2" in aws else "ecs"
            tail = (
                aws["ec2"]["instanceId"]
                if kind == "ec2"
                else f"{aws['ecs']['cluster']}-{aws['ecs']['taskId']}"
            )
            assert meta["name"] == (
                f"{owner['name']}-aws-{aws['partition']}-{aws['account']}-{aws['zone']}-{kind}-{tail}"
            )
    disconnected = sorted(
        human_duration(now - parse_time(w["status"]["conditions"][0]["lastTransitionTime"]))
        for w in wars
        if w.get("status") and w["status"]["conditions"][0]["status"] == "False"
    )
    assert disconnected == ["12m", "30s", "4m"]
    assert sum(1 for w in wars if "status" not in w) == 1
    partitions = {
        w["spec"]["identity"]["aws"]["partition"] for w in wars if "aws" in w["spec"]["identity"]
    }
    assert partitions == {"aws", "aws-cn", "aws-us-gov"}
    ledger = groups[("payments", "ledger-2")]["metadata"]
    assert (ledger["generation"], "managedFields" in ledger) == (1, False)


def test_large_fleet_names_are_unique_and_varied(kube_clock: Clock) -> None:
    objs = build_large_fleet(kube_clock(), 1200)
    wars = [o for o in objs if o["kind"] == "WorkloadAutoRegistration"]

    assert len(wars) == 1200
    assert len({(w["metadata"]["namespace"], w["metadata"]["name"]) for w in wars}) == 1200
    kinds = {next(iter(w["spec"]["identity"])) for w in wars}
    assert kinds == {"aws", "jwt"}
    assert any("status" not in w for w in wars)
    assert any(
        c["type"] == "AgentConnected" and c["status"] == "False"
        for w in wars
        for c in w.get("status", {}).get("conditions", [])
    )


def test_human_duration_matches_apimachinery() -> None:
    cases = {
        timedelta(seconds=-3): "<invalid>",
        timedelta(seconds=-1): "0s",
        timedelta(seconds=119): "119s",
        timedelta(minutes=3, seconds=10): "3m10s",
        timedelta(minutes=3): "3m",
        timedelta(minutes=70): "70m",
        timedelta(hours=3, minutes=1): "3h1m",
        timedelta(hours=47): "47h",
        timedelta(days=2, hours=1): "2d1h",
        timedelta(days=367): "367d",
        timedelta(days=731): "2y1d",
        timedelta(days=365 * 8): "8y",
    }
    assert {d: human_duration(d) for d in cases} == cases


# -- python -m tests.fakekube ----------------------------------------------------------------------


def test_serve_command_writes_a_kubeconfig_and_stops_on_sigterm(
    tmp_path: Path, kubectl_bin: str, make_kube_env: Callable[[str], dict[str, str]]
) -> None:
    kubeconfig = tmp_path / "served" / "kubeconfig"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakekube", "serve", "--kubeconfig", str(kubeconfig)],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        result = subprocess.run(
            [kubectl_bin, "get", "wg", "-A", "--no-headers"],
            env=make_kube_env(str(kubeconfig)),
            capture_output=True,
            text=True,
            timeout=30,
        )
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert lines[1] == f"kubeconfig written to {kubeconfig}\n"
    assert len(result.stdout.splitlines()) == 5
    assert code == 0
    assert os.path.exists(kubeconfig)
