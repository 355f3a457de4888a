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
    # general path; --proxy-status none streams. Same rows, same words on stderr.
    general = _run(capsys, "list", *scope, "-o", "wide", *flags)
    streamed = _run(capsys, "list", *scope, "-o", "wide", "--proxy-status", "none", *flags)
    assert streamed == general
    assert general[0] or general[1].startswith("No resources found")


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
    # The general path keeps every object it listed until the table is printed.
    measure("general", "-o", "wide")
    assert peaks["streamed"] < peaks["general"] / 2, peaks
