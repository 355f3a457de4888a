"""Proxy-status sources (istiod, istioctl, file, stdin, auto) and the WAR/proxy join."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from kubectl_war.errors import UsageError
from kubectl_war.kube import Connection, Kube
from kubectl_war.kube.requests import proxy_get_request
from kubectl_war.sidecars.join import join, orphans, sidecar_of
from kubectl_war.sidecars.records import (
    ERROR,
    IGNORED,
    MISSING,
    NOT_SENT,
    STALE,
    STALE_NEVER_ACKNOWLEDGED,
    SYNCED,
    ProxySync,
)
from kubectl_war.sidecars.sources import (
    FileSource,
    IstioctlSource,
    IstiodSource,
    SidecarError,
    StdinSource,
    check_spec,
    open_source,
)
from kubectl_war.sidecars.syncz import parse_syncz_body
from kubectl_war.war import War
from tests import factories as f
from tests.factories import EC2, ECS, JWT
from tests.fakekube import FakeKube
from tests.fakekube.istiod import FakeIstiod

FIXTURES = Path(__file__).parent / "fixtures"
STAND_IN = FIXTURES / "bin" / "istioctl"
POD_A, POD_B = "istiod-6f9c7d8b5-x7k2p", "istiod-6f9c7d8b5-q4m9z"


@pytest.fixture
def client(kubeconfig: str) -> Kube:
    return Kube(Connection(kubeconfig=kubeconfig))


@pytest.fixture
def istiod(fake_kube: FakeKube) -> Any:
    ist = FakeIstiod(fake_kube)
    yield ist
    ist.close()


@pytest.fixture
def no_istioctl(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The stand-in istioctl first on PATH; returns the file its argv is logged to."""
    log = tmp_path / "istioctl-argv.log"
    monkeypatch.setenv("PATH", f"{STAND_IN.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_ISTIOCTL_LOG", str(log))
    return log


