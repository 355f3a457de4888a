"""Sidecar sync state: `kubectl war list/describe/proxy-status` against FakeKube with an
emulated istiod or a stand-in istioctl, in-process (`war_inproc`), and through real
kubectl's plugin lookup for a few (a table, stdin, istioctl run by the plugin, exit codes)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import factories as f
from tests.factories import CN, EC2, ECS, JWT, Run, cells
from tests.fakekube import FakeKube
from tests.fakekube.istiod import FakeIstiod

BIN = Path(__file__).parent / "fixtures" / "bin"
GONE = "ratings-aws-aws-123456789012-us-east-2a-ec2-i-0f9e8d7c6b5a43210"
ORPHAN = "ratings-aws-aws-123456789012-us-east-2c-ec2-i-0aaaaaaaaaaaaaaa1"
POD_A, POD_B = "istiod-6f9c7d8b5-x7k2p", "istiod-6f9c7d8b5-q4m9z"
STALE_EDS = {"CDS": "SYNCED", "LDS": "SYNCED", "EDS": "STALE", "RDS": "SYNCED"}


@pytest.fixture
def mesh(fake_kube: FakeKube) -> Iterator[FakeIstiod]:
    """bookinfo: EC2 synced, ECS stale, JWT connected without a proxy, GONE disconnected, an
    orphaned proxy and a pod's proxy; payments: CN synced. Two istiod replicas."""
    fake_kube.add(f.workload_group("ratings"))
    fake_kube.add(f.workload_group("ledger", "payments"))
    ec2 = f.ec2("aws", "123456789012", "us-east-2b", "i-1234567890abcdef0")
    ecs = f.ecs("123456789012", "us-east-1a", "bookinfo", "3a151358f03a4e32bf8cd401c1c74653")
    fake_kube.add(f.war(EC2, group="ratings", identity=ec2, ip="10.0.2.45"))
    fake_kube.add(f.war(ECS, group="ratings", identity=ecs, ip="10.10.4.19"))
    fake_kube.add(
        f.war(JWT, group="ratings", identity=f.jwt("vm007-datacenter1-us-east.internal.corp"))
    )
    gone = f.ec2("aws", "123456789012", "us-east-2a", "i-0f9e8d7c6b5a43210")
    fake_kube.add(
        f.war(
            GONE,
            group="ratings",
            identity=gone,
            connected="False",
            since="2024-05-16T11:58:00Z",
            ip="10.0.1.203",
        )
    )
    cn = f.ec2("aws-cn", "987654321098", "cn-north-1a", "i-0123456789abcdef1")
    fake_kube.add(f.war(CN, "payments", group="ledger", identity=cn, ip="172.31.5.10"))
    istiod = FakeIstiod(fake_kube)
    istiod.connect(f"{EC2}.bookinfo", replica=0)
    istiod.connect(f"{ECS}.bookinfo", STALE_EDS, replica=1)
    istiod.connect(f"{ORPHAN}.bookinfo", replica=1)
    istiod.connect("productpage-v1-54bb874995-h2jtm.bookinfo", replica=0)
    istiod.connect(f"{CN}.payments", replica=0, istio_version="1.19.10-tetrate2")
    yield istiod
    istiod.close()


def _env(kube_env: dict[str, str], tmp_path: Path, **fake: str) -> dict[str, str]:
    """kube_env with the stand-in istioctl first on PATH, configured by FAKE_ISTIOCTL_*."""
    env = dict(kube_env)
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env["FAKE_ISTIOCTL_LOG"] = str(tmp_path / "istioctl-argv.log")
    env.update({f"FAKE_ISTIOCTL_{k.upper()}": v for k, v in fake.items()})
    return env


def _argvs(tmp_path: Path) -> list[list[str]]:
    log = tmp_path / "istioctl-argv.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


# --- list -------------------------------------------------------------------------------

