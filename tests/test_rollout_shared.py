"""Rollouts a team shares, through real kubectl against FakeKube with simulated agents:
one Lease per WorkloadGroup (one writer at a time, taken over from a holder that stopped
renewing), pause, resume and abort from a second process, `rollout status` and
`rollout history` from anywhere, Events on the WorkloadGroup, and the permissions it
needs. Safety is read from the server's own record (`FakeKube.max_unavailable`)."""

from __future__ import annotations

import getpass
import json
import queue
import signal
import socket
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from tests.fakekube import FakeKube
from tests.fakekube.onboarding import OnboardingPlane
from tests.test_cli_rollout import A1, A2, B1, B2, C1, C2, NO_SOURCE, P, deletes, seed

Run = Callable[..., subprocess.CompletedProcess[str]]
LEASE = "kubectl-war-rollout-ratings"
STATE = "rollout.kubectl-war.tetrate.io/state"
ROLLOUT = ("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "1", "--yes", *NO_SOURCE)
ME = f"{getpass.getuser()}@{socket.gethostname()}"


@pytest.fixture
def plane(fake_kube: FakeKube) -> Iterator[OnboardingPlane]:
    with OnboardingPlane(fake_kube, delay=0.1, lifetime=60) as p:
        yield p


class Running:
    """A `kubectl war ...` started in the background, its stdout read line by line."""

    def __init__(self, kubectl_bin: str, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [kubectl_bin, "war", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._err: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True),
            threading.Thread(target=self._err.extend, args=(self.proc.stderr,), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, wanted: Callable[[str], bool], timeout: float = 60) -> str:
        """The first line (from now on) that `wanted` accepts."""
        while True:
            line = self._queue.get(timeout=timeout)
            assert line is not None, f"ended before the line; saw: {self.lines}"
            self.lines.append(line)
            if wanted(line):
                return line

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        """Exit code, all of stdout, stderr."""
        try:
            self.proc.wait(timeout=timeout)
        finally:
            self.proc.kill()
        for reader in self._readers:
            reader.join(10)
        while True:
            line = self._queue.get(timeout=10)
            if line is None:
                break
            self.lines.append(line)
        return self.proc.returncode, "\n".join(self.lines) + "\n", "".join(self._err)


def lease_state(fake: FakeKube) -> dict[str, Any]:
    lease = fake.get("leases", "bookinfo", LEASE)
    assert lease is not None
    return dict(json.loads(lease["metadata"]["annotations"][STATE]))


def other_machine(war_env: dict[str, str], tmp_path: Path, name: str) -> dict[str, str]:
    """The environment of a run with a state directory of its own (another machine)."""
    return dict(war_env, KUBECTL_WAR_STATE_DIR=str(tmp_path / name))


# ---- one writer at a time --------------------------------------------------------------------


def test_two_rollouts_started_at_once_one_is_refused_and_the_bound_holds(
    fake_kube: FakeKube, kubectl_bin: str, war_env: dict[str, str], tmp_path: Path
) -> None:
    seed(fake_kube, per_zone=2)
    with OnboardingPlane(fake_kube, delay=0.1, lifetime=120) as plane:
        plane.hold("bookinfo", A1)  # the first batch stays out until the other run ended
        runs = [
            Running(kubectl_bin, other_machine(war_env, tmp_path, name), *ROLLOUT)
            for name in ("one", "two")
        ]
        first_end = None
        while first_end is None:
            for run in runs:
                try:
                    run.proc.wait(timeout=0.1)
                except subprocess.TimeoutExpired:
                    continue
                first_end = run
                break
        plane.release("bookinfo", A1)
        ends = [run.finish() for run in runs]
        plane.idle()
    codes = sorted(code for code, _, _ in ends)
    assert codes == [0, 1], ends
    (refused,) = [err for code, _, err in ends if code == 1]
    assert refused.startswith(
        f"error: a rollout of WorkloadGroup bookinfo/ratings is running: held by {ME} (pid "
    ), refused
    assert " since 20" in refused and ", last renewed 20" in refused
    # The server's own record: each WAR deleted once, never two missing at once.
    counts = Counter(plane.deleted())
    assert set(counts) == {A1, A2, B1, B2, C1, C2} and max(counts.values()) == 1
    assert fake_kube.max_unavailable("bookinfo", "ratings") == 1


def test_kill_9_of_the_holder_then_a_run_from_another_machine_takes_over(
    fake_kube: FakeKube,
    kubectl_bin: str,
    war_env: dict[str, str],
    tmp_path: Path,
    war: Run,
    run_war: Run,
) -> None:
    seed(fake_kube, per_zone=1)
    with OnboardingPlane(fake_kube, delay=0.1, lifetime=60) as plane:
        plane.hold("bookinfo", A1)
        holder = Running(
            kubectl_bin, other_machine(war_env, tmp_path, "one"), *ROLLOUT, "--lease-duration", "2s"
        )
        holder.until(lambda line: line == f"{A1}: deleted, waiting to be re-created")
        holder.proc.send_signal(signal.SIGKILL)
        holder.finish()
        assert lease_state(fake_kube)["inFlight"][0]["name"] == A1

        plane.release_at_next_watch("bookinfo", A1)  # back while the taker waits for it
        taker = run_war(*ROLLOUT, env=other_machine(war_env, tmp_path, "two"))
        plane.idle()
    assert taker.returncode == 0, taker.stderr
    lines = taker.stdout.splitlines()
    assert lines[0].startswith(
        f"WorkloadGroup bookinfo/ratings: took over the rollout from {ME} (pid "
    )
    assert lines[0].endswith("(not renewed for 2s): going on from its recorded state")
    # The WAR the killed holder deleted is waited for before anything else is deleted.
    assert lines[2] == f"waiting for 1 WAR deleted by an earlier run: {A1}"
    assert lines.index(f"{A1}: back") < lines.index("batch 1/2: deleting 1 WAR")
    counts = Counter(plane.deleted())
    assert set(counts) == {A1, B1, C1} and max(counts.values()) == 1
    assert fake_kube.max_unavailable("bookinfo", "ratings") == 1
    history = lease_state(fake_kube)["history"]
    assert [h["outcome"] for h in history] == ["complete", "lost (holder stopped renewing)"]


# ---- controls from any terminal --------------------------------------------------------------


def test_pause_from_a_second_process_stops_after_the_batch_in_flight_and_resume_finishes(
    fake_kube: FakeKube,
    kubectl_bin: str,
    war_env: dict[str, str],
    tmp_path: Path,
    war: Run,
    run_war: Run,
    plane: OnboardingPlane,
) -> None:
    seed(fake_kube, per_zone=1)
    plane.hold("bookinfo", A1)
    holder = Running(kubectl_bin, war_env, *ROLLOUT)
    holder.until(lambda line: line == f"{A1}: deleted, waiting to be re-created")
    elsewhere = other_machine(war_env, tmp_path, "laptop")
    paused = run_war("rollout", "pause", "ratings", "-n", "bookinfo", env=elsewhere)
    assert paused.returncode == 0, paused.stderr
    assert paused.stdout.startswith(
        f"pause asked of the rollout of WorkloadGroup bookinfo/ratings, held by {ME} (pid "
    )
    # Seen while its batch is still in flight (A1 is held back until then).
    seen = holder.until(lambda line: line.startswith("pause asked by"))
    assert seen == (
        f"pause asked by {ME}: no further WAR will be deleted; waiting for the WARs in flight"
    )
    assert f"{A1}: back" not in holder.lines
    plane.release("bookinfo", A1)
    code, out, err = holder.finish()
    assert (code, err) == (0, "")
    assert out.endswith(
        "batch 1/3: all back\n"
        f"Paused by {ME} before batch 2/3 of WorkloadGroup bookinfo/ratings: nothing more "
        "was deleted.\n"
        "Re-onboarded so far: 1 WAR.\n"
        "To continue, run the same command again:\n"
        "  kubectl war rollout ratings -n bookinfo --max-unavailable 1 --proxy-status none "
        "--yes\n"
    )
    assert deletes(fake_kube) == [A1]

    status = run_war("rollout", "status", "ratings", "-n", "bookinfo", env=elsewhere)
    assert status.returncode == 1
    assert status.stdout.splitlines()[1:] == [
        "ratings   1            2          0         0              0         0         Paused",
        "WorkloadGroup bookinfo/ratings: rollout paused before batch 2/3 (paused) by "
        f"{ME}; continue it with:",
        "  kubectl war rollout resume ratings -n bookinfo",
    ]

    resumed = run_war("rollout", "resume", "ratings", "-n", "bookinfo", env=elsewhere)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.endswith("Rollout complete: 2 WARs re-onboarded.\n")
    assert "batch 2/3: deleting 1 WAR\n" in resumed.stdout  # numbering goes on
    assert Counter(plane.deleted()) == Counter({A1: 1, B1: 1, C1: 1})
    assert fake_kube.max_unavailable("bookinfo", "ratings") == 1

    history = war("rollout", "history", "ratings", "-n", "bookinfo", "-o", "json")
    outcomes = [(r["outcome"], r["by"]) for r in json.loads(history.stdout)["rollouts"]]
    assert outcomes == [("complete", ME), (f"paused by {ME}", ME)]


def test_abort_from_a_second_process_stops_it_and_the_next_run_starts_anew(
    fake_kube: FakeKube,
    kubectl_bin: str,
    war_env: dict[str, str],
    tmp_path: Path,
    war: Run,
    run_war: Run,
    plane: OnboardingPlane,
) -> None:
    seed(fake_kube, per_zone=1)
    plane.hold("bookinfo", A1)
    holder = Running(kubectl_bin, war_env, *ROLLOUT, "--canary", "1", "--canary-pause", "1s")
    holder.until(lambda line: line == f"{A1}: deleted, waiting to be re-created")
    elsewhere = other_machine(war_env, tmp_path, "laptop")
    aborted = run_war("rollout", "abort", "ratings", "-n", "bookinfo", env=elsewhere)
    assert aborted.returncode == 0, aborted.stderr
    holder.until(lambda line: line.startswith("abort asked by"))
    plane.release("bookinfo", A1)
    code, _, err = holder.finish()
    assert code == 1
    assert err == (
        f"error: aborted by {ME} before batch 2/3 of WorkloadGroup bookinfo/ratings\n"
        "Re-onboarded so far: 1 WAR. A later rollout starts anew.\n"
    )
    assert deletes(fake_kube) == [A1]
    status = run_war("rollout", "status", "ratings", "-n", "bookinfo", env=elsewhere)
    assert status.stdout.splitlines()[-1].startswith(
        f"WorkloadGroup bookinfo/ratings: last rollout aborted by {ME} at 20"
    )
    assert status.stdout.splitlines()[-1].endswith("Z; a new rollout starts anew")

    again = run_war(*ROLLOUT, "--canary", "1", "--canary-pause", "1s", env=elsewhere)
    assert again.returncode == 0, again.stderr
    lines = again.stdout.splitlines()
    assert lines[0].startswith(
        f"WorkloadGroup bookinfo/ratings: the last rollout was aborted by {ME} at 20"
    )
    assert lines[0].endswith("Z: starting anew")
    # Anew: a canary again (the aborted run's canary is not carried over), numbered from 1.
    assert lines[1] == (
        "WorkloadGroup bookinfo/ratings: 2 WARs to re-onboard in 2 batches of up to 1, "
        "the first a canary of 1 (max unavailable 1 of 3 connected)"
    )
    assert lines[2] == "batch 1/2: deleting 1 WAR"


def test_status_from_another_machine_shows_the_holder_its_batch_and_the_wars_in_flight(
    fake_kube: FakeKube,
    kubectl_bin: str,
    war_env: dict[str, str],
    tmp_path: Path,
    war: Run,
    run_war: Run,
    plane: OnboardingPlane,
) -> None:
    seed(fake_kube, per_zone=1)
    plane.hold("bookinfo", A1)
    holder = Running(kubectl_bin, war_env, *ROLLOUT)
    holder.until(lambda line: line == f"{A1}: deleted, waiting to be re-created")
    elsewhere = other_machine(war_env, tmp_path, "laptop")
    status = run_war("rollout", "status", "ratings", "-n", "bookinfo", "--context", "fake",
                 env=elsewhere)  # fmt: skip
    lines = status.stdout.splitlines()
    assert (
        lines[1]
        == "ratings   0            2          0         0              1         0         Running"
    )
    assert lines[2].startswith(
        f"WorkloadGroup bookinfo/ratings: rollout running, held by {ME} (pid "
    )
    assert lines[2].endswith(f"; batch 1/3; in flight: {A1}")
    # The command to run next keeps the flags that picked the cluster.
    assert lines[3:] == [
        "  pause it with: kubectl war rollout pause ratings -n bookinfo --context fake",
        "  abort it with: kubectl war rollout abort ratings -n bookinfo --context fake",
    ]
    data = json.loads(
        run_war(
            "rollout", "status", "ratings", "-n", "bookinfo", "-o", "json", env=elsewhere
        ).stdout
    )
    rollout = data["groups"][0]["rollout"]
    assert (rollout["batch"], rollout["batches"], rollout["inFlight"]) == (1, 3, [A1])
    assert rollout["holder"].startswith(f"{ME} (pid ")
    plane.release("bookinfo", A1)
    code, _, err = holder.finish()
    assert code == 0, err


def test_events_on_the_workloadgroup_tell_the_story(
    fake_kube: FakeKube, war: Run, run_kubectl: Run, plane: OnboardingPlane, war_env: dict[str, str]
) -> None:
    seed(fake_kube, per_zone=1)
    done = war(*ROLLOUT, "--max-unavailable", "2", "--canary", "1", "--canary-pause", "0s",
               "--check", "true")  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = run_kubectl(
        "get", "events", "-n", "bookinfo", "-o", "json", "--field-selector",
        "involvedObject.kind=WorkloadGroup,involvedObject.name=ratings", env=war_env,
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    events = sorted(
        json.loads(got.stdout)["items"], key=lambda e: int(e["metadata"]["resourceVersion"])
    )
    assert [e["reason"] for e in events] == [
        "RolloutStarted",
        "RolloutBatchDeleted",
        "RolloutBatchBack",
        "RolloutCanaryDone",
        "RolloutCheckPassed",
        "RolloutBatchDeleted",
        "RolloutBatchBack",
        "RolloutCheckPassed",
        "RolloutCompleted",
    ]
    assert all(e["message"].endswith(f"(by {ME})") for e in events)
    assert events[1]["message"] == f"batch 1/2: deleting 1: {A1} (by {ME})"
    assert {e["source"]["component"] for e in events} == {"kubectl-war"}
    assert {e["involvedObject"]["uid"] for e in events} == {
        fake_kube.get("workloadgroups", "bookinfo", "ratings")["metadata"]["uid"]  # type: ignore[index]
    }


# ---- permissions ---------------------------------------------------------------------------


def test_without_lease_permission_rollout_refuses_naming_it(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    fake_kube.forbid("*", "leases")
    done = war(*ROLLOUT)
    assert done.returncode == 1
    assert done.stderr.startswith(
        "error: cannot read the rollout lock of WorkloadGroup bookinfo/ratings: "
    )
    assert '"leases"' in done.stderr and "coordination.k8s.io" in done.stderr
    assert done.stderr.endswith("; pass --no-lock to roll out without it (unshared)\n")
    assert deletes(fake_kube) == []


def test_no_lock_runs_unshared_and_says_so_first(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    fake_kube.forbid("*", "leases")
    done = war(*ROLLOUT, "--no-lock")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "Running without the rollout lock (--no-lock): unshared, another rollout of the same "
        "WorkloadGroups may run at once and `rollout status|pause|abort` elsewhere do not see "
        "this one."
    )
    assert done.stdout.endswith("Rollout complete: 3 WARs re-onboarded.\n")
    assert [r.path for r in fake_kube.requests if "/leases" in r.path] == []


def test_status_needs_only_get_on_leases(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    assert war(*ROLLOUT, "--canary", "1").returncode == 0  # paused after its canary
    for verb in ("list", "watch", "create", "update", "patch", "delete"):
        fake_kube.forbid(verb, "leases")
    fake_kube.clear_requests()
    status = war("rollout", "status", "ratings", "-n", "bookinfo")
    assert status.stderr == ""
    assert "rollout paused after batch 1/3 (canary)" in status.stdout
    asked = {(r.method, r.path) for r in fake_kube.requests if "/leases" in r.path}
    assert asked == {("GET", f"/apis/coordination.k8s.io/v1/namespaces/bookinfo/leases/{LEASE}")}


# ---- the fake API server's Leases -----------------------------------------------------------


def test_the_fake_server_refuses_a_lease_write_with_a_stale_resource_version(
    fake_kube: FakeKube, run_kubectl: Run, tmp_path: Path
) -> None:
    seed(fake_kube, per_zone=1)  # the bookinfo namespace
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "l", "namespace": "bookinfo"},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15},
    }
    path = tmp_path / "lease.json"
    path.write_text(json.dumps(lease))
    assert run_kubectl("create", "--validate=false", "-f", str(path)).returncode == 0
    stored = fake_kube.get("leases", "bookinfo", "l")
    assert stored is not None
    read_at = stored["metadata"]["resourceVersion"]
    for holder, code in (("b", 0), ("c", 1)):  # the second write carries a stale version
        path.write_text(json.dumps(dict(stored, spec={"holderIdentity": holder})))
        put = run_kubectl("replace", "--validate=false", "-f", str(path))
        assert put.returncode == code, put.stderr
        assert stored["metadata"]["resourceVersion"] == read_at
    assert "the object has been modified" in put.stderr
    got = run_kubectl("get", "leases", "-n", "bookinfo")
    assert got.stdout.splitlines()[1].split()[:2] == ["l", "b"]


# ---- the commands printed to run next ------------------------------------------------------


def test_the_resume_line_keeps_the_flags_that_pick_the_cluster_and_never_shows_a_token(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    done = war(
        "rollout", "ratings", "-n", "bookinfo", "--context", "fake", "--request-timeout", "30s",
        "--token", "s3cr3t-t0ken", "--canary", "1", "--max-unavailable", "1", "--yes", *NO_SOURCE,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(
        "To continue, run the same command again:\n"
        "  kubectl war rollout ratings -n bookinfo --context fake --request-timeout 30s "
        "--max-unavailable 1 --proxy-status none --canary 1 --yes\n"
        "  (pass --token again: it is not shown here)\n"
    )
    assert "s3cr3t" not in done.stdout + done.stderr
    # Flags left at their defaults are left out (--timeout, --lease-duration...).


def test_the_resume_line_keeps_every_connection_flag_and_resuming_with_it_acts_alike(
    fake_kube: FakeKube, kubeconfig: str, war: Run, plane: OnboardingPlane
) -> None:
    """Run as printed, the re-run reaches the same server as the same user (by the
    server's record of impersonation), whichever connection flags picked them."""
    import shlex

    seed(fake_kube, per_zone=1)
    flags = (
        "--kubeconfig", kubeconfig, "--context", "fake", "--cluster", "fake", "--user", "fake",
        "-s", fake_kube.url, "--as", "alice", "--as-group", "ops", "--as-group", "sre",
        "--as-uid", "42", "--request-timeout", "30s",
    )  # fmt: skip
    done = war(*ROLLOUT, "--canary", "1", *flags)
    assert done.returncode == 0, done.stderr
    line = done.stdout.splitlines()[-1].strip()
    assert line == (
        f"kubectl war rollout ratings -n bookinfo --kubeconfig {kubeconfig} --context fake "
        "--cluster fake --user fake --as alice --as-group ops --as-group sre --as-uid 42 "
        f"--request-timeout 30s --server {fake_kube.url} --max-unavailable 1 "
        "--proxy-status none --canary 1 --yes"
    )

    def who(start: int) -> set[tuple[str | None, tuple[str, ...], str | None]]:
        return {
            (r.header("Impersonate-User"), tuple(r.header_values("Impersonate-Group")),
             r.header("Impersonate-Uid"))
            for r in fake_kube.requests[start:]
        }  # fmt: skip

    first = who(0)
    start = len(fake_kube.requests)
    again = war(*shlex.split(line)[2:])
    assert again.returncode == 0, again.stderr
    assert who(start) == first == {("alice", ("ops", "sre"), "42")}
    assert sorted(plane.deleted()) == sorted([A1, B1, C1])


def test_history_lists_the_last_rollouts_newest_first(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    assert war(*ROLLOUT, "--canary", "1").returncode == 0  # paused after its canary
    assert war(*ROLLOUT, "--canary", "1").returncode == 0  # the rest
    shown = war("rollout", "history", "ratings", "-n", "bookinfo")
    assert shown.returncode == 0, shown.stderr
    head, *rows = shown.stdout.splitlines()
    assert head.split() == ["STARTED", "BY", "GENERATION", "OUTCOME", "DURATION"]
    assert [r.split()[1:4] for r in rows] == [[ME, "2", "complete"], [ME, "2", "paused"]]
    nothing = war("rollout", "history", "reviews", "-n", "bookinfo")
    assert nothing.returncode == 1  # no such WorkloadGroup here
    assert nothing.stderr.startswith("error: Error from server (NotFound): ")


def test_a_large_batch_in_flight_fits_the_lease_and_a_state_too_large_is_refused(
    fake_kube: FakeKube, kubeconfig: str
) -> None:
    """The API server keeps annotations under 256 KiB (so does FakeKube): thousands of
    WARs in flight are written compressed and read back whole."""
    import os

    from kubectl_war.kube.client import Kube
    from kubectl_war.kube.config import Connection
    from kubectl_war.kube.errors import KubeError
    from kubectl_war.rollout.lease import Actor, Lease, state_of

    seed(fake_kube, per_zone=1)
    client = Kube(Connection(kubeconfig=kubeconfig))
    lease = Lease(client, "bookinfo", "ratings", Actor("alice", "laptop", 1, "ab"), 30)
    assert lease.acquire() == "new"
    flight = [
        {"name": f"{P}us-east-2a-ec2-i-{n:05d}", "uid": f"{n:08x}-7d3c-4f5e-9a1b-{n:012x}",
         "sentAt": 1765000000.0 + n, "outcome": "sending"}
        for n in range(5000)
    ]  # fmt: skip
    lease.write(lambda state: state.update(inFlight=flight))
    assert state_of(fake_kube.get("leases", "bookinfo", LEASE))["inFlight"] == flight
    with pytest.raises(KubeError, match="Too long: must have at most 262144 bytes"):
        lease.write(lambda state: state.update(noise=os.urandom(300_000).hex()))


def test_controls_with_nothing_to_act_on_say_so_and_a_paused_rollout_can_be_aborted(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    never = war("rollout", "pause", "ratings", "-n", "bookinfo")
    assert (never.returncode, never.stderr) == (
        1,
        "error: no rollout of WorkloadGroup bookinfo/ratings was ever started here "
        "(no rollout lock)\n",
    )
    assert war(*ROLLOUT, "--canary", "1").returncode == 0  # paused after its canary
    idle = war("rollout", "pause", "ratings", "-n", "bookinfo")
    assert (idle.returncode, idle.stdout) == (
        0,
        "the rollout of WorkloadGroup bookinfo/ratings is paused already\n",
    )
    ended = war("rollout", "abort", "ratings", "-n", "bookinfo")
    assert (ended.returncode, ended.stdout) == (
        0,
        "rollout of WorkloadGroup bookinfo/ratings aborted: a later rollout starts anew\n",
    )
    nothing = war("rollout", "resume", "ratings", "-n", "bookinfo")
    assert nothing.returncode == 1
    assert nothing.stderr == (
        f"error: the last rollout of WorkloadGroup bookinfo/ratings was aborted by {ME}: "
        "nothing to resume (`rollout` starts a new one)\n"
    )
    refused = war("rollout", "pause", "ratings", "-A")
    assert (refused.returncode, refused.stderr) == (
        1,  # a usage error, as kubectl exits on one
        "error: rollout pause names one WorkloadGroup: use -n, not -A\n",
    )
    assert deletes(fake_kube) == [A1]


def test_events_refused_are_said_once_and_the_rollout_goes_on(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=1)
    fake_kube.forbid("create", "events")
    done = war(*ROLLOUT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("Rollout complete: 3 WARs re-onboarded.\n")
    (line,) = done.stderr.splitlines()
    assert line.startswith("warning: not recording Events on WorkloadGroups: ")
    assert '"events"' in line
