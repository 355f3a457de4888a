"""`kubectl war list`: the real client against the fake API, in-process (`war_inproc`), with
the kubectl-shaped table, colour rules and `version` also through real kubectl's plugin lookup."""

from __future__ import annotations

import json
import re
from typing import Any, Callable

import pytest
import yaml

from tests import factories as f
from tests.factories import CN, EC2, ECS, JWT, Run
from tests.fakekube import FakeKube


@pytest.fixture
def small(fake_kube: FakeKube) -> FakeKube:
    """Four WARs of every kind; the clock stands at 2024-05-16T12:00:00Z."""
    fake_kube.add(f.workload_group("ratings", spec_changed="2024-05-16T11:00:00Z"))
    fake_kube.add(f.ec2_war(labels={"app": "ratings", "tier": "vm"}))
    fake_kube.add(f.ecs_war(ip="10.10.4.19", labels={"app": "ratings"}, revision="canary"))
    fake_kube.add(f.jwt_war(connected=None, ip=None))
    fake_kube.add(f.cn_war())
    return fake_kube


BOOKINFO_TABLE = f"""\
NAME{" " * 84}GROUP     PLATFORM   INSTANCE                                    ZONE         IP             AGENT CONNECTED     UP-TO-DATE   AGE
{ECS}   ratings   ecs        bookinfo/3a151358f03a4e32bf8cd401c1c74653   us-east-1a   10.10.4.19     False (100s left)   Yes          30m
{EC2}{" " * 25}ratings   ec2        i-1234567890abcdef0                         us-east-2b   172.31.5.254   True                No           120m
{JWT}{" " * 28}ratings   jwt        vm007-datacenter1-us-east.internal.corp     us-east      <none>         <none>              Yes          60s
"""  # noqa: E501


def test_list_in_namespace_prints_kubectl_shaped_table(small: FakeKube, run_war: Run) -> None:
    r = run_war("list", "-n", "bookinfo")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == BOOKINFO_TABLE


def test_list_uses_the_context_namespace_by_default(
    small: FakeKube,
    make_kubeconfig: Callable[..., str],
    make_kube_env: Callable[..., Any],
    war_inproc: Run,
) -> None:
    env = make_kube_env(make_kubeconfig(small, namespace="bookinfo", name="ns"))
    r = war_inproc("list", env=env)
    assert r.stdout == BOOKINFO_TABLE
    env = make_kube_env(make_kubeconfig(small, name="nons"))
    r = war_inproc("list", env=env)
    assert (r.returncode, r.stdout, r.stderr) == (
        0,
        "",
        "No resources found in default namespace.\n",
    )


def test_all_namespaces_puts_namespace_first(small: FakeKube, war_inproc: Run) -> None:
    r = war_inproc("list", "-A", "--no-headers")
    assert r.returncode == 0
    rows = [line.split()[:2] for line in r.stdout.splitlines()]
    assert rows == [["bookinfo", ECS], ["bookinfo", EC2], ["bookinfo", JWT], ["payments", CN]]
    # ledger has no WorkloadGroup object: the WAR says so rather than guessing.
    assert r.stdout.splitlines()[3].split()[-2:] == ["NoGroup", "3d"]


def test_output_name_and_empty_namespace(small: FakeKube, war_inproc: Run) -> None:
    r = war_inproc("list", "-n", "payments", "-o", "name")
    assert r.stdout == f"workloadautoregistration.runtime.onboarding.tetrate.io/{CN}\n"
    r = war_inproc("list", "-n", "nowhere")
    assert (r.returncode, r.stdout, r.stderr) == (
        0,
        "",
        "No resources found in nowhere namespace.\n",
    )


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_json_and_yaml_are_the_server_objects_in_a_list(
    small: FakeKube, war_inproc: Run, fmt: str
) -> None:
    r = war_inproc("list", "-A", "-o", fmt)
    doc = json.loads(r.stdout) if fmt == "json" else yaml.safe_load(r.stdout)
    assert doc["kind"] == "List" and doc["apiVersion"] == "v1"
    assert doc["items"] == small.objects("workloadautoregistrations")


