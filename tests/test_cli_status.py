"""`kubectl war status`: the one-screen health summary, in one cluster and across
contexts, in-process (`war_inproc`) and, for its exit code, through real kubectl (see
tests/multicluster.py for the fleet)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from tests import factories as f
from tests.factories import CN, EC2, ECS, JWT, Run
from tests.fakekube import Clock, FakeKube
from tests.fakekube.istiod import FakeIstiod
from tests.multicluster import FORBIDDEN, W3, Fleet, seed_west, write_kubeconfig

# ---- status -------------------------------------------------------------------------------

STATUS_ALL = """\
CONTEXT   NAMESPACE   WORKLOADGROUP   WARS   CONNECTED   DISCONNECTED    OUTDATED   NOT SYNCED   AGENT                    ISTIO
east      bookinfo    ratings         3      2           1 (100s left)   1          1            v1.4.0 (2), v1.5.0 (1)   1.9.8-15bc6e5e32
east      payments    ledger          1      1           0               0          0            v1.4.0                   1.9.8-15bc6e5e32
west      bookinfo    ratings         2      2           0               0          <none>       v1.4.0                   1.10.3 (1), 1.9.8-15bc6e5e32 (1)
west      bookinfo    reviews         1      0           0               0          <none>       v1.4.0                   1.9.8-15bc6e5e32

