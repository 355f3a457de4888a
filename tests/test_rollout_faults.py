"""A rollout keeps --max-unavailable across lost DELETE answers, signals at any moment,
`kill -9` and watches that never deliver, checked from the server's own record
(`FakeKube.max_unavailable`); its journal is private whatever the umask; a resumed run says
what it does. All through real kubectl's plugin lookup."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import Batches
from tests.fakekube import FakeKube
from tests.fakekube.faults import Faults
from tests.fakekube.onboarding import OnboardingPlane
from tests.test_cli_rollout import A1, A2, B1, B2, C1, C2, NO_SOURCE, deletes, seed

Run = Callable[..., subprocess.CompletedProcess[str]]
WARS = "workloadautoregistrations"
COLLECTION = "/apis/runtime.onboarding.tetrate.io/v1alpha1/namespaces/bookinfo/" + WARS
ROLLOUT = ("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "2", "--yes", *NO_SOURCE)
RESUME = "  kubectl war rollout ratings -n bookinfo --max-unavailable 2 --proxy-status none --yes\n"
RERUN_READS = (
    "A re-run first reads each of these from the cluster: one still there was not deleted; "
    "one gone counts against --max-unavailable until it is back.\n"
)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def env(kube_env: dict[str, str], state: Path) -> dict[str, str]:
    return dict(kube_env, KUBECTL_WAR_STATE_DIR=str(state))


@pytest.fixture
def war(run_war: Run, env: dict[str, str]) -> Run:
    def run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return run_war(*args, env=env, **kwargs)

    return run


@pytest.fixture
def plane(fake_kube: FakeKube) -> Iterator[OnboardingPlane]:
    with OnboardingPlane(fake_kube, delay=0.15, lifetime=300) as p:
        yield p


def journal(fake: FakeKube) -> dict[str, Any]:
    """The in-flight entries the group's rollout Lease holds, by name."""
    lease = fake.get("leases", "bookinfo", "kubectl-war-rollout-ratings")
    assert lease is not None
    state = json.loads(lease["metadata"]["annotations"]["rollout.kubectl-war.tetrate.io/state"])
    return {e["name"]: e for e in state.get("inFlight") or []}


def sent_after(fake: FakeKube, sent: int) -> list[str]:
    """Requests since the first `sent`, but the rollout Lease's renewals and release and
    the Events that say how it ended."""
    return [
        f"{r.method} {r.path}"
        for r in fake.requests[sent:]
        if "/leases/" not in r.path and not r.path.endswith("/events")
    ]


