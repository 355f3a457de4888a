"""The fake API server's per-token permissions: users, grants, denials and the real 403s."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any, Callable

import pytest

from tests.factories import call, ns, war, workload_group
from tests.fakekube import Clock, FakeKube

WAR_GROUP = "runtime.onboarding.tetrate.io"
WARS = f"/apis/{WAR_GROUP}/v1alpha1"
WAR_RESOURCE = f"workloadautoregistrations.{WAR_GROUP}"
WGS = "/apis/networking.istio.io/v1beta1"


def pod(namespace: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}}


def forbidden(message: str, details: dict[str, str]) -> dict[str, Any]:
    """The Status the API server's authorization filter answers with."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "Forbidden",
        "details": details,
        "code": 403,
    }


def seed_team(fake: FakeKube) -> FakeKube:
    """bookinfo and payments with a WAR and a WorkloadGroup each; user jane (token
    "jane-token") may read WARs in bookinfo only; "admin-token" is unrestricted."""
    fake.token = "admin-token"
    for namespace in ("bookinfo", "payments"):
        fake.add(ns(namespace))
        fake.add(workload_group("ratings", namespace))
        fake.add(war("w1", namespace, group="ratings"))
    fake.add_user("jane-token", "jane")
    fake.grant("jane", ["get", "list", "watch"], "workloadautoregistrations", "bookinfo")
    return fake


@pytest.fixture
def team(fake_kube: FakeKube) -> FakeKube:
    return seed_team(fake_kube)


@pytest.fixture
def tls_team(kube_clock: Clock) -> Iterator[FakeKube]:
    """``team`` over https: kubectl sends a bearer token only over TLS."""
    with FakeKube(clock=kube_clock, tls=True) as fake:
        yield seed_team(fake)


def test_a_user_with_grants_may_do_only_what_is_granted(team: FakeKube) -> None:
    own = call(team, "GET", f"{WARS}/namespaces/bookinfo/workloadautoregistrations", "jane-token")
    one = call(
        team, "GET", f"{WARS}/namespaces/bookinfo/workloadautoregistrations/w1", "jane-token"
    )
    other_ns = call(
        team, "GET", f"{WARS}/namespaces/payments/workloadautoregistrations", "jane-token"
    )
    cluster = call(team, "GET", f"{WARS}/workloadautoregistrations", "jane-token")
    groups = call(team, "GET", f"{WGS}/namespaces/bookinfo/workloadgroups/ratings", "jane-token")
    delete = call(
        team, "DELETE", f"{WARS}/namespaces/bookinfo/workloadautoregistrations/w1", "jane-token"
    )
    admin = call(team, "GET", f"{WARS}/workloadautoregistrations", "admin-token")
    discovery = call(team, "GET", "/apis", "jane-token")

    assert (own[0], [i["metadata"]["name"] for i in own[1]["items"]]) == (200, ["w1"])
    assert one[0] == 200
    user = 'User "jane"'
    assert other_ns == (
        403,
        forbidden(
            f'{WAR_RESOURCE} is forbidden: {user} cannot list resource "workloadautoregistrations" '
            f'in API group "{WAR_GROUP}" in the namespace "payments"',
            {"group": WAR_GROUP, "kind": "workloadautoregistrations"},
        ),
    )
    assert cluster == (
        403,
        forbidden(
            f'{WAR_RESOURCE} is forbidden: {user} cannot list resource "workloadautoregistrations" '
            f'in API group "{WAR_GROUP}" at the cluster scope',
            {"group": WAR_GROUP, "kind": "workloadautoregistrations"},
        ),
    )
    assert groups == (
        403,
        forbidden(
            f'workloadgroups.networking.istio.io "ratings" is forbidden: {user} cannot get '
            'resource "workloadgroups" in API group "networking.istio.io" in the namespace '
            '"bookinfo"',
            {"name": "ratings", "group": "networking.istio.io", "kind": "workloadgroups"},
        ),
    )
    assert delete[0] == 403
    assert team.get("workloadautoregistrations", "bookinfo", "w1") is not None
    assert (admin[0], len(admin[1]["items"])) == (200, 2)
    assert discovery[0] == 200