CONTEXT   NAMESPACE   NAME                                                                                    GROUP     PROBLEMS
east      bookinfo    ratings-aws-aws-123456789012-us-east-1a-ecs-bookinfo-3a151358f03a4e32bf8cd401c1c74653   ratings   disconnected (100s left)
east      bookinfo    ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0                         ratings   outdated by 60m
east      bookinfo    ratings-jwt-my-corp--vm007-datacenter1-us-east.internal.corp                            ratings   sidecar STALE
west      bookinfo    reviews-aws-aws-210987654321-eu-west-1c-ec2-i-0ccccccccccccccc3                         reviews   no agent status yet
"""  # noqa: E501


def test_status_summarises_every_context_then_lists_only_the_problems(
    fleet: Fleet, war_inproc: Run
) -> None:
    r = war_inproc("status", "-A", "--all-contexts", env=fleet.env)
    assert r.stdout == STATUS_ALL
    warnings = r.stderr.splitlines()
    # No istiod or istioctl in the fleet: said once, with what would fill NOT SYNCED in.
    assert warnings[0].startswith("warning: NOT SYNCED is <none>: no proxy-status source ")
    assert warnings[1:] == [
        f'warning: context "down": {fleet.refused}',
        f'warning: context "locked": {FORBIDDEN}',
    ]
    assert r.returncode == 1


def _count(fake: FakeKube) -> dict[str, int]:
    """What the server holds, counted straight from its objects."""
    wars = fake.objects("workloadautoregistrations")
    states = [
        next((c["status"] for c in (w.get("status") or {}).get("conditions", [])), None)
        for w in wars
    ]
    return {
        "total": len(wars),
        "connected": states.count("True"),
        "disconnected": states.count("False"),
        "agentUnknown": len(wars) - states.count("True") - states.count("False"),
    }


def test_status_json_counts_match_what_the_servers_hold(fleet: Fleet, war_inproc: Run) -> None:
    r = war_inproc(
        "status",
        "-A",
        "--contexts",
        "east,west,down",
        "--ignore-unreachable",
        "-o",
        "json",
        env=fleet.env,
    )
    assert r.returncode == 1  # problems, not the unreachable context
    data = json.loads(r.stdout)
    east, west = _count(fleet.east), _count(fleet.west)
    both = {k: east[k] + west[k] for k in east}
    assert (
        {k: data["totals"][k] for k in both}
        == both
        == {
            "total": 7,
            "connected": 5,
            "disconnected": 1,
            "agentUnknown": 1,
        }
    )
    assert (data["totals"]["outdated"], data["totals"]["notSynced"]) == (1, 1)
    per_context = {
        name: sum(g["total"] for g in data["groups"] if g["context"] == name)
        for name in ("east", "west")
    }
    assert per_context == {"east": east["total"], "west": west["total"]}
    assert data["healthy"] is False
    assert data["contexts"] == [
        {
            "name": "east",
            "namespace": None,
            "source": "istiod in istio-system (istiod-6f9c7d8b5-q4m9z, istiod-6f9c7d8b5-x7k2p)",
        },
        {"name": "west", "namespace": None, "source": None},
        {"name": "down", "error": fleet.refused},
    ]
    assert [(p["context"], p["name"], p["problems"]) for p in data["problems"]] == [
        ("east", ECS, ["disconnected"]),
        ("east", EC2, ["outdated"]),
        ("east", JWT, ["not-synced"]),
        ("west", W3, ["agent-unknown"]),
    ]
    assert data["problems"][0]["removalInSeconds"] == 100
    ratings = data["groups"][0]
    assert (ratings["agentVersions"], ratings["soonestRemovalInSeconds"]) == (
        {"v1.4.0": 2, "v1.5.0": 1},
        100,
    )


def test_status_exits_0_on_a_healthy_fleet(
    kube_clock: Clock,
    tmp_path: Path,
    make_kube_env: Callable[[str], dict[str, str]],
    run_war: Run,
) -> None:
    with FakeKube(clock=kube_clock) as one, FakeKube(clock=kube_clock) as two:
        seed_west(one, healthy=True)
        two.add(f.workload_group("ledger", "payments"))
        two.add(f.war(CN, "payments", group="ledger", agent="v1.5.0"))
        f.admit_wars(two)
        istiod = FakeIstiod(two, replicas=1)
        istiod.connect(f"{CN}.payments")
        path = write_kubeconfig(tmp_path / "ok", [("one", one.url), ("two", two.url)], "one")
        env = make_kube_env(path)
        r = run_war("status", "-A", "--all-contexts", env=env)
        data = json.loads(run_war("status", "-A", "--all-contexts", "-o", "json", env=env).stdout)
        istiod.close()
    assert r.stdout == (
        "CONTEXT   NAMESPACE   WORKLOADGROUP   WARS   CONNECTED   DISCONNECTED   OUTDATED"
        "   NOT SYNCED   AGENT    ISTIO\n"
        "one       bookinfo    ratings         2      2           0              0"
        "          <none>       v1.4.0   1.10.3 (1), 1.9.8-15bc6e5e32 (1)\n"
        "one       bookinfo    reviews         1      1           0              0"
        "          <none>       v1.4.0   1.9.8-15bc6e5e32\n"
        "two       payments    ledger          1      1           0              0"
        "          0            v1.5.0   1.9.8-15bc6e5e32\n"
        "\n"
        "All 4 WARs are connected and up to date.\n"
        'Sidecar sync state was not read in context "one": no proxy-status source answered.\n'
    )
    # Context "one" has no istiod: NOT SYNCED is <none> there, and stderr says why once.
    assert r.returncode == 0
    assert r.stderr.startswith(
        "warning: NOT SYNCED is <none>: no proxy-status source answered (istiod: no running "
    )
    assert r.stderr.count("\n") == 1
    assert (data["healthy"], data["problems"], data["totals"]["total"]) == (True, [], 4)


def test_status_in_one_cluster_has_no_context_column(fleet: Fleet, war_inproc: Run) -> None:
    r = war_inproc("status", "-n", "payments", "--context", "east", env=fleet.env)
    assert r.stdout == (
        "WORKLOADGROUP   WARS   CONNECTED   DISCONNECTED   OUTDATED   NOT SYNCED   AGENT    ISTIO\n"
        "ledger          1      1           0              0          0            v1.4.0   "
        "1.9.8-15bc6e5e32\n"
        "\n"
        "The 1 WAR is connected, up to date and synced.\n"
    )
    assert (r.returncode, r.stderr) == (0, "")
    r = war_inproc(
        "status", "-n", "bookinfo", "--context", "west", "--proxy-status", "none", env=fleet.env
    )
    assert r.returncode == 1
    assert r.stdout.splitlines()[-2:] == [
        "NAME                                                              GROUP     PROBLEMS",
        f"{W3}   reviews   no agent status yet",
    ]
