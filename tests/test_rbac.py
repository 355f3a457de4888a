"""docs/rbac.yaml grants exactly what the commands ask the API server for."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from tests.factories import Run
from tests.fakekube import Clock, FakeKube
from tests.fakekube.server import RecordedRequest

ROOT = Path(__file__).resolve().parent.parent
ROLES = {
    doc["metadata"]["name"]: doc
    for doc in yaml.safe_load_all((ROOT / "docs" / "rbac.yaml").read_text())
    if doc
}
_PATH = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<res>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?"
)


def permission(req: RecordedRequest) -> tuple[str, str, str, str | None] | None:
    """(verb, group, resource, namespace) as RBAC sees a request; None for discovery."""
    m = _PATH.match(req.path)
    if m is None or (m["group"] and m["res"] == m["group"]):
        return None
    resource = m["res"]
    if m["ns"] is None and resource == "namespaces" and m["name"]:
        return None
    if m["sub"]:
        resource = f"{resource}/{m['sub']}"
    if req.method == "DELETE":
        verb = "delete"
    elif req.query.get("watch") in (["1"], ["true"]):
        verb = "watch"
    else:
        verb = "get" if m["name"] else "list"
    return verb, m["group"] or "", resource, m["ns"]


def allowed(role: dict[str, Any], verb: str, group: str, resource: str) -> bool:
    return any(
        group in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"]
        for rule in role["rules"]
    )


@pytest.mark.parametrize(
    ("role", "commands"),
    [
        (
            "kubectl-war-reader",
            [
                ["list", "-A", "-o", "wide"],
                ["describe", "--group", "ratings"],
                ["list", "-A", "--outdated"],
                ["status"],  # exits 1: the fleet has problems
                ["can-onboard", "--list"],
                ["can-onboard", "ratings", "--jwt-issuer", "https://issuer.corp.internal"],
            ],
        ),
        ("kubectl-war-rollout", [["delete", "--group", "ratings", "--disconnected", "--yes"]]),
    ],
)
def test_roles_cover_every_request_and_nothing_more(
    fleet_kube: FakeKube, run_war: Run, role: str, commands: list[list[str]]
) -> None:
    fleet_kube.clear_requests()
    for cmd in commands:
        ns = [] if "-A" in cmd else ["-n", "bookinfo"]
        r = run_war(*cmd, *ns)
        assert r.returncode == (1 if cmd[0] == "status" else 0), r.stderr
    asked = {p for p in map(permission, fleet_kube.requests) if p is not None}
    assert asked, "no resource requests seen"
    for verb, group, resource, namespace in sorted(asked, key=str):
        # Sidecar state comes from istiod's pods: the istio-system Role grants that.
        granting = "kubectl-war-istiod" if namespace == "istio-system" else role
        assert allowed(ROLES[granting], verb, group, resource), (verb, group, resource)
    assert not allowed(
        ROLES["kubectl-war-reader"],
        "delete",
        "runtime.onboarding.tetrate.io",
        "workloadautoregistrations",
    )


def test_the_app_team_role_is_enough_for_list_describe_and_status(
    kube_clock: Clock,
    make_kubeconfig: Callable[..., str],
    make_kube_env: Callable[[str], dict[str, str]],
    run_war: Run,
) -> None:
    """kubectl-war-app-team, bound as its Role says, runs the read commands (exit 0);
    what it is refused is only what they show as unknown, each with a warning."""
    role = ROLES["kubectl-war-app-team"]
    namespace = role["metadata"]["namespace"]
    with FakeKube(clock=kube_clock, tls=True) as fake:
        fake.seed_fleet()
        fake.add_user("team-token", "team")
        for rule in role["rules"]:
            fake.grant("team", rule["verbs"], rule["resources"], namespace)
        env = make_kube_env(make_kubeconfig(fake, token="team-token", namespace=namespace))
        fake.clear_requests()
        for cmd in (["list"], ["list", "-o", "wide"], ["describe", "--group", "ratings"]):
            r = run_war(*cmd, env=env)
            assert r.returncode == 0, r.stderr
            assert r.stderr.startswith("warning: up-to-date state unknown: "), r.stderr
        asked = {p for p in map(permission, fake.requests) if p is not None}
    refused = {(verb, resource) for verb, group, resource, _ in asked} - {
        (verb, resource)
        for verb, group, resource, _ in asked
        if allowed(role, verb, group, resource)
    }
    # Decoration only: freshness, events and istiod's sidecar state.
    assert refused <= {("list", "workloadgroups"), ("list", "events"), ("list", "pods")}
    assert ("list", "workloadgroups") in refused
