"""The request builders in kube/requests.py: exact paths, queries and bodies, no network."""

from __future__ import annotations

from kubectl_war.kube.requests import (
    EVENTS,
    LEASES,
    NAMESPACES,
    create_request,
    delete_request,
    get_request,
    list_request,
    update_request,
    watch_request,
)
from tests.factories import EC2 as NAME
from tests.factories import WAR_RESOURCE as WAR


def test_list_request_in_a_namespace_pages_by_500() -> None:
    req = list_request(WAR, "bookinfo")
    assert req.method == "GET"
    assert req.url_path == (
        "/apis/runtime.onboarding.tetrate.io/v1alpha1/namespaces/bookinfo/"
        "workloadautoregistrations?limit=500"
    )
    assert (req.verb, req.resource, req.namespace) == (
        "list",
        "workloadautoregistrations.runtime.onboarding.tetrate.io",
        "bookinfo",
    )


def test_list_request_across_namespaces_with_selectors_and_continue() -> None:
    req = list_request(
        WAR,
        None,
        label_selector="app in (ratings),version!=v1",
        field_selector="metadata.name=x",
        limit=2,
        continue_token="abc=",
    )
    assert req.path == "/apis/runtime.onboarding.tetrate.io/v1alpha1/workloadautoregistrations"
    assert req.query == (
        ("labelSelector", "app in (ratings),version!=v1"),
        ("fieldSelector", "metadata.name=x"),
        ("limit", "2"),
        ("continue", "abc="),
    )


def test_chunk_size_zero_lists_in_one_page() -> None:
    assert list_request(WAR, "ns", limit=0).query == ()


def test_delete_request_carries_uid_and_resource_version_preconditions() -> None:
    req = delete_request(WAR, "bookinfo", NAME, uid="u-1", resource_version="42")
    assert req.method == "DELETE"
    assert req.path.endswith(f"/namespaces/bookinfo/workloadautoregistrations/{NAME}")
    assert req.query == ()
    assert req.body == {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "preconditions": {"uid": "u-1", "resourceVersion": "42"},
    }


def test_server_dry_run_delete_sends_dry_run_all() -> None:
    req = delete_request(WAR, "bookinfo", NAME, uid="u-1", dry_run=True)
    assert req.query == (("dryRun", "All"),)
    assert req.body is not None
    assert req.body["dryRun"] == ["All"]
    assert req.body["preconditions"] == {"uid": "u-1"}


def test_watch_request_resumes_from_resource_version() -> None:
    req = watch_request(
        WAR, "bookinfo", resource_version="77", label_selector="a=b", timeout_seconds=30
    )
    assert req.stream is True
    assert req.query == (
        ("labelSelector", "a=b"),
        ("watch", "1"),
        ("allowWatchBookmarks", "true"),
        ("resourceVersion", "77"),
        ("timeoutSeconds", "30"),
    )


def test_names_are_escaped_in_paths() -> None:
    # "/" is refused outright (tests/test_names.py); what remains is escaped.
    assert get_request(WAR, "ns", "a b:c").path.endswith("/workloadautoregistrations/a%20b%3Ac")


def test_core_resources_live_under_api_v1() -> None:
    assert list_request(EVENTS, "ns", limit=0).path == "/api/v1/namespaces/ns/events"
    assert list_request(NAMESPACES, "ignored", limit=0).path == "/api/v1/namespaces"


def test_lease_writes_are_a_post_to_the_collection_and_a_put_with_the_resource_version() -> None:
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "kubectl-war-rollout-ratings", "namespace": "bookinfo"},
        "spec": {"holderIdentity": "alice@laptop/4242-ab"},
    }
    created = create_request(LEASES, "bookinfo", lease)
    assert (created.method, created.path, created.verb) == (
        "POST",
        "/apis/coordination.k8s.io/v1/namespaces/bookinfo/leases",
        "create",
    )
    assert created.body == lease
    held = dict(lease, metadata=dict(lease["metadata"], resourceVersion="41"))
    put = update_request(LEASES, "bookinfo", held)
    assert (put.method, put.path, put.verb, put.name) == (
        "PUT",
        "/apis/coordination.k8s.io/v1/namespaces/bookinfo/leases/kubectl-war-rollout-ratings",
        "update",
        "kubectl-war-rollout-ratings",
    )
    assert put.body is not None and put.body["metadata"]["resourceVersion"] == "41"
