"""Many clusters at once (`--contexts`, `--all-contexts`) on list, describe and
proxy-status, in-process (`war_inproc`) and, for a merged table, exit codes and a refused
rollout, through real kubectl (see tests/multicluster.py for the fleet)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from tests.factories import CN, EC2, ECS, JWT, Run, cells
from tests.fakekube import Clock, FakeKube
from tests.multicluster import FORBIDDEN, W1, W2, W3, Fleet, write_kubeconfig

# ---- list ---------------------------------------------------------------------------------

LIST_ALL = """\
CONTEXT   NAMESPACE   NAME                                                                                    GROUP     PLATFORM   INSTANCE                                    ZONE          IP             AGENT CONNECTED     UP-TO-DATE   AGE
east      bookinfo    ratings-aws-aws-123456789012-us-east-1a-ecs-bookinfo-3a151358f03a4e32bf8cd401c1c74653   ratings   ecs        bookinfo/3a151358f03a4e32bf8cd401c1c74653   us-east-1a    10.10.4.19     False (100s left)   Yes          30m
east      bookinfo    ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0                         ratings   ec2        i-1234567890abcdef0                         us-east-2b    172.31.5.254   True                No           120m
east      bookinfo    ratings-jwt-my-corp--vm007-datacenter1-us-east.internal.corp                            ratings   jwt        vm007-datacenter1-us-east.internal.corp     us-east       10.20.0.7      True                Yes          60s
east      payments    ledger-aws-aws-cn-987654321098-cn-north-1a-ec2-i-0123456789abcdef1                      ledger    ec2        i-0123456789abcdef1                         cn-north-1a   172.31.5.10    True                Yes          3d
west      bookinfo    ratings-aws-aws-210987654321-eu-west-1a-ec2-i-0aaaaaaaaaaaaaaa1                         ratings   ec2        i-0aaaaaaaaaaaaaaa1                         eu-west-1a    10.1.0.1       True                Yes          120m
west      bookinfo    ratings-aws-aws-210987654321-eu-west-1b-ec2-i-0bbbbbbbbbbbbbbb2                         ratings   ec2        i-0bbbbbbbbbbbbbbb2                         eu-west-1b    10.1.0.2       True                Yes          120m
west      bookinfo    reviews-aws-aws-210987654321-eu-west-1c-ec2-i-0ccccccccccccccc3                         reviews   ec2        i-0ccccccccccccccc3                         eu-west-1c    10.1.0.3       <none>              Yes          120m
"""  # noqa: E501


def test_list_all_contexts_merges_rows_with_context_first_in_kubeconfig_order(
    fleet: Fleet, run_war: Run
) -> None:
    r = run_war("list", "-A", "--all-contexts", env=fleet.env)
    assert r.stdout == LIST_ALL
    assert r.stderr == (
        f'warning: context "down": {fleet.refused}\nwarning: context "locked": {FORBIDDEN}\n'
    )
    assert r.returncode == 1


def test_merged_rows_are_the_union_of_each_clusters_own_list(fleet: Fleet, war_inproc: Run) -> None:
    merged = war_inproc("list", "-A", "--contexts", "east,west", "--no-headers", env=fleet.env)
    assert (merged.returncode, merged.stderr) == (0, "")
    expected = []
    for context in ("east", "west"):
        alone = war_inproc("list", "-A", "--context", context, "--no-headers", env=fleet.env)
        assert alone.returncode == 0
        expected += [[context, *cells(line)] for line in alone.stdout.splitlines()]
    assert [cells(line) for line in merged.stdout.splitlines()] == expected
    assert len(expected) == len(fleet.east.objects("workloadautoregistrations")) + len(
        fleet.west.objects("workloadautoregistrations")
    )


def test_contexts_come_in_the_order_given(fleet: Fleet, war_inproc: Run) -> None:
    r = war_inproc(
        "list", "-n", "bookinfo", "--contexts", "west", "--contexts", "east", env=fleet.env
    )
    assert r.returncode == 0
    assert [cells(line)[:2] for line in r.stdout.splitlines()] == [
        ["CONTEXT", "NAME"],
        ["west", W1],
        ["west", W2],
        ["west", W3],
        ["east", ECS],
        ["east", EC2],
        ["east", JWT],
    ]


def test_ignore_unreachable_exits_0_yet_names_each_failed_context_once(
    fleet: Fleet, run_war: Run
) -> None:
    r = run_war("list", "-A", "--all-contexts", "--ignore-unreachable", env=fleet.env)
    assert r.stdout == LIST_ALL
    assert r.stderr.splitlines() == [
        f'warning: context "down": {fleet.refused}',
        f'warning: context "locked": {FORBIDDEN}',
    ]
    assert r.returncode == 0


def test_every_context_failing_fails_even_with_ignore_unreachable(
    fleet: Fleet, war_inproc: Run
) -> None:
    r = war_inproc(
        "list", "-A", "--contexts", "down,locked,nowhere", "--ignore-unreachable", env=fleet.env
    )
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.splitlines() == [
        f'warning: context "down": {fleet.refused}',
        f'warning: context "locked": {FORBIDDEN}',
        'warning: context "nowhere": context "nowhere" does not exist',
    ]


def test_a_cluster_not_serving_wars_is_one_failing_context(
    fleet: Fleet,
    kube_clock: Clock,
    tmp_path: Path,
    make_kube_env: Callable[[str], dict[str, str]],
    war_inproc: Run,
) -> None:
    with FakeKube(clock=kube_clock, serve_wars=False) as bare:
        path = write_kubeconfig(
            tmp_path / "bare", [("east", fleet.east.url), ("bare", bare.url)], current="east"
        )
        r = war_inproc("list", "-n", "payments", "--all-contexts", env=make_kube_env(path))
    assert r.stdout.splitlines()[1:] == [
        f"east      {CN}   ledger   ec2        i-0123456789abcdef1   cn-north-1a   172.31.5.10"
        "   True              Yes          3d"
    ]
    assert r.stderr == (
        'warning: context "bare": the cluster does not serve runtime.onboarding.tetrate.io: '
        "is TSB workload onboarding installed?\n"
    )
    assert r.returncode == 1


def test_list_json_keeps_server_objects_and_says_which_context_holds_each(
    fleet: Fleet, war_inproc: Run
) -> None:
    r = war_inproc("list", "-A", "--all-contexts", "-o", "json", env=fleet.env)
    assert r.returncode == 1
    data = json.loads(r.stdout)
    east = json.loads(
        war_inproc("list", "-A", "--context", "east", "-o", "json", env=fleet.env).stdout
    )
    west = json.loads(
        war_inproc("list", "-A", "--context", "west", "-o", "json", env=fleet.env).stdout
    )
    assert data["items"] == east["items"] + west["items"]
    assert (data["apiVersion"], data["kind"]) == ("v1", "List")
    assert data["contexts"] == [
        {
            "name": "east",
            "resourceVersion": east["metadata"]["resourceVersion"],
            "items": [0, 1, 2, 3],
        },
        {"name": "down", "error": fleet.refused},
        {
            "name": "west",
            "resourceVersion": west["metadata"]["resourceVersion"],
            "items": [4, 5, 6],
        },
        {"name": "locked", "error": FORBIDDEN},
    ]


def test_all_contexts_reads_every_file_of_a_kubeconfig_list(
    fleet: Fleet,
    tmp_path: Path,
    make_kube_env: Callable[[str], dict[str, str]],
    war_inproc: Run,
) -> None:
    first = write_kubeconfig(tmp_path / "a", [("west", fleet.west.url)], current="west")
    # "west" again in the second file: the first definition wins and it is asked once.
    second = write_kubeconfig(
        tmp_path / "b", [("east", fleet.east.url), ("west", "http://127.0.0.1:1")], current="east"
    )
    env = make_kube_env(f"{first}:{tmp_path / 'missing'}:{second}")
    r = war_inproc("list", "-n", "payments", "--all-contexts", "--no-headers", env=env)
    assert (r.returncode, r.stderr) == (0, "")
    assert [cells(line)[:2] for line in r.stdout.splitlines()] == [["east", CN]]
    r = war_inproc("list", "-n", "bookinfo", "--all-contexts", "-o", "json", env=env)
    assert [c["name"] for c in json.loads(r.stdout)["contexts"]] == ["west", "east"]


def test_nothing_found_anywhere_says_so_once(fleet: Fleet, war_inproc: Run) -> None:
    r = war_inproc("list", "-n", "nowhere", "--contexts", "east,west", env=fleet.env)
    assert (r.returncode, r.stdout, r.stderr) == (
        0,
        "",
        "No resources found in nowhere namespace.\n",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--contexts", "east", "--all-contexts"],
            "--contexts and --all-contexts exclude each other",
        ),
        (["--ignore-unreachable"], "--ignore-unreachable goes with --contexts or --all-contexts"),
        (
            ["--all-contexts", "--context", "east"],
            "--context and --all-contexts exclude each other: --context applies to one cluster",
        ),
        (
            ["--contexts", "east", "-s", "http://127.0.0.1:1"],
            "--server and --contexts exclude each other: --server applies to one cluster",
        ),
        (["--contexts", ","], "--contexts ',' names no context"),
        (
            ["--all-contexts", "-w"],
            "--watch follows one cluster: use --context, not a fleet of contexts",
        ),
        (
            ["--all-contexts", "-o", "name"],
            "-o name cannot say which context a WAR is in: use -o json or -o yaml",
        ),
        (
            ["--all-contexts", "--proxy-status", "file:ps.txt"],
            "--proxy-status file:ps.txt holds one cluster's proxies: with --contexts or "
            "--all-contexts use istiod, istioctl, auto or none",
        ),
    ],
)
def test_fleet_usage_errors(fleet: Fleet, war_inproc: Run, args: list[str], message: str) -> None:
    r = war_inproc("list", *args, env=fleet.env)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == f"error: {message}\n"


# ---- describe, proxy-status ---------------------------------------------------------------


def test_describe_finds_a_name_in_whichever_context_holds_it(fleet: Fleet, war_inproc: Run) -> None:
    r = war_inproc(
        "describe",
        "-n",
        "bookinfo",
        W1,
        "nothere",
        "--all-contexts",
        "--proxy-status",
        "none",
        env=fleet.env,
    )
    lines = r.stdout.splitlines()
    assert lines[:3] == ["Context:      west", f"Name:         {W1}", "Namespace:    bookinfo"]
    assert sum(line.startswith("Name:") for line in lines) == 1
    # locked forbids only listing: it answers the GETs, and holds neither name.
    assert r.stderr.splitlines() == [
        "Error from server (NotFound): workloadautoregistrations.runtime.onboarding.tetrate.io "
        '"nothere" not found',
        f'warning: context "down": {fleet.refused}',
    ]
    assert r.returncode == 1


def test_describe_json_names_the_context_in_computed(fleet: Fleet, war_inproc: Run) -> None:
    r = war_inproc(
        "describe",
        "-n",
        "bookinfo",
        "--group",
        "ratings",
        "--contexts",
        "east,west",
        "-o",
        "json",
        "--proxy-status",
        "none",
        env=fleet.env,
    )
    assert r.returncode == 0
    data = json.loads(r.stdout)
    assert [(i["computed"]["context"], i["metadata"]["name"]) for i in data["items"]] == [
        ("east", ECS),
        ("east", EC2),
        ("east", JWT),
        ("west", W1),
        ("west", W2),
    ]


PROXY_STATUS = """\
CONTEXT   NAMESPACE   NAME                                                                                    GROUP     AGENT CONNECTED   SIDECAR   ISTIOD                   VERSION
east      bookinfo    ratings-aws-aws-123456789012-us-east-1a-ecs-bookinfo-3a151358f03a4e32bf8cd401c1c74653   ratings   False             <none>    <none>                   <none>
east      bookinfo    ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0                         ratings   True              SYNCED    istiod-6f9c7d8b5-x7k2p   1.20.8-tetrate1
east      bookinfo    ratings-jwt-my-corp--vm007-datacenter1-us-east.internal.corp                            ratings   True              STALE     istiod-6f9c7d8b5-q4m9z   1.20.8-tetrate1
east      payments    ledger-aws-aws-cn-987654321098-cn-north-1a-ec2-i-0123456789abcdef1                      ledger    True              SYNCED    istiod-6f9c7d8b5-x7k2p   1.20.8-tetrate1
"""  # noqa: E501


def test_proxy_status_across_contexts_each_with_its_own_istiod(
    fleet: Fleet, war_inproc: Run
) -> None:
    r = war_inproc("proxy-status", "-A", "--contexts", "east,west", env=fleet.env)
    assert r.stdout == PROXY_STATUS
    assert r.stderr == (
        'warning: context "west": no proxy-status source answered: istiod: no running istiod '
        "pods (label app=istiod) in namespace istio-system; pass --istio-namespace if istiod "
        "runs elsewhere; istioctl: not found on PATH; install istioctl or use --proxy-status "
        "istiod\n"
    )
    assert r.returncode == 1


# ---- rollout --------------------------------------------------------------------------------

ROLLOUT_REFUSED = (
    "error: kubectl war rollout works on one cluster at a time and refuses {given}: its "
    "--max-unavailable budget, its batches and its rollout lock are one cluster's; run it "
    "once per context (--context NAME)\n"
)


@pytest.mark.parametrize(
    ("args", "given"),
    [(["--all-contexts"], "--all-contexts"), (["--contexts", "east,west"], "several --contexts")],
)
def test_rollout_refuses_more_than_one_cluster(
    fleet: Fleet, run_war: Run, args: list[str], given: str
) -> None:
    before = fleet.east.objects("workloadautoregistrations")
    r = run_war("rollout", "ratings", "-n", "bookinfo", "--yes", *args, env=fleet.env)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", ROLLOUT_REFUSED.format(given=given))
    assert fleet.east.objects("workloadautoregistrations") == before


def test_rollout_with_one_context_named_works_like_context(fleet: Fleet, war_inproc: Run) -> None:
    one = war_inproc(
        "rollout", "ratings", "-n", "bookinfo", "--contexts", "east", "--dry-run", env=fleet.env
    )
    plain = war_inproc(
        "rollout", "ratings", "-n", "bookinfo", "--context", "east", "--dry-run", env=fleet.env
    )
    assert (one.returncode, one.stderr) == (0, "")
    assert one.stdout == plain.stdout
    assert one.stdout.startswith("WorkloadGroup bookinfo/ratings: 1 WAR to re-onboard")


ROLLOUT_STATUS = """\
CONTEXT   NAMESPACE   NAME      UP-TO-DATE   OUTDATED   UNKNOWN   DISCONNECTED   MISSING   BLOCKED   ROLLED OUT
east      bookinfo    ratings   1            1          0         1              0         0         No
east      payments    ledger    1            0          0         0              0         0         Yes
west      bookinfo    ratings   2            0          0         0              0         0         Yes
west      bookinfo    reviews   0            0          0         0              1         0         No
"""  # noqa: E501


def test_rollout_status_across_contexts(fleet: Fleet, war_inproc: Run) -> None:
    r = war_inproc("rollout", "status", "--all-groups", "-A", "--all-contexts", env=fleet.env)
    assert r.stdout == ROLLOUT_STATUS
    assert r.stderr.splitlines() == [
        f'warning: context "down": {fleet.refused}',
        f'warning: context "locked": {FORBIDDEN}',
    ]
    assert r.returncode == 1  # east ratings is not rolled out; reviews waits on an agent
    r = war_inproc(
        "rollout",
        "status",
        "ratings",
        "-n",
        "bookinfo",
        "--contexts",
        "west",
        "-o",
        "json",
        env=fleet.env,
    )
    assert r.returncode == 0
    data = json.loads(r.stdout)
    assert data["contexts"] == [{"name": "west"}]
    assert [(g["context"], g["name"], g["upToDate"]) for g in data["groups"]] == [
        ("west", "ratings", 2)
    ]
    r = war_inproc(
        "rollout", "status", "ratings", "-n", "bookinfo", "--all-contexts", "-w", env=fleet.env
    )
    assert (r.returncode, r.stderr) == (
        1,
        "error: --watch follows one cluster: use --context, not a fleet of contexts\n",
    )


def test_list_documents_of_many_contexts_are_written_as_one_list(
    fleet: Fleet, war_inproc: Run
) -> None:
    import yaml

    from kubectl_war.render import to_json, to_yaml

    as_json = war_inproc("list", "-A", "--all-contexts", "-o", "json", env=fleet.env)
    as_yaml = war_inproc("list", "-A", "--all-contexts", "-o", "yaml", env=fleet.env)
    data = json.loads(as_json.stdout)
    # Each context's items are written as they arrive and put together after: the bytes
    # are those of the whole List written at once, `contexts` last in JSON, sorted in YAML.
    assert as_json.stdout == to_json(data)
    assert list(data) == ["apiVersion", "items", "kind", "metadata", "contexts"]
    assert as_yaml.stdout == to_yaml(data)
    assert yaml.safe_load(as_yaml.stdout) == data
    assert (as_json.returncode, as_yaml.returncode) == (1, 1)
    assert as_yaml.stderr == as_json.stderr