def test_unknown_tokens_are_refused_when_the_server_has_a_token(team: FakeKube) -> None:
    status, body = call(team, "GET", f"{WARS}/workloadautoregistrations", "nobody")
    assert (status, body["reason"]) == (401, "Unauthorized")


def test_a_denial_beats_grants_and_touches_only_its_user(team: FakeKube) -> None:
    team.add_user("joe-token", "joe")
    team.grant("joe", "*", "*")  # cluster-wide, like cluster-admin
    team.deny("joe", "delete", "workloadautoregistrations", "bookinfo")
    team.deny("jane", "watch", "workloadautoregistrations")
    base = f"{WARS}/namespaces/bookinfo/workloadautoregistrations"

    joe_delete = call(team, "DELETE", f"{base}/w1", "joe-token")
    joe_elsewhere = call(
        team, "DELETE", f"{WARS}/namespaces/payments/workloadautoregistrations/w1", "joe-token"
    )
    jane_watch = call(team, "GET", f"{base}?watch=1&timeoutSeconds=0", "jane-token")
    admin_watch = call(team, "GET", f"{base}?watch=1&timeoutSeconds=0", "admin-token")

    assert joe_delete == (
        403,
        forbidden(
            f'{WAR_RESOURCE} "w1" is forbidden: User "joe" cannot delete resource '
            f'"workloadautoregistrations" in API group "{WAR_GROUP}" in the namespace "bookinfo"',
            {"name": "w1", "group": WAR_GROUP, "kind": "workloadautoregistrations"},
        ),
    )
    assert joe_elsewhere[0] == 200
    assert team.get("workloadautoregistrations", "payments", "w1") is None
    assert jane_watch[0] == 403
    assert jane_watch[1]["message"].endswith(
        f'cannot watch resource "workloadautoregistrations" in API group "{WAR_GROUP}" '
        'in the namespace "bookinfo"'
    )
    assert admin_watch[0] == 200


def test_subresources_are_resources_of_their_own(fake_kube: FakeKube) -> None:
    fake_kube.add(ns("istio-system"))
    fake_kube.add(pod("istio-system", "istiod-1"))
    fake_kube.register_pod_proxy(
        "istio-system", "istiod-1", 15014, lambda path, query: (200, "text/plain", b"ok")
    )
    fake_kube.add_user("t-reader", "reader")
    fake_kube.grant("reader", ["get", "list"], "pods", "istio-system")
    fake_kube.add_user("t-proxy", "proxy")
    fake_kube.grant("proxy", "get", "pods/proxy", "istio-system")
    fake_kube.add_user("t-all", "all")
    fake_kube.grant("all", "get", "pods/*")
    proxy = "/api/v1/namespaces/istio-system/pods/istiod-1:15014/proxy/debug/syncz"

    reader_list = call(fake_kube, "GET", "/api/v1/namespaces/istio-system/pods", "t-reader")
    reader_proxy = call(fake_kube, "GET", proxy, "t-reader")
    proxy_list = call(fake_kube, "GET", "/api/v1/namespaces/istio-system/pods", "t-proxy")

    assert reader_list[0] == 200
    assert reader_proxy == (
        403,
        forbidden(
            'pods "istiod-1:15014" is forbidden: User "reader" cannot get resource "pods/proxy" '
            'in API group "" in the namespace "istio-system"',
            {"name": "istiod-1:15014", "kind": "pods"},
        ),
    )
    assert proxy_list[0] == 403
    for token in ("t-proxy", "t-all"):
        status, _ = _raw(fake_kube, proxy, token)
        assert status == 200


