"""Where Prometheus is, and its instant-query API (`GET /api/v1/query`).

Prometheus is reached directly (`--prometheus URL`, http or https, with a bearer token
from a file) or through the API server's service proxy (`--prometheus
service/NAMESPACE/NAME[:PORT]`, with the kubeconfig's credentials), or found: `auto`
looks for Istio's `prometheus` addon Service in the Istio namespace. Every failure
is a `PrometheusError` with one line for the user.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kubectl_war.errors import UsageError, WarError, quote_input
from kubectl_war.jsondata import child
from kubectl_war.kube.errors import KubeError

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube

#: `--prometheus`'s default: Istio's addon Service, when there is one.
AUTO = "auto"
#: The Service Istio's Prometheus addon installs, and its port.
ADDON_SERVICE = "prometheus"
ADDON_PORT = 9090
#: Seconds one query may take.
DEFAULT_TIMEOUT = 30.0
# At most this much of an answer is read: a query's answer is a few series.
_ANSWER_LIMIT = 8 * 1024 * 1024

_SERVICE = re.compile(r"^service/([a-z0-9][-a-z0-9]*)/([a-z0-9][-a-z0-9.]*)(?::([0-9]{1,5}))?$")

#: A GET of a path with query parameters: the HTTP status and the body.
Getter = Callable[[str, Sequence[tuple[str, str]]], tuple[int, bytes]]


class PrometheusError(WarError):
    """Prometheus could not be asked, or refused the query."""


@dataclass(frozen=True)
class Sample:
    """One series of an answer: its labels and its value (NaN when Prometheus says so)."""

    labels: Mapping[str, str]
    value: float

    def describe(self) -> str:
        """`{destination_workload="ratings"}`: the labels that tell it apart ('' when none)."""
        labels = {k: v for k, v in sorted(self.labels.items())}
        if not labels:
            return ""
        return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


@dataclass(frozen=True)
class Location:
    """Where `--prometheus` says Prometheus is: `url`, `service` or `auto`."""

    kind: str
    url: str = ""
    namespace: str = ""
    name: str = ""
    port: int | None = None

    def __str__(self) -> str:
        if self.kind == "url":
            return self.url
        if self.kind == "service":
            port = f":{self.port}" if self.port is not None else ""
            return f"service/{self.namespace}/{self.name}{port}"
        return AUTO


def parse_location(text: str) -> Location:
    """`--prometheus`: `http(s)://HOST[:PORT][/PATH]`, `service/NAMESPACE/NAME[:PORT]` or
    `auto`."""
    value = text.strip()
    if value == AUTO:
        return Location(AUTO)
    if value.startswith(("http://", "https://")):
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018  # a bad port raises here
        except ValueError as exc:
            raise UsageError(f"invalid --prometheus {quote_input(text)}: {exc}") from None
        if not parts.hostname or parts.query or parts.fragment:
            raise UsageError(
                f"invalid --prometheus {quote_input(text)}: expected http(s)://HOST[:PORT][/PATH]"
            )
        return Location("url", url=value.rstrip("/"))
    match = _SERVICE.match(value)
    if match is None:
        raise UsageError(
            f"invalid --prometheus {quote_input(text)}: expected an http:// or https:// URL, "
            "service/NAMESPACE/NAME[:PORT] or auto"
        )
    port = int(match.group(3)) if match.group(3) else None
    if port is not None and not 0 < port < 65536:
        raise UsageError(f"invalid --prometheus {quote_input(text)}: port out of range")
    return Location("service", namespace=match.group(1), name=match.group(2), port=port)


class Prometheus:
    """Prometheus' query API at `where`, asked through `get`."""

    def __init__(self, where: str, get: Getter) -> None:
        self.where = where
        self._get = get

    def query(self, promql: str) -> list[Sample]:
        """The instant vector (or scalar) `promql` evaluates to now; [] when no series.

        Raises:
            PrometheusError: Prometheus could not be reached, or answered with an error.
        """
        status, body = self._get("/api/v1/query", [("query", promql)])
        return parse_answer(status, body, self.where)

    def firing(self, alerts: Sequence[str]) -> list[str]:
        """Which of `alerts` are firing now (`ALERTS{alertstate="firing"}`), sorted."""
        names = "|".join(re.escape(a).replace("\\", "\\\\") for a in alerts)
        samples = self.query(f'ALERTS{{alertstate="firing",alertname=~"{names}"}}')
        return sorted({s.labels.get("alertname", "") for s in samples} - {""})


def parse_answer(status: int, body: bytes, where: str) -> list[Sample]:
    """The samples of an answer to `/api/v1/query`.

    Raises:
        PrometheusError: an error answer (`"status": "error"`), or not an answer at all.
    """
    try:
        doc = json.loads(body.decode("utf-8", "replace")) if body else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or doc.get("status") not in ("success", "error"):
        what = f"HTTP {status}" if status else "no status"
        raise PrometheusError(
            f"Prometheus at {where} answered with something that is not a query answer ({what})"
        )
    if doc["status"] == "error":
        kind = doc.get("errorType") or "error"
        raise PrometheusError(
            f"Prometheus at {where} refused the query ({kind}): {_one_line(doc.get('error'))}"
        )
    data = child(doc, "data")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        return [Sample({}, _number(result[1], where))]
    if kind == "vector" and isinstance(result, list):
        out = []
        for item in result:
            if not isinstance(item, dict) or not isinstance(item.get("value"), list):
                continue
            metric = child(item, "metric")
            labels = {str(k): str(v) for k, v in metric.items()}
            value = item["value"]
            out.append(Sample(labels, _number(value[1] if len(value) == 2 else None, where)))
        return out
    raise PrometheusError(
        f"Prometheus at {where} answered with a {kind or 'missing'} result: "
        "a query must give an instant vector or a scalar"
    )


