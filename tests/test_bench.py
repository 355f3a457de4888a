"""`make bench`'s harness works: its quick mode measures every command once at a small
size, runs a small rollout with simulated agents, and reports a row for each target.

Timings are not asserted (they judge the machine, not the code): only that every target
named by issue #19 has its row, every command its line, and the exit code follows the
verdicts.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

from tests.fakekube import FakeKube

ROOT = Path(__file__).resolve().parent.parent

TARGETS = (
    "| `kubectl war --help` start-up |",
    "| `kubectl war --help` / `kubectl version --client`, pair by pair |",
    "| `kubectl war decode NAME` start-up |",
    "| `kubectl war decode NAME` / `kubectl version --client`, pair by pair |",
    "| `list -A` CPU per WAR / `kubectl get war -A`'s at 1,000 WARs |",
    "| `list -A` CPU per WAR / `kubectl get war -A`'s at 10,000 WARs |",
    "| `list -A` CPU per WAR / `kubectl get war -A`'s at 50,000 WARs |",
    "| `list -A` / `kubectl get war -A` wall time at 1,000 WARs |",
    "| peak RSS of `kubectl war list -A` at 50,000 WARs |",
    "| peak RSS of `kubectl war list -A -o wide` at 50,000 WARs |",
    "| peak RSS of `kubectl war list -A --sync --proxy-status istiod` at 50,000 WARs |",
    "| peak RSS of `kubectl war list -A -w` (to its first table) at 50,000 WARs |",
    "| peak RSS of `kubectl war list -A -o json` at 50,000 WARs |",
    "| peak RSS of `kubectl war list -A -o json` / `list -A`'s at 50,000 WARs |",
    "| peak RSS of `kubectl war list -A -o yaml` at 50,000 WARs |",
    "| peak RSS of `kubectl war list -A -o yaml` / `list -A`'s at 50,000 WARs |",
    "| peak RSS of `kubectl war status -A` at 50,000 WARs |",
    "| peak RSS of `kubectl war rollout GROUP -n NS --dry-run` at 50,000 WARs |",
    "| peak RSS of `kubectl war rollout --all-groups -A --dry-run` at 50,000 WARs |",
    "| peak RSS of `kubectl war rollout status -A --all-groups` at 50,000 WARs |",
    "| peak RSS of `kubectl war proxy-status -A` at 50,000 WARs |",
    "| peak RSS of `kubectl war describe -n NS NAME` (one WAR) at 50,000 WARs |",
    "| `list -A` time linear in N |",
    "| fake server's share of `list -A`'s wall time (worst size) |",
    "| rollout of 12 WARs at --max-unavailable 25%: wall time / sum of its batches' agent delays |",
    "| rollout of 12 WARs at --max-unavailable 25%: last WAR of a batch back → next "
    "batch's first DELETE (worst) |",
    "| rollout of 12 WARs at --max-unavailable 25%: most WARs unavailable at once "
    "(server's record) |",
)

COMMANDS = (
    "`kubectl get war -A`",
    "`kubectl get war -A -o json`",
    "`kubectl war list -A`",
    "`kubectl war list -A -o wide`",
    "`kubectl war list -A --sync --proxy-status istiod`",
    "`kubectl war list -A -w` (to its first table)",
    "`kubectl war list -A -o json`",
    "`kubectl war list -A -o yaml`",
    "`kubectl war status -A`",
    "`kubectl war rollout GROUP -n NS --dry-run`",
    "`kubectl war rollout --all-groups -A --dry-run`",
    "`kubectl war rollout status -A --all-groups`",
    "`kubectl war proxy-status -A`",
    "`kubectl war describe -n NS NAME` (one WAR)",
)


def test_quick_bench_reports_every_target_and_command(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    # The venv's pinned kubectl first, as `make bench` runs it.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, PATH=path)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "200", "--runs", "1",
         "--quick", "--output", str(out)],
        capture_output=True, text=True, env=env, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    text = out.read_text()
    targets = [line for line in text.splitlines() if line.startswith("| ")]
    for target in TARGETS:
        rows = [line for line in targets if line.startswith(target)]
        assert len(rows) == 1, (target, rows)
        assert rows[0].endswith(("| met |", "| **MISSED** |", "| not measured |")), rows[0]
    section = text.split("### 200 WARs", 1)[1].split("### Peak RSS", 1)[0]
    for label in COMMANDS:
        assert f"| {label} | " in section, label
    # The rollout's batches: 12 WARs, 3 at a time (25% of 12).
    rollout = text.split("## Rollout of 12 WARs at `--max-unavailable 25%`", 1)[1]
    rollout = rollout.split("\n## ", 1)[0]
    batches = [line.split(" | ")[:2] for line in rollout.splitlines() if re.match(r"\| \d", line)]
    assert batches == [["| 1", "3"], ["| 2", "3"], ["| 3", "3"], ["| 4", "3"]]
    # Exit 1 exactly when a target row says MISSED, each one named on stderr.
    missed = [line for line in targets if line.endswith("| **MISSED** |")]
    assert done.returncode == (1 if missed else 0)
    for line in missed:
        assert f"MISSED: {line.split(' | ')[0][2:]}: " in done.stderr


def test_only_the_rollout(tmp_path: Path) -> None:
    out = tmp_path / "rollout.md"
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, PATH=path)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--only", "rollout", "--quick",
         "--output", str(out)],
        capture_output=True, text=True, env=env, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    text = out.read_text()
    table = text.split("\n## Targets\n", 1)[1].split("\n## ", 1)[0]
    targets = [line for line in table.splitlines() if line.startswith("| ")]
    rollout_rows = [line for line in targets if line.startswith("| rollout of 12 WARs")]
    assert len(rollout_rows) == 3
    assert all(row.endswith(("| met |", "| **MISSED** |")) for row in rollout_rows)
    # Nothing else was run: no start-up command, no size.
    assert not [line for line in targets if "start-up" in line]
    startup = text.split("\n## Start-up\n", 1)[1].split("\n## ", 1)[0]
    assert not [line for line in startup.splitlines() if line.startswith("| `")]
    assert "| sizes, rounds | no WARs; " in text
    assert "\n### 100 WARs" not in text
    rollout = text.split("## Rollout of 12 WARs at `--max-unavailable 25%`", 1)[1]
    rollout = rollout.split("\n## ", 1)[0]
    batches = [line.split(" | ")[:2] for line in rollout.splitlines() if re.match(r"\| \d", line)]
    assert batches == [["| 1", "3"], ["| 2", "3"], ["| 3", "3"], ["| 4", "3"]]
    missed = [row for row in rollout_rows if row.endswith("| **MISSED** |")]
    assert done.returncode == (1 if missed else 0)


def test_only_rollout_and_no_rollout_contradict_each_other() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--only", "rollout", "--no-rollout"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--only rollout and --no-rollout contradict each other" in done.stderr


def test_kubectl_rate_limiter_waits_are_read_from_its_log() -> None:
    """The waits client-go logs at -v=3, in both spellings it has used; nothing else."""
    sys.path.insert(0, str(ROOT))
    from bench.harness import throttle_waits

    log = (
        'I1207 00:43:59.345015   17293 request.go:685] "Waited before sending request" '
        'delay="159.255744ms" reason="client-side throttling, not priority and fairness" '
        'verb="GET" URL="http://127.0.0.1:1/apis/x?limit=500"\n'
        "I0615 16:05:15.481530 1384109 request.go:665] Waited for 1.179551114s due to "
        "client-side throttling, not priority and fairness, request: GET:https://h/apis\n"
        'I1207 00:43:58.551695   17293 round_trippers.go:632] "Response" verb="GET" '
        'status="200 OK" milliseconds=6\n'
    )
    total, count = throttle_waits(log)
    assert count == 2
    assert abs(total - 1.338807) < 1e-6
    assert throttle_waits("") == (0.0, 0)


def test_a_wall_ratio_says_what_it_measures_when_a_wait_dominates() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.harness import Run, Series
    from bench.report import SizeResult

    def series(wall: float, server: float) -> Series:
        return Series([Run(wall, 50.0, [], wall / 2, server)])

    quiet = SizeResult(1_000, 1.0, {"get": series(1.0, 0.1), "list": series(1.0, 0.0)}, "g")
    quiet.throttle = (1.0, 0.2, 1)
    assert quiet.wall_note() == ""
    slow_server = SizeResult(1_000, 1.0, {"get": series(1.0, 0.3), "list": series(1.0, 0.0)}, "g")
    assert slow_server.wall_note() == (
        "the server took 30% of kubectl's wall time: the wall ratio at this size measures "
        "the server"
    )
    limited = SizeResult(10_000, 1.0, {"get": series(4.0, 0.1), "list": series(1.0, 0.0)}, "g")
    limited.throttle = (4.0, 2.0, 9)
    assert limited.wall_note() == (
        "kubectl's own rate limiter held its requests back for 50% of its wall time: the "
        "wall ratio at this size measures that wait"
    )


def _ms(cell: str) -> int:
    match = re.fullmatch(r"\*{0,2}(-?\d+) ms\*{0,2}", cell.strip().rstrip("|").strip())
    assert match, cell
    return int(match.group(1))


def test_the_floor_under_the_cpu_target_is_measured_and_added_up(tmp_path: Path) -> None:
    """At 1,000 WARs the bench measures what every command pays before the plugin's own
    code (kubectl's dispatch, the imports) and sets it against the target's budget."""
    out = tmp_path / "BENCHMARKS.md"
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "1000", "--runs", "1",
         "--quick", "--no-rollout", "--output", str(out)],
        capture_output=True, text=True, env=dict(os.environ, PATH=path), timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    text = out.read_text()
    (verdict,) = [
        line
        for line in text.splitlines()
        if line.startswith("| `list -A` CPU per WAR / `kubectl get war -A`'s at 1,000 WARs |")
    ]
    assert "the floor alone (kubectl's plugin dispatch and the imports every command needs) is" in (
        verdict
    )
    assert re.search(r"and the least list of WARs this design allows \(`bench/least_list.py`\) "
                     r"\d\.\d\d×\)", verdict), verdict  # fmt: skip
    section = text.split("## The floor under the CPU target at 1,000 WARs", 1)[1]
    section = section.split("\n## ", 1)[0]
    cells = {
        line.split(" | ")[0][2:]: line.split(" | ")[1:]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| run ")
    }
    runs = {
        label: _ms(cells[label][0])
        for label in (
            "`kubectl war --help`",
            "`kubectl-war --help` (no kubectl)",
            "`python -c 'import click, yaml; <the client modules>'` (collection off)",
            "`kubectl war list -n <no WARs>`",
            "`kubectl get war -n <no WARs>`",
            "`kubectl war-least -A` (`bench/least_list.py`: namespace and name of each WAR)",
        )
    }
    dispatch = _ms(cells["kubectl's plugin dispatch"][0])
    imports = _ms(cells["Python and the imports every cluster-reading command needs"][0])
    floor = _ms(cells["**the floor**"][0])
    # Each derived row is the sum or difference of the measured ones (to rounding).
    assert (
        abs(dispatch - (runs["`kubectl war --help`"] - runs["`kubectl-war --help` (no kubectl)"]))
        <= 1
    )
    assert (
        imports == runs["`python -c 'import click, yaml; <the client modules>'` (collection off)"]
    )
    assert abs(floor - (dispatch + imports)) <= 1
    own = _ms(cells["the plugin's own fixed cost (`list` of no WARs, less the floor)"][0])
    assert abs(own - (runs["`kubectl war list -n <no WARs>`"] - floor)) <= 1
    assert re.search(
        r"^The floor takes \d+% of the target's budget and (is over it by|leaves) \d+ ms for "
        r"the plugin's own start and its 1,000 rows, which take -?\d+ ms\.$",
        section,
        re.M,
    ), section
    least = _ms(
        cells["the least list this design allows (`bench/least_list.py` through kubectl)"][0]
    )
    assert (
        least
        == runs["`kubectl war-least -A` (`bench/least_list.py`: namespace and name of each WAR)"]
    )
    assert re.search(
        rf"^The least list this design allows \(.*\) takes {least} ms, \d\.\d\d× kubectl's CPU\. "
        r"It (is over the target's budget by \d+ ms: in this run even a list|leaves \d+ ms of the "
        r"target's budget for everything `kubectl war list -A` does beyond printing names)",
        section,
        re.M,
    ), section


def test_the_least_list_prints_every_war_of_every_page_and_asks_for_nothing_else(
    fake_kube: FakeKube,
    make_kubeconfig: Callable[..., str],
    make_kube_env: Callable[[str], dict[str, str]],
    kubectl_bin: str,
    tmp_path: Path,
) -> None:
    """The lower bound the bench sets beside `list -A` (bench/least_list.py, run through
    kubectl as the bench runs it) does the work any list must: every WAR of every
    namespace, in the server's order, over paged requests for WARs and nothing else."""
    sys.path.insert(0, str(ROOT))
    try:
        from bench.run import least_plugin
    finally:
        sys.path.remove(str(ROOT))
    fake_kube.seed_large_fleet(1_201)  # three pages of 500
    env = make_kube_env(make_kubeconfig(fake_kube))
    plugin = least_plugin(tmp_path / "least-bin")
    env["PATH"] = os.pathsep.join([str(plugin.parent), env["PATH"]])
    fake_kube.requests.clear()
    done = subprocess.run(
        [kubectl_bin, "war-least", "-A"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    wars = [o["metadata"] for o in fake_kube.objects("workloadautoregistrations")]
    assert len(wars) == 1_201
    assert done.stdout.splitlines() == ["NAMESPACE   NAME"] + [
        f"{m['namespace']}   {m['name']}" for m in wars
    ]
    asked = [(r.method, r.path, r.query.get("limit"), bool(r.query.get("continue")))
             for r in fake_kube.requests]  # fmt: skip
    path = "/apis/runtime.onboarding.tetrate.io/v1alpha1/workloadautoregistrations"
    assert asked == [
        ("GET", path, ["500"], False),
        ("GET", path, ["500"], True),
        ("GET", path, ["500"], True),
    ]


def test_the_floors_import_run_has_collection_off_as_its_label_says() -> None:
    """The floor's import run is what its row names: the three dependencies imported with
    the collector off from the first line, in a fresh interpreter."""
    sys.path.insert(0, str(ROOT))
    try:
        from bench.report import FLOOR_IMPORTS, FLOOR_RUNS
    finally:
        sys.path.remove(str(ROOT))
    assert FLOOR_RUNS["imports"].endswith("(collection off)")
    probe = FLOOR_IMPORTS + (
        "import gc, sys\n"
        "print(gc.isenabled(), 'click' in sys.modules, 'yaml' in sys.modules,"
        " 'kubernetes.client.rest' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "False True True True\n"
