"""`kubectl war list -o jsonpath|custom-columns`, `-L`, `--show-labels` and `--sort-by EXPR`
against `kubectl get war` on the same fake API server: the same bytes, the same exit.

The printers' own edge cases are in test_printers_kubectl.py (engine against kubectl); these
check the wiring: the document `list` hands the printers, its sorting, its table's label
columns, the flags' parsing, and the other commands' documents.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sysconfig
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from tests import inproc
from tests.conftest import FIXED_NOW
from tests.factories import war
from tests.fakekube import Clock, FakeKube

Run = Callable[..., Any]


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
    `cluster("get", "war", ...)` runs kubectl, `cluster("war", "list", ...)` the plugin: in
    this process (tests/inproc.py), or through kubectl's plugin lookup with ``e2e=True``."""
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

        def run(*args: str, e2e: bool = False) -> Any:
            if args[0] == "war" and not e2e:
                return inproc.run(args[1:], env)
            return subprocess.run(
                [kubectl_bin, *args], capture_output=True, text=True, env=env, timeout=30
            )

        yield run
    finally:
        fake.stop()


def _same(cluster: Run, *args: str, e2e: bool = False) -> Any:
    """`kubectl get war ARGS` and `kubectl war list ARGS`: same stdout, exit and error line."""
    theirs = cluster("get", "war", *args)
    ours = cluster("war", "list", *args, e2e=e2e)
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
    _same(cluster, "-A", "-o", f"jsonpath-file={path}", e2e=True)
    _same(cluster, "-A", "-o", f"jsonpath-file={tmp_path / 'missing'}", e2e=True)


