"""Rollouts gated on a real Prometheus server: `--analysis` measured after each batch,
`--alerts-firing` before each, against the Istio telemetry of simulated VMs that
Prometheus scrapes (tests/prom.py), through real kubectl against FakeKube."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_war.prometheus.promql import SUCCESS_RATE_QUERY, parse_analysis, render
from tests.factories import on_terminal
from tests.fakekube import FakeKube
from tests.fakekube.onboarding import OnboardingPlane
from tests.prom import HOLD_ALERT, Prometheus, running
from tests.test_cli_rollout import A1, A2, B1, B2, C1, C2, NO_SOURCE, WARS, deletes, seed

Run = Callable[..., subprocess.CompletedProcess[str]]
ROLLOUT = ("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "2", *NO_SOURCE)
RESUME = "kubectl war rollout ratings -n bookinfo --max-unavailable 2 --proxy-status none"
# Measurements a second apart over a 30s window: enough scrapes in any window, even on
# a loaded machine.
FAST = ("--analysis-interval", "1s", "--analysis-window", "30s")
SUCCESS = "success-rate>=0.99"
# The query success-rate>=0.99 runs for the test's group.
QUERY = render(
    SUCCESS_RATE_QUERY, {"namespace": "bookinfo", "workload": "ratings", "window": "30s"}
)


@pytest.fixture
def plane(fake_kube: FakeKube) -> Iterator[OnboardingPlane]:
    with OnboardingPlane(fake_kube, delay=0.1, lifetime=120) as p:
        yield p


@pytest.fixture
def prometheus(fake_kube: FakeKube, tmp_path: Path) -> Iterator[Prometheus]:
    with running(fake_kube, tmp_path) as prom:
        yield prom


def scraped(prom: Prometheus) -> None:
    """Wait until the success rate of the test's group can be measured."""
    prom.wait_for(QUERY, "the group's success rate")


def lines(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line and line.startswith("batch")]


def in_background(run: Callable[[], Any]) -> Callable[[], Any]:
    """`run()` in a thread; the answer waits for it and returns its result."""
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(run()), daemon=True)
    thread.start()

    def result() -> Any:
        thread.join(180)
        assert done, "the rollout did not end"
        return done[0]

    return result


def test_a_healthy_rollout_is_measured_after_every_batch_and_completes(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane, prometheus: Prometheus
) -> None:
    seed(fake_kube, per_zone=2)
    scraped(prometheus)
    done = war(*ROLLOUT, "--analysis", SUCCESS, *FAST, "--prometheus", prometheus.url, "--yes")
    assert done.returncode == 0, done.stderr
    assert lines(done.stdout, "analysis") == [
        line
        for n in (1, 2, 3)
        for line in (
            f'batch {n}/3: analysis "{SUCCESS}" 3 measurements, 1s apart',
            f'batch {n}/3: analysis "{SUCCESS}" measurement 1/3: 1 (passed; want >= 0.99)',
            f'batch {n}/3: analysis "{SUCCESS}" measurement 2/3: 1 (passed; want >= 0.99)',
            f'batch {n}/3: analysis "{SUCCESS}" measurement 3/3: 1 (passed; want >= 0.99)',
            f'batch {n}/3: analysis "{SUCCESS}" passed: 0 of 3 measurements failed',
        )
    ]
    assert done.stdout.endswith("Rollout complete: 6 WARs re-onboarded.\n")
    assert sorted(deletes(fake_kube)) == sorted([A1, A2, B1, B2, C1, C2])


def until(check: Callable[[], bool], what: str) -> None:
    """Wait for `check()` to hold (a state the test's own servers report)."""
    end = time.monotonic() + 90
    while not check():
        assert time.monotonic() < end, f"never: {what}"
        time.sleep(0.05)


