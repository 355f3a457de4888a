"""Progressive rollouts through real kubectl against FakeKube with simulated agents: a
canary batch and the pause after it, checks between batches, approval on a terminal, and
how `rollout status` reports a rollout stopped on purpose."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.factories import Batches, on_terminal, wait_until
from tests.fakekube import FakeKube
from tests.fakekube.onboarding import OnboardingPlane
from tests.test_cli_rollout import A1, A2, B1, B2, C1, C2, NO_SOURCE, deletes, seed

Run = Callable[..., subprocess.CompletedProcess[str]]
ROLLOUT = ("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "2", *NO_SOURCE)
RESUME = "kubectl war rollout ratings -n bookinfo --max-unavailable 2 --proxy-status none"


@pytest.fixture
def plane(fake_kube: FakeKube) -> Iterator[OnboardingPlane]:
    with OnboardingPlane(fake_kube, delay=0.1, lifetime=300) as p:
        yield p


def script(tmp_path: Path, name: str, body: str) -> str:
    """A check: a Python script run by this interpreter, as the command line to pass."""
    path = tmp_path / name
    path.write_text(body)
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(path))}"


# ---- --canary ------------------------------------------------------------------------------


def test_a_canary_of_1_stops_without_a_terminal_and_the_same_command_finishes_the_rollout(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=2)
    first = war(*ROLLOUT, "--canary", "1", "--yes")
    assert first.returncode == 0, first.stderr
    assert first.stdout == (
        "WorkloadGroup bookinfo/ratings: 6 WARs to re-onboard in 4 batches of up to 2, "
        "the first a canary of 1 (max unavailable 2 of 6 connected)\n"
        "batch 1/4: deleting 1 WAR\n"
        f"{A1}: deleted, waiting to be re-created\n"
        f"{A1}: back\n"
        "batch 1/4: all back\n"
        "Paused after the canary (batch 1/4 of WorkloadGroup bookinfo/ratings, 1 WAR back); "
        "5 WARs left to re-onboard.\n"
        "Re-onboarded so far: 1 WAR.\n"
        "To continue, run the same command again:\n"
        f"  {RESUME} --canary 1 --yes\n"
    )
    assert first.stderr == ""
    assert plane.deleted() == [A1]

    status = war("rollout", "status", "ratings", "-n", "bookinfo")
    assert status.returncode == 1
    assert status.stdout == (
        "NAME      UP-TO-DATE   OUTDATED   UNKNOWN   DISCONNECTED   MISSING   BLOCKED   "
        "ROLLED OUT\n"
        "ratings   1            5          0         0              0         0         Paused\n"
        "WorkloadGroup bookinfo/ratings: rollout paused after batch 1/4 (canary); "
        "continue it with:\n"
        "  kubectl war rollout resume ratings -n bookinfo\n"
    )
    data = json.loads(war("rollout", "status", "ratings", "-n", "bookinfo", "-o", "json").stdout)
    assert data["groups"][0]["paused"] == {
        "namespace": "bookinfo",
        "name": "ratings",
        "reason": "canary",
        "after": True,
        "batch": 1,
        "batches": 4,
        "wars": [A1],
        "message": "paused after the canary (batch 1/4 of WorkloadGroup bookinfo/ratings, "
        "1 WAR back); 5 WARs left to re-onboard",
    }

    again = war(*ROLLOUT, "--canary", "1", "--yes")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(
        "WorkloadGroup bookinfo/ratings: 5 WARs to re-onboard in 3 batches of up to 2 "
        "(max unavailable 2 of 6 connected)\n"
    )
    assert again.stdout.endswith("Rollout complete: 5 WARs re-onboarded.\n")
    # Batches are numbered on after the canary: KUBECTL_WAR_BATCH=1 is the canary only.
    assert "batch 2/4: deleting 2 WARs\n" in again.stdout
    assert "batch 1/" not in again.stdout
    # The server's own record: each WAR deleted once, never more than 2 unavailable.
    counts = Counter(plane.deleted())
    assert set(counts) == {A1, A2, B1, B2, C1, C2} and max(counts.values()) == 1
    assert fake_kube.max_unavailable("bookinfo", "ratings") == 2
    done = war("rollout", "status", "ratings", "-n", "bookinfo", "-o", "json")
    assert (done.returncode, "paused" in json.loads(done.stdout)["groups"][0]) == (0, False)


def test_a_canary_zone_by_zone_stays_in_the_first_zone(fake_kube: FakeKube, war: Run) -> None:
    seed(fake_kube, per_zone=2)
    done = war(*ROLLOUT, "--max-unavailable", "3", "--canary", "50%", "--zone-by-zone",
               "--dry-run", "-o", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    batches = json.loads(done.stdout)["groups"][0]["batches"]
    assert [(b.get("canary", False), [m["instance"] for m in b["members"]]) for b in batches] == [
        (True, ["i-a1", "i-a2"]),  # 50% would be 3: no batch spans zones, the canary neither
        (False, ["i-b1", "i-b2"]),
        (False, ["i-c1", "i-c2"]),
    ]
    assert [b.get("zone") for b in batches] == ["us-east-2a", "us-east-2b", "us-east-2c"]


def test_a_canary_is_never_larger_than_max_unavailable_allows(
    fake_kube: FakeKube, war: Run
) -> None:
    seed(fake_kube, per_zone=2)
    done = war(*ROLLOUT, "--canary", "5", "--dry-run")
    assert done.stdout.splitlines()[0] == (
        "WorkloadGroup bookinfo/ratings: 6 WARs to re-onboard in 3 batches of up to 2, "
        "the first a canary of 2 (max unavailable 2 of 6 connected)"
    )


def test_with_canary_pause_and_no_terminal_the_rollout_waits_then_goes_on(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    at = time.monotonic()
    done = war(*ROLLOUT, "--canary", "1", "--canary-pause", "1s", "--yes")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - at > 1.0
    lines = done.stdout.splitlines()
    assert lines[4:6] == [
        "batch 1/2: all back",
        "batch 1/2: canary back; pausing 1s (--canary-pause)",
    ]
    assert lines[-1] == "Rollout complete: 3 WARs re-onboarded."
    assert plane.deleted() == Batches([A1], [B1, C1])


def test_the_summary_of_a_paused_rollout_says_where_and_why(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    done = war(*ROLLOUT, "--canary", "1", "--yes", "-o", "json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["result"], summary["reOnboarded"]) == ("paused", 1)
    assert summary["paused"]["reason"] == "canary"
    assert (summary["paused"]["batch"], summary["paused"]["wars"]) == (1, [A1])


# ---- --check ---------------------------------------------------------------------------------

# Flushed before it writes to stderr: into a pipe, stdout is buffered until exit (unless
# PYTHONUNBUFFERED is set), and the order of its lines is part of what the test checks.
SHOW_ENV = """\
import os, sys
e = os.environ
print("batch", e["KUBECTL_WAR_BATCH"], "of", e["KUBECTL_WAR_BATCHES"], e["KUBECTL_WAR_NAMESPACE"],
      e["KUBECTL_WAR_GROUP"], "context", e["KUBECTL_WAR_CONTEXT"], "kubeconfig", e["KUBECONFIG"])
