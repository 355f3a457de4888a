"""kubectl_war.printers against the pinned kubectl: same bytes, same exit, same error line.

Each case runs `kubectl get war -A -o X [--sort-by K]` once against a fake API server seeded
with the demo fleet plus a few odd WARs (nulls, floats, quantities, ties), and applies the
printer to the List kubectl itself hands its printers (`-o json --show-managed-fields`).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from kubectl_war.errors import WarError
from kubectl_war.printers import make_printer
from tests.conftest import FIXED_NOW
from tests.factories import war
from tests.fakekube import Clock, FakeKube

Run = Callable[..., "subprocess.CompletedProcess[str]"]


def _odd_wars() -> list[dict[str, Any]]:
    """WARs whose fields make the edge cases: nulls, numbers, quantities, equal keys."""
    out = []
    sizes = ["500m", "2", "1Gi", "1k", "3", "0.1"]
    for i, size in enumerate(sizes):
        obj = war(f"odd-{i}", "zz-odd", labels={"size": size, "tier": "b" if i % 2 else "a"})
        obj["spec"]["registration"]["workload"]["labels"]["weight"] = str(i % 3)
        obj["spec"]["extra"] = {"n": (i * 7) % 5, "f": i / 4, "none": None, "list": [i, "x"]}
        out.append(obj)
    plain = war("odd-plain", "zz-odd", connected=None, ip=None)
    out.append(plain)
    return out


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, kubectl_bin: str) -> Iterator[Run]:
    """One fake cluster for the module: kubectl is the slow part, so it is started once."""
    fake = FakeKube(clock=Clock(FIXED_NOW)).start()
    try:
        fake.seed_fleet()
        fake.add_all(_odd_wars())
        home = tmp_path_factory.mktemp("home")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
        env["HOME"] = str(home)
        env["KUBECONFIG"] = fake.write_kubeconfig(home / "kubeconfig", context="fake")
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        env["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), env.get("PATH", "")])

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [kubectl_bin, *args], capture_output=True, text=True, env=env, timeout=30
            )

        yield run
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def document(fleet: Run) -> dict[str, Any]:
    """The List kubectl's printers receive (managed fields included, as jsonpath sees them)."""
    proc = fleet("get", "war", "-A", "-o", "json", "--show-managed-fields")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _ours(output: str, doc: dict[str, Any], **kwargs: Any) -> tuple[str, int, str]:
    out = io.StringIO()
    try:
        printer = make_printer(output, **kwargs)
        assert printer is not None
        printer.print(doc, out)
    except WarError as exc:
        return out.getvalue(), exc.exit_code, f"error: {exc.message}\n"
    return out.getvalue(), 0, ""


def _compare(fleet: Run, doc: dict[str, Any], output: str, *extra: str, **kwargs: Any) -> None:
    theirs = fleet("get", "war", "-A", "-o", output, *extra)
    stdout, code, stderr = _ours(output, doc, **kwargs)
    assert (stdout, code) == (theirs.stdout, theirs.returncode), theirs.stderr
    if theirs.returncode:
        # kubectl ends a few sort failures through klog: "F0516 12:00:00.000000 PID file:line] ..."
        klog = re.fullmatch(r"F\d{4} [\d:.]+ +\d+ \S+\] (.*)", theirs.stderr, re.S)
        assert stderr == (f"error: {klog.group(1)}" if klog else theirs.stderr)