LIST_SYNC = f"""\
NAME{" " * 84}GROUP     PLATFORM   INSTANCE                                    ZONE         IP           AGENT CONNECTED   UP-TO-DATE   SIDECAR   AGE
{ECS}   ratings   ecs        bookinfo/3a151358f03a4e32bf8cd401c1c74653   us-east-1a   10.10.4.19   True              Yes          STALE     120m
{GONE}{" " * 25}ratings   ec2        i-0f9e8d7c6b5a43210                         us-east-2a   10.0.1.203   False (3m left)   Yes          <none>    120m
{EC2}{" " * 25}ratings   ec2        i-1234567890abcdef0                         us-east-2b   10.0.2.45    True              Yes          SYNCED    120m
{JWT}{" " * 28}ratings   jwt        vm007-datacenter1-us-east.internal.corp     <none>       10.0.0.1     True              Yes          MISSING   120m
"""  # noqa: E501


def test_list_sync_adds_a_sidecar_column_from_istiod(mesh: FakeIstiod, run_war: Run) -> None:
    r = run_war("list", "-n", "bookinfo", "--sync")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == LIST_SYNC


def test_list_reads_no_source_by_default(
    mesh: FakeIstiod, fake_kube: FakeKube, war_inproc: Run
) -> None:
    r = war_inproc("list", "-n", "bookinfo")
    assert r.returncode == 0
    assert "SIDECAR" not in r.stdout
    assert mesh.requests == []
    assert fake_kube.requests_to("/api/v1/namespaces/istio-system/pods") == []


def test_list_wide_adds_sidecar_and_istiod(mesh: FakeIstiod, war_inproc: Run) -> None:
    r = war_inproc("list", "-A", "-o", "wide")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    header = cells(lines[0])
    assert header[-1] == "ISTIOD" and header[header.index("AGE") - 1] == "SIDECAR"
    got = {
        row[1]: (row[header.index("SIDECAR")], row[-1])
        for row in (cells(line) for line in lines[1:])
    }
    assert got == {
        GONE: ("<none>", "<none>"),
        ECS: ("STALE", POD_B),
        EC2: ("SYNCED", POD_A),
        JWT: ("MISSING", "<none>"),
        CN: ("SYNCED", POD_A),
    }


UNANSWERED = (
    "no proxy-status source answered (istiod: no running istiod pods (label app=istiod) in "
    "namespace istio-system; pass --istio-namespace if istiod runs elsewhere; istioctl "
    "proxy-status failed (exit 1): Error: no running Istio pods); to fill it in, let istiod be "
    'read (list pods and get pods/proxy in namespace "istio-system"), put istioctl on PATH, '
    "or pass --proxy-status file:PATH with saved istioctl proxy-status output\n"
)


@pytest.mark.parametrize("args", [["-o", "wide"], ["--sync"], ["--sync", "-o", "wide"]])
def test_list_without_any_source_keeps_its_sidecar_column_and_says_why(
    fake_kube: FakeKube, kube_env: dict[str, str], war_inproc: Run, tmp_path: Path, args: list[str]
) -> None:
    fake_kube.add(f.war(EC2, group="ratings"))
    env = _env(kube_env, tmp_path, exit="1", stderr="Error: no running Istio pods")
    r = war_inproc("list", "-n", "bookinfo", *args, env=env)
    assert (r.returncode, r.stderr) == (0, "warning: SIDECAR is <none>: " + UNANSWERED)
    header, row = (cells(line) for line in r.stdout.splitlines())
    assert row[header.index("SIDECAR")] == "<none>"
    if "wide" in args:
        assert header[-1] == "ISTIOD" and row[-1] == "<none>"
    # Both sources were asked, once each.
    assert len(_argvs(tmp_path)) == 1
    assert fake_kube.requests_to("/api/v1/namespaces/istio-system/pods") != []


def test_list_sync_with_a_named_source_that_fails_is_an_error(
    fake_kube: FakeKube, kube_env: dict[str, str], war_inproc: Run, tmp_path: Path
) -> None:
    fake_kube.add(f.war(EC2, group="ratings"))
    r = war_inproc("list", "-n", "bookinfo", "--sync", "--proxy-status", "istiod")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == (
        "error: istiod: no running istiod pods (label app=istiod) in namespace istio-system; "
        "pass --istio-namespace if istiod runs elsewhere\n"
    )


