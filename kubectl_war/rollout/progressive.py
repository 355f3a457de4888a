"""Progressive rollouts: a canary batch and a pause after it, checks run after each batch
is back, approval before each batch. The executor asks a `Gate` before it deletes a batch
and after the batch is back; the gate answers by returning, or with `Pause` (stopped on
purpose, a re-run continues) or `Halt` (stopped: a check failed, a batch not approved)."""

from __future__ import annotations

import contextlib
import os
import queue
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubectl_war.durations import go_duration
from kubectl_war.errors import UsageError
from kubectl_war.jsondata import child
from kubectl_war.rollout.journal import Journal
from kubectl_war.rollout.plan import Batch, GroupPlan
from kubectl_war.rollout.progress import Event
from kubectl_war.rollout.states import EventKind
from kubectl_war.rollout.view import plural
from kubectl_war.snapshot import Snapshot
from kubectl_war.war import War

#: `--check-timeout`: how long one check may run.
DEFAULT_CHECK_TIMEOUT = "1m"
#: How many of a failed check's last output lines the error shows.
TAIL_LINES = 10
# A line of a check's output longer than this is cut (what it prints is shown, not kept).
_LINE_CAP = 1000
# How much of a check's output is read at once.
_CHUNK = 64 * 1024
# How long the rest of a check's output is read after it exited (seconds).
_DRAIN = 1.0
_TICK = 0.1

# Why a rollout stopped on purpose, as its journal and `rollout status` say it.
CANARY = "canary"
CHECK_FAILED = "check failed"
NOT_APPROVED = "not approved"


# ---- --check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """`--check CMD`: a command run without a shell, its words split as a shell would."""

    command: str
    argv: tuple[str, ...]


def parse_check(text: str) -> Check:
    try:
        argv = tuple(shlex.split(text))
    except ValueError as exc:
        raise UsageError(f"invalid --check {text!r}: {exc}") from None
    if not argv:
        raise UsageError("invalid --check '': name a command to run")
    return Check(text, argv)


@dataclass
class CheckRun:
    """How one run of a check ended."""

    check: Check
    status: int | None  # the exit status; None when it could not start or was stopped
    timed_out: bool = False
    error: str = ""  # why it could not start
    tail: list[str] = field(default_factory=list)  # its last lines of output

    @property
    def ok(self) -> bool:
        return self.status == 0 and not self.timed_out

    def why(self, timeout: float) -> str:
        if self.error:
            return self.error
        if self.timed_out:
            return f"still running after {go_duration(timeout)} (--check-timeout): stopped"
        if self.status is not None and self.status < 0:
            return f"killed by signal {-self.status}"
        return f"exit status {self.status}"


