"""An application team's permissions: WARs in its namespace, nothing else. Every command
shows what it can, warns once about what it cannot, and fails only where the missing
piece is the answer; over https (kubectl sends tokens only there), in-process
(`war_inproc`) and, for a list and the server's warnings, through real kubectl."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest

from tests import factories as f
from tests.factories import EC2, JWT
from tests.fakekube import Clock, FakeKube

WGS_REFUSED = (
    'RBAC needs verb "list" on resource "workloadgroups" in API group "networking.istio.io" '
    'in namespace "bookinfo"'
)
WGS_WARNING = f"warning: up-to-date state unknown: WorkloadGroups cannot be read ({WGS_REFUSED})\n"
EVENTS_WARNING = (
    'warning: events not shown: they cannot be read (RBAC needs verb "list" on resource '
    '"events" in API group "" in namespace "bookinfo")\n'
)
OUTDATED_ERROR = (
    f"error: --outdated needs the WorkloadGroups, which cannot be read ({WGS_REFUSED})\n"
)
# What the team may do: read WARs in bookinfo (docs/rbac.yaml's kubectl-war-app-team).
TEAM_VERBS = ["get", "list", "watch"]
Env = Callable[..., dict[str, str]]


@pytest.fixture
def team(kube_clock: Clock) -> Iterator[FakeKube]:
    """bookinfo/ratings (spec changed 11:00) with a connected EC2 WAR; user jane
    ("jane-token") may only read WARs in bookinfo."""
    with FakeKube(clock=kube_clock, tls=True) as fake:
        fake.token = "admin-token"
        fake.add(f.ns("bookinfo"))
        fake.add(f.workload_group("ratings", spec_changed="2024-05-16T11:00:00Z"))
        fake.add(f.ec2_war(uid="uid-ec2"))
        fake.add_user("jane-token", "jane")
        fake.grant("jane", TEAM_VERBS, "workloadautoregistrations", "bookinfo")
        yield fake


@pytest.fixture
def jane(
    team: FakeKube, make_kubeconfig: Callable[..., str], make_kube_env: Env, tmp_path: Path
) -> dict[str, str]:
    """jane's environment, with an istioctl that finds no istiod (so `auto` has no source)."""
    env = make_kube_env(make_kubeconfig(team, token="jane-token", namespace="bookinfo"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    istioctl = bin_dir / "istioctl"
    istioctl.write_text("#!/bin/sh\necho 'Error: no running Istio pods in \"istio-system\"' >&2\n")
    istioctl.write_text(istioctl.read_text() + "exit 1\n")
    istioctl.chmod(0o755)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return env


def run(run_war: Callable[..., subprocess.CompletedProcess[str]], env: dict[str, str], *args: str):
    r = run_war(*args, env=env)
    return r.returncode, r.stdout, r.stderr


TABLE = f"""\
NAME{" " * 62}GROUP     PLATFORM   INSTANCE              ZONE         IP             AGENT CONNECTED   UP-TO-DATE   AGE
{EC2}   ratings   ec2        i-1234567890abcdef0   us-east-2b   172.31.5.254   True              Unknown      120m
"""  # noqa: E501


def test_list_shows_every_war_with_up_to_date_unknown(run_war, jane) -> None:
    assert run(run_war, jane, "list") == (0, TABLE, WGS_WARNING)


def test_outdated_is_the_answer_so_it_stays_an_error(war_inproc, jane) -> None:
    assert run(war_inproc, jane, "list", "--outdated") == (1, "", OUTDATED_ERROR)
    assert run(war_inproc, jane, "delete", "--outdated", "--yes") == (1, "", OUTDATED_ERROR)


def test_rollouts_need_freshness_and_name_the_permission(war_inproc, jane) -> None:
    refused = (
        'error: forbidden: cannot list workloadgroups.networking.istio.io in namespace "bookinfo" '
        f'({WGS_REFUSED}): workloadgroups.networking.istio.io is forbidden: User "jane" cannot '
        'list resource "workloadgroups" in API group "networking.istio.io" in the namespace '
        '"bookinfo"\n'
    )
    assert run(war_inproc, jane, "rollout", "ratings", "--dry-run") == (1, "", refused)
    assert run(war_inproc, jane, "rollout", "status", "ratings") == (1, "", refused)


def test_status_counts_what_it_can_and_exits_0(war_inproc, jane) -> None:
    code, out, err = run(war_inproc, jane, "status", "--proxy-status", "none")
    assert (code, err) == (0, WGS_WARNING)
    assert out == (
        "WORKLOADGROUP   WARS   CONNECTED   DISCONNECTED   OUTDATED   NOT SYNCED   AGENT    ISTIO\n"
        "ratings         1      1           0              Unknown    <none>       v1.4.0   "
        "1.9.8-15bc6e5e32\n"
        "\n"
        "The 1 WAR is connected.\n"
        "Sidecar sync state was not read: --proxy-status none.\n"
    )


def test_describe_leaves_out_what_it_cannot_read(team: FakeKube, war_inproc, jane) -> None:
    code, out, err = run(war_inproc, jane, "describe", EC2)
    sidecar_warning = (
        "warning: sidecar sync state not read: no proxy-status source answered: istiod: cannot "
        'list pods in istio-system: forbidden: cannot list pods in namespace "istio-system" '
        '(RBAC needs verb "list" on resource "pods" in API group "" in namespace "istio-system"): '
        'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the '
        'namespace "istio-system"; istioctl proxy-status failed (exit 1): Error: no running '
        'Istio pods in "istio-system"\n'
    )
    assert (code, err) == (0, WGS_WARNING + sidecar_warning + EVENTS_WARNING)
    group = out[out.index("Workload Group:") : out.index("Agent:")]
    assert group == (
        "Workload Group:\n"
        "  Name:        ratings\n"
        "  Exists:      Unknown\n"
        "  Up To Date:  Unknown\n"
        f"  Unknown: WorkloadGroups cannot be read ({WGS_REFUSED})\n"
    )
    # kubectl's describe leaves the Events section out when events cannot be listed.
    assert out.endswith(
        "    istioctl proxy-status failed (exit 1): Error: no running Istio pods "
        'in "istio-system"\n'
    )
    assert "Events:" not in out


def test_an_explicit_sidecar_source_that_is_refused_stays_an_error(war_inproc, jane) -> None:
    code, out, err = run(war_inproc, jane, "list", "--sync", "--proxy-status", "istiod")
    assert (code, out) == (1, "")
    assert err.endswith(
        "error: istiod: cannot list pods in istio-system: forbidden: cannot list pods in "
        'namespace "istio-system" (RBAC needs verb "list" on resource "pods" in API group "" in '
        'namespace "istio-system"): pods is forbidden: User "jane" cannot list resource "pods" '
        'in API group "" in the namespace "istio-system"\n'
    )


def test_a_refused_cluster_scope_list_suggests_a_namespace(war_inproc, jane) -> None:
    assert run(war_inproc, jane, "list", "-A") == (
        1,
        "",
        "error: forbidden: cannot list workloadautoregistrations.runtime.onboarding.tetrate.io "
        'at the cluster scope (RBAC needs verb "list" on resource "workloadautoregistrations" in '
        'API group "runtime.onboarding.tetrate.io" at the cluster scope): '
        'workloadautoregistrations.runtime.onboarding.tetrate.io is forbidden: User "jane" '
        'cannot list resource "workloadautoregistrations" in API group '
        '"runtime.onboarding.tetrate.io" at the cluster scope; -A reads every namespace at '
        "once: try -n NAMESPACE\n",
    )


def test_server_warnings_are_printed_once_each_as_kubectl_prints_them(
    team: FakeKube, run_war, jane
) -> None:
    team.grant("jane", TEAM_VERBS, ["workloadgroups", "events"], "bookinfo")
    team.warn("runtime.onboarding.tetrate.io/v1alpha1 WorkloadAutoRegistration is deprecated")
    team.warn('workloadgroups: "quoted" \\ text', path_prefix="/apis/networking.istio.io")
    code, out, err = run(run_war, jane, "list")
    assert (code, out) == (0, TABLE.replace("Unknown", "No     "))
    assert err == (
        "Warning: runtime.onboarding.tetrate.io/v1alpha1 WorkloadAutoRegistration is deprecated\n"
        'Warning: workloadgroups: "quoted" \\ text\n'
    )


def test_disconnected_never_selects_a_war_whose_agent_has_not_reported(
    team: FakeKube, war_inproc, make_kubeconfig: Callable[..., str], make_kube_env: Env
) -> None:
    """A WAR registered seconds ago has no AgentConnected condition yet: `delete
    --disconnected --yes` must leave it alone; --agent-unknown is how to select it."""
    team.add(f.jwt_war(connected=None, ip=None))
    team.add(f.war("gone", group="ratings", connected="False", since="2024-05-16T11:00:00Z"))
    admin = make_kube_env(make_kubeconfig(team, token="admin-token", name="admin"))

    def names(*args: str) -> list[str]:
        r = war_inproc("list", "-n", "bookinfo", "-o", "name", *args, env=admin)
        assert r.returncode == 0, r.stderr
        return [line.rpartition("/")[2] for line in r.stdout.splitlines()]

    assert names("--disconnected") == ["gone"]
    assert names("--agent-unknown") == [JWT]
    assert names("--disconnected", "--older-than", "59m") == ["gone"]
    assert names("--disconnected", "--older-than", "61m") == []
    r = war_inproc("delete", "-n", "bookinfo", "--disconnected", "--yes", env=admin)
    assert (r.returncode, r.stderr) == (0, "")
    remaining = sorted(w["metadata"]["name"] for w in team.objects("workloadautoregistrations"))
    assert remaining == sorted([EC2, JWT])
