"""`kubectl war list -o jsonpath|custom-columns`, `-L`, `--show-labels` and `--sort-by EXPR`
against `kubectl get war` on the same fake API server: the same bytes, the same exit.

The printers' own edge cases are in test_printers_kubectl.py (engine against kubectl); these
check the wiring: the document `list` hands the printers, its sorting, its table's label
columns, the flags' parsing, and the other commands' documents.
"""

from __future__ import annotations

import os
import re
import subprocess
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.conftest import FIXED_NOW
from tests.factories import war
from tests.fakekube import Clock, FakeKube

Run = Callable[..., "subprocess.CompletedProcess[str]"]


def _labelled_wars() -> list[dict[str, Any]]:
    """WARs whose labels make the label-column cases: prefixed keys, empty values, none,
    and sort keys with numbers, quantities and ties."""
    out = []
    sizes = ["500m", "2", "1Gi", "3", "2"]
    for i, size in enumerate(sizes):
        labels = {"app.kubernetes.io/name": f"svc-{i % 2}", "size": size, "z": "", "a": "1"}
        obj = war(f"lab-{i}", "labelled", labels=labels, created=f"2024-05-16T0{9 - i}:00:00Z")
        obj["spec"]["extra"] = {"n": (i * 3) % 4, "list": [i, "x"]}
        out.append(obj)
    out.append(war("lab-bare", "labelled", connected=None, ip=None))
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, kubectl_bin: str) -> Iterator[Run]:
    """One fake cluster for the module (the demo fleet and the labelled WARs):
    `cluster("get", "war", ...)` runs kubectl, `cluster("war", "list", ...)` the plugin."""
    fake = FakeKube(clock=Clock(FIXED_NOW)).start()
    try:
        fake.seed_fleet()
        fake.add_all(_labelled_wars())
        home = tmp_path_factory.mktemp("home")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
        env["HOME"] = str(home)
        env["KUBECONFIG"] = fake.write_kubeconfig(home / "kubeconfig", context="fake")
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        env["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), env.get("PATH", "")])
        env["KUBECTL_WAR_NOW"] = FIXED_NOW
        env.pop("NO_COLOR", None)

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [kubectl_bin, *args], capture_output=True, text=True, env=env, timeout=30
            )

        yield run
    finally:
        fake.stop()


def _same(cluster: Run, *args: str) -> subprocess.CompletedProcess[str]:
    """`kubectl get war ARGS` and `kubectl war list ARGS`: same stdout, exit and error line."""
    theirs = cluster("get", "war", *args)
    ours = cluster("war", "list", *args)
    assert (ours.stdout, ours.returncode) == (theirs.stdout, theirs.returncode), (
        ours.stderr,
        theirs.stderr,
    )
    # kubectl ends a few sort failures through klog: "F0516 12:00:00.000000 PID file:line] ..."
    klog = re.fullmatch(r"F\d{4} [\d:.]+ +\d+ \S+\] (.*)", theirs.stderr, re.S)
    assert ours.stderr == (f"error: {klog.group(1)}" if klog else theirs.stderr)
    return ours


TEMPLATES = [
    "{.items[*].metadata.name}",
    "{.kind} {.apiVersion} {.metadata}",
    "{@}",
    '{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\t"}{.metadata.labels}{"\\n"}{end}',
    "{.items[0].metadata.managedFields[0].manager}",
    "{.items[?(@.spec.extra.n>1)].metadata.name}",
    "{.items[?(@.metadata.labels.size)].metadata.labels['app\\.kubernetes\\.io/name']}",
    "{..ip}",
    "{.items[-1:].status.conditions[0]}",
    "{.items[*].nothing}",
    "{range .items[*]}{.metadata.name}",
    "{.items[",
    "{.items[0].spec.extra.n[0]}",
]


@pytest.mark.parametrize("where", [("-A",), ("-n", "labelled"), ("-n", "nowhere")])
@pytest.mark.parametrize("template", TEMPLATES)
def test_jsonpath(cluster: Run, template: str, where: tuple[str, ...]) -> None:
    _same(cluster, *where, "-o", f"jsonpath={template}")


@pytest.mark.parametrize(
    "template", ["{.items[*].metadata.name}", "{.items[0].spec.extra}", "{.nothing}"]
)
def test_jsonpath_as_json(cluster: Run, template: str) -> None:
    _same(cluster, "-n", "labelled", "-o", f"jsonpath-as-json={template}")


def test_jsonpath_file(cluster: Run, tmp_path: Path) -> None:
    path = tmp_path / "names.jsonpath"
    path.write_text('{range .items[*]}{.metadata.name}{"\\n"}{end}')
    _same(cluster, "-A", "-o", f"jsonpath-file={path}")
    _same(cluster, "-A", "-o", f"jsonpath-file={tmp_path / 'missing'}")


def test_missing_keys_refused(cluster: Run) -> None:
    r = _same(
        cluster,
        "-n",
        "labelled",
        "-o",
        "jsonpath={.items[*].metadata.nothing}",
        "--allow-missing-template-keys=false",
    )
    assert r.returncode == 1


COLUMNS = [
    "NAME:.metadata.name,NS:.metadata.namespace",
    "NAME:metadata.name,LABELS:.metadata.labels,SIZE:{.metadata.labels.size}",
    "N:.metadata.name,IPS:.spec.registration.host.addresses[*].ip,NONE:.spec.nothing",
    "N:.metadata.name,C:.status.conditions[?(@.type=='AgentConnected')].status",
    "A:.metadata.name,B",
    "A:.items[",
]