print("wars", e["KUBECTL_WAR_WARS"])
print("ips", e["KUBECTL_WAR_IPS"], flush=True)
if e["KUBECTL_WAR_BATCH"] == "2":
    print("ratings answered 503", file=sys.stderr)
    sys.exit(3)
"""


def test_a_check_that_fails_on_the_second_batch_stops_the_rollout_naming_it(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane, war_env: dict[str, str], tmp_path: Path
) -> None:
    seed(fake_kube, per_zone=2)
    check = script(tmp_path, "health.py", SHOW_ENV)
    done = war(*ROLLOUT, "--check", check, "--yes")
    assert done.returncode == 1
    kubeconfig = war_env["KUBECONFIG"]
    assert done.stdout.endswith(
        "batch 2/3: all back\n"
        f'batch 2/3: running check "{check}"\n'
        f"  | batch 2 of 3 bookinfo ratings context fake kubeconfig {kubeconfig}\n"
        f"  | wars {C1} {A2}\n"
        "  | ips 10.0.0.7 10.0.0.4\n"
        "  | ratings answered 503\n"
        f'batch 2/3: check "{check}" failed (exit status 3)\n'
    )
    assert f'batch 1/3: check "{check}" passed\n' in done.stdout
    assert done.stderr == (
        f'error: check "{check}" failed after batch 2/3 of WorkloadGroup bookinfo/ratings '
        "(exit status 3); the rollout stopped and nothing more will be deleted\n"
        "Last lines of its output:\n"
        f"  batch 2 of 3 bookinfo ratings context fake kubeconfig {kubeconfig}\n"
        f"  wars {C1} {A2}\n"
        "  ips 10.0.0.7 10.0.0.4\n"
        "  ratings answered 503\n"
        "Re-onboarded so far: 4 WARs; not started: 2 WARs.\n"
        "To resume, run the same command again:\n"
        f"  {RESUME} --check {shlex.quote(check)} --yes\n"
    )
    fake_kube.wait_idle()  # all it sent is in the record
    assert plane.deleted() == Batches([A1, B1], [C1, A2])  # nothing after the failed check
    status = war("rollout", "status", "ratings", "-n", "bookinfo")
    assert status.stdout.splitlines()[-2:] == [
        "WorkloadGroup bookinfo/ratings: rollout paused after batch 2/3 (check failed); "
        "continue it with:",
        "  kubectl war rollout resume ratings -n bookinfo",
    ]


def test_a_check_that_hangs_is_stopped_at_its_timeout(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane, tmp_path: Path
) -> None:
    seed(fake_kube, per_zone=1)
    pidfile = tmp_path / "child.pid"
    # A check whose own child hangs too: the whole process group is stopped.
    check = f"sh -c 'sleep 3600 & echo $! > {pidfile}; echo started; wait'"
    at = time.monotonic()
    # Time enough for sh to start and say so on a loaded machine.
    done = war(*ROLLOUT, "--check", check, "--check-timeout", "5s", "--yes")
    assert done.returncode == 1
    assert time.monotonic() - at < 600  # the hung child was not waited for
    assert done.stderr.startswith(
        f'error: check "{check}" failed after batch 1/2 of WorkloadGroup bookinfo/ratings '
        "(still running after 5s (--check-timeout): stopped); the rollout stopped and "
        "nothing more will be deleted\n"
        "Last lines of its output:\n"
        "  started\n"
    )
    assert plane.deleted() == Batches([A1, B1])
    child = int(pidfile.read_text())
    wait_until(lambda: not _alive(child), why="the check's child to be stopped")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_check_that_cannot_start_fails_the_batch(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    done = war(*ROLLOUT, "--check", "/nonexistent/health-check", "--yes")
    assert done.returncode == 1
    assert done.stderr.startswith(
        'error: check "/nonexistent/health-check" failed after batch 1/2 of WorkloadGroup '
        "bookinfo/ratings (cannot run '/nonexistent/health-check': No such file or directory)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--canary", "0"), 'invalid value "0" for --canary: expected a number of WARs (1) or a '
         "percentage of those to re-onboard (5%), at least 1"),
        (("--canary", "101%"), 'invalid value "101%" for --canary: at most 100%'),
        (("--canary-pause", "1m"), "--canary-pause needs --canary: it is the pause after a canary"),
        (("--check", "curl 'unbalanced"),
         "invalid --check \"curl 'unbalanced\": No closing quotation"),
        (("--check", " "), "invalid --check '': name a command to run"),
    ],
)  # fmt: skip
def test_bad_progressive_flags_are_usage_errors(
    fake_kube: FakeKube, war: Run, args: tuple[str, ...], message: str
) -> None:
    seed(fake_kube, per_zone=1)
    done = war(*ROLLOUT, *args, "--yes")
    assert (done.returncode, done.stderr) == (1, f"error: {message}\n")
    assert deletes(fake_kube) == []


def test_approve_each_without_a_terminal_is_refused(fake_kube: FakeKube, war: Run) -> None:
    seed(fake_kube, per_zone=1)
    done = war(*ROLLOUT, "--approve-each", "--yes")
    assert done.returncode == 1
    assert done.stderr == (
        "error: --approve-each asks before every batch: no terminal to ask on "
        "(use --canary and --check to gate batches without one)\n"
    )
    assert deletes(fake_kube) == []


# ---- on a terminal ----------------------------------------------------------------------------


def test_on_a_terminal_the_canary_is_shown_and_the_rest_follows_on_yes(
    fake_kube: FakeKube, kubectl_bin: str, war_env: dict[str, str], plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    argv = [kubectl_bin, "war", *ROLLOUT, "--canary", "1", "--yes"]
    code, out = on_terminal(argv, war_env, ["y"])
    assert code == 0, out
    question = out.index("Do you want to continue? (y/N): ")
    head = "Canary of WorkloadGroup bookinfo/ratings is back (batch 1/2):\n"
    shown = out[out.index(head) : question]
    header, row = shown.splitlines()[1:3]
    assert header.split() == ["NAME", "ZONE", "SIDECAR", "BACK", "FOR"]
    assert row.startswith(f"{A1}   us-east-2a   not checked (no proxy-status source)   ")
    assert "Continuing re-onboards the 2 WARs left, batch by batch.\n" in shown
    assert "Rollout complete: 3 WARs re-onboarded." in out[question:]
    assert plane.deleted() == Batches([A1], [B1, C1])


def test_on_a_terminal_no_after_the_canary_stops_with_exit_1(
    fake_kube: FakeKube, kubectl_bin: str, war_env: dict[str, str], plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    argv = [kubectl_bin, "war", *ROLLOUT, "--canary", "1", "--yes"]
    code, out = on_terminal(argv, war_env, ["n"])
    assert code == 1, out
    assert (
        "error: not continued after the canary (batch 1/2 of WorkloadGroup bookinfo/ratings): "
        "nothing more was deleted\n" in out
    )
    fake_kube.wait_idle()  # all it sent is in the record
    assert plane.deleted() == [A1]


def test_approve_each_asks_before_every_batch_and_a_approves_the_rest(
    fake_kube: FakeKube, kubectl_bin: str, war_env: dict[str, str], plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=2)
    argv = [kubectl_bin, "war", *ROLLOUT, "--max-unavailable", "1", "--approve-each"]
    # The plan's own question approves batch 1; batch 2 is asked; "a" approves 3 to 6.
    code, out = on_terminal(argv, war_env, ["y", "y", "a"])
    assert code == 0, out
    assert out.count("Do you want to continue? (y/N): ") == 1
    assert out.count("(a: yes to this batch and every batch after it)\n") == 2
    assert out.count("Do you want to continue? (y/N/a): ") == 2
    assert f"Next: batch 2/6 of WorkloadGroup bookinfo/ratings, 1 WAR: {B1}\n" in out
    assert f"Next: batch 3/6 of WorkloadGroup bookinfo/ratings, 1 WAR: {C1}\n" in out
    assert "Rollout complete: 6 WARs re-onboarded." in out
    assert Counter(plane.deleted()) == Counter([A1, A2, B1, B2, C1, C2])


def test_approve_each_answered_no_deletes_nothing_more(
    fake_kube: FakeKube, kubectl_bin: str, war_env: dict[str, str], plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    argv = [kubectl_bin, "war", *ROLLOUT, "--max-unavailable", "1", "--approve-each"]
    code, out = on_terminal(argv, war_env, ["y", "n"])
    assert code == 1, out
    assert (
        "error: batch 2/3 of WorkloadGroup bookinfo/ratings was not approved: nothing more "
        "was deleted\n" in out
    )
    fake_kube.wait_idle()  # all it sent is in the record
    assert plane.deleted() == [A1]


def test_on_a_terminal_a_checks_output_shows_in_the_live_view(
    fake_kube: FakeKube, kubectl_bin: str, war_env: dict[str, str], plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    check = "sh -c 'echo healthy: $KUBECTL_WAR_WARS'"
    argv = [kubectl_bin, "war", *ROLLOUT, "--check", check, "--yes"]
    code, out = on_terminal(argv, war_env, [])
    assert code == 0, out
    assert f"  | healthy: {A1} {B1}\n" in out
    assert f'batch 1/2: check "{check}" passed\n' in out
    assert f'batch 2/2: check "{check}" passed\n' in out


def test_a_rerun_after_a_later_batch_failed_does_not_start_over_with_a_canary(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=2)
    plane.hold("bookinfo", A2)  # in batch 2 (with B1): late for this run, back for the next
    args = (*ROLLOUT, "--canary", "1", "--canary-pause", "0s", "--yes")
    # The canary and B1 are back in 0.1s: a timeout a loaded machine meets too.
    first = war(*args, "--timeout", "5s")
    assert first.returncode == 1
    assert first.stderr.startswith(
        "error: batch 2/4 of WorkloadGroup bookinfo/ratings did not come back within 5s"
    )
    wait_until(lambda: fake_kube.get("workloadautoregistrations", "bookinfo", B1), why="B1")
    plane.release_at_next_watch("bookinfo", A2)  # missing when the re-run plans
    again = war(*args)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == (
        "WorkloadGroup bookinfo/ratings: 3 WARs to re-onboard in 3 batches of up to 1 "
        "(max unavailable 2 of 5 connected, 1 already unavailable)"
    )
    counts = Counter(plane.deleted())
    assert set(counts) == {A1, A2, B1, B2, C1, C2} and max(counts.values()) == 1
