"""Bounded proxy-status input: a size cap on files, stdin, istiod's answers and istioctl's
output (`--proxy-status-max-size`), a length cap on lines, and large saved tables read a
line at a time (peak memory: `bench/proxystatus_memory.py`, run by hand)."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubectl_war.errors import UsageError
from kubectl_war.sidecars import autodetect, limits
from kubectl_war.sidecars.autodetect import parse_any, parse_stream
from kubectl_war.sidecars.capped_run import run_capped
from kubectl_war.sidecars.istioctl_text import parse_text
from kubectl_war.sidecars.limits import (
    InputTooLarge,
    capped_lines,
    format_size,
    parse_size,
)
from kubectl_war.sidecars.records import SYNCED, ProxyStatusError
from kubectl_war.sidecars.sources import FileSource, SidecarError, StdinSource
from tests import factories as f
from tests.factories import EC2, Run
from tests.fakekube import FakeKube
from tests.fakekube.istiod import FakeIstiod

PS = Path(__file__).parent / "fixtures" / "proxystatus"
BIN = Path(__file__).parent / "fixtures" / "bin"
TOO_LARGE = (
    "larger than {}, the --proxy-status-max-size limit that keeps a wrong input from "
    "filling memory; pass a larger --proxy-status-max-size to read it"
)


# --- sizes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size", "shown"),
    [
        ("256Mi", 256 * 1024**2, "256Mi"),
        ("64Mi", 64 * 1024**2, "64Mi"),
        ("1Gi", 1024**3, "1Gi"),
        ("2Ki", 2048, "2Ki"),
        ("500M", 500_000_000, "500M"),
        ("3k", 3000, "3k"),
        ("1048576", 1048576, "1Mi"),
        ("1500", 1500, "1500"),
        (" 8Mi ", 8 * 1024**2, "8Mi"),
    ],
)
def test_sizes_read_as_kubernetes_quantities(text: str, size: int, shown: str) -> None:
    assert parse_size(text) == size
    assert format_size(size) == shown


@pytest.mark.parametrize("text", ["", "0", "0Mi", "12Q", "1.5Gi", "-1Mi", "Mi", "1 Mi", "1mi"])
def test_sizes_that_are_not_quantities_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_size(text)
    assert info.value.message == (
        f"invalid --proxy-status-max-size {text!r}: expected a size such as 64Mi, 1Gi or "
        "500M (suffixes Ki, Mi, Gi, Ti, k, M, G, T)"
    )


# --- lines ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "a", "a\n", "a\nb", "a\r\nb\r\n", "a\rb\n\nc", "a\r\r\nb", "x  \t\ny\n", "\n\n\n"],
)
@pytest.mark.parametrize("first", [0, 1, 2])
def test_lines_are_numbered_as_the_text_reader_numbers_them(
    text: str, first: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "CHUNK", 2)  # every line crosses a chunk boundary
    data = text.encode()
    got = list(capped_lines(io.BytesIO(data[first:]), 100, first=data[:first]))
    import re

    want = [(n, line.rstrip(" \t")) for n, line in enumerate(re.split(r"\r\n|\r|\n", text), 1)]
    if text.endswith(("\n", "\r")) or not text:
        want = want[:-1]  # no line after the last line break
    assert got == want


@pytest.mark.parametrize("name", sorted(p.name for p in PS.iterdir()))
def test_a_stream_reads_every_fixture_as_the_whole_text_does(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (PS / name).read_bytes()
    monkeypatch.setattr(limits, "CHUNK", 13)
    monkeypatch.setattr(autodetect, "CHUNK", 13)
    warned_stream: list[str] = []
    warned_text: list[str] = []
    got = parse_stream(io.BytesIO(data), 1024**2, warned_stream.append)
    assert got == parse_any(data, warned_text.append)
    assert warned_stream == warned_text


def test_a_line_over_the_cap_is_named_by_its_number() -> None:
    text = (PS / "istio-1.24.txt").read_bytes()
    long_line = b"x" * (limits.MAX_LINE + 1) + b"\n"
    with pytest.raises(ProxyStatusError) as info:
        parse_stream(io.BytesIO(text + long_line), 1024**2)
    number = text.count(b"\n") + 1
    assert info.value.message == f"line {number}: longer than 65536 bytes: not proxy-status output"
    # A line of exactly the cap (and its CR) is still a line.
    exact = b"y" * limits.MAX_LINE + b"\r\n"
    with pytest.raises(ProxyStatusError, match=rf"^line {number}: row does not line up"):
        parse_stream(io.BytesIO(text + exact), 1024**2)


def test_compact_json_on_one_long_line_is_not_held_to_the_line_cap() -> None:
    entries = [
        {"proxy": f"vm-{i}.bookinfo", "cluster_sent": "n", "cluster_acked": "n"}
        for i in range(2000)
    ]
    data = json.dumps(entries).encode()
    assert len(data) > limits.MAX_LINE and b"\n" not in data
    records = parse_stream(io.BytesIO(data), 1024**2)
    assert len(records) == 2000 and records[-1].types["CDS"] == SYNCED


# --- sizes of saved output --------------------------------------------------------------


def test_dev_zero_fails_at_its_first_line() -> None:
    with pytest.raises(SidecarError) as info:
        FileSource("/dev/zero").fetch()
    assert info.value.message == (
        "--proxy-status file:/dev/zero: line 1: longer than 65536 bytes: not proxy-status output"
    )


def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes((PS / "istio-1.24.txt").read_bytes())
    with pytest.raises(SidecarError) as info:
        FileSource(str(path), max_size=100).fetch()
    assert info.value.message == f"--proxy-status file:{path}: " + TOO_LARGE.format("100 bytes")
    assert FileSource(str(path), max_size=1024**2).fetch()


@pytest.mark.parametrize("fixture", ["istio-1.24.txt", "syncz-1.24.json", "csds-1.30.json"])
def test_stdin_over_the_cap_is_refused_in_every_format(fixture: str) -> None:
    data = (PS / fixture).read_bytes()
    with pytest.raises(SidecarError) as info:
        StdinSource(io.BytesIO(data), max_size=len(data) - 1).fetch()
    assert info.value.message == "--proxy-status stdin: " + TOO_LARGE.format(
        f"{len(data) - 1} bytes"
    )
    assert StdinSource(io.BytesIO(data), max_size=len(data)).fetch()


def test_endless_whitespace_stops_at_the_cap() -> None:
    class Blanks(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            buffer[:] = b" " * len(buffer)
            return len(buffer)

    with pytest.raises(InputTooLarge):
        parse_stream(io.BufferedReader(Blanks()), 4 * 1024**2)


def _table(rows: int) -> bytes:
    """istioctl 1.24's table with `rows` sidecars, ages varying as istioctl prints them."""
    header = (
        f"{'NAME':<72}CLUSTER        CDS               LDS               EDS               "
        "RDS               ECDS              ISTIOD                      VERSION\n"
    )
    lines = [header]
    for i in range(rows):
        age = f"{i % 60}m{i % 7}s"
        states = "".join(f"SYNCED ({age})".ljust(18) for _ in range(4)) + "IGNORED".ljust(18)
        name = f"vm-{i:08d}-aws-123456789012-us-east-2b-ec2-i-0abc.bookinfo"
        lines.append(
            f"{name:<72}Kubernetes     {states}{f'istiod-5c4d8bd8c5-{i % 3}x':<28}1.24.1\n"
        )
    return "".join(lines).encode()