def test_a_batch_that_starts_answering_5xx_stops_the_rollout_before_the_next(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane, prometheus: Prometheus
) -> None:
    seed(fake_kube, per_zone=2)
    # A VM on the new config (its WAR deleted, or re-created with a new uid) answers 500.
    first = {w["metadata"]["name"]: w["metadata"]["uid"] for w in fake_kube.objects(WARS)}
    prometheus.mesh.failing = lambda ns, name, uid: uid != first.get(name)
    for name in first:
        plane.hold("bookinfo", name)
    scraped(prometheus)
    ended = in_background(
        lambda: war(*ROLLOUT, "--analysis", SUCCESS, *FAST, "--prometheus", prometheus.url, "--yes")
    )
    # The batch's agents stay away until Prometheus has scraped their 500s.
    until(lambda: len(plane.deleted()) == 2, "batch 1 deleted")
    assert sorted(plane.deleted()) == sorted([A1, B1])
    prometheus.wait_for(
        'sum(rate(istio_requests_total{response_code="500"}[30s])) > 0', "the batch's 500s"
    )
    for name in first:
        plane.release("bookinfo", name)
    done = ended()
    assert done.returncode == 1, done.stderr
    value = r"0\.[0-9]+"
    assert re.fullmatch(
        re.escape(
            f'error: analysis "{SUCCESS}" failed after batch 1/3 of WorkloadGroup '
            "bookinfo/ratings (1 failed measurement, more than --failure-limit 0); the "
            "rollout stopped and nothing more will be deleted\n"
            f"  query: {QUERY}\n"
            "  measured (each value must be >= 0.99):\n"
            "    1/3: "
        )
        + value
        + re.escape(
            " (failed)\n"
            "Re-onboarded so far: 2 WARs; not started: 4 WARs.\n"
            "To resume, run the same command again:\n"
            f"  {RESUME} --analysis {shlex.quote(SUCCESS)} --analysis-interval 1s "
            f"--analysis-window 30s --prometheus {prometheus.url} --yes\n"
        ),
        done.stderr,
    ), done.stderr
    assert re.search(
        re.escape(f'batch 1/3: analysis "{SUCCESS}" measurement 1/3: ')
        + value
        + re.escape(" (failed; want >= 0.99)\n")
        + re.escape(f'batch 1/3: analysis "{SUCCESS}" failed: 1 of 1 measurement failed\n'),
        done.stdout,
    ), done.stdout
    # The server's record: the process has ended, and only the first batch was deleted.
    assert sorted(deletes(fake_kube)) == sorted([A1, B1])

    status = war("rollout", "status", "ratings", "-n", "bookinfo")
    assert status.returncode == 1
    notes = status.stdout.splitlines()[2:]
    assert notes[:2] == [
        "WorkloadGroup bookinfo/ratings: rollout paused after batch 1/3 (analysis failed); "
        "continue it with:",
        "  kubectl war rollout resume ratings -n bookinfo",
    ]
    assert re.fullmatch(
        re.escape(f'  analysis "{SUCCESS}": failed (want >= 0.99; measured ') + value + r"\)",
        notes[2],
    ), notes
    assert notes[3:] == [f"    query: {QUERY}"]
    data = json.loads(war("rollout", "status", "ratings", "-n", "bookinfo", "-o", "json").stdout)
    [analysis] = data["groups"][0]["paused"]["analyses"]
    [measured] = analysis["measurements"]
    assert re.fullmatch(value, measured["values"][0]["value"])
    assert analysis == {
        "namespace": "bookinfo",
        "group": "ratings",
        "batch": 1,
        "analysis": SUCCESS,
        "query": QUERY,
        "condition": ">= 0.99",
        "dryRun": False,
        "verdict": "failed",
        "measurements": [
            {
                "number": 1,
                "verdict": "failed",
                "values": [{"labels": {}, "value": measured["values"][0]["value"]}],
            }
        ],
    }