def test_wide_adds_account_region_agent_istio_connected_to(
    small: FakeKube, war_inproc: Run
) -> None:
    # --proxy-status none: no SIDECAR and ISTIOD columns (tests/test_cli_sidecars.py has them).
    r = war_inproc(
        "list", "-n", "bookinfo", "-o", "wide", "--sort-by", "name", "--proxy-status", "none"
    )
    lines = r.stdout.splitlines()
    assert re.split(" {3,}", lines[0])[-5:] == [
        "ACCOUNT",
        "REGION",
        "AGENT",
        "ISTIO",
        "CONNECTED TO",
    ]
    cells = [line.split() for line in lines[1:]]
    assert cells[0][-5:] == [
        "123456789012",
        "us-east-1",
        "v1.4.0",
        "1.9.8-15bc6e5e32/canary",
        "<none>",
    ]
    assert cells[1][-5:] == [
        "123456789012",
        "us-east-2",
        "v1.4.0",
        "1.9.8-15bc6e5e32/default",
        "onboarding-plane-745bf76677-974tq",
    ]
    assert cells[2][-5:] == ["<none>", "<none>", "v1.4.0", "1.9.8-15bc6e5e32/default", "<none>"]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["-l", "app=ratings"], [ECS, EC2]),
        (["-l", "tier=vm"], [EC2]),
        (["-l", "!app"], [JWT]),
        (["--field-selector", f"metadata.name={JWT}"], [JWT]),
        (["--group", "ratings"], [ECS, EC2, JWT]),
        (["--group", "ledger"], []),
        (["--connected"], [EC2]),
        # JWT's agent never reported (no AgentConnected condition): not disconnected.
        (["--disconnected"], [ECS]),
        (["--agent-unknown"], [JWT]),
        (["--disconnected", "--older-than", "3m"], [ECS]),
        (["--disconnected", "--older-than", "4m"], []),
        (["--outdated"], [EC2]),
        (["--sort-by", "age"], [EC2, ECS, JWT]),
        (["--sort-by", "zone"], [JWT, ECS, EC2]),
        (["--sort-by", "name"], [ECS, EC2, JWT]),
        (["-l", "app=ratings", "--connected"], [EC2]),
    ],
)
def test_filters_and_sorting(
    small: FakeKube, war_inproc: Run, args: list[str], names: list[str]
) -> None:
    r = war_inproc("list", "-n", "bookinfo", "-o", "name", *args)
    assert r.returncode == 0, r.stderr
    prefix = "workloadautoregistration.runtime.onboarding.tetrate.io/"
    assert r.stdout.splitlines() == [prefix + n for n in names]


def test_selectors_are_sent_to_the_server(small: FakeKube, war_inproc: Run) -> None:
    small.clear_requests()
    war_inproc("list", "-n", "bookinfo", "-l", "app=ratings", "--field-selector", "metadata.name=x")
    lists = small.requests_to(
        "/apis/runtime.onboarding.tetrate.io/v1alpha1/namespaces/bookinfo/workloadautoregistrations"
    )
    assert [r.query for r in lists] == [
        {"labelSelector": ["app=ratings"], "fieldSelector": ["metadata.name=x"], "limit": ["500"]}
    ]