def run_check(
    check: Check,
    env: Mapping[str, str],
    *,
    timeout: float,
    on_line: Callable[[str], None],
    interrupted: Callable[[], bool],
    clock: Callable[[], float] = time.monotonic,
) -> CheckRun:
    """Run `check` with `env`, its output (stdout and stderr together) to `on_line` line
    by line, for at most `timeout` seconds.

    Its result is its exit status: once it exits, whatever it left running in the
    background (its process group) is stopped, not waited for. Output is read in chunks
    of at most `_CHUNK` bytes and a line is kept to `_LINE_CAP` characters as it arrives,
    so a check that prints without end (`cat /dev/zero`) costs bounded memory. It runs
    in a process group of its own, so that a check that started others is stopped whole,
    and a Ctrl-C at the terminal reaches the rollout, which stops it. Raises
    KeyboardInterrupt when `interrupted()` turns true.
    """
    try:
        proc = subprocess.Popen(
            list(check.argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        return CheckRun(check, None, error=f"cannot run {check.argv[0]!r}: {exc.strerror}")
    assert proc.stdout is not None
    # Bounded: a check printing faster than lines are shown waits for them.
    lines: queue.Queue[str | None] = queue.Queue(maxsize=256)
    threading.Thread(
        target=_read_lines,
        args=(proc.stdout.fileno(), lines),
        name="kubectl-war-check",
        daemon=True,
    ).start()
    tail: list[str] = []
    deadline = clock() + timeout
    status: int | None = None
    drained = 0.0  # once it exited: when to stop waiting for the rest of its output
    try:
        while True:
            if interrupted():
                raise KeyboardInterrupt
            if status is None:
                status = proc.poll()
                if status is not None:
                    _kill(proc)  # its leftover children: their output ends with them
                    drained = clock() + _DRAIN
            elif clock() >= drained:
                break  # something that left its group still holds the output open
            if status is None and clock() >= deadline:
                _kill(proc)
                return CheckRun(check, None, timed_out=True, tail=tail[-TAIL_LINES:])
            try:
                line = lines.get(timeout=_TICK)
            except queue.Empty:
                continue
            if line is None:
                break
            tail.append(line)
            del tail[: -TAIL_LINES - 1]
            on_line(line)
        if status is None:
            status = _wait(proc, deadline, clock, interrupted)
            if status is None:
                return CheckRun(check, None, timed_out=True, tail=tail[-TAIL_LINES:])
        return CheckRun(check, status, tail=tail[-TAIL_LINES:])
    except BaseException:
        _kill(proc)
        raise
    finally:
        proc.stdout.close()


def _wait(
    proc: subprocess.Popen[bytes],
    deadline: float,
    clock: Callable[[], float],
    interrupted: Callable[[], bool],
) -> int | None:
    """A check whose output ended: its exit status (None: still running at `deadline`)."""
    while True:
        try:
            return proc.wait(timeout=_TICK)
        except subprocess.TimeoutExpired:
            if interrupted():
                raise KeyboardInterrupt from None
            if clock() >= deadline:
                _kill(proc)
                return None


def _read_lines(fd: int, lines: queue.Queue[str | None]) -> None:
    """Read a check's output in chunks, as lines of at most `_LINE_CAP` characters
    (the rest of a longer line is dropped as it comes), then None."""
    buf = b""
    dropping = False
    try:
        while True:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                break
            *whole, buf = (buf + chunk).split(b"\n")
            for raw in whole:
                if not dropping:
                    lines.put(_text(raw))
                dropping = False
            if len(buf) > _LINE_CAP:
                if not dropping:
                    lines.put(_text(buf))
                dropping, buf = True, b""
    except OSError:
        pass
    if buf and not dropping:
        lines.put(_text(buf))
    lines.put(None)


def _text(raw: bytes) -> str:
    return raw[: _LINE_CAP * 4].decode("utf-8", "replace").rstrip("\r")[:_LINE_CAP]


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Stop a check and whatever it started (its process group)."""
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


# ---- stopping on purpose --------------------------------------------------------------------


class Stopped(Exception):
    """The gate stops the rollout; `record` says where and why (kept in the journal)."""

    def __init__(self, message: str, record: dict[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.record = record


class Pause(Stopped):
    """Stopped on purpose after a canary: exit 0, and re-running the command continues."""


class Halt(Stopped):
    """Stopped: a check failed or a batch was not approved (exit 1)."""


class Aborted(Stopped):
    """Stopped by `rollout abort` from elsewhere: a later run starts anew (exit 1)."""


@dataclass
class BatchBack:
    """A batch that is back: its WARs as they are now, and when each was seen back."""

    group: GroupPlan
    batch: Batch
    wars: list[War]
    back_at: dict[str, float]


class BatchHooks(Protocol):
    """What a gate runs around each batch besides its checks (`analysis.MetricGate`)."""

    def before(self, gate: Gate, gp: GroupPlan, batch: Batch) -> None: ...

    def after(self, gate: Gate, back: BatchBack) -> None: ...


class Gate:
    """What a progressive rollout does between batches.

    Args:
        checks: run after each batch is back, in order; the first that fails halts.
        check_timeout: seconds each check may run.
        env: the environment every check starts from (the user's, with the cluster's
            kubeconfig and context); each batch adds `KUBECTL_WAR_*`.
        canary_pause: without a terminal, how long to wait after a canary (None: stop).
        ask_canary: on a terminal, asks whether to go on after a canary (None: no terminal).
        approve: on a terminal, asks before each batch: "y", "a" (all remaining) or no
            (None: not asked).
        versions: each group's WorkloadGroup generation, kept with a pause so that a
            re-run after the group changed starts over with a canary.
        journal: where a canary that is back is remembered (`Journal.canary_back`).
        first_approved: the first batch was approved already (the plan was confirmed).
    """

    def __init__(
        self,
        *,
        checks: Sequence[Check] = (),
        check_timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
        canary_pause: float | None = None,
        ask_canary: Callable[[BatchBack], bool] | None = None,
        approve: Callable[[GroupPlan, Batch], str] | None = None,
        versions: Mapping[tuple[str, str], str] | None = None,
        journal: Journal | None = None,
        first_approved: bool = False,
        report: Callable[[Event], None] = lambda ev: None,
        sleep: Callable[[float], None] = time.sleep,
        interrupted: Callable[[], bool] = lambda: False,
    ) -> None:
        self.checks = list(checks)
        self.check_timeout = check_timeout
        self.env = dict(os.environ if env is None else env)
        self.canary_pause = canary_pause
        self.ask_canary = ask_canary
        self.approve = approve
        self.versions = dict(versions or {})
        self.report = report
        self.sleep = sleep
        self.interrupted = interrupted
        self.journal = journal
        self._all_approved = False
        self._approved_next = first_approved
        #: The metric gates (`rollout.analysis.MetricGate`): alerts before each batch,
        #: analyses after each batch is back and its checks passed.
        self.metrics: BatchHooks | None = None

    def record(
        self, gp: GroupPlan, batch: Batch, reason: str, message: str, *, back: bool
    ) -> dict[str, Any]:
        """Where and why a group's rollout stopped (`back`: after `batch` came back), as
        data."""
        return {
            "reason": reason,
            "message": message,
            "batch": batch.number,
            "batches": gp.total,
            "wars": [m.name for m in batch.members],
            "generation": self.versions.get((gp.namespace, gp.name), ""),
            "back": back,  # stopped after the batch came back, or before it was deleted
        }

    def before(self, gp: GroupPlan, batch: Batch) -> None:
        """Before a batch is deleted: wait out firing alerts; with `approve`, ask (unless
        "a" was answered)."""
        if self.metrics is not None:
            self.metrics.before(self, gp, batch)
        if self.approve is None or self._all_approved:
            return
        if self._approved_next:  # going on after a canary was that batch's approval
            self._approved_next = False
            return
        answer = self.approve(gp, batch)
        if answer == "a":
            self._all_approved = True
        elif answer != "y":
            where = f"batch {batch.number}/{gp.total} of WorkloadGroup {gp.ref}"
            message = f"{where} was not approved: nothing more was deleted"
            raise Halt(message, self.record(gp, batch, NOT_APPROVED, message, back=False))

    def after(self, back: BatchBack) -> None:
        """After a batch is back: run the checks; after a canary, pause or ask."""
        gp, batch = back.group, back.batch
        where = f"batch {batch.number}/{gp.total} of WorkloadGroup {gp.ref}"
        if self.journal is not None and self.checks:
            # A run stopped while its checks run leaves this: the next checks it first.
            self.journal.checking(
                gp.namespace,
                gp.name,
                {
                    "batch": batch.number,
                    "batches": gp.total,
                    "wars": [w.name for w in back.wars],
                    "canary": batch.canary,
                    "generation": self.versions.get((gp.namespace, gp.name), ""),
                },
            )
        for check in self.checks:
            run = self._check(check, back)
            if not run.ok:
                if self.journal is not None:
                    self.journal.checking(gp.namespace, gp.name, None)
                message = (
                    f'check "{check.command}" failed after {where} '
                    f"({run.why(self.check_timeout)}); the rollout stopped and nothing more "
                    "will be deleted"
                )
                if run.tail:
                    message += "\nLast lines of its output:\n" + "\n".join(
                        f"  {line}" for line in run.tail
                    )
                raise Halt(message, self.record(gp, batch, CHECK_FAILED, message, back=True))
        if self.journal is not None and self.checks:
            self.journal.checking(gp.namespace, gp.name, None)
        if self.metrics is not None:
            self.metrics.after(self, back)
        if not batch.canary:
            return
        if self.journal is not None:
            version = self.versions.get((gp.namespace, gp.name), "")
            self.journal.canary_back(gp.namespace, gp.name, version)
        if batch.number >= gp.total:
            return
        rest = sum(len(b.members) for b in gp.batches[batch.number - gp.offset :])
        if self.ask_canary is not None:
            if not self.ask_canary(back):
                message = f"not continued after the canary ({where}): nothing more was deleted"
                raise Halt(message, self.record(gp, batch, NOT_APPROVED, message, back=True))
            self._approved_next = True
            return
        if self.canary_pause is not None:
            self.report(Event(EventKind.PAUSE, gp, batch, seconds=self.canary_pause, detail=CANARY))
            self.sleep(self.canary_pause)
            return
        message = (
            f"paused after the canary ({where}, {plural(len(batch.members), 'WAR')} back); "
            f"{plural(rest, 'WAR')} left to re-onboard"
        )
        raise Pause(message, self.record(gp, batch, CANARY, message, back=True))

    def _check(self, check: Check, back: BatchBack) -> CheckRun:
        gp, batch = back.group, back.batch
        env = dict(self.env)
        env.update(
            KUBECTL_WAR_GROUP=gp.name,
            KUBECTL_WAR_NAMESPACE=gp.namespace,
            KUBECTL_WAR_BATCH=str(batch.number),
            KUBECTL_WAR_BATCHES=str(gp.total),
            KUBECTL_WAR_WARS=" ".join(w.name for w in back.wars),
            KUBECTL_WAR_IPS=" ".join(w.ip for w in back.wars if w.ip),
        )
        self.report(Event(EventKind.CHECK, gp, batch, check.command, "started"))

        def line(text: str) -> None:
            self.report(Event(EventKind.CHECK, gp, batch, check.command, "output", text))

        run = run_check(
            check, env, timeout=self.check_timeout, on_line=line, interrupted=self.interrupted
        )
        verdict = "passed" if run.ok else "failed"
        self.report(
            Event(EventKind.CHECK, gp, batch, check.command, verdict, run.why(self.check_timeout))
        )
        return run


# ---- what a re-run and `rollout status` make of a pause ----------------------------------


def canary_done(journal: Journal, versions: Mapping[tuple[str, str], str]) -> set[tuple[str, str]]:
    """Groups whose canary an earlier run re-onboarded, for the same WorkloadGroup spec:
    a re-run of the same command goes on from there rather than starting over."""
    return {key for key, gen in journal.canaries().items() if gen == versions.get(key)}


def current_pauses(
    journal: Journal, versions: Mapping[tuple[str, str], str]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The journal's pauses of groups whose WorkloadGroup has not changed since: one that
    changed again is a new rollout, which starts over."""
    return {
        key: record
        for key, record in journal.paused_by_group().items()
        if record.get("generation") == versions.get(key)
    }


def group_versions(snap: Snapshot) -> dict[tuple[str, str], str]:
    """Each WorkloadGroup's generation (its resourceVersion when it has none)."""
    return {key: version_of(obj) for key, obj in snap.groups.items()}


def version_of(obj: Mapping[str, Any]) -> str:
    """A WorkloadGroup's generation (its resourceVersion when it has none)."""
    meta = child(obj, "metadata")
    return str(meta.get("generation") or meta.get("resourceVersion") or "")