def _argvs(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _states(proxies: dict[str, ProxySync]) -> dict[str, str]:
    return {proxy: status.overall for proxy, status in proxies.items()}


# --- the request -------------------------------------------------------------------------


def test_proxy_get_request_goes_through_the_pods_proxy_subresource() -> None:
    req = proxy_get_request("istio-system", POD_A, 15014, "/debug/syncz", timeout=2.0)
    assert req.url_path == f"/api/v1/namespaces/istio-system/pods/{POD_A}:15014/proxy/debug/syncz"
    assert (req.method, req.verb, req.resource, req.name) == ("GET", "get", "pods/proxy", POD_A)
    assert (req.raw, req.timeout) == (True, 2.0)


# --- specs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["auto", "istiod", "istioctl", "none", "-", "file:ps.txt"])
def test_check_spec_accepts_every_documented_source(spec: str) -> None:
    assert check_spec(f" {spec} ") == spec


@pytest.mark.parametrize("spec", ["istio", "file:", "", "FILE:x", "pilot"])
def test_check_spec_rejects_anything_else_as_a_usage_error(spec: str) -> None:
    with pytest.raises(UsageError) as info:
        check_spec(spec)
    assert info.value.exit_code == 1
    assert info.value.message == (
        f"invalid --proxy-status {spec!r}: expected one of "
        "auto, istiod, istioctl, file:PATH, -, none"
    )


# --- istiod ------------------------------------------------------------------------------


def test_istiod_source_asks_every_replica_and_merges_their_proxies(
    client: Kube, istiod: FakeIstiod
) -> None:
    istiod.connect(f"{EC2}.bookinfo", replica=0)
    istiod.connect(f"{ECS}.bookinfo", {"CDS": SYNCED, "LDS": SYNCED, "EDS": STALE}, replica=1)
    source = IstiodSource(client, "istio-system", 5.0)
    proxies = source.fetch()
    assert _states(proxies) == {f"{EC2}.bookinfo": SYNCED, f"{ECS}.bookinfo": STALE}
    assert proxies[f"{EC2}.bookinfo"].istiod == POD_A
    assert proxies[f"{ECS}.bookinfo"].istiod == POD_B
    assert proxies[f"{ECS}.bookinfo"].version == "1.20.8-tetrate1"
    assert proxies[f"{ECS}.bookinfo"].cluster == "Kubernetes"
    assert sorted(pod for pod, _ in istiod.requests) == sorted([POD_A, POD_B])
    assert source.describe() == f"istiod in istio-system ({POD_B}, {POD_A})"


def test_istiod_source_derives_each_state_from_the_nonces(
    client: Kube, fake_kube: FakeKube
) -> None:
    ist = FakeIstiod(fake_kube, replicas=1, resources=True)
    states = {
        "CDS": SYNCED,
        "LDS": ERROR,
        "EDS": STALE_NEVER_ACKNOWLEDGED,
        "RDS": NOT_SENT,
    }
    ist.connect(f"{EC2}.bookinfo", states, errors={"LDS": "invalid listener"})
    status = IstiodSource(client, "istio-system", 5.0).fetch()[f"{EC2}.bookinfo"]
    assert status.types == {**states, "ECDS": IGNORED}
    assert status.details == {"LDS": "invalid listener"}
    assert status.overall == ERROR


def test_istiod_source_is_refetchable_and_sees_changes(client: Kube, istiod: FakeIstiod) -> None:
    istiod.connect(f"{EC2}.bookinfo", {"CDS": SYNCED, "LDS": STALE})
    source = IstiodSource(client, "istio-system", 5.0)
    assert _states(source.fetch()) == {f"{EC2}.bookinfo": STALE}
    istiod.set_states(f"{EC2}.bookinfo", LDS=SYNCED)
    istiod.connect(f"{JWT}.bookinfo", replica=1)
    assert _states(source.fetch()) == {f"{EC2}.bookinfo": SYNCED, f"{JWT}.bookinfo": SYNCED}


def test_istiod_source_asks_every_revision(client: Kube, fake_kube: FakeKube) -> None:
    stable = FakeIstiod(fake_kube, replicas=1)
    canary = FakeIstiod(fake_kube, replicas=1, revision="1-22", version="1.22.3")
    stable.connect(f"{EC2}.bookinfo")
    canary.connect(f"{ECS}.bookinfo")
    proxies = IstiodSource(client, "istio-system", 5.0).fetch()
    assert {p: s.istiod for p, s in proxies.items()} == {
        f"{EC2}.bookinfo": POD_A,
        f"{ECS}.bookinfo": "istiod-1-22-6f9c7d8b5-x7k2p",
    }
    assert proxies[f"{ECS}.bookinfo"].version == "1.22.3"


def test_istiod_pods_that_are_not_running_are_not_asked(
    client: Kube, fake_kube: FakeKube, istiod: FakeIstiod
) -> None:
    fake_kube.add(istiod.pod("istiod-6f9c7d8b5-pend1", 9, phase="Pending"))
    istiod.connect(f"{EC2}.bookinfo")
    source = IstiodSource(client, "istio-system", 5.0)
    assert list(source.fetch()) == [f"{EC2}.bookinfo"]
    assert [i.name for i in source.instances] == [POD_B, POD_A]


def test_pilot_before_istio_1_5_is_found_by_its_own_label_and_port(
    client: Kube, fake_kube: FakeKube
) -> None:
    fake_kube.add(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "istio-pilot-5c8f9d7b6-abcde",
                "namespace": "istio-system",
                "labels": {"istio": "pilot", "app": "pilot"},
            },
            "status": {"phase": "Running"},
        }
    )
    body = (FIXTURES / "proxystatus" / "syncz-1.9.json").read_bytes()
    fake_kube.register_pod_proxy(
        "istio-system",
        "istio-pilot-5c8f9d7b6-abcde",
        8080,
        lambda path, query: (200, "application/json", body),
    )
    proxies = IstiodSource(client, "istio-system", 5.0).fetch()
    assert proxies
    assert {s.istiod for s in proxies.values()} == {"istio-pilot-5c8f9d7b6-abcde"}


@pytest.mark.parametrize("body", [b"[]", b"null", b"", b"  null\n"])
def test_an_istiod_without_proxies_answers_an_empty_list_or_null(body: bytes) -> None:
    assert parse_syncz_body(body, POD_A) == []