def test_the_latency_built_in_and_the_json_summary_with_every_measurement(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane, prometheus: Prometheus
) -> None:
    seed(fake_kube, per_zone=1)
    latency = "latency-p99<500ms"
    prometheus.wait_for(
        render(
            parse_analysis(latency).query,
            {"namespace": "bookinfo", "workload": "ratings", "window": "30s"},
        ),
        "the group's latency",
    )
    done = war(
        *ROLLOUT,
        "--analysis",
        latency,
        "--analysis-count",
        "1",
        *FAST,
        "--prometheus",
        prometheus.url,
        "--yes",
        "-o",
        "json",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["result"] == "complete"
    assert [(a["batch"], a["analysis"], a["verdict"]) for a in summary["analyses"]] == [
        (1, latency, "passed"),
        (2, latency, "passed"),
    ]
    for a in summary["analyses"]:
        assert a["condition"] == "< 500"
        [m] = a["measurements"]
        # Every healthy answer takes 8ms: the 99th percentile is in the (5ms, 10ms] bucket.
        assert 5 < float(m["values"][0]["value"]) <= 10
    # Progress went to stderr, as with checks.
    assert (
        'batch 2/2: analysis "latency-p99<500ms" passed: 0 of 1 measurement failed' in done.stderr
    )


def test_a_query_with_no_series_is_inconclusive_and_pauses_the_rollout(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane, prometheus: Prometheus
) -> None:
    seed(fake_kube, per_zone=2)
    scraped(prometheus)
    promql = 'sum(rate(istio_requests_total{destination_workload="reviews"}[30s]))'
    query = promql + " > 0"
    done = war(*ROLLOUT, "--analysis", query, *FAST, "--prometheus", prometheus.url, "--yes")
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    assert lines(done.stdout, "analysis") == [
        f'batch 1/3: analysis "{query}" 3 measurements, 1s apart',
        f'batch 1/3: analysis "{query}" measurement 1/3: no series (inconclusive; want > 0)',
        f'batch 1/3: analysis "{query}" inconclusive: 0 of 1 measurement failed',
    ]
    assert done.stdout[done.stdout.index("Analysis ") :] == (
        f'Analysis "{query}" was inconclusive after batch 1/3 of WorkloadGroup '
        "bookinfo/ratings (the query answered no data: no series, or NaN)\n"
        f"  query: {promql}\n"
        "  measured (each value must be > 0):\n"
        "    1/3: no series (inconclusive)\n"
        "The rollout paused: nothing more was deleted.\n"
        "Re-onboarded so far: 2 WARs.\n"
        "To continue, run the same command again:\n"
        f"  {RESUME} --analysis {shlex.quote(query)} --analysis-interval 1s "
        f"--analysis-window 30s --prometheus {prometheus.url} --yes\n"
    )
    assert sorted(deletes(fake_kube)) == sorted([A1, B1])
    status = war("rollout", "status", "ratings", "-n", "bookinfo")
    assert status.stdout.splitlines()[1].split()[-1] == "Paused"
    assert status.stdout.splitlines()[2:] == [
        "WorkloadGroup bookinfo/ratings: rollout paused after batch 1/3 (analysis "
        "inconclusive); continue it with:",
        "  kubectl war rollout resume ratings -n bookinfo",
        f'  analysis "{query}": inconclusive (want > 0; measured no series)',
        f"    query: {promql}",
    ]


def test_a_dry_run_analysis_is_measured_and_reported_but_never_blocks(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane, prometheus: Prometheus
) -> None:
    seed(fake_kube, per_zone=2)
    prometheus.mesh.failing = lambda ns, name, uid: True
    prometheus.wait_for(f"({QUERY}) < 0.99", "a failing success rate")
    done = war(
        *ROLLOUT,
        "--analysis",
        SUCCESS,
        "--analysis-dry-run",
        "--analysis-count",
        "1",
        *FAST,
        "--prometheus",
        prometheus.url,
        "--yes",
    )
    assert done.returncode == 0, done.stderr
    shown = lines(done.stdout, "analysis")
    assert len(shown) == 9
    for n in (1, 2, 3):
        start, measured, verdict = shown[3 * n - 3 : 3 * n]
        assert start == (
            f'batch {n}/3: analysis "{SUCCESS}" 1 measurement, 1s apart (dry run: never blocks)'
        )
        # Every VM answers 500: a success rate of exactly 0.
        assert measured == (
            f'batch {n}/3: analysis "{SUCCESS}" measurement 1/1: 0 (failed; want >= 0.99)'
        )
        assert verdict == (
            f'batch {n}/3: analysis "{SUCCESS}" failed: 1 of 1 measurement failed '
            "(dry run: never blocks)"
        )
    assert done.stdout.endswith("Rollout complete: 6 WARs re-onboarded.\n")
    assert sorted(deletes(fake_kube)) == sorted([A1, A2, B1, B2, C1, C2])


def firing(prom: Prometheus) -> None:
    prom.wait_for(f'ALERTS{{alertname="{HOLD_ALERT}",alertstate="firing"}}', "the alert firing")


def test_a_firing_alert_holds_the_next_batch_until_it_clears(
    fake_kube: FakeKube,
    kubectl_bin: str,
    war_env: dict[str, str],
    plane: OnboardingPlane,
    prometheus: Prometheus,
) -> None:
    seed(fake_kube, per_zone=1)
    prometheus.mesh.hold = 1
    firing(prometheus)
    argv = [kubectl_bin, "war", *ROLLOUT, "--alerts-firing", HOLD_ALERT, "--yes"]
    argv += ["--analysis-interval", "1s", "--prometheus", prometheus.url]
    proc = subprocess.Popen(argv, env=war_env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        head = [proc.stdout.readline(), proc.stdout.readline()]
        assert head[1] == (
            f"batch 1/2: holding: 1 alert firing ({HOLD_ALERT}); waiting for them to clear\n"
        )
        assert deletes(fake_kube) == []  # held: nothing deleted while it fires
        prometheus.mesh.hold = 0
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert lines(rest, "alert") == ["batch 1/2: alerts clear: going on"]
    assert rest.index("batch 1/2: alerts clear: going on") < rest.index("batch 1/2: deleting")
    assert rest.endswith("Rollout complete: 3 WARs re-onboarded.\n")


def test_an_alert_still_firing_after_the_timeout_stops_the_rollout(
    fake_kube: FakeKube, war: Run, prometheus: Prometheus
) -> None:
    seed(fake_kube, per_zone=1)
    prometheus.mesh.hold = 1
    firing(prometheus)
    done = war(
        *ROLLOUT,
        "--alerts-firing",
        f"{HOLD_ALERT},NodeDown",
        "--timeout",
        "2s",
        "--analysis-interval",
        "1s",
        "--prometheus",
        prometheus.url,
        "--yes",
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"error: 1 alert still firing after 2s (--timeout) before batch 1/2: {HOLD_ALERT}; "
        "the rollout stopped and nothing more was deleted\n"
        "Re-onboarded so far: 0 WARs; not started: 3 WARs.\n"
        "To resume, run the same command again:\n"
        "  kubectl war rollout ratings -n bookinfo --max-unavailable 2 --timeout 2s "
        f"--proxy-status none --analysis-interval 1s --alerts-firing {HOLD_ALERT},NodeDown "
        f"--prometheus {prometheus.url} --yes\n"
    )
    assert deletes(fake_kube) == []


# ---- errors: one line, nothing deleted ------------------------------------------------------


def test_a_query_prometheus_refuses_is_an_error_before_anything_is_deleted(
    fake_kube: FakeKube, war: Run, prometheus: Prometheus
) -> None:
    seed(fake_kube, per_zone=1)
    done = war(
        *ROLLOUT, "--analysis", "sum(rate(x[5m]) > 0", "--prometheus", prometheus.url, "--yes"
    )
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"error: Prometheus at {prometheus.url} refused the query (bad_data): "
    )
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert deletes(fake_kube) == []


# ---- through the API server's service proxy ---------------------------------------------------


def test_prometheus_as_a_service_is_asked_through_the_api_servers_proxy(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane, prometheus: Prometheus
) -> None:
    seed(fake_kube, per_zone=1)
    fake_kube.register_service_proxy("monitoring", "prometheus", 9090, prometheus.through_proxy)
    scraped(prometheus)
    where = "service/monitoring/prometheus:9090"
    # A query Prometheus refuses is its own words, passed on by the proxy.
    refused = war(*ROLLOUT, "--analysis", "sum(rate(x[5m]) > 0", "--prometheus", where, "--yes")
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"error: Prometheus at {where} refused the query (bad_data): ")
    assert len(refused.stderr.splitlines()) == 1
    assert deletes(fake_kube) == []
    fake_kube.clear_requests()
    done = war(
        *ROLLOUT,
        "--analysis",
        SUCCESS,
        "--analysis-count",
        "1",
        *FAST,
        "--prometheus",
        where,
        "--yes",
    )
    assert done.returncode == 0, done.stderr
    assert lines(done.stdout, "measurement 1") == [
        f'batch {n}/2: analysis "{SUCCESS}" measurement 1/1: 1 (passed; want >= 0.99)'
        for n in (1, 2)
    ]
    asked = fake_kube.requests_to(
        "/api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/query", "GET"
    )
    # Once before anything was deleted, then once after each batch.
    assert len(asked) == 3


