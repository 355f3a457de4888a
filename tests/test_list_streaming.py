"""`kubectl war list` builds a plain table page by page, holding rows rather than the
API's objects; what it prints is exactly what the general path (the one behind
watches and the SIDECAR column) prints."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from kubectl_war.cli import main
from tests.conftest import FIXED_NOW
from tests.fakekube import FakeKube


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    try:
        main(list(args))
    except SystemExit as exc:
        assert exc.code in (0, None)
    captured = capsys.readouterr()
    return captured.out, captured.err


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, kubeconfig: str) -> None:
    monkeypatch.setenv("KUBECONFIG", kubeconfig)
    monkeypatch.setenv("KUBECTL_WAR_NOW", FIXED_NOW)
    monkeypatch.setenv("NO_COLOR", "1")


FLAGS = [
    (),
    ("--no-headers",),
    ("--sort-by", "name"),
    ("--sort-by", "age"),
    ("--sort-by", "group"),
    ("--sort-by", "zone"),
    ("--group", "ratings", "--group", "ledger"),
    ("--connected",),
    ("--disconnected",),
    ("--disconnected", "--older-than", "1m"),
    ("--outdated",),
    ("--outdated", "--sort-by", "age"),
    ("-l", "app=ratings"),
    ("--group", "no-such-group"),
]


@pytest.mark.parametrize("scope", [("-A",), ("-n", "bookinfo")])
@pytest.mark.parametrize("flags", FLAGS)
def test_streamed_table_is_the_general_table(
    fleet_kube: FakeKube,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    scope: tuple[str, ...],
    flags: tuple[str, ...],
) -> None:
    # -o wide looks for a proxy-status source (there is none here) and so takes the
    # general path, whose SIDECAR and ISTIOD columns read <none>, with a warning saying
    # why; --proxy-status none streams. Without those, the same rows and words.
    general = _run(capsys, "list", *scope, "-o", "wide", *flags)
    streamed = _run(capsys, "list", *scope, "-o", "wide", "--proxy-status", "none", *flags)
    if "--no-headers" in flags:
        # Where the columns are, read from the same table with its header.
        headed = _run(
            capsys, "list", *scope, "-o", "wide", *[f for f in flags if f != "--no-headers"]
        )
        assert streamed == _without_sidecar_headless(*general, headed[0])
    else:
        assert streamed == _without_sidecar(*general)
    assert general[0] or general[1].startswith("No resources found")


def _without_sidecar_headless(out: str, err: str, headed: str) -> tuple[str, str]:
    """`_without_sidecar` for a table printed without its header, whose columns are as
    wide as the headed table's (the header counts even when it is not printed)."""
    head = headed.splitlines()[0]
    cut, err = _without_sidecar(head + "\n" + out, err)
    return cut.partition("\n")[2], err


def _without_sidecar(out: str, err: str) -> tuple[str, str]:
    """A wide table without its SIDECAR and ISTIOD columns (all <none>), and stderr
    without the warning that says why."""
    warnings = [line for line in err.splitlines(keepends=True) if "SIDECAR is <none>" in line]
    err = "".join(line for line in err.splitlines(keepends=True) if line not in warnings)
    lines = out.splitlines()
    if not lines:
        return out, err
    header = lines[0] if "SIDECAR" in lines[0] else None
    if header is None:
        return out, err
    start = header.index("SIDECAR")
    end = header.index("AGE", start)
    istiod = header.rindex("ISTIOD")
    rows = []
    for line in lines:
        assert line[start:end].strip() in ("SIDECAR", "<none>")
        assert line[istiod:].strip() in ("ISTIOD", "<none>")
        rows.append((line[:start] + line[end:istiod]).rstrip(" "))
    return "".join(f"{row}\n" for row in rows), err