def test_status_without_any_source_prints_its_table_and_says_why(
    fake_kube: FakeKube, kube_env: dict[str, str], war_inproc: Run, tmp_path: Path
) -> None:
    fake_kube.add(f.war(EC2, group="ratings"))
    env = _env(kube_env, tmp_path, exit="1", stderr="Error: no running Istio pods")
    r = war_inproc("status", "-n", "bookinfo", env=env)
    assert r.stderr == "warning: NOT SYNCED is <none>: " + UNANSWERED
    header, row = (cells(line) for line in r.stdout.splitlines()[:2])
    assert row[header.index("NOT SYNCED")] == "<none>"


def test_list_sync_with_source_none_is_a_usage_error(mesh: FakeIstiod, war_inproc: Run) -> None:
    r = war_inproc("list", "--sync", "--proxy-status", "none")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "error: --sync needs a --proxy-status source other than none\n"


def test_list_through_istioctl_matches_istiod(
    mesh: FakeIstiod, kube_env: dict[str, str], run_war: Run, tmp_path: Path
) -> None:
    saved = tmp_path / "ps.txt"
    saved.write_text(mesh.proxy_status_text())
    env = _env(kube_env, tmp_path, output=str(saved))
    r = run_war(
        "list",
        "-n",
        "bookinfo",
        "--proxy-status",
        "istioctl",
        "--kubeconfig",
        kube_env["KUBECONFIG"],
        "--context",
        "fake",
        env=env,
    )
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == LIST_SYNC
    assert _argvs(tmp_path) == [
        ["proxy-status", "--kubeconfig", kube_env["KUBECONFIG"], "--context", "fake"]
    ]


def test_list_from_a_saved_file_and_from_stdin(
    mesh: FakeIstiod, run_war: Run, tmp_path: Path
) -> None:
    saved = tmp_path / "syncz.json"
    saved.write_text(json.dumps(mesh.syncz(0) + mesh.syncz(1)))
    r = run_war("list", "-n", "bookinfo", "--proxy-status", f"file:{saved}")
    assert (r.returncode, r.stdout, r.stderr) == (0, LIST_SYNC, "")
    r = run_war("list", "-n", "bookinfo", "--proxy-status", "-", input=mesh.proxy_status_text())
    assert (r.returncode, r.stdout, r.stderr) == (0, LIST_SYNC, "")


@pytest.mark.parametrize(
    "data, message",
    [
        (
            "NAME     CDS     ISTIOD\nfoo      WHAT    istiod-1\n",
            "error: --proxy-status stdin: line 2: unknown CDS state 'WHAT': "
            "'foo  WHAT  istiod-1'\n",
        ),
        (
            "Traceback (most recent call last):\n",
            "error: --proxy-status stdin: line 1: not an istioctl proxy-status header: "
            "'Traceback (most recent call last):'\n",
        ),
        (
            '[{"proxy": "a.b", "cluster_sent": 5}]',
            "error: --proxy-status stdin: syncz[0].cluster_sent: expected a string, got a number\n",
        ),
        (
            "{",
            "error: --proxy-status stdin: line 1: invalid JSON (Expecting property name "
            "enclosed in double quotes): '{'\n",
        ),
    ],
)
def test_garbage_source_input_is_one_clean_error_line(
    mesh: FakeIstiod, war_inproc: Run, data: str, message: str
) -> None:
    for command in (["list", "--sync"], ["describe", EC2], ["proxy-status"]):
        r = war_inproc(*command, "-n", "bookinfo", "--proxy-status", "-", input=data)
        assert (r.returncode, r.stdout, r.stderr) == (1, "", message), command


def test_invalid_source_is_a_usage_error(mesh: FakeIstiod, war_inproc: Run) -> None:
    r = war_inproc("list", "--proxy-status", "pilot")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == (
        "error: invalid --proxy-status 'pilot': expected one of "
        "auto, istiod, istioctl, file:PATH, -, none\n"
    )


# --- describe ---------------------------------------------------------------------------