def test_a_service_proxy_the_user_may_not_use_is_an_error_before_anything_is_deleted(
    fake_kube: FakeKube, war: Run
) -> None:
    seed(fake_kube, per_zone=1)
    fake_kube.forbid("get", "services/proxy", "monitoring")
    where = "service/monitoring/prometheus"
    done = war(*ROLLOUT, "--analysis", SUCCESS, "--prometheus", where, "--yes")
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: cannot reach Prometheus at {where}: ")
    assert 'cannot get resource "services/proxy"' in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert deletes(fake_kube) == []


def test_auto_without_istios_prometheus_needs_the_flag(fake_kube: FakeKube, war: Run) -> None:
    seed(fake_kube, per_zone=1)
    done = war(*ROLLOUT, "--analysis", SUCCESS, "--yes")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        'error: no Prometheus found (no Service "prometheus" in namespace "istio-system"): '
        "--analysis needs --prometheus URL or --prometheus service/NAMESPACE/NAME[:PORT]\n"
    )
    assert deletes(fake_kube) == []


def test_an_unreachable_prometheus_is_an_error_before_anything_is_deleted(
    fake_kube: FakeKube, war: Run, closed_port: int
) -> None:
    seed(fake_kube, per_zone=1)
    url = f"http://127.0.0.1:{closed_port}"
    done = war(*ROLLOUT, "--alerts-firing", "NodeDown", "--prometheus", url, "--yes")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith(f"error: cannot reach Prometheus at {url}: ")
    assert "Connection refused" in done.stderr and len(done.stderr.splitlines()) == 1
    assert deletes(fake_kube) == []


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--analysis", "up"), 'invalid --analysis "up": expected QUERY OP NUMBER'),
        (("--analysis", "success-rate>=2"), "a success rate is between 0 and 1"),
        (("--prometheus", "prom:9090", "--analysis", SUCCESS), 'invalid --prometheus "prom:9090"'),
        (("--alerts-firing", "a b"), 'invalid --alerts-firing "a b"'),
        (("--analysis-dry-run",), "--analysis-dry-run needs --analysis"),
        (("--analysis", SUCCESS, "--analysis-count", "0"), "--analysis-count must be at least 1"),
        (
            ("--analysis", SUCCESS, "--prometheus-token-file", "t"),
            "--prometheus-token-file needs --prometheus URL",
        ),
    ],
)
def test_bad_metric_flags_are_usage_errors(
    fake_kube: FakeKube, war: Run, args: tuple[str, ...], error: str
) -> None:
    seed(fake_kube, per_zone=1)
    done = war(*ROLLOUT, *args, "--yes")
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: ") and error in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert deletes(fake_kube) == []


def test_on_a_terminal_each_measurement_shows_in_the_live_view(
    fake_kube: FakeKube,
    kubectl_bin: str,
    war_env: dict[str, str],
    plane: OnboardingPlane,
    prometheus: Prometheus,
) -> None:
    seed(fake_kube, per_zone=1)
    scraped(prometheus)
    argv = [kubectl_bin, "war", *ROLLOUT, "--analysis", SUCCESS, "--analysis-count", "2"]
    argv += [*FAST, "--prometheus", prometheus.url, "--yes"]
    code, out = on_terminal(argv, war_env, [])
    assert code == 0, out
    for n in (1, 2):
        assert (
            f'batch {n}/2: analysis "{SUCCESS}" measurement 2/2: 1 (passed; want >= 0.99)\n' in out
        )
        assert f'batch {n}/2: analysis "{SUCCESS}" passed: 0 of 2 measurements failed\n' in out
    assert "Rollout complete: 3 WARs re-onboarded." in out
