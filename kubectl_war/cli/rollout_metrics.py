"""`kubectl war rollout`'s metric-gate flags (`--analysis` and its knobs,
`--alerts-firing`, `--prometheus`) and the `rollout.analysis.MetricGate` they add to a
rollout's gate."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from kubectl_war.cli import options as opt
from kubectl_war.durations import go_duration, parse_duration
from kubectl_war.errors import UsageError, WarError, quote_input
from kubectl_war.prometheus.client import ADDON_SERVICE, connect, parse_location
from kubectl_war.prometheus.promql import parse_analysis
from kubectl_war.rollout.analysis import ANALYSIS_INCONCLUSIVE, MetricGate
from kubectl_war.rollout.progressive import Gate

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube
    from kubectl_war.prometheus.client import Location
    from kubectl_war.prometheus.promql import Analysis
    from kubectl_war.rollout.journal import Journal
    from kubectl_war.rollout.plan import Plan
    from kubectl_war.rollout.progress import Event


# The defaults as a user types them (rollout.analysis holds them as numbers).
DEFAULT_COUNT = 3
DEFAULT_INTERVAL = "30s"
DEFAULT_WINDOW = "1m"
DEFAULT_FAILURE_LIMIT = 0
DEFAULT_PROMETHEUS = "auto"


@dataclass(frozen=True)
class Metrics:
    """The metric-gate flags of one `rollout` invocation."""

    analyses: tuple[Analysis, ...]
    count: int
    interval: float
    failure_limit: int
    window: float
    workload: str | None
    dry_run: bool
    alerts: tuple[str, ...]
    prometheus: Location
    token_file: str | None

    @property
    def active(self) -> bool:
        return bool(self.analyses or self.alerts)

    def validate(self) -> None:
        if self.count < 1:
            raise UsageError("--analysis-count must be at least 1")
        if self.failure_limit < 0:
            raise UsageError("--failure-limit must be 0 or more")
        if self.interval <= 0:
            raise UsageError("--analysis-interval must be more than 0")
        if self.window < 1:
            raise UsageError("--analysis-window must be at least 1s")
        if self.dry_run and not self.analyses:
            raise UsageError("--analysis-dry-run needs --analysis: it is how analyses are run")
        if self.token_file and self.prometheus.kind != "url":
            raise UsageError(
                "--prometheus-token-file needs --prometheus URL: through the API server, "
                "the kubeconfig's credentials are used"
            )

    def resume_flags(self) -> list[tuple[str, str | None, bool]]:
        """The flags a re-run needs, as `_resume_command` takes them."""
        flags: list[tuple[str, str | None, bool]] = [
            ("--analysis", a.text, True) for a in self.analyses
        ]
        flags += [
            ("--analysis-count", str(self.count), self.count != DEFAULT_COUNT),
            (
                "--analysis-interval",
                go_duration(self.interval),
                self.interval != parse_duration(DEFAULT_INTERVAL),
            ),
            (
                "--analysis-window",
                go_duration(self.window),
                self.window != parse_duration(DEFAULT_WINDOW),
            ),
            ("--analysis-workload", self.workload, self.workload is not None),
            ("--failure-limit", str(self.failure_limit), self.failure_limit != 0),
            ("--analysis-dry-run", None, self.dry_run),
            ("--alerts-firing", ",".join(self.alerts), bool(self.alerts)),
            ("--prometheus", str(self.prometheus), self.prometheus.kind != DEFAULT_PROMETHEUS),
            ("--prometheus-token-file", self.token_file, bool(self.token_file)),
        ]
        return flags

    @staticmethod
    def blocked(record: Mapping[str, Any] | None) -> bool:
        """A stop on purpose that still fails the command: an inconclusive analysis
        paused the rollout (nobody chose that pause)."""
        return bool(record) and (record or {}).get("reason") == ANALYSIS_INCONCLUSIVE

    @staticmethod
    def summary(doc: dict[str, Any], metrics: MetricGate | None) -> dict[str, Any]:
        """`-o json`'s summary with every analysis measured, batch by batch."""
        if metrics is None:
            return doc
        return {**doc, "analyses": [run.to_dict() for run in metrics.runs]}

    def open(self, client: Kube, plan: Plan, *, istio_namespace: str) -> MetricGate | None:
        """Prometheus found and asked once for every query (a refused query or a
        Prometheus that does not answer is an error before anything is deleted), as the
        metric gate; None when no metric flag was given."""
        if not self.active:
            return None

        prometheus = connect(
            self.prometheus,
            kube=client,
            istio_namespace=istio_namespace,
            token_file=self.token_file,
        )
        if prometheus is None:
            need = "--analysis" if self.analyses else "--alerts-firing"
            raise WarError(
                f'no Prometheus found (no Service "{ADDON_SERVICE}" in namespace '
                f'"{istio_namespace}"): {need} needs --prometheus URL or '
                "--prometheus service/NAMESPACE/NAME[:PORT]"
            )
        gate = MetricGate(
            prometheus,
            self.analyses,
            count=self.count,
            interval=self.interval,
            failure_limit=self.failure_limit,
            window=f"{int(self.window)}s",
            workload=self.workload,
            dry_run=self.dry_run,
            alerts=self.alerts,
        )
        gate.probe(plan)
        return gate

    def attach(
        self,
        metrics: MetricGate | None,
        gate: Gate | None,
        *,
        versions: Mapping[tuple[str, str], str],
        journal: Journal,
        timeout: float | None,
        report: Callable[[Event], None],
        interrupted: Callable[[], bool],
    ) -> Gate | None:
        """`gate` (a new one when there is none) with the metric gate in it."""
        if metrics is None:
            return gate
        if gate is None:
            gate = Gate(versions=versions, journal=journal, report=report, interrupted=interrupted)
        metrics.report = report
        metrics.interrupted = interrupted
        metrics.alert_timeout = timeout if timeout else math.inf
        gate.metrics = metrics
        return gate