def _section(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(f"{title}:")
    end = start + 1
    while end < len(lines) and (lines[end].startswith(" ") or not lines[end]):
        end += 1
    return lines[start:end]


def test_describe_shows_the_sidecar_section_from_istiod(mesh: FakeIstiod, run_war: Run) -> None:
    r = run_war("describe", "-n", "bookinfo", ECS)
    assert (r.returncode, r.stderr) == (0, "")
    assert _section(r.stdout, "Sidecar") == [
        "Sidecar:",
        f"  Proxy:          {ECS}.bookinfo",
        "  State:          STALE",
        f"  Istiod:         {POD_B}",
        "  Istio Version:  1.20.8-tetrate1",
        "  Cluster:        Kubernetes",
        f"  Source:         istiod in istio-system ({POD_B}, {POD_A})",
        "  Types:",
        "    CDS:   SYNCED",
        "    LDS:   SYNCED",
        "    EDS:   STALE",
        "    RDS:   SYNCED",
        "    ECDS:  NOT SENT",
    ]
    # Between Registration and Events, as kubectl describe puts status before events.
    lines = r.stdout.splitlines()
    assert lines.index("Sidecar:") > lines.index("Registration:")
    assert lines[-1] == "Events:  <none>"


def test_describe_a_connected_workload_without_a_proxy_says_missing(
    mesh: FakeIstiod, war_inproc: Run
) -> None:
    r = war_inproc("describe", "-n", "bookinfo", JWT, GONE)
    assert r.returncode == 0
    blocks = r.stdout.split("\n\n\n")
    source = f"  Source:  istiod in istio-system ({POD_B}, {POD_A})"
    assert _section(blocks[0], "Sidecar") == [
        "Sidecar:",
        f"  Proxy:   {JWT}.bookinfo",
        "  State:   MISSING (the agent is connected, but no istiod knows this proxy)",
        source,
    ]
    assert _section(blocks[1], "Sidecar") == [
        "Sidecar:",
        f"  Proxy:   {GONE}.bookinfo",
        "  State:   <none> (not connected to any istiod)",
        source,
    ]


def test_describe_shows_errors_with_istiods_reason(fake_kube: FakeKube, war_inproc: Run) -> None:
    fake_kube.add(f.war(EC2, group="ratings"))
    istiod = FakeIstiod(fake_kube, replicas=1, resources=True, version="1.24.1")
    states = {"CDS": "SYNCED", "LDS": "ERROR", "EDS": "SYNCED", "RDS": "NOT SENT"}
    istiod.connect(f"{EC2}.bookinfo", states, errors={"LDS": "duplicate listener 0.0.0.0_80"})
    r = war_inproc("describe", "-n", "bookinfo", EC2)
    assert _section(r.stdout, "Sidecar")[2] == "  State:          ERROR"
    assert _section(r.stdout, "Sidecar")[-5:] == [
        "    CDS:   SYNCED",
        "    LDS:   ERROR (duplicate listener 0.0.0.0_80)",
        "    EDS:   SYNCED",
        "    RDS:   NOT SENT",
        "    ECDS:  IGNORED",
    ]


def test_describe_without_any_source_says_what_it_tried(
    fake_kube: FakeKube, kube_env: dict[str, str], war_inproc: Run, tmp_path: Path
) -> None:
    fake_kube.add(f.war(EC2, group="ratings"))
    env = _env(kube_env, tmp_path, exit="1", stderr='Error: no running Istio pods in "mesh"')
    r = war_inproc("describe", "-n", "bookinfo", EC2, "--istio-namespace", "mesh", env=env)
    assert (r.returncode, r.stderr) == (0, "")
    assert _section(r.stdout, "Sidecar") == [
        "Sidecar:",
        "  Source:  <none> (no proxy-status source answered)",
        "    istiod: no running istiod pods (label app=istiod) in namespace mesh; "
        "pass --istio-namespace if istiod runs elsewhere",
        '    istioctl proxy-status failed (exit 1): Error: no running Istio pods in "mesh"',
    ]
    assert _argvs(tmp_path) == [["proxy-status", "--istioNamespace", "mesh"]]


def test_describe_proxy_status_none_leaves_the_section_out(
    mesh: FakeIstiod, war_inproc: Run
) -> None:
    r = war_inproc("describe", "-n", "bookinfo", EC2, "--proxy-status", "none")
    assert r.returncode == 0
    assert "Sidecar:" not in r.stdout
    assert mesh.requests == []


def test_describe_json_computed_block_has_the_sidecar(mesh: FakeIstiod, war_inproc: Run) -> None:
    r = war_inproc("describe", "-n", "bookinfo", ECS, "-o", "json")
    assert r.returncode == 0
    assert json.loads(r.stdout)["computed"]["sidecar"] == {
        "proxy": f"{ECS}.bookinfo",
        "state": "STALE",
        "istiod": POD_B,
        "cluster": "Kubernetes",
        "istioVersion": "1.20.8-tetrate1",
        # istiod 1.20 leaves the never-sent ECDS out of syncz; istioctl shows it NOT SENT.
        "types": {**STALE_EDS, "ECDS": "NOT SENT"},
        "source": f"istiod in istio-system ({POD_B}, {POD_A})",
    }


# --- proxy-status -----------------------------------------------------------------------

PS_BOOKINFO = f"""\
NAME{" " * 84}GROUP     AGENT CONNECTED   SIDECAR   ISTIOD{" " * 19}VERSION
{ECS}   ratings   True              STALE     {POD_B}   1.20.8-tetrate1
{GONE}{" " * 25}ratings   False             <none>    <none>{" " * 19}<none>
{EC2}{" " * 25}ratings   True              SYNCED    {POD_A}   1.20.8-tetrate1
{ORPHAN}{" " * 25}ratings   <no WAR>          SYNCED    {POD_B}   1.20.8-tetrate1
{JWT}{" " * 28}ratings   True              MISSING   <none>{" " * 19}<none>
"""


def test_proxy_status_joins_every_war_with_its_sidecar_plus_orphans(
    mesh: FakeIstiod, war_inproc: Run
) -> None:
    r = war_inproc("proxy-status", "-n", "bookinfo")
    assert (r.returncode, r.stdout, r.stderr) == (1, PS_BOOKINFO, "")


def test_proxy_status_out_of_sync_shows_only_the_problems(
    mesh: FakeIstiod, war_inproc: Run
) -> None:
    r = war_inproc("proxy-status", "-n", "bookinfo", "--out-of-sync", "--no-headers")
    assert r.returncode == 1
    assert [cells(line)[0] for line in r.stdout.splitlines()] == [ECS, GONE, JWT]


def test_proxy_status_exits_0_when_every_sidecar_is_synced(
    mesh: FakeIstiod, war_inproc: Run
) -> None:
    r = war_inproc("proxy-status", "-n", "payments")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == (
        f"NAME{' ' * 65}GROUP    AGENT CONNECTED   SIDECAR   ISTIOD{' ' * 19}VERSION\n"
        f"{CN}   ledger   True              SYNCED    {POD_A}   1.19.10-tetrate2\n"
    )
    r = war_inproc("proxy-status", "-n", "payments", "--out-of-sync")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "All 1 sidecars are SYNCED.\n")