def test_a_20_mb_saved_table_is_read_whole_and_right(tmp_path: Path) -> None:
    path = tmp_path / "proxy-status.txt"
    rows = 100_000
    data = _table(rows)
    assert len(data) > 20 * 1000**2
    path.write_bytes(data)
    proxies = FileSource(str(path)).fetch()
    assert len(proxies) == rows
    last = proxies[f"vm-{rows - 1:08d}-aws-123456789012-us-east-2b-ec2-i-0abc.bookinfo"]
    first = parse_text(data[: data.index(b"\n", data.index(b"\n") + 1) + 1])[0]
    assert proxies[first.proxy] == first
    assert (last.istiod, last.version, last.cluster) == (
        "istiod-5c4d8bd8c5-0x",
        "1.24.1",
        "Kubernetes",
    )
    assert dict(last.types) == {
        "CDS": SYNCED,
        "LDS": SYNCED,
        "EDS": SYNCED,
        "RDS": SYNCED,
        "ECDS": "IGNORED",
    }
    assert last.details == {"CDS": "39m4s", "LDS": "39m4s", "EDS": "39m4s", "RDS": "39m4s"}


# --- istioctl ---------------------------------------------------------------------------


def test_a_command_that_never_stops_writing_is_killed_at_the_cap() -> None:
    endless = "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n"
    with pytest.raises(InputTooLarge):
        run_capped([sys.executable, "-c", endless], 1024**2, 30)