def test_garbage_from_one_replica_fails_the_fetch_naming_it(
    client: Kube, istiod: FakeIstiod
) -> None:
    istiod.connect(f"{EC2}.bookinfo")
    istiod.break_replica(1, body=b"<html>\n<body>upstream connect error</body>")
    with pytest.raises(SidecarError) as info:
        IstiodSource(client, "istio-system", 5.0).fetch()
    assert info.value.message == (
        f"istiod istio-system/{POD_B}: /debug/syncz: line 1: not JSON: '<html>'"
    )


def test_a_replica_answering_an_http_error_fails_the_fetch(
    client: Kube, istiod: FakeIstiod
) -> None:
    istiod.break_replica(0, code=404, body=b"404 page not found", content_type="text/plain")
    with pytest.raises(SidecarError) as info:
        IstiodSource(client, "istio-system", 5.0).fetch()
    assert info.value.message == (
        f"istiod istio-system/{POD_A}: cannot read /debug/syncz: Error from server (Not Found): "
        f"GET /api/v1/namespaces/istio-system/pods/{POD_A}:15014/proxy/debug/syncz: "
        "HTTP 404 Not Found"
    )


def test_retries_of_a_failing_replica_stay_within_the_sources_timeout(
    client: Kube, istiod: FakeIstiod
) -> None:
    istiod.break_replica(0, code=503, body=b"no healthy upstream", content_type="text/plain")
    start = time.monotonic()
    with pytest.raises(SidecarError) as info:
        IstiodSource(client, "istio-system", 1.0).fetch()
    # Not the client's own 30s of retries: a bound a loaded machine meets.
    assert time.monotonic() - start < 15
    assert info.value.message == (
        f"istiod istio-system/{POD_A}: cannot read /debug/syncz: "
        "Error from server (Service Unavailable): "
        f"GET /api/v1/namespaces/istio-system/pods/{POD_A}:15014/proxy/debug/syncz: "
        "HTTP 503 Service Unavailable"
    )


def test_wrong_json_shape_names_the_json_path(client: Kube, istiod: FakeIstiod) -> None:
    istiod.break_replica(0, body=b'[{"proxy": 7}]', content_type="application/json")
    with pytest.raises(SidecarError) as info:
        IstiodSource(client, "istio-system", 5.0).fetch()
    assert info.value.message == (
        f"istiod istio-system/{POD_A}: /debug/syncz: "
        "syncz[0].proxy: expected a string, got a number"
    )


def test_no_istiod_says_where_it_looked(client: Kube, fake_kube: FakeKube) -> None:
    with pytest.raises(SidecarError) as info:
        IstiodSource(client, "mesh-system", 5.0).fetch()
    assert info.value.message == (
        "istiod: no running istiod pods (label app=istiod) in namespace mesh-system; "
        "pass --istio-namespace if istiod runs elsewhere"
    )


def test_forbidden_pod_list_names_the_missing_permission(
    client: Kube, fake_kube: FakeKube, istiod: FakeIstiod
) -> None:
    fake_kube.forbid("list", "pods", "istio-system")
    with pytest.raises(SidecarError) as info:
        IstiodSource(client, "istio-system", 5.0).fetch()
    assert info.value.message.startswith("istiod: cannot list pods in istio-system: forbidden: ")
    assert 'RBAC needs verb "list" on resource "pods"' in info.value.message


def test_forbidden_pod_proxy_names_the_missing_permission(
    client: Kube, fake_kube: FakeKube, istiod: FakeIstiod
) -> None:
    fake_kube.forbid("get", "pods/proxy", "istio-system")
    with pytest.raises(SidecarError) as info:
        IstiodSource(client, "istio-system", 5.0).fetch()
    assert 'RBAC needs verb "get" on resource "pods/proxy"' in info.value.message


def test_a_slow_istiod_is_given_up_on_at_the_timeout(client: Kube, istiod: FakeIstiod) -> None:
    istiod.slow(1, 60)
    start = time.monotonic()
    with pytest.raises(SidecarError) as info:
        IstiodSource(client, "istio-system", 0.5).fetch()
    assert time.monotonic() - start < 30  # not the 60s it holds its answer
    assert info.value.message.startswith(f"istiod istio-system/{POD_B}: cannot read /debug/syncz")


# --- istioctl ------------------------------------------------------------------------------