def test_proxy_status_exit_follows_a_sync(mesh: FakeIstiod, run_war: Run) -> None:
    mesh.set_states(f"{CN}.payments", EDS="STALE")
    assert run_war("proxy-status", "-n", "payments").returncode == 1
    mesh.set_states(f"{CN}.payments", EDS="SYNCED")
    assert run_war("proxy-status", "-n", "payments").returncode == 0


def test_proxy_status_all_namespaces_wide_shows_every_type(
    mesh: FakeIstiod, war_inproc: Run
) -> None:
    r = war_inproc("proxy-status", "-A", "-o", "wide")
    lines = r.stdout.splitlines()
    assert cells(lines[0]) == [
        "NAMESPACE",
        "NAME",
        "GROUP",
        "AGENT CONNECTED",
        "SIDECAR",
        "ISTIOD",
        "VERSION",
        "CLUSTER",
        "CDS",
        "LDS",
        "EDS",
        "RDS",
        "ECDS",
    ]
    rows = {cells(line)[1]: cells(line) for line in lines[1:]}
    assert list(rows) == [ECS, GONE, EC2, ORPHAN, JWT, CN]
    assert rows[ECS][-6:] == ["Kubernetes", "SYNCED", "SYNCED", "STALE", "SYNCED", "NOT SENT"]
    assert rows[JWT][-6:] == ["<none>"] * 6