def test_missing_keys_refused(cluster: Run) -> None:
    r = _same(
        cluster,
        "-n",
        "labelled",
        "-o",
        "jsonpath={.items[*].metadata.nothing}",
        "--allow-missing-template-keys=false",
        e2e=True,
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


# ---- -w: each change in the chosen printer -----------------------------------------------


class _Follower:
    """A running `kubectl ... -w` whose stdout lines are collected as they arrive."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, n: int, timeout: float = 60.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.lines) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.lines) >= n, (self.lines, self.stop())
        return list(self.lines)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        return err


WATCHED = [
    ("-o", 'jsonpath={.metadata.name}{"\\t"}{.status.conditions[0].status}{"\\n"}'),
    ("-o", "custom-columns=NAME:.metadata.name,CONNECTED:.status.conditions[0].status"),
    ("--output-watch-events", "-o", 'jsonpath={.type} {.object.metadata.name}{"\\n"}'),
    ("-o", 'jsonpath={.metadata.name}{"\\n"}', "--sort-by", ".spec.extra.n"),
]


@pytest.mark.parametrize("flags", WATCHED)
def test_watch_prints_each_change_in_the_printer(
    fake_kube: FakeKube, kubectl_bin: str, kube_env: dict[str, str], flags: tuple[str, ...]
) -> None:
    fake_kube.add_all(_labelled_wars()[:3])
    env = dict(kube_env, KUBECTL_WAR_NOW=FIXED_NOW)
    header = 1 if "custom-columns" in flags[-1] or "custom-columns" in flags[1] else 0
    theirs = _Follower([kubectl_bin, "get", "war", "-n", "labelled", "-w", *flags], env)
    ours = _Follower([kubectl_bin, "war", "list", "-n", "labelled", "-w", *flags], env)
    try:
        before = [f.wait_for(header + 3) for f in (theirs, ours)]
        assert before[0] == before[1]

        def lost(obj: dict[str, Any]) -> None:
            obj["status"]["conditions"][0]["status"] = "False"

        fake_kube.update(
            "workloadautoregistrations", "labelled", "lab-1", lost, subresource="status"
        )
        fake_kube.add(war("lab-new", "labelled", connected="False"))
        after = [f.wait_for(header + 5) for f in (theirs, ours)]
        assert after[0] == after[1]
    finally:
        errors = [f.stop() for f in (theirs, ours)]
    assert errors[1] == errors[0]


def test_watch_error_in_the_first_batch(cluster: Run) -> None:
    args = ("-n", "labelled", "-w", "-o", "jsonpath={.nothing}", "--allow-missing-template-keys=0")
    theirs = cluster("get", "war", *args)
    ours = cluster("war", "list", *args)
    assert (ours.stdout, ours.returncode) == (theirs.stdout, theirs.returncode) == ("", 1)
    assert ours.stderr == theirs.stderr
    assert ours.stderr.startswith("error: unable to output the provided object: error executing")


# ---- the other documents, and many contexts -----------------------------------------------


def test_contexts_document(fleet: Any, war_inproc: Run, run_kubectl: Run) -> None:
    names = '-o=jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}'
    ours = war_inproc("list", "-A", "--contexts", "east,west", names, env=fleet.env)
    each = [
        run_kubectl("get", "war", "-A", "--context", c, names, env=fleet.env)
        for c in ("east", "west")
    ]
    assert (ours.stdout, ours.returncode) == ("".join(r.stdout for r in each), 0)
    spans = war_inproc(
        "list", "-A", "--contexts", "east,west", "-o", "jsonpath={.contexts[*].name}", env=fleet.env
    )
    assert spans.stdout == "east west"
    table = war_inproc(
        "list", "-A", "--contexts", "east,west", "-L", "app", "--show-labels", env=fleet.env
    )
    header = re.split(" {3,}", table.stdout.splitlines()[0])
    assert (header[0], header[-2:]) == ("CONTEXT", ["APP", "LABELS"])


def _json(cluster: Run, *args: str) -> Any:
    r = cluster("war", *args, "-o", "json")
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def test_status_document(cluster: Run) -> None:
    doc = _json(cluster, "status", "-A", "--proxy-status", "none")
    r = cluster(
        "war", "status", "-A", "--proxy-status", "none", "-o", "jsonpath={.healthy} {.totals}"
    )
    totals = json.dumps(doc["totals"], separators=(",", ":"), sort_keys=True)
    healthy = str(doc["healthy"]).lower()
    assert (r.stdout, r.returncode) == (f"{healthy} {totals}", 0 if doc["healthy"] else 1)
    r = cluster(
        "war",
        "status",
        "-A",
        "--proxy-status",
        "none",
        "-o",
        "custom-columns=NS:.namespace,WARS:.total",
    )
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NS", "WARS"]
    assert [line.split() for line in lines[1:]] == [
        [g["namespace"], str(g["total"])] for g in doc["groups"]
    ]


def test_describe_document(cluster: Run) -> None:
    doc = _json(cluster, "describe", "-n", "labelled", "-l", "size", "--proxy-status", "none")
    r = cluster(
        "war",
        "describe",
        "-n",
        "labelled",
        "-l",
        "size",
        "--proxy-status",
        "none",
        "-o",
        "custom-columns=NAME:.metadata.name,FRESH:.computed.freshness",
    )
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()[1:]]
    assert [row[0] for row in rows] == [item["metadata"]["name"] for item in doc["items"]]
    assert len(rows) == 5


def test_rollout_status_document(cluster: Run) -> None:
    doc = _json(cluster, "rollout", "status", "--all-groups", "-A")
    r = cluster(
        "war", "rollout", "status", "--all-groups", "-A", "-o", "jsonpath={.groups[*].name}"
    )
    assert r.stdout == " ".join(g["name"] for g in doc["groups"])
    assert r.returncode == cluster("war", "rollout", "status", "--all-groups", "-A").returncode


def test_go_templates_are_refused_with_a_pointer(cluster: Run) -> None:
    for fmt in ("go-template={{.kind}}", "go-template-file=x", "template={{.}}"):
        r = cluster("war", "list", "-A", "-o", fmt)
        name = fmt.partition("=")[0]
        assert (r.stdout, r.returncode) == ("", 1)
        assert r.stderr == (
            f"error: -o {name} is not supported: use -o jsonpath=TEMPLATE, or -o json | jq "
            "for anything a JSONPath cannot express\n"
        )


def test_unknown_format_names_every_format(cluster: Run) -> None:
    r = cluster("war", "list", "-o", "xml")
    assert (r.stdout, r.returncode) == ("", 1)
    # kubectl's words, and like kubectl no pointer at the help: the formats are listed.
    assert r.stderr == (
        "error: unable to match a printer suitable for the "
        'output format "xml", allowed formats are: custom-columns,custom-columns-file,json,'
        "jsonpath,jsonpath-as-json,jsonpath-file,kyaml,name,table,wide,yaml\n"
    )
    r = cluster("war", "version", "-o", "jsonpath={.x}")
    assert r.returncode == 1
    assert "allowed formats are: json,kyaml,text,yaml" in r.stderr


def test_a_bad_template_fails_before_any_request(cluster: Run) -> None:
    r = cluster("war", "status", "-A", "-o", "jsonpath={.items[", "--server", "http://127.0.0.1:9")
    assert (r.stdout, r.stderr, r.returncode) == (
        "",
        "error: error parsing jsonpath {.items[, unterminated array\n",
        1,
    )


_LOADED = (
    "import sys\n"
    "from kubectl_war.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "engine = ('jsonpath', 'jsonpath_parser', 'custom_columns', 'sort', 'tabwriter', 'gofmt')\n"
    "sys.stderr.write('LOADED ' + ' '.join(m for m in engine\n"
    "    if 'kubectl_war.printers.' + m in sys.modules) + '\\n')\n"
)


def _engine_loaded(env: dict[str, str], *args: str) -> str:
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _LOADED, *args], env=env, capture_output=True, text=True, timeout=60
    )
    return done.stderr.splitlines()[-1]


def test_printers_load_only_when_chosen(fake_kube: FakeKube, kube_env: dict[str, str]) -> None:
    assert _engine_loaded(kube_env, "list", "-A") == "LOADED "
    assert _engine_loaded(kube_env, "list", "-A", "-L", "app", "--sort-by", "name") == "LOADED "
    assert _engine_loaded(kube_env, "list", "-A", "-o", "jsonpath={.kind}").startswith(
        "LOADED jsonpath jsonpath_parser"
    )