def _istioctl(**kw: Any) -> IstioctlSource:
    opts: dict[str, Any] = dict(
        kubeconfig=None, context=None, istio_namespace="istio-system", timeout=5.0
    )
    opts.update(kw)
    return IstioctlSource(**opts)


def test_istioctl_runs_without_a_shell_with_the_users_kubeconfig_and_context(
    stand_in: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "ps.txt"
    out.write_bytes((FIXTURES / "proxystatus" / "istio-1.24.txt").read_bytes())
    monkeypatch.setenv("FAKE_ISTIOCTL_OUTPUT", str(out))
    # Shell syntax in an argument stays a literal argument.
    source = _istioctl(kubeconfig="/k/config; rm -rf /", context="$(prod)", istio_namespace="mesh")
    proxies = source.fetch()
    assert _argvs(stand_in) == [
        [
            "proxy-status",
            "--kubeconfig",
            "/k/config; rm -rf /",
            "--context",
            "$(prod)",
            "--istioNamespace",
            "mesh",
        ]
    ]
    assert proxies[f"{EC2}.bookinfo"].overall == STALE
    assert proxies[f"{JWT}.bookinfo"].overall == STALE
    assert source.describe() == "istioctl proxy-status"


def test_istioctl_1_27_summary_is_read_again_as_json_for_per_type_states(
    stand_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_ISTIOCTL_OUTPUT", str(FIXTURES / "proxystatus" / "istio-1.27.txt"))
    monkeypatch.setenv("FAKE_ISTIOCTL_JSON", str(FIXTURES / "proxystatus" / "csds-1.30.json"))
    proxies = _istioctl().fetch()
    # The stand-in prints the summary for --verbosity 1 too, so --output json comes next.
    assert _argvs(stand_in) == [
        ["proxy-status"],
        ["proxy-status", "--verbosity", "1"],
        ["proxy-status", "--output", "json"],
    ]
    assert all(status.overall != "UNKNOWN" for status in proxies.values())


# --- istioctl of each release line -------------------------------------------------------------

PS = FIXTURES / "proxystatus"
# What each istioctl prints: (default, --verbosity 1, --output json, --output yaml); None is
# an unknown flag (exit 1).
RELEASES: dict[str, tuple[str | None, ...]] = {
    # Before 1.27: the table has a column per type; there is no --verbosity.
    "1.26": ("istio-1.26-multicluster.txt", None, None, None),
    # 1.27-1.29: the summary; --verbosity 1 a column per type; --output json is ignored.
    "1.28": (
        "istio-1.28-multicluster.txt",
        "istio-1.28-multicluster-verbose.txt",
        "istio-1.28-multicluster.txt",
        "istio-1.28-multicluster.txt",
    ),
    # 1.30+: the same, with real JSON and YAML.
    "1.30": (
        "istio-1.28-multicluster.txt",
        "istio-1.28-multicluster-verbose.txt",
        "istio-1.30-multicluster.json",
        "istio-1.30-multicluster.yaml",
    ),
    # A build whose verbose table fails: only the JSON has the states.
    "json-only": (
        "istio-1.28-multicluster.txt",
        None,
        "istio-1.30-multicluster.json",
        "istio-1.30-multicluster.yaml",
    ),
    # Nothing but the summary, however it is asked.
    "summary-only": (
        "istio-1.28-multicluster.txt",
        None,
        "istio-1.28-multicluster.txt",
        "istio-1.28-multicluster.txt",
    ),
}

_FAKE = """#!{python}
import json, sys
argv = sys.argv[1:]
with open({log!r}, "a") as fh:
    fh.write(json.dumps(argv) + "\\n")
outputs = {outputs!r}
pick = 0
for flag, value in zip(argv, argv[1:]):
    if flag in ("-v", "--verbosity") and value == "1":
        pick = 1
    if flag in ("-o", "--output"):
        pick = {{"json": 2, "yaml": 3}}[value]
if outputs[pick] is None:
    sys.stderr.write("Error: unknown flag: " + argv[-2] + "\\n")
    sys.exit(1)
with open(outputs[pick], "rb") as fh:
    sys.stdout.buffer.write(fh.read())
"""


def _release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, release: str) -> Path:
    """An istioctl on PATH that behaves like `release`; returns the argv log."""
    import sys

    bin_dir = tmp_path / f"istioctl-{release}"
    bin_dir.mkdir()
    log = tmp_path / f"istioctl-{release}.log"
    outputs = [str(PS / name) if name else None for name in RELEASES[release]]
    script = bin_dir / "istioctl"
    script.write_text(_FAKE.format(python=sys.executable, log=str(log), outputs=outputs))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def _types_of(proxies: dict[str, ProxySync]) -> dict[str, dict[str, str]]:
    return {proxy: dict(status.types) for proxy, status in proxies.items()}


JWT_DC2 = "reviews-jwt-my-corp--vm012.rack4.datacenter2.eu-west.internal.corp"


def test_istioctl_before_1_27_is_asked_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _release(tmp_path, monkeypatch, "1.26")
    warnings: list[str] = []
    proxies = _istioctl(warn=warnings.append).fetch()
    assert _argvs(log) == [["proxy-status"]]
    assert proxies[f"{JWT_DC2}.bookinfo"].types["LDS"] == ERROR
    assert warnings == []


@pytest.mark.parametrize("release", ["1.28", "1.30"])
def test_istioctl_1_27_and_later_summary_is_asked_again_with_verbosity_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, release: str
) -> None:
    log = _release(tmp_path, monkeypatch, release)
    warnings: list[str] = []
    source = _istioctl(warn=warnings.append)
    proxies = source.fetch()
    assert _argvs(log) == [["proxy-status"], ["proxy-status", "--verbosity", "1"]]
    assert _types_of(proxies)[f"{JWT_DC2}.bookinfo"] == {
        "CDS": SYNCED, "ECDS": STALE, "EDS": SYNCED, "LDS": SYNCED, "RDS": NOT_SENT,
        "WADS": IGNORED, "WDS": IGNORED,
    }  # fmt: skip
    assert proxies[f"{JWT}.bookinfo"].cluster == "cp-us-east-1"
    assert warnings == []
    # The next fetch asks the way that worked straight away.
    source.fetch()
    assert _argvs(log)[2:] == [["proxy-status", "--verbosity", "1"]]