def _analyses(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[Analysis, ...]:
    return tuple(parse_analysis(v) for v in value)


def _location(ctx: click.Context, param: click.Parameter, value: str) -> Location:
    return parse_location(value)


def _alerts(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    names: list[str] = []
    for item in value:
        for name in item.split(","):
            name = name.strip()
            if not re.match(r"^[A-Za-z_:][A-Za-z0-9_:]*$", name):
                raise UsageError(
                    f"invalid --alerts-firing {quote_input(item)}: expected alert names "
                    "separated by commas (letters, digits, _ and :)"
                )
            if name not in names:
                names.append(name)
    return tuple(names)


#: The metric-gate flags, in the order --help lists them.
METRIC_OPTIONS: list[Callable[[Any], Any]] = [
    click.option(
        "--analysis",
        "analyses",
        multiple=True,
        metavar="EXPR",
        callback=_analyses,
        help="After each batch is back (and its --checks passed), measure this in "
        "Prometheus: 'QUERY >= 0.99' (any PromQL, with {{namespace}}, {{group}}, "
        "{{batch}}, {{window}}, {{workload}}, {{ips}}, {{wars}}), success-rate>=0.99 or "
        "latency-p99<500ms (Istio's metrics for the group's workloads). More than "
        "--failure-limit failed measurements stop the rollout (exit 1); no data pauses "
        "it (exit 1, a re-run continues). Repeatable.",
    ),
    click.option(
        "--analysis-count",
        type=int,
        default=DEFAULT_COUNT,
        show_default=True,
        metavar="N",
        help="Measure each --analysis this many times after each batch.",
    ),
    opt.duration_option(
        "--analysis-interval",
        default=DEFAULT_INTERVAL,
        help="Between measurements, and between looks at --alerts-firing.",
    ),
    opt.duration_option(
        "--analysis-window",
        default=DEFAULT_WINDOW,
        help="The range the built-in analyses' rates are taken over ({{window}}).",
    ),
    click.option(
        "--analysis-workload",
        metavar="REGEX",
        help="The destination_workload the built-in analyses match ({{workload}}; "
        "default: the WorkloadGroup's name).",
    ),
    click.option(
        "--failure-limit",
        type=int,
        default=DEFAULT_FAILURE_LIMIT,
        show_default=True,
        metavar="N",
        help="Failed measurements of an --analysis allowed per batch.",
    ),
    click.option(
        "--analysis-dry-run",
        is_flag=True,
        help="Measure and report the analyses; never stop or pause on them.",
    ),
    click.option(
        "--alerts-firing",
        multiple=True,
        metavar="NAME[,NAME]",
        callback=_alerts,
        help="Before each batch, while any of these Prometheus alerts fires, wait (up "
        "to --timeout, then stop).",
    ),
    click.option(
        "--prometheus",
        default=DEFAULT_PROMETHEUS,
        show_default=True,
        metavar="URL|service/NS/NAME[:PORT]|auto",
        callback=_location,
        help="Where Prometheus answers: a URL, a Service reached through the API "
        "server's proxy, or auto: Service prometheus in --istio-namespace.",
    ),
    click.option(
        "--prometheus-token-file",
        metavar="FILE",
        help="A bearer token for --prometheus URL.",
    ),
]


def _metrics(
    analyses: tuple[Analysis, ...],
    analysis_count: int,
    analysis_interval: float,
    failure_limit: int,
    analysis_window: float,
    analysis_workload: str | None,
    analysis_dry_run: bool,
    alerts_firing: tuple[str, ...],
    prometheus: Location,
    prometheus_token_file: str | None,
) -> Metrics:
    metrics = Metrics(
        analyses=analyses,
        count=analysis_count,
        interval=analysis_interval,
        failure_limit=failure_limit,
        window=analysis_window,
        workload=analysis_workload,
        dry_run=analysis_dry_run,
        alerts=alerts_firing,
        prometheus=prometheus,
        token_file=prometheus_token_file,
    )
    metrics.validate()
    return metrics


#: The metric-gate flags, passed to the command as `metrics` (a `Metrics`).
metrics_options = opt.flag_group("metrics", METRIC_OPTIONS, _metrics)