def test_paging_fetches_every_war_exactly_once(fleet_kube: FakeKube, war_inproc: Run) -> None:
    fleet_kube.seed_large_fleet(1200)
    expected = [
        (o["metadata"]["namespace"], o["metadata"]["name"])
        for o in fleet_kube.objects("workloadautoregistrations")
    ]
    fleet_kube.clear_requests()
    r = war_inproc("list", "-A", "--no-headers", "--chunk-size", "250")
    assert r.returncode == 0, r.stderr
    got = [tuple(line.split()[:2]) for line in r.stdout.splitlines()]
    assert got == expected
    assert len(got) == len(set(got)) > 1200
    pages = [
        rq
        for rq in fleet_kube.requests
        if rq.method == "GET" and rq.path.endswith("/workloadautoregistrations")
    ]
    assert len(pages) == -(-len(expected) // 250)
    assert all(rq.query["limit"] == ["250"] for rq in pages)
    assert "continue" not in pages[0].query and all("continue" in p.query for p in pages[1:])


def test_expired_continue_token_relists_without_duplicates(
    fleet_kube: FakeKube, war_inproc: Run
) -> None:
    fleet_kube.seed_large_fleet(600)
    expected = len(fleet_kube.objects("workloadautoregistrations"))
    fleet_kube.expire_continue_tokens()  # tokens issued so far are stale; new ones work
    r = war_inproc("list", "-A", "--no-headers", "--chunk-size", "100")
    assert len(r.stdout.splitlines()) == expected


def test_odd_objects_never_break_the_list(fake_kube: FakeKube, war_inproc: Run) -> None:
    fake_kube.add(
        {
            "apiVersion": f.WAR_API,
            "kind": "WorkloadAutoRegistration",
            "metadata": {
                "name": "bare",
                "namespace": "bookinfo",
                "creationTimestamp": "2024-05-16T11:00:00Z",
            },
        }
    )
    fake_kube.add(
        {
            "apiVersion": f.WAR_API,
            "kind": "WorkloadAutoRegistration",
            "metadata": {
                "name": "odd",
                "namespace": "bookinfo",
                "creationTimestamp": "2024-05-16T11:00:00Z",
                "ownerReferences": "not-a-list",
            },
            "spec": {"identity": {"aws": "oops"}, "registration": {"host": {"addresses": [7]}}},
            "status": {"conditions": [None, {"type": "AgentConnected", "status": 3}]},
        }
    )
    r = war_inproc("list", "-n", "bookinfo", "-o", "wide")
    # No istiod or istioctl here: SIDECAR reads <none>, and one warning says why.
    assert r.returncode == 0
    assert r.stderr.startswith("warning: SIDECAR is <none>: no proxy-status source answered")
    assert r.stderr.count("\n") == 1
    rows = [line.split() for line in r.stdout.splitlines()[1:]]
    assert rows[0] == [
        "bare",
        "<none>",
        "unknown",
        "<none>",
        "<none>",
        "<none>",
        "<none>",
        "NoGroup",
        "<none>",  # SIDECAR
        "60m",
        "<none>",
        "<none>",
        "<none>",
        "<none>",
        "<none>",
        "<none>",  # ISTIOD
    ]
    assert rows[1][:3] == ["odd", "<none>", "unknown"]


def test_no_color_and_pipes_get_plain_text(small: FakeKube, run_war: Run) -> None:
    r = run_war("list", "-n", "bookinfo")
    assert "\x1b[" not in r.stdout


def test_version_prints_plugin_python_and_client(run_war: Run) -> None:
    import platform
    from importlib.metadata import version

    from kubectl_war import __version__

    r = run_war("version")
    assert r.stdout == (
        f"kubectl-war: v{__version__}\nPython: {platform.python_version()}\n"
        f"kubernetes client: {version('kubernetes')}\n"
    )


def test_each_workload_group_list_is_fetched_once_per_run(
    fleet_kube: FakeKube, war_inproc: Run
) -> None:
    fleet_kube.clear_requests()
    r = war_inproc("list", "-A", "-o", "wide")
    assert r.returncode == 0
    wg = [q for q in fleet_kube.requests if q.path.endswith("/workloadgroups")]
    wars = [q for q in fleet_kube.requests if q.path.endswith("/workloadautoregistrations")]
    assert (len(wg), len(wars)) == (1, 1)
    assert not [q for q in fleet_kube.requests if "/workloadgroups/" in q.path]