def test_istioctl_without_a_verbose_table_is_asked_for_real_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _release(tmp_path, monkeypatch, "json-only")
    warnings: list[str] = []
    proxies = _istioctl(warn=warnings.append).fetch()
    assert _argvs(log) == [
        ["proxy-status"],
        ["proxy-status", "--verbosity", "1"],
        ["proxy-status", "--output", "json"],
    ]
    assert proxies[f"{JWT_DC2}.bookinfo"].types["ECDS"] == STALE
    assert proxies[f"{JWT_DC2}.bookinfo"].istiod == "istiod-7d9f8c6b5c-n5b6v"
    assert warnings == []


def test_istioctl_with_nothing_but_the_summary_is_unknown_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _release(tmp_path, monkeypatch, "summary-only")
    warnings: list[str] = []
    source = _istioctl(warn=warnings.append)
    proxies = source.fetch()
    source.fetch()  # asked again (a watch): the warning is not repeated
    assert _argvs(log)[:3] == [
        ["proxy-status"],
        ["proxy-status", "--verbosity", "1"],
        ["proxy-status", "--output", "json"],
    ]
    assert {status.overall for status in proxies.values()} == {"UNKNOWN"}
    assert warnings == [
        "istioctl proxy-status printed only the types each proxy subscribes to, and "
        "neither --verbosity 1 nor --output json gave per-type states: every sidecar is UNKNOWN"
    ]


def test_istioctl_warnings_go_to_stderr_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _release(tmp_path, monkeypatch, "summary-only")
    _istioctl().fetch()
    assert capsys.readouterr().err == (
        "warning: istioctl proxy-status printed only the types each proxy subscribes to, "
        "and neither --verbosity 1 nor --output json gave per-type states: "
        "every sidecar is UNKNOWN\n"
    )


def test_missing_istioctl_is_a_clear_message(no_istioctl: None) -> None:
    with pytest.raises(SidecarError) as info:
        _istioctl().fetch()
    assert info.value.message == (
        "istioctl: not found on PATH; install istioctl or use --proxy-status istiod"
    )


