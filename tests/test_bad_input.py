"""Wrong input gets one clear line and kubectl's exit code (1, usage errors too), never a
traceback; odd objects never break a command."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import factories as f
from tests.factories import Run
from tests.fakekube import FakeKube


def _clean(r: subprocess.CompletedProcess[str], code: int, starts: str) -> None:
    assert r.returncode == code, r
    assert r.stdout == ""
    assert r.stderr.startswith(f"error: {starts}"), r.stderr
    assert "Traceback" not in r.stderr
    # One line, or kubectl's usage hint after it.
    lines = r.stderr.splitlines()
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("See '"))


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["list", "-o", "bogus"], "unable to match a printer suitable for the output format"),
        (["list", "--sort-by", "size"], 'invalid argument for "--sort-by" flag: "size" is neither'),
        (["list", "--no-such-flag"], "unknown flag: --no-such-flag"),
        (["frobnicate"], 'unknown command "frobnicate" for "kubectl war"'),
        (["list", "--chunk-size", "-1"], "invalid value -1 for --chunk-size"),
        (["list", "--chunk-size", "many"], 'invalid argument "many" for "--chunk-size" flag'),
        (["list", "--request-timeout", "abc"], 'invalid value "abc" for --request-timeout'),
        (["list", "--grace-period", "-1m"], 'invalid value "-1m" for --grace-period'),
        (
            ["list", "--disconnected", "--older-than", "soon"],
            'invalid value "soon" for --older-than',
        ),
        (["list", "--older-than", "5m"], "--older-than goes with --disconnected"),
        (["delete", "--all", "--timeout", "x"], 'invalid value "x" for --timeout'),
        (["decode", "?"], 'cannot decode "?": expected'),
        (["decode"], "Missing argument 'NAME...'"),
    ],
)
def test_usage_errors_exit_1_as_kubectls_do(
    fake_kube: FakeKube, war_inproc: Run, args: list[str], starts: str
) -> None:
    _clean(war_inproc(*args), 1, starts)


def test_kubeconfig_that_is_a_directory(tmp_path: Path, run_war: Run) -> None:
    _clean(run_war("list", "--kubeconfig", str(tmp_path)), 1, f"cannot read kubeconfig {tmp_path}")


def test_empty_kubeconfig(tmp_path: Path, war_inproc: Run) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    _clean(war_inproc("list", "--kubeconfig", str(empty)), 1, "")


def test_kubeconfig_whose_context_names_a_missing_cluster(tmp_path: Path, war_inproc: Run) -> None:
    kc = tmp_path / "kc"
    kc.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "contexts:\n- name: c\n  context: {cluster: gone, user: u}\n"
        "users:\n- name: u\n  user: {token: t}\nclusters: []\n"
    )
    _clean(war_inproc("list", "--kubeconfig", str(kc)), 1, "")


def test_unknown_identity_kinds_are_listed_not_fatal(fake_kube: FakeKube, war_inproc: Run) -> None:
    fake_kube.add(
        f.war(
            "vm-gcp",
            identity={
                "gcp": {
                    "projectId": "p",
                    "projectNumber": "1",
                    "region": "europe-west1",
                    "zone": "europe-west1-b",
                    "gce": {"instanceId": "4242"},
                }
            },
        )
    )
    fake_kube.add(
        f.war(
            "vm-azure",
            identity={
                "azure": {
                    "subscription": "s",
                    "resourceGroup": "g",
                    "compute": {"instanceId": "az-1"},
                }
            },
        )
    )
    fake_kube.add(f.war("vm-mystery", identity={"quantum": {"qubit": 7}}))
    r = war_inproc("list", "-n", "bookinfo", "--no-headers")
    assert (r.returncode, r.stderr) == (0, "")
    rows = {line.split()[0]: line.split()[1:5] for line in r.stdout.splitlines()}
    assert rows == {
        "vm-azure": ["<none>", "azure", "az-1", "<none>"],
        "vm-gcp": ["<none>", "gcp", "4242", "europe-west1-b"],
        "vm-mystery": ["<none>", "unknown", "<none>", "<none>"],
    }


NO_CONTROL_PLANE = (
    "warning: who admits the workloads of JWT issuer corp unknown: a WAR names its issuer by "
    "short name only, and the ControlPlane cannot be read (no ControlPlane in namespace "
    "istio-system)\n"
)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda o: o.update(spec="a string"),
        lambda o: o.update(status=[1, 2]),
        lambda o: o["metadata"].update(creationTimestamp="yesterday"),
        lambda o: o["spec"]["registration"].update(host={"addresses": "10.0.0.1"}),
        lambda o: o["spec"]["registration"]["sidecar"].update(istio=None),
        lambda o: o.update(status={"conditions": {"type": "AgentConnected"}}),
        lambda o: o.update(
            status={
                "conditions": [
                    {"type": "AgentConnected", "status": "True", "lastTransitionTime": 12}
                ]
            }
        ),
    ],
)
def test_malformed_objects_never_break_list_or_describe(
    fake_kube: FakeKube, war_inproc: Run, mangle: Any
) -> None:
    obj = f.war("odd-jwt-corp--host", group="odd")
    mangle(obj)
    fake_kube.add(obj)
    fake_kube.add(f.war("fine-jwt-corp--host", group="fine"))
    for args in (
        ["list", "-o", "wide"],
        ["describe", "--group", "odd"],
        ["describe", "odd-jwt-corp--host", "-o", "json"],
    ):
        r = war_inproc(*args, "-n", "bookinfo")
        # -o wide says once that no sidecar source answered (there is no istiod here).
        err = r.stderr.partition("warning: SIDECAR is <none>: ")
        stderr = err[0] + err[2].partition("\n")[2] if err[1] else r.stderr
        # describe says once that a WAR naming its JWT issuer by short name only cannot
        # be judged without the ControlPlane (there is none here).
        stderr = stderr.replace(NO_CONTROL_PLANE, "", 1) if args[0] == "describe" else stderr
        assert (r.returncode, stderr) == (0, ""), (args, r.stderr)
        assert "odd-jwt-corp--host" in r.stdout
