"""`kubectl war list -w`: the table, then one line per change, surviving ended streams and 410."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time
from typing import Any

import pytest

from tests import factories as f
from tests.conftest import FIXED_NOW
from tests.fakekube import FakeKube

A, B, C = f.EC2_2A, f.EC2, f.EC2_2C


class Follower:
    """A running `kubectl war list -w` whose stdout lines arrive on a queue."""

    def __init__(
        self, kubectl: str, env: dict[str, str], *args: str, sigint: Any = signal.SIG_DFL
    ) -> None:
        self.proc = subprocess.Popen(
            [kubectl, "war", "list", "-w", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def take(self, n: int, timeout: float = 60.0) -> list[str]:
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"only {out!r} after {timeout}s; stderr: {self.stop()}")
            try:
                out.append(self.lines.get(timeout=left))
            except queue.Empty:
                continue
        return out

    def quiet(self, seconds: float = 0.5) -> bool:
        try:
            line = self.lines.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected line {line!r}")

    def stop(self) -> str:
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        return err


@pytest.fixture
def follow(kubectl_bin: str, kube_env: dict[str, str]) -> Any:
    started: list[Follower] = []

    def start(*args: str, sigint: Any = signal.SIG_DFL) -> Follower:
        env = dict(kube_env, KUBECTL_WAR_NOW=FIXED_NOW)
        fol = Follower(kubectl_bin, env, *args, sigint=sigint)
        started.append(fol)
        return fol

    yield start
    for fol in started:
        if fol.proc.poll() is None:
            fol.stop()


def _disconnect(obj: dict[str, Any]) -> None:
    obj["status"]["conditions"][0].update(status="False", lastTransitionTime="2024-05-16T11:58:00Z")


def test_watch_prints_a_line_per_change_and_survives_ended_streams(
    fake_kube: FakeKube, follow: Any
) -> None:
    fake_kube.add(f.war(A, group="ratings", ip="10.0.1.17"))
    fol = follow("-n", "bookinfo", "--no-headers", "--output-watch-events")
    assert [line.split()[:2] for line in fol.take(1)] == [["ADDED", A]]

    fake_kube.update("workloadautoregistrations", "bookinfo", A, _disconnect, subresource="status")
    (line,) = fol.take(1)
    assert line.split()[:2] == ["MODIFIED", A]
    assert "False (3m left)" in line

    # The server ends the stream; the plugin resumes from the last version it saw.
    fake_kube.end_watches()
    fake_kube.add(f.war(B, group="ratings"))
    assert [x.split()[:2] for x in fol.take(1)] == [["ADDED", B]]

    # The server ends the stream and forgets history (410): the plugin lists again and
    # reports only what changed meanwhile, nothing twice.
    fake_kube.end_watches()
    fake_kube.compact()
    fake_kube.delete("workloadautoregistrations", "bookinfo", A)
    fake_kube.add(f.war(C, group="ratings"))
    got = sorted(x.split()[0] + " " + x.split()[1] for x in fol.take(2))
    assert got == [f"ADDED {C}", f"DELETED {A}"]
    assert fol.quiet()
    assert fol.proc.poll() is None


def test_watch_filters_client_side_flags(fake_kube: FakeKube, follow: Any) -> None:
    fake_kube.add(f.war(A, group="ratings"))
    fol = follow("-n", "bookinfo", "--disconnected", "-o", "name")
    fake_kube.add(f.war(B, group="ratings"))  # connected: not shown
    fake_kube.update("workloadautoregistrations", "bookinfo", A, _disconnect, subresource="status")
    assert fol.take(1) == [f"workloadautoregistration.runtime.onboarding.tetrate.io/{A}"]
    assert fol.quiet()


def test_watch_on_an_empty_namespace_waits_without_complaint(
    fake_kube: FakeKube, follow: Any
) -> None:
    fol = follow("-n", "bookinfo")
    assert fol.quiet()  # like kubectl get -w: the header waits for the first row
    fake_kube.add(f.war(A, group="ratings"))
    header, row = fol.take(2)
    assert header.split()[:3] == ["NAME", "GROUP", "PLATFORM"]
    assert row.split()[0] == A
    assert "\x1b[" not in header + row


@pytest.mark.parametrize(
    "started_with", [signal.SIG_DFL, signal.SIG_IGN], ids=["terminal", "background"]
)
def test_sigint_stops_a_watch_however_it_was_started(
    fake_kube: FakeKube, follow: Any, started_with: Any
) -> None:
    # A shell starts a background job (`kubectl war list -w > log &`) with SIGINT
    # ignored; `kill -INT` still stops it, as it stops `kubectl get -w`.
    fake_kube.add(f.war(A, group="ratings"))
    fol = follow("-n", "bookinfo", "--no-headers", sigint=started_with)
    assert [line.split()[0] for line in fol.take(1)] == [A]
    fol.proc.send_signal(signal.SIGINT)
    _, err = fol.proc.communicate(timeout=60)
    assert (fol.proc.returncode, err) == (130, "\n")


def test_a_run_from_other_python_code_leaves_an_ignored_sigint_alone(
    fake_kube: FakeKube, war_inproc: Any
) -> None:
    # Only the process itself (kubectl-war as the program) takes SIGINT back; a caller
    # that ignores SIGINT (pytest run as a background job) keeps its choice.
    fake_kube.add(f.war(A, group="ratings"))
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ran = war_inproc("list", "-n", "bookinfo", "--no-headers")
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (ran.returncode, ran.stdout.split()[0]) == (0, A)
