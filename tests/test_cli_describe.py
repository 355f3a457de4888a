"""`kubectl war describe` and `decode`, checked field by field: in-process (`war_inproc`),
and through real kubectl's plugin lookup for a describe, its errors and exit codes, and an
offline decode."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests import factories as f
from tests.factories import EC2, ECS, JWT, Run
from tests.fakekube import FakeKube


@pytest.fixture
def cluster(fake_kube: FakeKube) -> FakeKube:
    fake_kube.add(f.workload_group("ratings", spec_changed="2024-05-16T11:00:00Z"))
    fake_kube.add(f.ec2_war(uid="uid-ec2", labels={"app": "ratings"}))
    fake_kube.add(f.ecs_war(uid="uid-ecs", revision="canary"))
    fake_kube.add(f.jwt_war(uid="uid-jwt", connected=None, ip=None))
    fake_kube.add(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": "ev1",
                "namespace": "bookinfo",
                "creationTimestamp": "2024-05-16T10:00:05Z",
            },
            "involvedObject": {
                "kind": "WorkloadAutoRegistration",
                "namespace": "bookinfo",
                "name": EC2,
                "uid": "uid-ec2",
                "apiVersion": f.WAR_API,
            },
            "type": "Normal",
            "reason": "AgentConnected",
            "message": "Agent connected to onboarding-plane-745bf76677-974tq",
            "source": {"component": "onboarding-plane"},
            "firstTimestamp": "2024-05-16T10:00:05Z",
            "lastTimestamp": "2024-05-16T10:00:05Z",
            "count": 1,
        }
    )
    f.admit_wars(fake_kube)
    return fake_kube


EC2_DESCRIBE = f"""\
Name:         {EC2}
Namespace:    bookinfo
Labels:       app=ratings
Annotations:  <none>
API Version:  runtime.onboarding.tetrate.io/v1alpha1
Kind:         WorkloadAutoRegistration
Created:      2024-05-16T10:00:00Z (120m ago)
UID:          uid-ec2
Identity:
  Platform:     AWS EC2
  Partition:    aws
  Account:      123456789012
  Region:       us-east-2
  Zone:         us-east-2b
  Instance ID:  i-1234567890abcdef0
  Source:       spec.identity (verified by the onboarding endpoint)
Workload Group:
  Name:          ratings
  Exists:        Yes
  Spec Changed:  2024-05-16T11:00:00Z (60m ago)
  Up To Date:    No
  Outdated: WorkloadGroup spec changed 60m after this workload joined; run kubectl war rollout ratings -n bookinfo
Admitted by:  bookinfo-workloads (rule 1)
Agent:
  Connected:     True
  Since:         2024-05-16T10:00:05Z (119m ago)
  Reason:        AgentEstablishedConnection
  Version:       v1.4.0
  Connected To:  onboarding-plane-745bf76677-974tq
Registration:
  Addresses:
    172.31.5.254 (VPC)
  Connected Over:  VPC
  Sidecar Istio:   1.9.8-15bc6e5e32 (revision default)
  Workload Labels:  version=v5
Events:
  Type    Reason          Age   From              Message
  ----    ------          ----  ----              -------
  Normal  AgentConnected  119m  onboarding-plane  Agent connected to onboarding-plane-745bf76677-974tq