JSONPATHS = [
    "{.items[*].metadata.name}",
    "{.kind} {.apiVersion}",
    "plain text, no action",
    "{$.items[0].metadata.name}",
    "{.items[0]}",
    "{.items[0].metadata.labels}",
    "{.items[-1].metadata.name}",
    "{.items[-2:].metadata.name}",
    "{.items[1:7:2].metadata.name}",
    "{.items[::5].metadata.name}",
    "{.items[3:3]}",
    "{.items[]}",
    "{.items[0,2,4].metadata.name}",
    "{.items[0]['metadata.name']}",
    "{.items[*]['metadata']['namespace']}",
    "{.items[0].spec.registration.host.addresses[*].ip}",
    "{..creationTimestamp}",
    "{.items[0]..ip}",
    "{.items[?(@.metadata.namespace=='payments')].metadata.name}",
    '{.items[?(@.metadata.namespace!="bookinfo")].metadata.name}',
    "{.items[?(@.spec.extra.n>2)].metadata.name}",
    "{.items[?(@.spec.extra.n<2)].metadata.name}",
    "{.items[?(@.spec.extra.n>=3)].metadata.name}",
    "{.items[?(@.spec.extra.n<=1)].metadata.name}",
    "{.items[?(@.spec.extra.f>0.5)].metadata.name}",
    "{.items[?(@.status)].metadata.name}",
    "{.items[?(@.metadata.labels.tier)].metadata.name}",
    "{.items[?(@.status.conditions[0].status=='False')].metadata.name}",
    '{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}',
    "{range .items[*]}{.metadata.name}{'\\t'}{.status.conditions[0].status}{'\\n'}{end}",
    "{range .items[?(@.spec.extra)]}[{range .spec.extra.list[*]}{@},{end}]{end}",
    "{range .items[0:2]}{.metadata.name}{end} after",
    "{range .items[?(@.metadata.name=='none')]}{.x}{end}empty range",
    "{.items[*].spec.extra.none}",
    "{.items[*].spec.extra.f}",
    "{.items[*].spec.extra.list}",
    "{.items[*].status.observedGeneration}",
    "{.items[0].metadata.name[*]}",
    "{.items[0].metadata.namespace.*}",
    "{.items[0].spec.registration.agent.*}",
    "{range .items[*].spec.extra.none}{@};{end}",
    "{range .items[*]}{.spec.extra.none}{end}",
    "{.items[?(@.spec.extra.list[0]==3)].spec.extra}",
    "{.items[?(@.metadata.name=='odd-1')].spec.extra.list[-1]}",
    "{range .items[*]}{range .status.conditions[*]}{.type}={.status} {end}{end}",
    "{.nothing.here}",
    "{.items[*].nothing}",
    "{.}",
    "{}",
    "{@}",
    '{"\\u00e9\\x41\\101"}',
    "{.items[*].metadata.name}{end}",
    "{range .items[*]}{.metadata.name}",
    "{.items[99]}",
    "{.items[-99]}",
    "{.items[2:1]}",
    "{.items[::0]}",
    "{.kind[0]}",
    "{.items[?(@.metadata.labels.size>1)].metadata.name}",
    "{.items[?(@.spec.extra.list[*]=='x')]}",
    "{.metadata[?(@.x)]}",
    "{.items[0].bogus()}",
    "{foo}",
    "{.items[",
    "{.items[?(@.a}",
    "{.items[?(@.a)",
    "{.items",
    "{.items[a]}",
    "{.items[1:x]}",
    "{..a..b}",
    "{....a}",
    "{*}",
    "{'unterminated}",
    "{.items[*].metadata.name",
    '{"bad \\q escape"}',
    "{1.2.3}",
    "{.items[?(@.spec.extra.n=1)]}",
]


@pytest.mark.parametrize("template", JSONPATHS)
def test_jsonpath(fleet: Run, document: dict[str, Any], template: str) -> None:
    _compare(fleet, document, f"jsonpath={template}")


@pytest.mark.parametrize(
    "template",
    [
        "{.items[*].metadata.name}",
        "{.items[0].spec.extra}{.kind}",
        "{.nothing}",
        "{range .items[0:2]}{.metadata.name}{end}",
    ],
)
def test_jsonpath_as_json(fleet: Run, document: dict[str, Any], template: str) -> None:
    _compare(fleet, document, f"jsonpath-as-json={template}")


@pytest.mark.parametrize(
    "template", ["{.items[*].metadata.nothing}", "{.items[0].spec.extra.none.deeper}"]
)
def test_missing_keys_refused(fleet: Run, document: dict[str, Any], template: str) -> None:
    _compare(
        fleet,
        document,
        f"jsonpath={template}",
        "--allow-missing-template-keys=false",
        allow_missing_keys=False,
    )