def test_streamed_table_asks_the_server_what_the_general_path_asks(
    fleet_kube: FakeKube, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet_kube.clear_requests()
    _run(capsys, "list", "-A", "--chunk-size", "3", "-o", "wide", "--proxy-status", "none")
    streamed = [(r.method, r.path, sorted(r.query.items())) for r in fleet_kube.requests]
    fleet_kube.clear_requests()
    _run(capsys, "list", "-A", "--chunk-size", "3", "-o", "wide")
    general = [(r.method, r.path, sorted(r.query.items())) for r in fleet_kube.requests]
    assert len(streamed) > 4
    # The general path then goes on to look for a proxy-status source (auto).
    assert general[: len(streamed)] == streamed


def test_plain_list_holds_rows_not_objects(
    fake_kube: FakeKube,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_kube.seed_large_fleet(3000)
    peaks: dict[str, int] = {}

    def measure(name: str, *args: str) -> None:
        gc.collect()
        tracemalloc.start()
        try:
            out, _ = _run(capsys, "list", "-A", *args)
            peaks[name] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert out.count("\n") == 3001

    measure("streamed", "-o", "wide", "--proxy-status", "none")
    # A sort by a JSONPath expression keeps every object it listed until the table is
    # printed (the other tables hold compact WARs: see test_compact_wars_hold_a_tenth).
    measure("general", "-o", "wide", "--sort-by", ".metadata.name")
    assert peaks["streamed"] < peaks["general"] / 2, peaks


def _as_printed(text: str, output: str) -> str:
    """The whole document as the writer of a held list prints it."""
    import json

    import yaml

    from kubectl_war.render import to_json, to_yaml

    return to_json(json.loads(text)) if output == "json" else to_yaml(yaml.safe_load(text))


@pytest.mark.parametrize("output", ["json", "yaml"])
@pytest.mark.parametrize(
    "flags", [(), ("--connected",), ("--group", "no-such-group"), ("--chunk-size", "2")]
)
def test_streamed_document_is_the_held_document(
    fleet_kube: FakeKube,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    output: str,
    flags: tuple[str, ...],
) -> None:
    import json

    out, err = _run(capsys, "list", "-A", "-o", output, *flags)
    assert err == ""
    assert out == _as_printed(out, output)
    # The same items, in the same order, as a sort that holds them all.
    held, _ = _run(capsys, "list", "-A", "-o", "json", "--sort-by", "{.metadata.namespace}", *flags)
    if output == "json":
        streamed = json.loads(out)["items"]
    else:
        import yaml

        streamed = yaml.safe_load(out)["items"]
    assert [o["metadata"]["uid"] for o in streamed] == [
        o["metadata"]["uid"] for o in json.loads(held)["items"]
    ]


def test_json_holds_a_page_not_the_list(
    fake_kube: FakeKube, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_kube.seed_large_fleet(3000)
    peaks: dict[str, int] = {}

    def measure(name: str, *args: str) -> str:
        gc.collect()
        tracemalloc.start()
        try:
            out, _ = _run(capsys, "list", "-A", "-o", "json", *args)
            peaks[name] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return out

    streamed = measure("streamed")
    # A sort keeps every object it listed until the List is printed.
    held = measure("held", "--sort-by", "{.metadata.namespace}")
    assert streamed == held
    # Both peaks count the captured output (some 20 MB) as well.
    assert peaks["streamed"] < peaks["held"] / 2, peaks


def test_compact_wars_answer_as_the_whole_wars_and_hold_a_tenth(fleet_kube: FakeKube) -> None:
    from kubectl_war.war import CompactWar, War

    objects = fleet_kube.objects("workloadautoregistrations")
    assert objects
    for obj in objects:
        whole, compact = War(obj), CompactWar(War(obj))
        for field in (
            "name", "namespace", "uid", "resource_version", "created", "labels", "group",
            "group_uid", "identity", "identity_source", "ip", "agent_version", "istio_version",
            "istio_revision", "connected", "is_connected", "is_disconnected", "agent_state",
            "transition_time", "connected_to", "proxy_name",
        ):  # fmt: skip
            assert getattr(compact, field) == getattr(whole, field), (whole.name, field)
        assert compact.obj == {
            "metadata": {
                k: obj["metadata"][k] for k in ("name", "namespace", "uid", "resourceVersion")
            }
        }
    import json

    texts = [json.dumps(o) for o in objects] * 20
    gc.collect()
    tracemalloc.start()
    try:
        whole_wars = [War(json.loads(t)) for t in texts]
        whole = tracemalloc.get_traced_memory()[0]
        del whole_wars
        gc.collect()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        compact_wars = [CompactWar(War(json.loads(t))) for t in texts]
        compact = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert len(compact_wars) == len(texts)
    assert compact < whole / 4, (compact, whole)