@pytest.mark.parametrize("spec", COLUMNS)
def test_custom_columns(cluster: Run, spec: str) -> None:
    _same(cluster, "-A", "-o", f"custom-columns={spec}")


def test_custom_columns_no_headers_and_file(cluster: Run, tmp_path: Path) -> None:
    _same(cluster, "-A", "-o", "custom-columns=N:.metadata.name,T:.metadata.uid", "--no-headers")
    path = tmp_path / "columns.txt"
    path.write_text("NAME   ZONE\n.metadata.name   {.spec.identity.aws.zone}\n")
    _same(cluster, "-A", "-o", f"custom-columns-file={path}")


SORT_KEYS = [
    ".metadata.name",
    "metadata.creationTimestamp",
    "{.metadata.namespace}",
    ".metadata.labels.size",
    ".spec.extra.n",
    ".spec.extra.list",
    ".spec.identity.aws.zone",
    ".status.conditions[0].lastTransitionTime",
    ".nothing",
    "{.items[}",
]


@pytest.mark.parametrize("key", SORT_KEYS)
def test_sort_by_with_template_printers(cluster: Run, key: str) -> None:
    _same(
        cluster,
        "-A",
        "-o",
        "custom-columns=NS:.metadata.namespace,N:.metadata.name",
        "--sort-by",
        key,
    )
    _same(cluster, "-A", "-o", "jsonpath={.items[*].metadata.name}", "--sort-by", key)


def _columns(text: str) -> tuple[list[str], list[list[str]]]:
    """A kubectl-style table's headers and rows, cut where each header starts (a cell may
    be empty, so splitting on spaces would not do)."""
    lines = text.splitlines()
    if not lines:
        return [], []
    starts = [m.start() for m in re.finditer(r"(?:(?<=   )|^)\S", lines[0])]
    ends = [*starts[1:], None]
    names = [lines[0][a:b].strip() for a, b in zip(starts, ends)]
    return names, [[line[a:b].strip() for a, b in zip(starts, ends)] for line in lines[1:]]


def _order(text: str) -> list[tuple[str, str]]:
    names, rows = _columns(text)
    if not names:
        return []
    ns, name = names.index("NAMESPACE"), names.index("NAME")
    return [(row[ns], row[name]) for row in rows]


@pytest.mark.parametrize("key", SORT_KEYS)
def test_sort_by_in_tables(cluster: Run, key: str) -> None:
    theirs = cluster("get", "war", "-A", "--sort-by", key)
    ours = cluster("war", "list", "-A", "--sort-by", key)
    if theirs.stdout or theirs.returncode:
        assert ours.returncode == theirs.returncode, (ours.stderr, theirs.stderr)
        klog = re.fullmatch(r"F\d{4} [\d:.]+ +\d+ \S+\] (.*)", theirs.stderr, re.S)
        assert ours.stderr == (f"error: {klog.group(1)}" if klog else theirs.stderr)
        assert _order(ours.stdout) == _order(theirs.stdout)
        return
    # Where no WAR has the field or the expression does not parse, kubectl's table says
    # "No resources found" (exit 0), hiding the mistake; here it is an error.
    assert (theirs.stdout, theirs.stderr, theirs.returncode) == ("", "No resources found\n", 0)
    assert (ours.stdout, ours.stderr, ours.returncode) == ("", TABLE_SORT_ERRORS[key], 1)


TABLE_SORT_ERRORS = {
    ".nothing": 'error: couldn\'t find any field with path "{.nothing}" in the list of objects\n',
    "{.items[}": "error: sorting error: unterminated array\n",
}


LABEL_FLAGS = [
    ("--show-labels",),
    ("-L", "size"),
    ("-L", "size,app.kubernetes.io/name", "-L", "z", "--show-labels"),
    ("-L", "missing", "-o", "wide"),
    ("--show-labels", "-o", "wide", "-L", "a"),
]


@pytest.mark.parametrize("where", [("-A",), ("-n", "labelled")])
@pytest.mark.parametrize("flags", LABEL_FLAGS)
def test_label_columns(cluster: Run, flags: tuple[str, ...], where: tuple[str, ...]) -> None:
    theirs = cluster("get", "war", *where, *flags)
    ours = cluster("war", "list", *where, *flags)
    assert (ours.returncode, theirs.returncode) == (0, 0), (ours.stderr, theirs.stderr)
    kubectl_header = theirs.stdout.splitlines()[0].split()
    label_cols = kubectl_header[kubectl_header.index("AGE") + 1 :]
    assert ours.stdout.splitlines()[0].split()[-len(label_cols) :] == label_cols

    def cells(text: str) -> dict[str, list[str]]:
        names, rows = _columns(text)
        at = names.index("NAME")
        return {row[at]: row[len(row) - len(label_cols) :] for row in rows}

    assert cells(ours.stdout) == cells(theirs.stdout)


def test_label_values_as_kubectl_prints_them(cluster: Run) -> None:
    r = cluster(
        "war", "list", "-n", "labelled", "-L", "size,app.kubernetes.io/name,z", "--show-labels"
    )
    names, rows = _columns(r.stdout)
    assert names[-4:] == ["SIZE", "NAME", "Z", "LABELS"]
    by_name = {row[0]: row[-4:] for row in rows}
    assert by_name["lab-1"] == ["2", "svc-1", "", "a=1,app.kubernetes.io/name=svc-1,size=2,z="]
    assert by_name["lab-bare"] == ["", "", "", "<none>"]
