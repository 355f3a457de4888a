"""Metric gates between batches: `--analysis` measured and judged after each batch is
back, `--alerts-firing` waited out before each batch.

After a batch is back (and its `--check`s passed), each analysis is measured `count`
times, `interval` apart: its query is sent to Prometheus and every value it answers must
meet the condition. More than `failure_limit` failed measurements halt the rollout
before the next batch, as a failed check does; a measurement with no data (no series,
or NaN) is inconclusive and pauses it. With `dry_run`, analyses are measured and
reported and never stop anything. Before each batch, a firing alert named in `alerts`
holds it until the alert clears, for at most `alert_timeout`, then halts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_war.durations import go_duration
from kubectl_war.prometheus.client import Prometheus, PrometheusError, Sample
from kubectl_war.prometheus.promql import Analysis, format_value, variables
from kubectl_war.rollout.plan import Batch, GroupPlan, Plan
from kubectl_war.rollout.progress import Event
from kubectl_war.rollout.progressive import Halt, Pause
from kubectl_war.rollout.states import EventKind
from kubectl_war.rollout.view import plural

if TYPE_CHECKING:
    from kubectl_war.rollout.progressive import BatchBack, Gate

# A measurement's verdict, and an analysis's.
PASSED = "passed"
FAILED = "failed"
INCONCLUSIVE = "inconclusive"
ERROR = "error"

# Why a rollout stopped, as its recorded state and `rollout status` say it.
ANALYSIS_FAILED = "analysis failed"
ANALYSIS_INCONCLUSIVE = "analysis inconclusive"
ALERTS_FIRING = "alerts firing"

DEFAULT_COUNT = 3
DEFAULT_INTERVAL = "30s"
DEFAULT_WINDOW = "1m"
DEFAULT_FAILURE_LIMIT = 0

_TICK = 0.1


@dataclass
class Measurement:
    """One evaluation of an analysis's query: the values answered and the verdict."""

    number: int
    samples: list[Sample] = field(default_factory=list)
    verdict: str = PASSED
    error: str = ""

    def values_text(self) -> str:
        """`0.4925`, `0.5 {destination_workload="a"}, 1 {...}`, or why there is none."""
        if self.error:
            return self.error
        if not self.samples:
            return "no series"
        if len(self.samples) == 1:
            s = self.samples[0]
            return format_value(s.value) + (f" {s.describe()}" if s.describe() else "")
        return ", ".join(f"{format_value(s.value)} {s.describe()}".rstrip() for s in self.samples)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "number": self.number,
            "verdict": self.verdict,
            "values": [
                {"labels": dict(s.labels), "value": format_value(s.value)} for s in self.samples
            ],
        }
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class AnalysisRun:
    """An analysis measured after one batch: the query as sent and its measurements."""

    analysis: Analysis
    query: str
    count: int
    dry_run: bool
    measurements: list[Measurement] = field(default_factory=list)
    verdict: str = ""
    where: tuple[str, str, int] = ("", "", 0)  # namespace, group, batch

    @property
    def failed(self) -> int:
        return sum(m.verdict == FAILED for m in self.measurements)

    def lines(self) -> list[str]:
        """The query and each measured value, for the message a stop prints."""
        want = self.analysis.condition
        out = [f"  query: {self.query}", f"  measured (each value must be {want}):"]
        for m in self.measurements:
            out.append(f"    {m.number}/{self.count}: {m.values_text()} ({m.verdict})")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespace": self.where[0],
            "group": self.where[1],
            "batch": self.where[2],
            "analysis": self.analysis.text,
            "query": self.query,
            "condition": self.analysis.condition,
            "dryRun": self.dry_run,
            "verdict": self.verdict,
            "measurements": [m.to_dict() for m in self.measurements],
        }


def judge(analysis: Analysis, samples: Sequence[Sample]) -> str:
    """A measurement's verdict: inconclusive with no data (no series, or any NaN), failed
    when any value misses the condition, else passed."""
    if not samples or any(math.isnan(s.value) for s in samples):
        return INCONCLUSIVE
    return PASSED if all(analysis.passes(s.value) for s in samples) else FAILED


