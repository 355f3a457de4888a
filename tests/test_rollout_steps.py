"""The exact steps of a progressive rollout, through real kubectl against FakeKube with
simulated agents: an interrupted check runs again first, a WorkloadGroup changed
mid-way stops the rollout, a pause ends when nothing is left, a check's result is its
exit status, its output costs bounded memory, and a refused DELETE is recorded so."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakekube import Clock, FakeKube
from tests.fakekube.onboarding import OnboardingPlane
from tests.test_cli_rollout import A1, B1, C1, NO_SOURCE, P, deletes, seed
from tests.test_rollout_shared import Running, lease_state

Run = Callable[..., subprocess.CompletedProcess[str]]
ROLLOUT = ("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "1", "--yes", *NO_SOURCE)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def plane(fake_kube: FakeKube) -> Iterator[OnboardingPlane]:
    with OnboardingPlane(fake_kube, delay=0.1, lifetime=60) as p:
        yield p


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body)
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(path))}"


def test_an_interrupted_check_runs_again_before_anything_else_is_deleted(
    fake_kube: FakeKube,
    kubectl_bin: str,
    war_env: dict[str, str],
    war: Run,
    plane: OnboardingPlane,
    tmp_path: Path,
) -> None:
    seed(fake_kube, per_zone=1)
    marker = tmp_path / "checked-once"
    check = script(
        tmp_path,
        "check.py",
        "import os, pathlib, sys, time\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n"
        "    marker.touch()\n"
        "    print('first', flush=True)\n"
        "    time.sleep(60)\n"
        "e = os.environ\n"
        "print('again batch', e['KUBECTL_WAR_BATCH'], 'wars', e['KUBECTL_WAR_WARS'])\n",
    )
    first = Running(kubectl_bin, war_env, *ROLLOUT, "--check", check)
    first.until(lambda line: line == "  | first")
    first.proc.send_signal(signal.SIGTERM)
    code, _, _ = first.finish()
    assert code == 143
    assert deletes(fake_kube) == [A1]

    again = war(*ROLLOUT, "--check", check)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[:6] == [
        "WorkloadGroup bookinfo/ratings: 2 WARs to re-onboard in 2 batches of up to 1 "
        "(max unavailable 1 of 3 connected)",
        "batch 1/3: an earlier run stopped while its checks ran: running them again first",
        f'batch 1/3: running check "{check}"',
        f"  | again batch 1 wars {A1}",
        f'batch 1/3: check "{check}" passed',
        "batch 2/3: deleting 1 WAR",  # numbered on
    ]
    assert deletes(fake_kube) == [A1, B1, C1]


def test_a_workloadgroup_changed_during_the_rollout_stops_it_and_the_rerun_takes_it_in(
    fake_kube: FakeKube, kube_clock: Clock, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)

    def later(req: Any) -> None:
        if req.method == "PATCH" and "/workloadgroups/" in req.path:
            kube_clock.advance(60)  # the change comes after the re-created WAR joined

    fake_kube.request_hooks.append(later)
    patch = json.dumps({"spec": {"template": {"labels": {"rev": "b"}}}})
    check = f"kubectl patch workloadgroup ratings -n bookinfo --type merge -p {shlex.quote(patch)}"
    done = war(*ROLLOUT, "--check", check)
    assert done.returncode == 1
    assert done.stderr.startswith(
        "error: WorkloadGroup bookinfo/ratings changed during the rollout (generation 2 is now "
        "3): the rollout stopped; run it again to re-onboard the WARs outdated by this change "
        "too\n"
    ), done.stderr
    assert "rolled out" not in done.stdout
    assert deletes(fake_kube) == [A1]

    again = war(*ROLLOUT, "--dry-run")
    assert again.stdout.splitlines()[0] == (
        "WorkloadGroup bookinfo/ratings: 3 WARs to re-onboard in 3 batches of up to 1 "
        "(max unavailable 1 of 3 connected)"
    )


def test_a_pause_left_by_a_failed_check_is_cleared_when_nothing_is_left(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane, tmp_path: Path
) -> None:
    seed(fake_kube, per_zone=1, joining=1)  # a WAR whose agent never connects
    last_fails = script(
        tmp_path,
        "last.py",
        "import os, sys\n"
        "e = os.environ\n"
        "sys.exit(1 if e['KUBECTL_WAR_BATCH'] == e['KUBECTL_WAR_BATCHES'] else 0)\n",
    )
    args = ("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "3", "--yes", *NO_SOURCE)
    assert war(*args, "--check", last_fails).returncode == 1
    paused = war("rollout", "status", "ratings", "-n", "bookinfo")
    assert "rollout paused after batch" in paused.stdout
    again = war(*args, "--check", last_fails)
    assert (again.returncode, again.stdout.splitlines()[-1]) == (0, "Nothing to roll out.")
    status = war("rollout", "status", "ratings", "-n", "bookinfo")
    assert status.returncode == 1  # the never-connected WAR is missing
    assert status.stdout == (
        "NAME      UP-TO-DATE   OUTDATED   UNKNOWN   DISCONNECTED   MISSING   BLOCKED   "
        "ROLLED OUT\n"
        "ratings   3            0          0         0              1         0         No\n"
    )


def test_a_checks_result_is_its_exit_status_and_its_leftover_children_are_stopped(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane, tmp_path: Path
) -> None:
    seed(fake_kube, per_zone=1)
    pidfile = tmp_path / "child.pid"
    check = f"sh -c 'sleep 30 & echo $! > {pidfile}; echo started; exit 0'"
    done = war(*ROLLOUT, "--max-unavailable", "3", "--check", check, "--check-timeout", "5s")
    assert done.returncode == 0, done.stderr
    assert f'batch 1/1: check "{check}" passed\n' in done.stdout
    child = int(pidfile.read_text())
    stat = Path(f"/proc/{child}/stat")
    # Stopped, not waited for: gone, or a zombie nobody reaped yet.
    assert not stat.exists() or stat.read_text().split()[2] == "Z"


def test_a_check_printing_without_end_adds_under_50_mb() -> None:
    probe = (
        "import os, resource\n"
        "from kubectl_war.rollout.progressive import parse_check, run_check\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "run = run_check(parse_check('cat /dev/zero'), os.environ, timeout=3,\n"
        "                on_line=lambda line: None, interrupted=lambda: False)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(run.timed_out, (after - before) // 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert done.returncode == 0, done.stderr
    timed_out, added_mb = done.stdout.split()
    assert timed_out == "True"
    assert int(added_mb) < 50


def test_a_delete_refused_with_403_is_recorded_as_refused(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    fake_kube.forbid("delete", "workloadautoregistrations")
    done = war(*ROLLOUT)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: could not delete WAR bookinfo/{A1} (")
    (entry,) = lease_state(fake_kube)["inFlight"]
    assert (entry["name"], entry["outcome"]) == (A1, "refused")
    assert fake_kube.get("workloadautoregistrations", "bookinfo", P + "us-east-2a-ec2-i-a1")
