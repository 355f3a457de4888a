"""Running one measured command, and the fake API server's process, for `make bench`.

A run is one process started by fork and exec with stdout to a file (or, for a
watch, a pipe read until the first table is out): its wall time from fork to
exit, its peak RSS and CPU time from wait4, and the fake server's own time
spent on the answers it gave during the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WAR_PLURAL = "workloadautoregistrations"
# client-go's log line for a request its client-side rate limiter held back (`-v=3`
# shows each wait over 50 ms): `"Waited before sending request" delay="159.2ms"`, or in
# older releases `Waited for 159.2ms due to client-side throttling`.
_THROTTLED = re.compile(
    r'Waited before sending request" delay="([0-9.]+)(ms|s|µs)"'
    r"|Waited for ([0-9.]+)(ms|s|µs) due to client-side throttling"
)
_UNIT = {"s": 1.0, "ms": 1e-3, "µs": 1e-6}


@dataclass
class Run:
    wall: float
    rss_mb: float
    server: list[float] = field(default_factory=list)  # seconds per WAR page
    cpu: float = 0.0  # user + system seconds of the measured process
    server_total: float = 0.0  # seconds the server spent on every answer of the run


@dataclass
class Series:
    runs: list[Run] = field(default_factory=list)

    @property
    def walls(self) -> list[float]:
        return [r.wall for r in self.runs]

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def rss_mb(self) -> float:
        return max(r.rss_mb for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def pages(self) -> list[float]:
        return [s for r in self.runs for s in r.server]

    @property
    def server_per_run(self) -> float:
        return statistics.median(sum(r.server) for r in self.runs) if self.runs else 0.0

    @property
    def server_share(self) -> float:
        """The server's time for all answers of a run over the run's wall time (median)."""
        return statistics.median(r.server_total / r.wall for r in self.runs) if self.runs else 0.0

    def spread(self) -> str:
        if len(self.runs) == 1:
            return ms(self.median)
        return f"{ms(self.median)} ({ms(min(self.walls))}–{ms(max(self.walls))})"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


class BenchError(SystemExit):
    """A command failed or printed something else than expected: the run is void."""


class Server:
    """The fake API server in a process of its own (bench/server.py).

    Run in this process, its memory would count towards every measured command's
    peak RSS: a forked child starts with its parent's resident pages.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("server.py")), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise BenchError(f"bench: the fake API server ({config}) did not start")
        hello = json.loads(line)
        self.kubeconfig: str = hello["kubeconfig"]
        self.war: dict[str, str] = hello["war"]
        self.group: dict[str, Any] = hello["group"]
        self.seed_seconds: float = hello["seed_seconds"]

    def _ask(self, command: str) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def timings(self) -> list[tuple[str, str, bool, float]]:
        """Each answer built since the last call: method, path, Table or not, seconds."""
        return [tuple(row) for row in self._ask("timings")]  # type: ignore[misc]

    def rollout_record(self) -> dict[str, Any]:
        """DELETEs and returns of WARs (bench/server.py, "rollout")."""
        return dict(self._ask("rollout"))

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write("stop\n")
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Runner:
    """Runs commands in a fixed environment, one at a time, and measures each."""

    def __init__(self, env: dict[str, str], work: Path) -> None:
        self.env = env
        self.out = work / "out.txt"
        self.err = work / "err.txt"

    def run(
        self,
        argv: Sequence[str],
        *,
        fake: Server | None = None,
        expect_lines: int | None = None,
        ok: Sequence[int] = (0,),
        contains: bytes | None = None,
        env: dict[str, str] | None = None,
    ) -> Run:
        """Run once with stdout to a file: wall time, peak RSS, CPU, the server's time."""
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env or self.env)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in ok:
            raise BenchError(f"bench: {' '.join(argv)} failed ({code}): {self._stderr()}")
        if expect_lines is not None:
            with open(self.out, "rb") as f:
                lines = sum(1 for _ in f)
            if lines != expect_lines:
                raise BenchError(
                    f"bench: {' '.join(argv)} printed {lines} lines, expected {expect_lines}"
                )
        if contains is not None and contains not in self.out.read_bytes():
            raise BenchError(f"bench: {' '.join(argv)} printed no {contains.decode()!r}")
        return self._measured(wall, usage, fake)

    def run_watch(self, argv: Sequence[str], *, fake: Server | None, lines: int) -> Run:
        """Run a watch until it has printed ``lines`` lines (its first table), then stop
        it with SIGINT as Ctrl-C would: wall time to the table, peak RSS to the end."""
        with open(self.err, "wb") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, env=self.env)
            assert proc.stdout is not None
            seen = 0
            while seen < lines:
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    break
                seen += chunk.count(b"\n")
            wall = time.perf_counter() - start
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
            # Drain whatever it prints while stopping, so it never blocks on a full pipe.
            while os.read(proc.stdout.fileno(), 1 << 16):
                pass
            _, status, usage = os.wait4(proc.pid, 0)
            proc.stdout.close()
        if seen < lines:
            code = os.waitstatus_to_exitcode(status)
            raise BenchError(
                f"bench: {' '.join(argv)} printed {seen} lines, expected {lines} before "
                f"watching (exit {code}): {self._stderr()}"
            )
        return self._measured(wall, usage, fake)

    def throttled(self, argv: Sequence[str]) -> tuple[float, float, int]:
        """Run a kubectl command once with `-v=3`: its wall time, and how long client-go's
        client-side rate limiter held its requests back (the waits it logs), and how many.

        Not one of the measured runs: the log costs a little CPU.
        """
        with open(os.devnull, "wb") as out, open(self.err, "wb") as err:
            start = time.perf_counter()
            proc = subprocess.Popen([*argv, "-v=3"], stdout=out, stderr=err, env=self.env)
            os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
        return (wall, *throttle_waits(self.err.read_text(errors="replace")))

    def _stderr(self) -> str:
        with contextlib.suppress(OSError):
            return self.err.read_text(errors="replace")[-2000:]
        return ""

    @staticmethod
    def _measured(wall: float, usage: Any, fake: Server | None) -> Run:
        pages: list[float] = []
        total = 0.0
        if fake is not None:
            for method, path, _table, seconds in fake.timings():
                total += seconds
                if method == "GET" and path.endswith("/" + WAR_PLURAL):
                    pages.append(seconds)
        # ru_maxrss is in KiB on Linux.
        return Run(wall, usage.ru_maxrss / 1024, pages, usage.ru_utime + usage.ru_stime, total)


def throttle_waits(log: str) -> tuple[float, int]:
    """Seconds client-go's rate limiter held requests back, by its own log, and how many."""
    total, count = 0.0, 0
    for m in _THROTTLED.finditer(log):
        value, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        total += float(value) * _UNIT[unit]
        count += 1
    return total, count