def wait_for(what: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out waiting for the rollout to get there"
        time.sleep(0.02)


def start(kubectl_bin: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [kubectl_bin, "war", *args],
        # SIGABRT prints every thread's stack (see `signalled`).
        env=dict(env, PYTHONFAULTHANDLER="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def signalled(
    proc: subprocess.Popen[str], sig: int, then: Callable[[], None] | None = None
) -> tuple[str, str, float]:
    """Send `sig` (then call `then`, if given); answer stdout, stderr and the seconds the
    process took to end."""
    at = time.monotonic()
    proc.send_signal(sig)
    if then is not None:
        then()
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        # Still running: say where, from every thread's stack (faulthandler, on SIGABRT).
        proc.send_signal(signal.SIGABRT)
        out, err = proc.communicate(timeout=60)
        pytest.fail(f"still running 60s after signal {sig}\nstdout:\n{out}\nstderr:\n{err}")
    finally:
        proc.kill()
    return out, err, time.monotonic() - at


# ---- a DELETE whose answer is lost ------------------------------------------------------


def test_a_delete_answered_after_the_request_timeout_counts_as_sent_across_a_rerun(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane, state: Path
) -> None:
    """The DELETE lands at once and its answer comes after the client gave up: the
    journal keeps the WAR, so the re-run counts it missing and never exceeds the bound."""
    seed(fake_kube, per_zone=2)
    # Answered long after the client's 2s, whatever the load.
    fake_kube.faults = Faults().slow_answer(60.0, "DELETE", f"{COLLECTION}/{A1}")
    plane.hold("bookinfo", A1)
    first = war(*ROLLOUT, "--request-timeout", "2s", "--timeout", "1s")
    assert first.returncode == 1
    assert first.stderr == (
        f"error: the DELETE of WAR bookinfo/{A1} failed (timed out after 2s waiting for the "
        f"API server at http://127.0.0.1:{fake_kube.port}) but the server carried it out; "
        "the rollout stopped and nothing more will be deleted\n"
        "Waiting on:\n"
        f"  bookinfo/{A1}: not re-created yet\n"
        "Re-onboarded so far: 0 WARs; not started: 5 WARs.\n"
        "To resume, run the same command again once those are back:\n"
        "  kubectl war rollout ratings -n bookinfo --request-timeout 2s --max-unavailable 2 "
        "--timeout 1s --proxy-status none --yes\n"
    )
    assert deletes(fake_kube) == [A1]
    assert journal(fake_kube)[A1]["outcome"] == "unanswered"
    assert fake_kube.get(WARS, "bookinfo", A1) is None  # still missing for the re-run

    plane.release_at_next_watch("bookinfo", A1)  # back while the re-run waits
    second = war(*ROLLOUT)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith(
        "WorkloadGroup bookinfo/ratings: 5 WARs to re-onboard in 5 batches of up to 1 "
        "(max unavailable 2 of 5 connected, 1 already unavailable)\n"
    )
    counts = Counter(plane.deleted())
    assert set(counts) == {A1, A2, B1, B2, C1, C2} and max(counts.values()) == 1
    assert fake_kube.max_unavailable("bookinfo", "ratings") == 2
    assert journal(fake_kube) == {}


def test_kill_9_between_a_delete_and_its_answer_then_a_rerun_keeps_the_bound(
    fake_kube: FakeKube, kubectl_bin: str, env: dict[str, str], war: Run, state: Path
) -> None:
    seed(fake_kube, per_zone=2)
    fake_kube.faults = Faults().slow_answer(120.0, "DELETE", f"{COLLECTION}/{A1}")
    with OnboardingPlane(fake_kube, delay=0.15, lifetime=300) as plane:
        plane.hold("bookinfo", A1)
        # A short lock: the re-run takes it over once it saw it unrenewed for 2s.
        proc = start(kubectl_bin, env, *ROLLOUT, "--lease-duration", "2s")
        try:
            # Carried out by the server, its answer held back: the moment to die.
            wait_for(lambda: fake_kube.get(WARS, "bookinfo", A1) is None)
            proc.kill()
            proc.wait(timeout=10)
        finally:
            proc.kill()
        assert proc.returncode == -signal.SIGKILL
        assert deletes(fake_kube) == [A1]
        assert journal(fake_kube)[A1]["outcome"] == "sending"  # recorded before it was sent

        plane.release_at_next_watch("bookinfo", A1)  # missing when the re-run plans
        again = war(*ROLLOUT)
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith(
            "WorkloadGroup bookinfo/ratings: took over the rollout from "
        ), again.stdout
        assert "(max unavailable 2 of 5 connected, 1 already unavailable)\n" in again.stdout
        counts = Counter(plane.deleted())
    assert set(counts) == {A1, A2, B1, B2, C1, C2} and max(counts.values()) == 1
    assert fake_kube.max_unavailable("bookinfo", "ratings") == 2
    assert journal(fake_kube) == {}


# ---- SIGINT and SIGTERM at each phase -------------------------------------------------


def test_sigint_during_a_delete_stops_at_once_and_reports_it_sent(
    fake_kube: FakeKube, kubectl_bin: str, env: dict[str, str], state: Path
) -> None:
    seed(fake_kube, per_zone=2)
    fake_kube.faults = Faults().slow_answer(120.0, "DELETE")
    proc = start(kubectl_bin, env, *ROLLOUT)
    wait_for(lambda: deletes(fake_kube) == [A1])
    sent = len(fake_kube.requests)
    out, err, took = signalled(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    assert took < 60  # not the 120s the answer takes (a bound a loaded machine meets)
    assert err == (
        "Interrupted: no further WAR will be deleted.\n"
        "In flight (deleted or DELETE sent, not back yet):\n"
        f"  bookinfo/{A1}: DELETE sent, no answer\n"
        + RERUN_READS
        + "Re-onboarded so far: 0 WARs; not started: 5 WARs.\n"
        "To resume, run the same command again once those are back:\n" + RESUME
    )
    assert out.endswith("batch 1/3: deleting 2 WARs\n")
    fake_kube.wait_idle()  # all it sent is in the record
    assert sent_after(fake_kube, sent) == []  # nothing sent after the signal
    assert {n: e["outcome"] for n, e in journal(fake_kube).items()} == {A1: "sending"}


def test_sigint_during_a_list_stops_at_once(
    fake_kube: FakeKube, kubectl_bin: str, env: dict[str, str], plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=2)
    faults = Faults()
    fake_kube.faults = faults

    def hold_reads(req: Any) -> None:
        if req.method == "DELETE" and req.path.endswith(B1):
            faults.slow_answer(600.0, "GET", COLLECTION)  # the wait's list that follows

    fake_kube.request_hooks.append(hold_reads)
    proc = start(kubectl_bin, env, *ROLLOUT)

    def listing() -> bool:
        after = [r for r in fake_kube.requests if r.method == "DELETE" or r.path == COLLECTION]
        listed = len(after) > 2 and after[-1].method == "GET"
        return listed and deletes(fake_kube) == Batches([A1, B1])

    wait_for(listing)
    sent = len(fake_kube.requests)
    # The list's answer is released once the signal is sent: see
    # test_a_signal_while_reading_the_cluster_deletes_nothing.
    out, err, _ = signalled(proc, signal.SIGINT, then=faults.release_slow_answers)
    assert proc.returncode == 130, err
    assert err == (
        "Interrupted: no further WAR will be deleted.\n"
        "In flight (deleted, not back yet):\n"
        f"  bookinfo/{A1}: not re-created yet\n"
        f"  bookinfo/{B1}: not re-created yet\n"
        "Re-onboarded so far: 0 WARs; not started: 4 WARs.\n"
        "To resume, run the same command again once those are back:\n" + RESUME
    )
    assert out.endswith(f"{B1}: deleted, waiting to be re-created\n")
    fake_kube.wait_idle()  # all it sent is in the record
    assert sent_after(fake_kube, sent) == []


def test_sigterm_during_a_wait_exits_143(
    fake_kube: FakeKube, kubectl_bin: str, env: dict[str, str]
) -> None:
    seed(fake_kube, per_zone=2)
    with OnboardingPlane(fake_kube, lifetime=300) as plane:
        plane.hold("bookinfo", A1)  # the batch is not back when the signal comes
        plane.hold("bookinfo", B1)
        proc = start(kubectl_bin, env, *ROLLOUT)
        wait_for(lambda: any("watch" in r.query for r in fake_kube.requests))
        out, err, took = signalled(proc, signal.SIGTERM)
    assert proc.returncode == 143, err
    assert took < 60  # a bound a loaded machine meets; the batch never comes back
    assert err == (
        "Terminated: no further WAR will be deleted.\n"
        "In flight (deleted, not back yet):\n"
        f"  bookinfo/{A1}: not re-created yet\n"
        f"  bookinfo/{B1}: not re-created yet\n"
        "Re-onboarded so far: 0 WARs; not started: 4 WARs.\n"
        "To resume, run the same command again once those are back:\n" + RESUME
    )
    assert out.endswith(f"{B1}: deleted, waiting to be re-created\n")
    assert deletes(fake_kube) == Batches([A1, B1])


@pytest.mark.parametrize(
    ("sig", "code", "word"),
    [(signal.SIGINT, 130, "Interrupted"), (signal.SIGTERM, 143, "Terminated")],
)
def test_a_signal_while_reading_the_cluster_deletes_nothing(
    fake_kube: FakeKube, kubectl_bin: str, env: dict[str, str], sig: int, code: int, word: str
) -> None:
    """The list is held until the signal has been sent, then answered: a signal that
    lands in a blocking read ends it at once, and one that lands just before the read's
    system call (which Python handles when the call returns) is handled as the answer
    arrives; either way the rollout ends there and deletes nothing."""
    seed(fake_kube, per_zone=1)
    fake_kube.faults = faults = Faults().slow_answer(600.0, "GET", COLLECTION)
    proc = start(kubectl_bin, env, *ROLLOUT)
    wait_for(lambda: any(r.path == COLLECTION for r in fake_kube.requests))
    out, err, _ = signalled(proc, sig, then=faults.release_slow_answers)
    assert (proc.returncode, out, err) == (code, "", f"{word}: nothing was deleted.\n")
    assert deletes(fake_kube) == []


# ---- waits that cannot stall --------------------------------------------------------------


@pytest.mark.parametrize(
    "faults",
    [Faults(cut_watch_after=0), Faults(expire_watch_rate=1.0)],
    ids=["every-watch-cut-before-any-event", "every-watch-expired"],
)
def test_a_rollout_whose_watches_never_deliver_still_completes(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane, faults: Faults
) -> None:
    seed(fake_kube, per_zone=1)
    fake_kube.faults = faults
    at = time.monotonic()
    args = ("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "1", "--yes")
    done = war(*args, "--timeout", "2m", *NO_SOURCE)
    assert done.returncode == 0, done.stderr
    # Not even one batch waited out its 2m: a bound a loaded machine meets.
    assert time.monotonic() - at < 120
    assert plane.deleted() == [A1, B1, C1]  # one WAR a batch
    assert {k for k, _, _ in faults.injected} == (
        {"cut-watch"} if faults.cut_watch_after == 0 else {"expire-watch"}
    )
    # The re-created WARs were seen by reading them, not through a watch.
    reads = [r.path for r in fake_kube.requests if r.method == "GET" and "watch" not in r.query]
    if faults.cut_watch_after == 0:
        assert {f"{COLLECTION}/{n}" for n in (A1, B1, C1)} <= set(reads)
    else:
        assert reads.count(COLLECTION) > 3 + 3  # a list again after each expired watch


# ---- the journal is private -------------------------------------------------------------


def test_the_journal_is_private_under_umask_000(
    fake_kube: FakeKube, run_war: Run, kube_env: dict[str, str], plane: OnboardingPlane,
    tmp_path: Path,
) -> None:  # fmt: skip
    seed(fake_kube, per_zone=1)
    xdg = tmp_path / "xdg"
    own = xdg / "kubectl-war"
    own.mkdir(parents=True)
    own.chmod(0o777)  # as an older version left it under umask 000
    named = tmp_path / "named" / "deeper"
    for env, where in (
        (dict(kube_env, XDG_STATE_HOME=str(xdg)), own),
        (dict(kube_env, KUBECTL_WAR_STATE_DIR=str(named)), named),
    ):
        # --include-up-to-date: the second run has WARs to re-onboard too.
        args = (*ROLLOUT, "--include-up-to-date", "--no-lock")  # the local journal
        done = run_war(*args, env=env, preexec_fn=lambda: os.umask(0))
        assert done.returncode == 0, done.stderr
        (path,) = where.glob("rollout-*.json")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(where.stat().st_mode) == 0o700
    # Every directory it made is private, parents included (the XDG rule).
    assert stat.S_IMODE((tmp_path / "named").stat().st_mode) == 0o700


# ---- honest progress on resume ----------------------------------------------------------


def test_a_resumed_rollout_says_it_waits_for_the_earlier_runs_wars_before_deleting(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    plane.hold("bookinfo", A1)
    args = ("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "1", "--yes", *NO_SOURCE)
    assert war(*args, "--timeout", "300ms").returncode == 1
    plane.release_at_next_watch("bookinfo", A1)  # missing when the re-run plans
    second = war(*args)
    assert second.returncode == 0, second.stderr
    assert second.stdout == (
        "WorkloadGroup bookinfo/ratings: 2 WARs to re-onboard in 2 batches of up to 1 "
        "(max unavailable 1 of 2 connected, 1 already unavailable)\n"
        f"waiting for 1 WAR deleted by an earlier run: {A1}\n"
        f"{A1}: back\n"
        "batch 1/2: deleting 1 WAR\n"
        f"{B1}: deleted, waiting to be re-created\n"
        f"{B1}: back\n"
        "batch 1/2: all back\n"
        "batch 2/2: deleting 1 WAR\n"
        f"{C1}: deleted, waiting to be re-created\n"
        f"{C1}: back\n"
        "batch 2/2: all back\n"
        "WorkloadGroup bookinfo/ratings: rolled out\n"
        "Rollout complete: 2 WARs re-onboarded; 1 WAR deleted by an earlier run is back.\n"
    )
    assert plane.deleted() == [A1, B1, C1]  # one WAR a batch
    assert fake_kube.max_unavailable("bookinfo", "ratings") == 1


def test_a_resumed_rollout_with_nothing_left_to_delete_waits_for_the_earlier_runs_wars(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    plane.hold("bookinfo", C1)
    args = ("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "3", "--yes", *NO_SOURCE)
    # A1 and B1 are back in 0.15s: a timeout a loaded machine meets too.
    assert war(*args, "--timeout", "5s").returncode == 1
    plane.release_at_next_watch("bookinfo", C1)  # missing when the re-run plans
    second = war(*args)
    assert second.returncode == 0, second.stderr
    assert second.stdout == (
        "WorkloadGroup bookinfo/ratings: nothing to re-onboard "
        "(max unavailable 3 of 2 connected, 1 already unavailable)\n"
        f"waiting for 1 WAR deleted by an earlier run: {C1}\n"
        f"{C1}: back\n"
        "WorkloadGroup bookinfo/ratings: rolled out\n"
        "Rollout complete: 0 WARs re-onboarded; 1 WAR deleted by an earlier run is back.\n"
    )
    # One batch of three, whose DELETEs go out concurrently: each once, in any order.
    assert sorted(plane.deleted()) == [A1, B1, C1]
    third = war(*args)
    assert (third.returncode, third.stdout.splitlines()[-1]) == (0, "Nothing to roll out.")