"""  # noqa: E501


def test_describe_an_outdated_ec2_workload(cluster: FakeKube, run_war: Run) -> None:
    # No sidecar source: the Sidecar section is pinned in test_cli_sidecars.py, and `auto`
    # would depend on whether this machine has an istioctl on PATH.
    r = run_war("describe", "-n", "bookinfo", EC2, "--proxy-status", "none")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == EC2_DESCRIBE


def _section(text: str, title: str) -> list[str]:
    """The lines of one top-level describe section, without its title."""
    lines = text.splitlines()
    start = lines.index(f"{title}:") + 1
    end = start
    while end < len(lines) and (lines[end].startswith("  ") or not lines[end]):
        end += 1
    return lines[start:end]


def test_disconnected_agent_counts_down_to_removal(cluster: FakeKube, war_inproc: Run) -> None:
    r = war_inproc("describe", "-n", "bookinfo", ECS)
    assert _section(r.stdout, "Agent") == [
        "  Connected:     False",
        "  Since:         2024-05-16T11:56:40Z (3m20s ago)",
        "  Reason:        Lost",
        "  Version:       v1.4.0",
        "  Connected To:  <none>",
        "  Removal:       100s left (grace period 5m)",
    ]
    r = war_inproc("describe", "-n", "bookinfo", ECS, "--grace-period", "3m")
    assert "  Removal:       overdue 20s (grace period 3m)" in r.stdout.splitlines()
    assert _section(r.stdout, "Workload Group")[-1] == "  Up To Date:    Yes"


def test_war_without_status_or_owner(cluster: FakeKube, war_inproc: Run) -> None:
    r = war_inproc("describe", "-n", "bookinfo", JWT)
    assert r.returncode == 0
    assert _section(r.stdout, "Identity") == [
        "  Platform:          JWT (on-premise)",
        "  Issuer:            https://issuer.internal.corp",
        "  Subject:           vm007-datacenter1-us-east.internal.corp",
        "  Attribute region:  us-east",
        "  Source:            spec.identity (verified by the onboarding endpoint)",
    ]
    assert _section(r.stdout, "Agent") == [
        "  Connected:     <none>",
        "  Version:       v1.4.0",
        "  Connected To:  <none>",
    ]
    # No ownerReference: the group is read from the name prefix.
    assert _section(r.stdout, "Workload Group")[:2] == [
        "  Name:          ratings",
        "  Exists:        Yes",
    ]


def test_name_and_verified_identity_disagree(fake_kube: FakeKube, war_inproc: Run) -> None:
    fake_kube.add(
        f.war(
            EC2,
            group="ratings",
            identity=f.ec2("aws", "123456789012", "us-east-2b", "i-0ffffffffffffffff"),
        )
    )
    r = war_inproc("describe", "-n", "bookinfo", EC2)
    assert (
        "  Warning: the name says aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0 but "
        "spec.identity (verified) says aws-aws-123456789012-us-east-2b-ec2-i-0ffffffffffffffff; "
        "trust spec.identity"
    ) in r.stdout.splitlines()


def test_missing_recreated_and_unknowable_workload_groups(
    fake_kube: FakeKube, war_inproc: Run
) -> None:
    fake_kube.add(f.war(EC2, group="ratings"))  # no WorkloadGroup at all
    r = war_inproc("describe", "-n", "bookinfo", EC2)
    assert _section(r.stdout, "Workload Group") == [
        "  Name:        ratings",
        "  Exists:      No",
        "  Up To Date:  NoGroup",
        "  Warning: WorkloadGroup ratings does not exist",
    ]
    # Re-created under the same name: a different uid than the WAR's owner.
    fake_kube.add(f.workload_group("ratings", uid="a-new-uid"))
    r = war_inproc("describe", "-n", "bookinfo", EC2)
    assert _section(r.stdout, "Workload Group")[1] == "  Exists:      No"
    # Changed (generation 2) with no managedFields: nobody can tell when.
    fake_kube.delete("workloadgroups", "bookinfo", "ratings")
    fake_kube.add(f.workload_group("ratings", generation=2, managed_fields=False))
    r = war_inproc("describe", "-n", "bookinfo", EC2)
    assert _section(r.stdout, "Workload Group") == [
        "  Name:          ratings",
        "  Exists:        Yes",
        "  Spec Changed:  unknown (no managedFields and generation > 1)",
        "  Up To Date:    Unknown",
        "  Unknown: cannot tell when the WorkloadGroup's spec last changed",
    ]


def test_json_carries_the_object_and_computed_facts(cluster: FakeKube, war_inproc: Run) -> None:
    r = war_inproc("describe", "-n", "bookinfo", ECS, "-o", "json")
    doc = json.loads(r.stdout)
    computed = doc.pop("computed")
    assert doc == cluster.get("workloadautoregistrations", "bookinfo", ECS)
    assert computed == {
        "identity": {
            "platform": "ecs",
            "partition": "aws",
            "account": "123456789012",
            "region": "us-east-1",
            "zone": "us-east-1a",
            "ecsCluster": "bookinfo",
            "taskId": "3a151358f03a4e32bf8cd401c1c74653",
            "source": "spec",
        },
        "workloadGroup": {
            "name": "ratings",
            "exists": True,
            "upToDate": "Yes",
            "specChanged": "2024-05-16T11:00:00Z",
            "specChangeSource": "managedFields",
        },
        "agent": {
            "connected": "False",
            "since": "2024-05-16T11:56:40Z",
            "connectedTo": None,
            "version": "v1.4.0",
            "disconnectedSeconds": 200,
            "removalInSeconds": 100,
        },
        "admittedBy": {"policy": "bookinfo-workloads", "rule": 1},
    }


def test_select_by_group_and_label(cluster: FakeKube, war_inproc: Run) -> None:
    r = war_inproc("describe", "-n", "bookinfo", "--group", "ratings")
    names = [line.split()[1] for line in r.stdout.splitlines() if line.startswith("Name: ")]
    assert names == [ECS, EC2, JWT]
    r = war_inproc("describe", "-n", "bookinfo", "-l", "app=ratings", "-o", "yaml")
    assert r.stdout.count("kind: WorkloadAutoRegistration") == 1


def test_not_found_and_usage_errors(cluster: FakeKube, run_war: Run) -> None:
    r = run_war("describe", "-n", "bookinfo", "nope", EC2, "--proxy-status", "none")
    assert r.returncode == 1
    assert r.stdout == EC2_DESCRIBE
    assert r.stderr == (
        "Error from server (NotFound): workloadautoregistrations.runtime.onboarding.tetrate.io "
        '"nope" not found\n'
    )
    r = run_war("describe", "-n", "bookinfo")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.startswith("error: name a WAR, or select some with -l or --group\n")
    r = run_war("describe", "-n", "bookinfo", EC2, "--grace-period", "-1m")
    assert r.returncode == 1
    assert r.stderr.startswith('error: invalid value "-1m" for --grace-period: ')


def test_decode_agrees_with_spec_identity_across_the_fleet(
    fleet_kube: FakeKube, war_inproc: Run
) -> None:
    from kubectl_war.identity_spec import identity_from_spec

    wars = fleet_kube.objects("workloadautoregistrations")
    with_spec = [w for w in wars if w.get("spec", {}).get("identity")]
    assert len(with_spec) > 10
    names = [w["metadata"]["name"] for w in with_spec]
    r = war_inproc("decode", "-o", "json", *names)
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    for war, doc in zip(with_spec, docs):
        owner = war["metadata"]["ownerReferences"][0]["name"]
        (reading,) = [x for x in doc["readings"] if x["group"] == owner]
        spec = identity_from_spec(war["spec"]["identity"])
        assert spec is not None
        for key in (
            "platform",
            "partition",
            "account",
            "zone",
            "instanceId",
            "ecsCluster",
            "taskId",
            "subject",
        ):
            assert reading.get(key) == spec.to_dict().get(key), (doc["name"], key)


def test_decode_is_offline_and_exits_1_on_names_no_format_explains(
    run_war: Run, tmp_path: Any
) -> None:
    env = {"PATH": "/usr/bin:/bin", "KUBECONFIG": str(tmp_path / "none"), "HOME": str(tmp_path)}
    r = subprocess.run(
        ["kubectl-war", "decode", "ratings-jwt-my-corp--vm007"],
        env=dict(env, PATH=f"{_venv_bin()}:/usr/bin:/bin"),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.splitlines()[:4] == [
        "Name:               ratings-jwt-my-corp--vm007",
        "Workload Group:     ratings",
        "Platform:           jwt",
        "Issuer Short Name:  my-corp",
    ]
    r = run_war("decode", "not-a-war-name")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == (
        'error: cannot decode "not-a-war-name": expected '
        "<group>-aws-<partition>-<account>-<zone>-ec2-<instance-id>, "
        "<group>-aws-<partition>-<account>-<zone>-ecs-<cluster>-<task-id> or "
        "<group>-jwt-<issuer>--<subject>\n"
    )


def _venv_bin() -> str:
    import sysconfig

    return sysconfig.get_path("scripts")
