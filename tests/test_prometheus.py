"""Prometheus pieces without a Prometheus: where it is (`--prometheus`), its query
client (with `responses` intercepting `requests`), answers parsed, `--analysis`
expressions, measuring and judging (a scripted Prometheus), and the exposition writer."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from kubectl_war.errors import UsageError
from kubectl_war.kube.requests import service_proxy_request
from kubectl_war.prometheus import exposition
from kubectl_war.prometheus.client import (
    Location,
    Prometheus,
    PrometheusError,
    Sample,
    connect,
    http_getter,
    parse_answer,
    parse_location,
)
from kubectl_war.prometheus.promql import (
    LATENCY_QUERY,
    SUCCESS_RATE_QUERY,
    alternation,
    parse_analysis,
    variables,
)
from kubectl_war.rollout import analysis as ra
from kubectl_war.rollout.plan import Batch, GroupPlan, Member
from kubectl_war.rollout.progressive import BatchBack, Gate, Halt, Pause

URL = "http://prometheus.test:9090"


def vector(*values: str, **labels: str) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": dict(labels), "value": [1700000000.5, v]} for v in values],
        },
    }


# ---- --prometheus ------------------------------------------------------------------------------


def test_prometheus_locations_are_a_url_a_service_or_auto() -> None:
    assert parse_location("auto") == Location("auto")
    assert parse_location("https://prom.example.com/prometheus/") == Location(
        "url", url="https://prom.example.com/prometheus"
    )
    assert parse_location("service/monitoring/prometheus-k8s:9091") == Location(
        "service", namespace="monitoring", name="prometheus-k8s", port=9091
    )
    assert str(parse_location("service/istio-system/prometheus")) == (
        "service/istio-system/prometheus"
    )


@pytest.mark.parametrize(
    "bad",
    ["prometheus:9090", "ftp://x", "http://", "service/ns", "service/NS/x", "service/a/b:99999"],
)
def test_a_bad_prometheus_location_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError, match="invalid --prometheus"):
        parse_location(bad)


def test_the_service_proxy_request_goes_through_the_services_proxy_subresource() -> None:
    req = service_proxy_request(
        "istio-system", "prometheus", 9090, "/api/v1/query", (("query", "up"),), timeout=5.0
    )
    assert req.url_path == (
        "/api/v1/namespaces/istio-system/services/prometheus:9090/proxy/api/v1/query?query=up"
    )
    assert (req.method, req.resource, req.name, req.raw, req.timeout) == (
        "GET",
        "services/proxy",
        "prometheus",
        True,
        5.0,
    )


class _NoService:
    def service(self, namespace: str, name: str) -> None:
        assert (namespace, name) == ("istio-system", "prometheus")


class _Addon:
    def service(self, namespace: str, name: str) -> dict[str, Any]:
        return {"spec": {"ports": [{"name": "web", "port": 80}, {"name": "http", "port": 9091}]}}


def test_auto_finds_istios_addon_service_or_nothing() -> None:
    assert connect(Location("auto"), kube=_NoService(), istio_namespace="istio-system") is None
    found = connect(Location("auto"), kube=_Addon(), istio_namespace="istio-system")
    assert found is not None and found.where == "service/istio-system/prometheus:9091"


# ---- the query client, over requests -----------------------------------------------------------


@responses.activate
def test_a_query_sends_the_promql_and_the_bearer_token_and_reads_the_vector(
    tmp_path: Path,
) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    responses.get(
        f"{URL}/api/v1/query",
        json=vector("0.5", "NaN", destination_workload="ratings"),
        match=[
            responses.matchers.query_param_matcher({"query": 'up{job="x"}'}),
            responses.matchers.header_matcher({"Authorization": "Bearer s3cret"}),
        ],
    )
    prom = connect(parse_location(URL), kube=None, istio_namespace="", token_file=str(token))
    assert prom is not None
    samples = prom.query('up{job="x"}')
    assert [s.labels for s in samples] == [{"destination_workload": "ratings"}] * 2
    assert samples[0].value == 0.5 and math.isnan(samples[1].value)


@responses.activate
def test_an_error_answer_is_prometheus_own_words() -> None:
    responses.get(
        f"{URL}/api/v1/query",
        status=400,
        json={
            "status": "error",
            "errorType": "bad_data",
            "error": 'invalid parameter "query": 1:9: parse error: unclosed left parenthesis',
        },
    )
    prom = Prometheus(URL, http_getter(URL, token=None, timeout=5))
    with pytest.raises(PrometheusError) as err:
        prom.query("sum(rate(")
    assert err.value.message == (
        f'Prometheus at {URL} refused the query (bad_data): invalid parameter "query": '
        "1:9: parse error: unclosed left parenthesis"
    )


@responses.activate
def test_an_unreachable_prometheus_is_one_line() -> None:
    responses.get(f"{URL}/api/v1/query", body=requests.exceptions.ConnectionError("refused"))
    prom = Prometheus(URL, http_getter(URL, token=None, timeout=5))
    with pytest.raises(PrometheusError) as err:
        prom.query("up")
    assert err.value.message == f"cannot reach Prometheus at {URL}: refused"


@responses.activate
def test_a_timeout_and_a_refused_token_say_so() -> None:
    responses.get(f"{URL}/api/v1/query", body=requests.exceptions.ReadTimeout("slow"))
    prom = Prometheus(URL, http_getter(URL, token=None, timeout=5))
    with pytest.raises(PrometheusError, match=f"^Prometheus at {URL} did not answer within 5s$"):
        prom.query("up")
    responses.replace(responses.GET, f"{URL}/api/v1/query", status=401, body="Unauthorized")
    with pytest.raises(PrometheusError, match=r"\(HTTP 401\): pass --prometheus-token-file$"):
        prom.query("up")


@responses.activate
def test_firing_asks_for_the_named_alerts_only() -> None:
    responses.get(
        f"{URL}/api/v1/query",
        json=vector("1", alertname="NodeDown", alertstate="firing"),
        match=[
            responses.matchers.query_param_matcher(
                {"query": 'ALERTS{alertstate="firing",alertname=~"NodeDown|Mesh:5xx"}'}
            )
        ],
    )
    prom = Prometheus(URL, http_getter(URL, token=None, timeout=5))
    assert prom.firing(["NodeDown", "Mesh:5xx"]) == ["NodeDown"]


def test_answers_scalar_empty_and_not_an_answer() -> None:
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1, "2.5"]}}
    assert parse_answer(200, json.dumps(scalar).encode(), URL) == [Sample({}, 2.5)]
    assert parse_answer(200, json.dumps(vector()).encode(), URL) == []
    with pytest.raises(PrometheusError, match=r"not a query answer \(HTTP 502\)$"):
        parse_answer(502, b"<html>bad gateway</html>", URL)
    matrix = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    with pytest.raises(PrometheusError, match="a matrix result: a query must give"):
        parse_answer(200, json.dumps(matrix).encode(), URL)


# ---- --analysis ----------------------------------------------------------------------------------


def test_built_in_analyses_run_istios_standard_queries() -> None:
    rate = parse_analysis("success-rate>=99%")
    assert (rate.query, rate.op, rate.threshold, rate.condition) == (
        SUCCESS_RATE_QUERY,
        ">=",
        0.99,
        ">= 0.99",
    )
    values = {"namespace": "bookinfo", "workload": "ratings", "window": "60s"}
    assert rate.render(values) == (
        'sum(rate(istio_requests_total{reporter="destination",'
        'destination_workload_namespace="bookinfo",destination_workload=~"ratings",'
        'response_code!~"5.."}[60s])) / sum(rate(istio_requests_total{reporter="destination",'
        'destination_workload_namespace="bookinfo",destination_workload=~"ratings"}[60s]))'
    )
    p99 = parse_analysis("latency-p99 < 1.5s")
    assert (p99.op, p99.threshold, p99.condition) == ("<", 1500.0, "< 1500")
    assert p99.query == LATENCY_QUERY.replace("QUANTILE", "0.99")
    assert p99.render(values) == (
        "histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket"
        '{reporter="destination",destination_workload_namespace="bookinfo",'
        'destination_workload=~"ratings"}[60s])))'
    )
    assert parse_analysis("latency-p999<500ms").query.startswith("histogram_quantile(0.999,")


def test_a_custom_query_keeps_its_own_comparisons_and_takes_the_last() -> None:
    a = parse_analysis('sum(x{code=~"5.."} > 0) / sum(y) <= 0.01')
    assert (a.query, a.op, a.threshold) == ('sum(x{code=~"5.."} > 0) / sum(y)', "<=", 0.01)
    assert not a.passes(0.02) and a.passes(0.01)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("up", "expected QUERY OP NUMBER"),
        ("success-rate>=1.5", "a success rate is between 0 and 1"),
        ("success-rate>=1s", "a success rate is a ratio"),
        ("latency-p99<5%", "a latency is a duration"),
        ("latency-p00<5ms", "a quantile is p01 to p999"),
        ("latency-max<5ms", "the built-in analyses are"),
        ("up > 5ms", "compared as a plain number"),
        ("up{job='{{job}}'} > 1", r"unknown variable \{\{job\}\}"),
    ],
)
def test_a_bad_analysis_is_a_usage_error_saying_why(text: str, why: str) -> None:
    with pytest.raises(UsageError, match="invalid --analysis .*" + why):
        parse_analysis(text)


def test_ips_and_wars_are_literal_alternations_inside_a_promql_string() -> None:
    assert alternation(["10.0.0.1", "10.0.0.12"]) == r"10\\.0\\.0\\.1|10\\.0\\.0\\.12"
    assert alternation([]) == "$^"
    got = variables(
        namespace="ns",
        group="db.v2",
        batch=2,
        window="60s",
        workload=None,
        ips=["10.0.0.1"],
        wars=["db.v2-a"],
    )
    assert got == {
        "namespace": "ns",
        "group": "db.v2",
        "batch": "2",
        "window": "60s",
        "workload": r"db\\.v2",
        "ips": r"10\\.0\\.0\\.1",
        "wars": r"db\\.v2\\-a",
    }


# ---- measuring and judging (a scripted Prometheus) -------------------------------------------


class Scripted(Prometheus):
    """Answers each query with the next of `answers` (a list of values, or an error)."""

    def __init__(self, answers: list[Any]) -> None:
        super().__init__("scripted", lambda path, params: (200, b""))
        self.answers = list(answers)
        self.asked: list[str] = []

    def query(self, promql: str) -> list[Sample]:
        self.asked.append(promql)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return [Sample({}, v) for v in answer]


GROUP = GroupPlan(
    "bookinfo",
    "ratings",
    4,
    2,
    [Batch(1, (Member("bookinfo", "a", "u1", None, None, None),)), Batch(2, ())],
    [],
)


def measure(answers: list[Any], **kw: Any) -> tuple[ra.MetricGate, list[Any]]:
    events: list[Any] = []
    gate = ra.MetricGate(
        Scripted(answers),
        [parse_analysis("success-rate>=0.99")],
        interval=0.0001,
        report=events.append,
        **kw,
    )
    gate.after(Gate(), BatchBack(GROUP, GROUP.batches[0], [], {}))
    return gate, events


def test_every_measurement_passing_lets_the_batch_go_on() -> None:
    gate, _ = measure([[1.0], [0.995], [0.99]])
    assert [m.verdict for m in gate.runs[0].measurements] == ["passed"] * 3
    assert gate.runs[0].verdict == "passed"


def test_failures_up_to_the_limit_pass_and_one_more_halts_at_once() -> None:
    gate, _ = measure([[0.5], [1.0], [1.0]], failure_limit=1)
    assert gate.runs[0].verdict == "passed"
    with pytest.raises(Halt) as stop:
        measure([[0.5], [0.4], [1.0]], failure_limit=1)
    assert stop.value.record["reason"] == "analysis failed"
    [run] = stop.value.record["analyses"]
    assert [m["verdict"] for m in run["measurements"]] == ["failed", "failed"]


def test_no_data_or_nan_pauses_and_dry_run_only_reports() -> None:
    with pytest.raises(Pause) as stop:
        measure([[1.0], []])
    assert stop.value.record["reason"] == "analysis inconclusive"
    with pytest.raises(Pause):
        measure([[math.nan]])
    gate, events = measure([[0.1], [], PrometheusError("down")], dry_run=True)
    assert [m.verdict for m in gate.runs[0].measurements] == ["failed", "inconclusive", "error"]
    assert events[-1].detail == "error: 1 of 3 measurements failed (dry run: never blocks)"


def test_a_prometheus_that_stops_answering_halts_the_rollout() -> None:
    with pytest.raises(Halt) as stop:
        measure([PrometheusError("cannot reach Prometheus at x: refused")])
    assert stop.value.message.startswith(
        'analysis "success-rate>=0.99" could not be measured after batch 1/2 of WorkloadGroup '
        "bookinfo/ratings (cannot reach Prometheus at x: refused); the rollout stopped"
    )


# ---- the exposition format ------------------------------------------------------------------


def test_exposition_escapes_labels_and_help_and_leaves_out_empty_families() -> None:
    fam = exposition.Family("x_info", "A help\\ with\na newline.")
    fam.add({"version": 'a"b\\c\nd'}, 1)
    empty = exposition.Family("nothing", "Never shown.")
    plain = exposition.Family("y_seconds", "Seconds.")
    plain.add({}, 1.5)
    assert exposition.render([fam, empty, plain]) == (
        "# HELP x_info A help\\\\ with\\na newline.\n"
        "# TYPE x_info gauge\n"
        'x_info{version="a\\"b\\\\c\\nd"} 1\n'
        "# HELP y_seconds Seconds.\n"
        "# TYPE y_seconds gauge\n"
        "y_seconds 1.5\n"
    )


# ---- the real-server tests without the server ----------------------------------------------


def test_without_prometheus_installed_tests_skip_saying_how_but_fail_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests import prom

    monkeypatch.setattr(prom.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"apt-get install -y prometheus"):
        prom.prometheus_binary()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI installs it in \.ci/run"):
        prom.promtool_binary()