def test_istioctl_failing_reports_its_last_error_line(
    stand_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_ISTIOCTL_EXIT", "1")
    monkeypatch.setenv("FAKE_ISTIOCTL_STDERR", 'some noise\nError: no running Istio pods in "x"')
    with pytest.raises(SidecarError) as info:
        _istioctl().fetch()
    assert info.value.message == (
        'istioctl proxy-status failed (exit 1): Error: no running Istio pods in "x"'
    )


def test_istioctl_is_stopped_at_the_timeout(
    stand_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_ISTIOCTL_SLEEP", "60")
    start = time.monotonic()
    with pytest.raises(SidecarError) as info:
        _istioctl(timeout=0.5).fetch()
    assert time.monotonic() - start < 30  # not the 60s it would take
    assert info.value.message == "istioctl proxy-status: no answer within 0.5s"


def test_istioctl_garbage_names_the_line(
    stand_in: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "ps.txt"
    out.write_text("Warning: something odd\nNAME   CDS\n")
    monkeypatch.setenv("FAKE_ISTIOCTL_OUTPUT", str(out))
    with pytest.raises(SidecarError) as info:
        _istioctl().fetch()
    assert info.value.message == (
        "istioctl proxy-status output: line 1: not an istioctl proxy-status header: "
        "'Warning: something odd'"
    )


# --- saved output -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture", ["istio-1.0.txt", "istio-1.9-seed.txt", "istio-1.24.txt", "syncz-1.24.json"]
)
def test_file_source_reads_text_or_json_and_rereads_on_each_fetch(
    fixture: str, tmp_path: Path
) -> None:
    path = tmp_path / fixture
    shutil.copy(FIXTURES / "proxystatus" / fixture, path)
    source = FileSource(str(path))
    first = source.fetch()
    assert first
    path.write_text("")
    assert source.fetch() == {}
    assert source.describe() == f"file {path}"


def test_stdin_is_read_once_and_repeated(tmp_path: Path) -> None:
    text = (FIXTURES / "proxystatus" / "istio-1.14.txt").read_bytes()
    stream = io.BytesIO(text)
    source = StdinSource(stream)
    first = source.fetch()
    assert first and source.fetch() == first
    assert source.describe() == "stdin"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"hello\n", "--proxy-status stdin: line 1: not an istioctl proxy-status header: 'hello'"),
        (
            b'{"nope": 1}',
            "--proxy-status stdin: csds: neither a CSDS ClientConfig, "
            "ClientStatusResponse nor DiscoveryResponse",
        ),
        (b"[1, 2", "--proxy-status stdin: line 1: invalid JSON (Expecting ',' delimiter): '[1, 2'"),
        (b"\xff\xfe", "--proxy-status stdin: line 1: not UTF-8 text (byte 0)"),
    ],
)
def test_garbage_input_is_one_clean_error(data: bytes, message: str) -> None:
    with pytest.raises(SidecarError) as info:
        StdinSource(io.BytesIO(data)).fetch()
    assert info.value.message == message
    assert info.value.exit_code == 1


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SidecarError) as info:
        FileSource(str(tmp_path / "nope.txt")).fetch()
    assert (
        info.value.message
        == f"--proxy-status file:{tmp_path / 'nope.txt'}: No such file or directory"
    )


# --- open_source and auto ------------------------------------------------------------------


def test_none_opens_nothing(client: Kube) -> None:
    assert open_source(client, "none") is None


def test_open_source_builds_each_named_source(client: Kube, tmp_path: Path) -> None:
    assert isinstance(open_source(client, "istiod"), IstiodSource)
    assert isinstance(open_source(client, "istioctl"), IstioctlSource)
    assert isinstance(open_source(client, "-", stdin=io.BytesIO(b"")), StdinSource)
    source = open_source(client, "file:~/ps.txt")
    assert isinstance(source, FileSource)
    assert source.path == os.path.expanduser("~/ps.txt")


def test_auto_prefers_istiod_and_does_not_ask_twice_for_the_first_answer(
    client: Kube, istiod: FakeIstiod, stand_in: Path
) -> None:
    istiod.connect(f"{EC2}.bookinfo")
    source = open_source(client, "auto")
    assert isinstance(source, IstiodSource)
    asked = len(istiod.requests)
    assert _states(source.fetch()) == {f"{EC2}.bookinfo": SYNCED}
    assert len(istiod.requests) == asked
    source.fetch()
    assert len(istiod.requests) == asked + 2  # a second fetch asks both replicas again
    assert _argvs(stand_in) == []


