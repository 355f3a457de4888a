"""`--analysis` expressions: a PromQL query and a condition on its value, or a built-in
analysis over Istio's standard metrics; and the variables a query may use (pure).

    --analysis 'QUERY >= 0.99'          any PromQL, then a comparison and a number
    --analysis success-rate>=0.99       the share of requests not answered 5xx
    --analysis latency-p99<500ms        a latency quantile (p50, p90, p95, p99, p999...)

Variables, replaced before the query is sent: `{{namespace}}`, `{{group}}`, `{{batch}}`,
`{{window}}` (`--analysis-window`), `{{workload}}` (`--analysis-workload`, a regular
expression) and `{{ips}}` / `{{wars}}`, the batch's addresses and WAR names as a regular
expression alternation (`10\\.0\\.0\\.1|10\\.0\\.0\\.2`), escaped for a double-quoted
PromQL string: `instance=~"({{ips}}):.*"`.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from kubectl_war.errors import UsageError, quote_input

SUCCESS_RATE = "success-rate"
LATENCY = "latency"

#: The variables a query may use.
VARIABLES = ("namespace", "group", "batch", "window", "workload", "ips", "wars")

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}

# QUERY OP NUMBER[UNIT]: the last comparison with a number after it.
_CONDITION = re.compile(
    r"^(?P<query>.*\S)\s*(?P<op>>=|<=|==|!=|>|<)\s*"
    r"(?P<number>[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)(?P<unit>ms|s|%)?\s*$",
    re.DOTALL,
)
_LATENCY = re.compile(r"^latency-p([0-9]{2,3})$")
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

_SELECTOR = (
    'reporter="destination",destination_workload_namespace="{{namespace}}",'
    'destination_workload=~"{{workload}}"'
)
#: The query `success-rate` runs: the share of requests to the group's workloads, over
#: `--analysis-window`, not answered with a 5xx.
SUCCESS_RATE_QUERY = (
    f'sum(rate(istio_requests_total{{{_SELECTOR},response_code!~"5.."}}[{{{{window}}}}])) / '
    f"sum(rate(istio_requests_total{{{_SELECTOR}}}[{{{{window}}}}]))"
)
#: The query `latency-pNN` runs (QUANTILE 0.NN): milliseconds.
LATENCY_QUERY = (
    "histogram_quantile(QUANTILE, sum by (le) "
    f"(rate(istio_request_duration_milliseconds_bucket{{{_SELECTOR}}}[{{{{window}}}}])))"
)


@dataclass(frozen=True)
class Analysis:
    """One `--analysis`: the query template, and the condition each value must meet."""

    text: str  # as the user typed it
    query: str  # the PromQL template (variables not yet replaced)
    op: str
    threshold: float  # in the query's own unit (milliseconds for latency)
    builtin: str | None = None

    @property
    def condition(self) -> str:
        """`>= 0.99`: what each measured value must be."""
        return f"{self.op} {format_value(self.threshold)}"

    def passes(self, value: float) -> bool:
        return OPERATORS[self.op](value, self.threshold)

    def render(self, variables: Mapping[str, str]) -> str:
        return render(self.query, variables)


def parse_analysis(text: str) -> Analysis:
    """Read one `--analysis` value; a bad one is a UsageError naming what is wrong."""
    match = _CONDITION.match(text.strip())
    if match is None:
        raise UsageError(
            f"invalid --analysis {quote_input(text)}: expected QUERY OP NUMBER (OP one of "
            ">=, <=, >, <, ==, !=), success-rate>=RATIO or latency-pNN<DURATION"
        )
    query, op, unit = match.group("query").strip(), match.group("op"), match.group("unit")
    number = float(match.group("number"))
    if query == SUCCESS_RATE:
        if unit == "%":
            number /= 100
        elif unit is not None:
            raise UsageError(
                f"invalid --analysis {quote_input(text)}: a success rate is a ratio "
                "(0.99) or a percentage (99%)"
            )
        if not 0 <= number <= 1:
            raise UsageError(
                f"invalid --analysis {quote_input(text)}: a success rate is between 0 and 1"
            )
        return Analysis(text, SUCCESS_RATE_QUERY, op, number, SUCCESS_RATE)
    latency = _LATENCY.match(query)
    if latency is not None:
        digits = latency.group(1)
        if unit == "%":
            raise UsageError(
                f"invalid --analysis {quote_input(text)}: a latency is a duration (500ms, 1.5s)"
            )
        if not 0 < float("0." + digits) < 1:
            raise UsageError(f"invalid --analysis {quote_input(text)}: a quantile is p01 to p999")
        millis = number * 1000 if unit == "s" else number
        query = LATENCY_QUERY.replace("QUANTILE", f"0.{digits}")
        return Analysis(text, query, op, millis, LATENCY)
    if query.startswith((SUCCESS_RATE, "latency-")) and "{" not in query and "(" not in query:
        raise UsageError(
            f"invalid --analysis {quote_input(text)}: the built-in analyses are "
            "success-rate>=RATIO and latency-pNN<DURATION (p50, p90, p95, p99, p999)"
        )
    if unit is not None:
        raise UsageError(
            f"invalid --analysis {quote_input(text)}: a query's value is compared as a plain "
            f"number: write {match.group('number')} without {unit!r}"
        )
    for name in _VARIABLE.findall(query):
        if name not in VARIABLES:
            raise UsageError(
                f"invalid --analysis {quote_input(text)}: unknown variable {{{{{name}}}}} "
                f"(known: {', '.join('{{' + v + '}}' for v in VARIABLES)})"
            )
    return Analysis(text, query, op, number)


def render(template: str, variables: Mapping[str, str]) -> str:
    """`template` with each `{{name}}` replaced by its value."""
    return _VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), template)


def alternation(values: Sequence[str]) -> str:
    """`a|b`, each value matched literally, escaped for a double-quoted PromQL string
    (whose backslashes are doubled). No values: a pattern that matches nothing."""
    if not values:
        return "$^"
    return "|".join(string_escape(re.escape(v)) for v in values)


def string_escape(text: str) -> str:
    """`text` as the inside of a double-quoted PromQL string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def variables(
    *,
    namespace: str,
    group: str,
    batch: int,
    window: str,
    workload: str | None,
    ips: Sequence[str],
    wars: Sequence[str],
) -> dict[str, str]:
    """The values of a batch's variables. `workload` None: the group's name, exactly."""
    return {
        "namespace": string_escape(namespace),
        "group": string_escape(group),
        "batch": str(batch),
        "window": window,
        "workload": string_escape(workload) if workload is not None else alternation([group]),
        "ips": alternation(ips),
        "wars": alternation(wars),
    }


def format_value(value: float) -> str:
    """A measured value as people read it: `0.9931`, `412.5`, `NaN`, `+Inf`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"