def _number(text: Any, where: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise PrometheusError(
            f"Prometheus at {where} answered a value that is not a number: {_one_line(text)}"
        ) from None


def _one_line(text: Any, limit: int = 300) -> str:
    line = " ".join(str(text if text is not None else "").split())
    return line if len(line) <= limit else line[:limit] + "…"


def is_number(value: float) -> bool:
    return not math.isnan(value)


# ---- reaching it -------------------------------------------------------------------------


def http_getter(base: str, *, token: str | None, timeout: float) -> Getter:
    """GETs to a Prometheus at `base` (a URL), with `token` as a bearer token."""

    def get(path: str, params: Sequence[tuple[str, str]]) -> tuple[int, bytes]:
        import requests  # requests only when Prometheus is queried

        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            with requests.get(
                base + path, params=list(params), headers=headers, timeout=timeout, stream=True
            ) as resp:
                body = resp.raw.read(_ANSWER_LIMIT + 1, decode_content=True)
                status = resp.status_code
        except requests.exceptions.Timeout:
            raise PrometheusError(
                f"Prometheus at {base} did not answer within {timeout:g}s"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise PrometheusError(f"cannot reach Prometheus at {base}: {_reason(exc)}") from None
        if len(body) > _ANSWER_LIMIT:
            raise PrometheusError(f"Prometheus at {base} answered more than 8 MiB: refused")
        if status in (401, 403):
            raise PrometheusError(
                f"Prometheus at {base} refused the request (HTTP {status}): "
                + ("check --prometheus-token-file" if token else "pass --prometheus-token-file")
            )
        return status, body

    return get


def _reason(exc: BaseException) -> str:
    """The innermost reason of a connection failure, in one line."""
    seen = exc
    while True:
        inner = getattr(seen, "reason", None) or seen.__cause__ or seen.__context__
        if not isinstance(inner, BaseException) or inner is seen:
            break
        seen = inner
    text = _one_line(seen) or type(seen).__name__
    # urllib3 prefixes its messages with the object that failed: keep the words.
    return re.sub(r"^<[^>]*>:\s*", "", text)


def service_getter(kube: Kube, location: Location, *, timeout: float) -> Getter:
    """GETs to a Prometheus Service through the API server's service proxy (`kube` a
    `kube.Kube`, with the kubeconfig's credentials)."""
    port = location.port if location.port is not None else ADDON_PORT

    def get(path: str, params: Sequence[tuple[str, str]]) -> tuple[int, bytes]:
        try:
            body = kube.service_proxy_get(
                location.namespace, location.name, port, path, params, timeout=timeout
            )
        except KubeError as exc:
            # Prometheus' own error answer, passed on by the proxy: its words, not the
            # proxy's.
            if exc.body.get("status") == "error":
                return int(exc.status or 400), json.dumps(exc.body).encode()
            raise PrometheusError(f"cannot reach Prometheus at {location}: {exc.message}") from None
        return 200, body

    return get


def read_token(path: str) -> str:
    """The bearer token in `--prometheus-token-file`, stripped."""
    try:
        with open(path, encoding="utf-8") as fh:
            token = fh.read().strip()
    except OSError as exc:
        raise UsageError(
            f"cannot read --prometheus-token-file {quote_input(path)}: {exc.strerror}"
        ) from None
    if not token or any(c in token for c in "\r\n"):
        raise UsageError(f"--prometheus-token-file {quote_input(path)} holds no token on one line")
    return token


def connect(
    location: Location,
    *,
    kube: Kube,
    istio_namespace: str,
    token_file: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Prometheus | None:
    """The Prometheus `location` names; for `auto`, Istio's addon Service when the Istio
    namespace has one, else None."""
    if location.kind == "url":
        token = read_token(token_file) if token_file else None
        return Prometheus(location.url, http_getter(location.url, token=token, timeout=timeout))
    if location.kind == AUTO:
        found = kube.service(istio_namespace, ADDON_SERVICE)
        if found is None:
            return None
        location = Location(
            "service", namespace=istio_namespace, name=ADDON_SERVICE, port=_port(found)
        )
    return Prometheus(str(location), service_getter(kube, location, timeout=timeout))


def _port(service: Mapping[str, Any]) -> int:
    """The port of Istio's Prometheus Service: the one named http, else 9090, else the first."""
    spec = child(service, "spec")
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    numbers = [p["port"] for p in ports if isinstance(p.get("port"), int)]
    for p in ports:
        if p.get("name") == "http" and isinstance(p.get("port"), int):
            return int(p["port"])
    if ADDON_PORT in numbers or not numbers:
        return ADDON_PORT
    return int(numbers[0])