def test_auto_falls_back_to_istioctl_when_there_is_no_istiod(
    client: Kube, fake_kube: FakeKube, stand_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_ISTIOCTL_OUTPUT", str(FIXTURES / "proxystatus" / "istio-1.9.txt"))
    notices: list[str] = []
    source = open_source(client, "auto", notice=notices.append)
    assert isinstance(source, IstioctlSource)
    assert notices == [
        "istiod: no running istiod pods (label app=istiod) in namespace istio-system; "
        "pass --istio-namespace if istiod runs elsewhere"
    ]
    assert source.fetch()
    assert len(_argvs(stand_in)) == 1


def test_auto_finds_nothing_and_says_why(
    client: Kube, fake_kube: FakeKube, no_istioctl: None
) -> None:
    notices: list[str] = []
    assert open_source(client, "auto", notice=notices.append) is None
    assert notices == [
        "istiod: no running istiod pods (label app=istiod) in namespace istio-system; "
        "pass --istio-namespace if istiod runs elsewhere",
        "istioctl: not found on PATH; install istioctl or use --proxy-status istiod",
    ]


def test_auto_gives_a_slow_istiod_and_a_slow_istioctl_about_two_seconds_each(
    client: Kube, istiod: FakeIstiod, stand_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    istiod.slow(0, 30)
    monkeypatch.setenv("FAKE_ISTIOCTL_SLEEP", "30")
    notices: list[str] = []
    start = time.monotonic()
    assert open_source(client, "auto", notice=notices.append) is None
    took = time.monotonic() - start
    # About 2s each (their notices say so), not the 30s each would take: the upper
    # bound is one a loaded machine meets.
    assert 3.5 <= took < 20
    assert notices[1] == "istioctl proxy-status: no answer within 2s"


# --- the join (pure) -----------------------------------------------------------------------


def _sync(proxy: str, overall: str = SYNCED) -> ProxySync:
    types = {"CDS": SYNCED, "LDS": SYNCED} if overall == SYNCED else {"CDS": overall}
    return ProxySync(proxy, "Kubernetes", POD_A, "1.20.8", types)


def test_sidecar_of_each_war_state() -> None:
    connected = War(f.war(EC2, group="ratings"))
    gone = War(f.war(ECS, group="ratings", connected="False"))
    new = War(f.war(JWT, connected=None))
    proxies = {f"{EC2}.bookinfo": _sync(f"{EC2}.bookinfo", STALE)}
    assert sidecar_of(connected, proxies).state == STALE
    assert sidecar_of(connected, {}).state == MISSING
    assert sidecar_of(gone, {}).state is None
    assert sidecar_of(new, {}).state is None
    gone_but_present = {f"{ECS}.bookinfo": _sync(f"{ECS}.bookinfo")}
    assert sidecar_of(gone, gone_but_present).state == SYNCED


def test_orphans_are_proxies_named_like_a_war_that_no_war_accounts_for() -> None:
    wars = [War(f.war(EC2, group="ratings"))]
    orphan = "ratings-aws-aws-123456789012-us-east-2c-ec2-i-0aaaaaaaaaaaaaaa1"
    proxies = {
        p: _sync(p)
        for p in (
            f"{EC2}.bookinfo",
            f"{orphan}.bookinfo",
            f"{JWT}.onprem",
            "productpage-v1-54bb874995-h2jtm.bookinfo",
            "istio-ingressgateway-7f8878d8b7-2lq7x.istio-system",
            "ztunnel-4xqk2.istio-system",
            "noNamespace",
        )
    }
    assert [s.proxy for s in orphans(proxies, wars, None)] == [
        f"{orphan}.bookinfo",
        f"{JWT}.onprem",
    ]
    assert [s.proxy for s in orphans(proxies, wars, "onprem")] == [f"{JWT}.onprem"]
    entries = join(wars, proxies, "bookinfo")
    assert [(e.name, e.group, e.orphan, e.synced) for e in entries] == [
        (EC2, "ratings", False, True),
        (orphan, "ratings", True, True),
    ]