def test_jsonpath_file(fleet: Run, document: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "t.jsonpath"
    path.write_text('{range .items[*]}{.metadata.name}{"\\n"}{end}')
    _compare(fleet, document, f"jsonpath-file={path}")
    _compare(fleet, document, f"jsonpath-file={tmp_path / 'missing'}")


@pytest.mark.parametrize("output", ["jsonpath", "jsonpath=", "custom-columns", "custom-columns="])
def test_format_without_value(fleet: Run, document: dict[str, Any], output: str) -> None:
    _compare(fleet, document, output)


COLUMNS = [
    "NAME:.metadata.name,NS:.metadata.namespace",
    "NAME:metadata.name,CREATED:{.metadata.creationTimestamp}",
    "NAME:{metadata.name},IPS:.spec.registration.host.addresses[*].ip",
    "N:.metadata.name,LABELS:.metadata.labels",
    "N:.metadata.name,EXTRA:.spec.extra",
    "N:.metadata.name,LIST:.spec.extra.list,NONE:.spec.extra.none,F:.spec.extra.f",
    "N:.metadata.name,COND:.status.conditions[?(@.type=='AgentConnected')].status",
    "N:.metadata.name,MISSING:.spec.nothing",
    "ONLY:.metadata.name",
    "EMPTY:",
    "A:.metadata.name,B",
    "A:{.metadata.name}{.kind}",
    "A:.items[",
    "A:.metadata.name,B:.metadata.name[x]",
    "A:.metadata.name[99]",
]


@pytest.mark.parametrize("spec", COLUMNS)
def test_custom_columns(fleet: Run, document: dict[str, Any], spec: str) -> None:
    _compare(fleet, document, f"custom-columns={spec}")


def test_custom_columns_no_headers(fleet: Run, document: dict[str, Any]) -> None:
    spec = "custom-columns=NAME:.metadata.name,AGENT:.spec.registration.agent.version"
    _compare(fleet, document, spec, "--no-headers", no_headers=True)


@pytest.mark.parametrize(
    "text",
    [
        "NAME   NAMESPACE\n.metadata.name   {.metadata.namespace}\n",
        "NAME\tIP\r\nmetadata.name\t.spec.registration.host.addresses[0].ip",
        "NAME NS\n.metadata.name\n",
        "NAME\n",
        "",
    ],
)
def test_custom_columns_file(
    fleet: Run, document: dict[str, Any], tmp_path: Path, text: str
) -> None:
    path = tmp_path / "columns.txt"
    path.write_text(text)
    _compare(fleet, document, f"custom-columns-file={path}")


def test_custom_columns_file_errors(fleet: Run, document: dict[str, Any], tmp_path: Path) -> None:
    _compare(fleet, document, f"custom-columns-file={tmp_path / 'missing'}")
    _compare(fleet, document, f"custom-columns-file={tmp_path}")


SORT_KEYS = [
    ".metadata.name",
    "metadata.creationTimestamp",
    "{.metadata.namespace}",
    ".spec.extra.n",
    ".spec.extra.f",
    ".metadata.labels.size",
    ".metadata.labels.tier",
    ".spec.registration.workload.labels.weight",
    ".status.conditions[0].lastTransitionTime",
    ".spec.registration.host.addresses[*].ip",
    ".spec.identity.aws.zone",
    ".nothing",
    "{.items[}",
    "{.a}{.b}",
]


@pytest.mark.parametrize("key", SORT_KEYS)
def test_sort_by(fleet: Run, document: dict[str, Any], key: str) -> None:
    output = "custom-columns=NS:.metadata.namespace,NAME:.metadata.name"
    _compare(fleet, document, output, "--sort-by", key, sort_by=key)


def test_sort_by_with_jsonpath(fleet: Run, document: dict[str, Any]) -> None:
    output = "jsonpath={range .items[*]}{.metadata.name} {end}"
    _compare(fleet, document, output, "--sort-by", ".spec.extra.list", sort_by=".spec.extra.list")