def test_a_command_within_the_cap_gives_its_output_and_the_end_of_stderr() -> None:
    script = (
        "import sys\nsys.stdout.write('out')\nsys.stderr.write('e' * 100000 + 'why')\nsys.exit(3)"
    )
    code, out, err = run_capped([sys.executable, "-c", script], 3, 30)
    assert (code, bytes(out), len(err), err[-3:]) == (3, b"out", 64 * 1024, b"why")


def test_a_command_that_does_not_answer_in_time_is_killed() -> None:
    with pytest.raises(TimeoutError):
        run_capped([sys.executable, "-c", "import time; time.sleep(30)"], 1024, 0.5)


# --- through kubectl --------------------------------------------------------------------


@pytest.fixture
def mesh(fake_kube: FakeKube) -> Iterator[FakeIstiod]:
    fake_kube.add(f.workload_group("ratings"))
    fake_kube.add(f.ec2_war())
    istiod = FakeIstiod(fake_kube, replicas=1)
    istiod.connect_all(f"vm-{i}.bookinfo" for i in range(20))
    istiod.connect(f"{EC2}.bookinfo")
    yield istiod
    istiod.close()


def test_dev_zero_as_a_source_is_one_clear_error(mesh: FakeIstiod, run_war: Run) -> None:
    r = run_war("proxy-status", "-n", "bookinfo", "--proxy-status", "file:/dev/zero", timeout=20)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == (
        "error: --proxy-status file:/dev/zero: line 1: longer than 65536 bytes: "
        "not proxy-status output\n"
    )


def test_a_saved_file_over_the_cap_names_the_flag_that_raises_it(
    mesh: FakeIstiod, run_war: Run, tmp_path: Path
) -> None:
    path = tmp_path / "ps.txt"
    path.write_text(mesh.proxy_status_text())
    assert 2048 < path.stat().st_size < 1024**2
    args = ("proxy-status", "-n", "bookinfo", "--proxy-status", f"file:{path}")
    r = run_war(*args, "--proxy-status-max-size", "2Ki")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == f"error: --proxy-status file:{path}: " + TOO_LARGE.format("2Ki") + "\n"
    r = run_war(*args, "--proxy-status-max-size", "1Mi")
    assert (r.returncode, r.stderr) == (0, "")
    r = run_war(
        "list",
        "-n",
        "bookinfo",
        "--sync",
        "--proxy-status",
        "-",
        "--proxy-status-max-size",
        "2Ki",
        input=path.read_text(),
    )
    assert (r.returncode, r.stderr) == (
        1,
        "error: --proxy-status stdin: " + TOO_LARGE.format("2Ki") + "\n",
    )


def test_a_max_size_that_is_not_a_size_is_a_usage_error(mesh: FakeIstiod, run_war: Run) -> None:
    r = run_war("list", "--proxy-status-max-size", "12Q")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.endswith(
        "invalid --proxy-status-max-size '12Q': expected a size such as 64Mi, 1Gi or 500M "
        "(suffixes Ki, Mi, Gi, Ti, k, M, G, T)\n"
    )


def test_an_istiod_answer_over_the_cap_is_refused(mesh: FakeIstiod, run_war: Run) -> None:
    r = run_war(
        "proxy-status",
        "-n",
        "bookinfo",
        "--proxy-status",
        "istiod",
        "--proxy-status-max-size",
        "1Ki",
    )
    assert (r.returncode, r.stdout) == (1, "")
    pod = mesh.pods[0]
    assert r.stderr == (
        f"error: istiod istio-system/{pod}: /debug/syncz: " + TOO_LARGE.format("1Ki") + "\n"
    )
    r = run_war("proxy-status", "-n", "bookinfo", "--proxy-status", "istiod")
    assert (r.returncode, r.stderr) == (0, "")


def test_istioctl_output_over_the_cap_is_refused(
    mesh: FakeIstiod, run_war: Run, kube_env: dict[str, str], tmp_path: Path
) -> None:
    saved = tmp_path / "istioctl.txt"
    saved.write_text(mesh.proxy_status_text())
    env = dict(kube_env, FAKE_ISTIOCTL_OUTPUT=str(saved))
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    args = ("proxy-status", "-n", "bookinfo", "--proxy-status", "istioctl")
    r = run_war(*args, "--proxy-status-max-size", "1Ki", env=env)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "error: istioctl proxy-status output: " + TOO_LARGE.format("1Ki") + "\n"
    r = run_war(*args, env=env)
    assert (r.returncode, r.stderr) == (0, "")