def _raw(fake: FakeKube, path: str, token: str) -> tuple[int, bytes]:
    import urllib.request

    req = urllib.request.Request(fake.url + path, headers={"Authorization": f"Bearer {token}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=60) as resp:
        return resp.status, resp.read()


def test_resource_names_grant_single_objects_never_lists(team: FakeKube) -> None:
    team.add_user("t-one", "one")
    team.grant("one", ["get", "list"], "workloadgroups", "bookinfo", names="ratings")
    path = f"{WGS}/namespaces/bookinfo/workloadgroups"
    assert call(team, "GET", f"{path}/ratings", "t-one")[0] == 200
    assert call(team, "GET", f"{path}/reviews", "t-one")[0] == 403
    assert call(team, "GET", path, "t-one")[0] == 403


def test_forbid_and_allow_all_apply_to_everyone(team: FakeKube) -> None:
    team.forbid("list", "workloadautoregistrations", "bookinfo")
    path = f"{WARS}/namespaces/bookinfo/workloadautoregistrations"
    assert call(team, "GET", path, "admin-token")[0] == 403
    assert call(team, "GET", path, "jane-token")[0] == 403
    team.allow_all()
    assert call(team, "GET", path, "admin-token")[0] == 200
    # allow_all forgets grants too: jane may do everything again.
    assert call(team, "GET", f"{WGS}/namespaces/bookinfo/workloadgroups", "jane-token")[0] == 200


def test_real_kubectl_reports_the_servers_refusal(
    tls_team: FakeKube,
    make_kubeconfig: Callable[..., str],
    make_kube_env: Callable[[str], dict[str, str]],
    kubectl_bin: str,
) -> None:
    env = make_kube_env(make_kubeconfig(tls_team, token="jane-token", namespace="bookinfo"))

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [kubectl_bin, *args], capture_output=True, text=True, env=env, timeout=30, check=False
        )

    wars = kubectl("get", "workloadautoregistrations", "-o", "name")
    groups = kubectl("get", "workloadgroups")
    every = kubectl("get", "workloadautoregistrations", "-A")
    can_i = kubectl("delete", "workloadautoregistrations", "w1")

    assert (wars.returncode, wars.stdout, wars.stderr) == (
        0,
        f"workloadautoregistration.{WAR_GROUP}/w1\n",
        "",
    )
    assert (groups.returncode, groups.stdout, groups.stderr) == (
        1,
        "",
        "Error from server (Forbidden): workloadgroups.networking.istio.io is forbidden: User "
        '"jane" cannot list resource "workloadgroups" in API group "networking.istio.io" in the '
        'namespace "bookinfo"\n',
    )
    assert (every.returncode, every.stderr) == (
        1,
        f'Error from server (Forbidden): {WAR_RESOURCE} is forbidden: User "jane" cannot list '
        f'resource "workloadautoregistrations" in API group "{WAR_GROUP}" at the cluster scope\n',
    )
    assert (can_i.returncode, can_i.stderr) == (
        1,
        f'Error from server (Forbidden): {WAR_RESOURCE} "w1" is forbidden: User "jane" cannot '
        f'delete resource "workloadautoregistrations" in API group "{WAR_GROUP}" in the '
        'namespace "bookinfo"\n',
    )


def test_the_python_client_sees_the_exact_status(
    team: FakeKube, make_kubeconfig: Callable[..., str]
) -> None:
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=make_kubeconfig(team, token="jane-token"))
    with pytest.raises(client.ApiException) as info:
        client.CustomObjectsApi(api).list_namespaced_custom_object(
            "networking.istio.io", "v1beta1", "bookinfo", "workloadgroups"
        )
    assert (info.value.status, info.value.reason) == (403, "Forbidden")
    assert json.loads(info.value.body) == forbidden(
        'workloadgroups.networking.istio.io is forbidden: User "jane" cannot list resource '
        '"workloadgroups" in API group "networking.istio.io" in the namespace "bookinfo"',
        {"group": "networking.istio.io", "kind": "workloadgroups"},
    )