def test_proxy_status_json_for_scripts(mesh: FakeIstiod, war_inproc: Run) -> None:
    r = war_inproc("proxy-status", "-n", "bookinfo", "-o", "json", "--out-of-sync")
    doc = json.loads(r.stdout)
    assert r.returncode == 1
    assert (doc["total"], doc["synced"]) == (5, 2)
    assert doc["source"] == f"istiod in istio-system ({POD_B}, {POD_A})"
    assert [
        (i["name"], i["war"], i["agentConnected"], i["sidecar"]["state"]) for i in doc["items"]
    ] == [
        (ECS, True, "True", "STALE"),
        (GONE, True, "False", None),
        (JWT, True, "True", "MISSING"),
    ]


def test_proxy_status_through_istioctl_when_istiod_is_unreachable(
    mesh: FakeIstiod,
    fake_kube: FakeKube,
    kube_env: dict[str, str],
    war_inproc: Run,
    tmp_path: Path,
) -> None:
    saved = tmp_path / "ps.txt"
    saved.write_text(mesh.proxy_status_text())
    fake_kube.forbid("get", "pods/proxy", "istio-system")
    env = _env(kube_env, tmp_path, output=str(saved))
    r = war_inproc("proxy-status", "-n", "bookinfo", env=env)
    assert (r.returncode, r.stdout, r.stderr) == (1, PS_BOOKINFO, "")
    assert _argvs(tmp_path) == [["proxy-status"]]


def test_proxy_status_without_any_source_fails(
    fake_kube: FakeKube, kube_env: dict[str, str], war_inproc: Run, tmp_path: Path
) -> None:
    fake_kube.add(f.war(EC2, group="ratings"))
    env = _env(kube_env, tmp_path, exit="1", stderr="Error: no running Istio pods")
    r = war_inproc("proxy-status", "-n", "bookinfo", env=env)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.startswith("error: no proxy-status source answered: istiod: ")
    assert r.stderr.count("\n") == 1
    r = war_inproc("proxy-status", "--proxy-status", "none")
    assert (r.returncode, r.stderr) == (
        1,
        "error: proxy-status needs a source: --proxy-status none leaves nothing to show\n",
    )


def test_proxy_status_in_an_empty_namespace(mesh: FakeIstiod, war_inproc: Run) -> None:
    r = war_inproc("proxy-status", "-n", "nowhere")
    assert (r.returncode, r.stdout, r.stderr) == (
        0,
        "",
        "No resources found in nowhere namespace.\n",
    )


def test_explicit_istiod_source_failing_is_an_error(
    mesh: FakeIstiod, fake_kube: FakeKube, war_inproc: Run
) -> None:
    mesh.break_replica(0, body=b"<html>", content_type="text/html")
    r = war_inproc("list", "-n", "bookinfo", "--proxy-status", "istiod")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == (
        f"error: istiod istio-system/{POD_A}: /debug/syncz: line 1: not JSON: '<html>'\n"
    )


# --- saved output of each istioctl release line ---------------------------------------------

PS = Path(__file__).parent / "fixtures" / "proxystatus"


JWT_DC2 = "reviews-jwt-my-corp--vm012.rack4.datacenter2.eu-west.internal.corp"


def _rows(stdout: str) -> dict[str, list[str]]:
    return {cells(line)[0]: cells(line) for line in stdout.splitlines()[1:]}


def test_saved_output_after_a_klog_warning_and_prompt_is_read_with_one_warning(
    mesh: FakeIstiod, war_inproc: Run
) -> None:
    path = PS / "saved-preamble.txt"
    r = war_inproc("proxy-status", "-n", "bookinfo", "--proxy-status", f"file:{path}")
    assert r.returncode == 1  # not every sidecar is SYNCED
    rows = _rows(r.stdout)
    assert rows[JWT] == [JWT, "ratings", "True", "SYNCED", "istiod-5b7c9d8f6c-a1s2d", "1.26.2"]
    assert rows[JWT_DC2] == [
        JWT_DC2, "reviews", "<no WAR>", "ERROR", "istiod-5b7c9d8f6c-z8x7c", "1.25.4"
    ]  # fmt: skip
    assert r.stderr == (
        f"warning: --proxy-status file:{path}: skipped 3 lines before the header: "
        "line 1 '$ istioctl proxy-status --context east', "
        "line 2 'W1129 10:00:00.123456  4242 warnings.go:70] unable to ret...', "
        "line 3 'Warning: 1 of 2 istiod replicas is not ready; proxies con...'\n"
    )