class MetricGate:
    """The metric part of a rollout's gate (see the module's docstring).

    Args:
        prometheus: where analyses and alerts are asked.
        analyses: measured after each batch is back, in order.
        window: `{{window}}` in queries, a Prometheus duration (`1m`).
        workload: `{{workload}}`, a regular expression for `destination_workload`
            (None: the group's name).
        alert_timeout: seconds a batch waits for firing alerts to clear (inf: no limit).
    """

    def __init__(
        self,
        prometheus: Prometheus,
        analyses: Sequence[Analysis],
        *,
        count: int = DEFAULT_COUNT,
        interval: float = 30.0,
        failure_limit: int = DEFAULT_FAILURE_LIMIT,
        window: str = DEFAULT_WINDOW,
        workload: str | None = None,
        dry_run: bool = False,
        alerts: Sequence[str] = (),
        alert_timeout: float = math.inf,
        report: Callable[[Event], None] = lambda ev: None,
        interrupted: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.prometheus = prometheus
        self.analyses = list(analyses)
        self.count = count
        self.interval = interval
        self.failure_limit = failure_limit
        self.window = window
        self.workload = workload
        self.dry_run = dry_run
        self.alerts = list(alerts)
        self.alert_timeout = alert_timeout
        self.report = report
        self.interrupted = interrupted
        self.clock = clock
        #: Every analysis run so far, in order.
        self.runs: list[AnalysisRun] = []

    # ---- before anything is deleted -----------------------------------------------------

    def probe(self, plan: Plan) -> None:
        """Send each query once, as the first batch would, and ask for the alerts: a query
        Prometheus refuses, or a Prometheus that does not answer, is an error now rather
        than after a batch is deleted. Raises PrometheusError."""
        first = next((gp for gp in plan.groups if gp.batches), None)
        if first is not None:
            batch = first.batches[0]
            ips: list[str] = []
            names = [m.name for m in batch.members]
            for analysis in self.analyses:
                self.prometheus.query(analysis.render(self._variables(first, batch, names, ips)))
        if self.alerts:
            self.prometheus.firing(self.alerts)

    def _variables(
        self, gp: GroupPlan, batch: Batch, wars: Sequence[str], ips: Sequence[str]
    ) -> dict[str, str]:
        return variables(
            namespace=gp.namespace,
            group=gp.name,
            batch=batch.number,
            window=self.window,
            workload=self.workload,
            ips=ips,
            wars=wars,
        )

    # ---- before each batch: alerts --------------------------------------------------------

    def before(self, gate: Gate, gp: GroupPlan, batch: Batch) -> None:
        """Hold the batch while any of the alerts fires; halt after `alert_timeout`."""
        if not self.alerts:
            return
        deadline = self.clock() + self.alert_timeout
        shown: list[str] | None = None
        while True:
            try:
                firing = self.prometheus.firing(self.alerts)
            except PrometheusError as exc:
                message = (
                    f"cannot tell whether alerts fire before batch {_where(gp, batch)} "
                    f"({exc.message}); the rollout stopped and nothing more was deleted"
                )
                record = gate.record(gp, batch, ALERTS_FIRING, message, back=False)
                raise Halt(message, record) from None
            if not firing:
                if shown:
                    self._event(gp, batch, EventKind.ALERTS, "clear", "alerts clear: going on")
                return
            if firing != shown:
                shown = firing
                self._event(
                    gp,
                    batch,
                    EventKind.ALERTS,
                    "firing",
                    f"holding: {plural(len(firing), 'alert')} firing ({', '.join(firing)}); "
                    "waiting for them to clear",
                    names=tuple(firing),
                )
            if self.clock() >= deadline:
                message = (
                    f"{plural(len(firing), 'alert')} still firing after "
                    f"{go_duration(self.alert_timeout)} (--timeout) before batch "
                    f"{_where(gp, batch)}: {', '.join(firing)}; the rollout stopped and "
                    "nothing more was deleted"
                )
                raise Halt(message, gate.record(gp, batch, ALERTS_FIRING, message, back=False))
            self._sleep(min(self.interval, max(0.0, deadline - self.clock())))

    # ---- after each batch: analyses -------------------------------------------------------

    def after(self, gate: Gate, back: BatchBack) -> None:
        """Measure each analysis; halt on too many failures, pause when inconclusive."""
        gp, batch = back.group, back.batch
        wars = [w.name for w in back.wars]
        ips = [w.ip for w in back.wars if w.ip]
        values = self._variables(gp, batch, wars, ips)
        done: list[AnalysisRun] = []
        for analysis in self.analyses:
            run = self._measure(analysis, analysis.render(values), gp, batch)
            done.append(run)
            self.runs.append(run)
            if self.dry_run or run.verdict == PASSED:
                continue
            where = f"batch {_where(gp, batch)} of WorkloadGroup {gp.ref}"
            if run.verdict == INCONCLUSIVE:
                message = (
                    f'analysis "{analysis.text}" was inconclusive after {where} (the query '
                    "answered no data: no series, or NaN)\n"
                    + "\n".join(run.lines())
                    + "\nThe rollout paused: nothing more was deleted"
                )
                record = gate.record(gp, batch, ANALYSIS_INCONCLUSIVE, message, back=True)
                raise Pause(message, dict(record, analyses=[r.to_dict() for r in done]))
            if run.verdict == ERROR:
                why = run.measurements[-1].error if run.measurements else "no answer"
                head = f'analysis "{analysis.text}" could not be measured after {where} ({why})'
            else:
                head = (
                    f'analysis "{analysis.text}" failed after {where} '
                    f"({plural(run.failed, 'failed measurement')}, more than --failure-limit "
                    f"{self.failure_limit})"
                )
            message = (
                head
                + "; the rollout stopped and nothing more will be deleted\n"
                + "\n".join(run.lines())
            )
            record = gate.record(gp, batch, ANALYSIS_FAILED, message, back=True)
            raise Halt(message, dict(record, analyses=[r.to_dict() for r in done]))

    def _measure(self, analysis: Analysis, query: str, gp: GroupPlan, batch: Batch) -> AnalysisRun:
        run = AnalysisRun(analysis, query, self.count, self.dry_run)
        run.where = (gp.namespace, gp.name, batch.number)
        dry = " (dry run: never blocks)" if self.dry_run else ""
        self._event(
            gp,
            batch,
            EventKind.ANALYSIS,
            "started",
            f"{plural(self.count, 'measurement')}, {go_duration(self.interval)} apart{dry}",
            name=analysis.text,
        )
        for number in range(1, self.count + 1):
            if number > 1:
                self._sleep(self.interval)
            m = Measurement(number)
            try:
                m.samples = self.prometheus.query(query)
                m.verdict = judge(analysis, m.samples)
            except PrometheusError as exc:
                m.verdict, m.error = ERROR, exc.message
            run.measurements.append(m)
            self._event(
                gp,
                batch,
                EventKind.ANALYSIS,
                "measured",
                f"measurement {number}/{self.count}: {m.values_text()} ({m.verdict}; "
                f"want {analysis.condition})",
                name=analysis.text,
            )
            if m.verdict in (INCONCLUSIVE, ERROR) and not self.dry_run:
                run.verdict = m.verdict
                break
            if run.failed > self.failure_limit and not self.dry_run:
                break
        if not run.verdict:
            if any(m.verdict == ERROR for m in run.measurements):
                run.verdict = ERROR
            elif run.failed > self.failure_limit:
                run.verdict = FAILED
            elif any(m.verdict == INCONCLUSIVE for m in run.measurements):
                run.verdict = INCONCLUSIVE
            else:
                run.verdict = PASSED
        taken = plural(len(run.measurements), "measurement")
        summary = f"{run.verdict}: {run.failed} of {taken} failed"
        self._event(gp, batch, EventKind.ANALYSIS, run.verdict, summary + dry, name=analysis.text)
        return run

    def _event(
        self,
        gp: GroupPlan,
        batch: Batch,
        kind: EventKind,
        state: str,
        detail: str,
        *,
        name: str = "",
        names: tuple[str, ...] = (),
    ) -> None:
        self.report(Event(kind, gp, batch, name, state, detail, names=names))

    def _sleep(self, seconds: float) -> None:
        """Wait `seconds`, a Ctrl-C (`interrupted`) ending it at once."""
        end = self.clock() + seconds
        while True:
            if self.interrupted():
                raise KeyboardInterrupt
            left = end - self.clock()
            if left <= 0:
                return
            time.sleep(min(_TICK, left))


def _where(gp: GroupPlan, batch: Batch) -> str:
    return f"{batch.number}/{gp.total}"