def test_saved_output_ending_in_an_error_is_read_up_to_it(
    mesh: FakeIstiod, war_inproc: Run
) -> None:
    path = PS / "saved-trailing-error.txt"
    r = war_inproc("proxy-status", "-n", "bookinfo", "--proxy-status", f"file:{path}")
    assert _rows(r.stdout)[JWT] == [
        JWT, "ratings", "True", "SYNCED", "istiod-7f8d9c6b5d-h6j3k", "1.19.3"
    ]  # fmt: skip
    assert r.stderr == (
        f"warning: --proxy-status file:{path}: stopped at line 5, not a row: "
        "line 5 'Error: failed to read istiod-7f8d9c6b5d-p9l2m: context de...' and 1 more\n"
    )


def test_tab_separated_output_keeps_its_empty_cluster(mesh: FakeIstiod, war_inproc: Run) -> None:
    path = PS / "saved-tabs.txt"
    r = war_inproc("proxy-status", "-n", "bookinfo", "-o", "wide", "--proxy-status", f"file:{path}")
    assert r.stderr == ""
    rows = _rows(r.stdout)
    assert rows[EC2][3:] == [
        "STALE", "istiod-6b5c8d7f9c-w2q8z", "1.12.9*", "<none>",
        "SYNCED", "SYNCED", "STALE (Never Acknowledged)", "SYNCED",
    ]  # fmt: skip
    assert rows[JWT][5:7] == ["1.13.4", "cp-us-east-1"]


def test_single_spaced_verbose_output_on_stdin(mesh: FakeIstiod, war_inproc: Run) -> None:
    data = (PS / "saved-collapsed-1.28-verbose.txt").read_text()
    r = war_inproc(
        "proxy-status", "-n", "bookinfo", "-o", "wide", "--proxy-status", "-", input=data
    )
    assert r.stderr == ""
    assert _rows(r.stdout)[JWT_DC2][3:] == [
        "STALE", "istiod-6c8d9f7b5d-u7i8o", "1.28.1", "cp-eu-west-1",
        "SYNCED", "SYNCED", "SYNCED", "NOT SENT", "STALE", "IGNORED", "IGNORED",
    ]  # fmt: skip


def test_istioctl_1_30_yaml_reads_like_its_json(mesh: FakeIstiod, war_inproc: Run) -> None:
    outputs = []
    for name in ("istio-1.30-multicluster.yaml", "istio-1.30-multicluster.json"):
        r = war_inproc("proxy-status", "-n", "bookinfo", "--proxy-status", f"file:{PS / name}")
        assert r.stderr == ""
        outputs.append(r.stdout)
    assert outputs[0] == outputs[1]
    assert _rows(outputs[0])[JWT] == [
        JWT, "ratings", "True", "SYNCED", "istiod-7d9f8c6b5c-k3l4m", "1.30.1"
    ]  # fmt: skip


def test_list_wide_and_describe_show_istioctls_version_star(
    mesh: FakeIstiod, war_inproc: Run
) -> None:
    source = f"file:{PS / 'istio-1.13-multicluster.txt'}"
    r = war_inproc("list", "-n", "bookinfo", "-o", "wide", "--proxy-status", source)
    rows = _rows(r.stdout)
    istio = cells(r.stdout.splitlines()[0]).index("ISTIO")
    assert rows[EC2][istio] == "1.9.8-15bc6e5e32*/default"  # reported with istioctl's `*`
    assert rows[JWT][istio] == "1.9.8-15bc6e5e32/default"
    r = war_inproc("describe", "-n", "bookinfo", EC2, "--proxy-status", source)
    assert (
        "  Istio Version:  1.12.9* (the proxy's Envoy version: istiod did not report its "
        "Istio version)" in r.stdout.splitlines()
    )
