"""The first run: `make sandbox` serves a cluster every command works against, agents
that onboard again included; `make demo` prints no Makefile comments and no pip output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EC2 = "ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    kubeconfig = tmp_path / "sandbox" / "kubeconfig"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakekube", "sandbox", "--kubeconfig", str(kubeconfig)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Serving until Ctrl-C"):
                break
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def test_sandbox_prints_the_kubeconfig_line_and_agents_onboard_again(
    sandbox: tuple[subprocess.Popen[str], list[str]], kubectl_bin: str, tmp_path: Path
) -> None:
    proc, lines = sandbox
    exports = [line.strip() for line in lines if line.strip().startswith("export KUBECONFIG=")]
    assert len(exports) == 1, "".join(lines)
    kubeconfig = exports[0].partition("=")[2]
    assert Path(kubeconfig) == tmp_path / "sandbox" / "kubeconfig"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
    env.update(KUBECONFIG=kubeconfig, HOME=str(tmp_path), NO_PROXY="127.0.0.1,localhost")
    env["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), env.get("PATH", "")])

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [kubectl_bin, *args], capture_output=True, text=True, env=env, timeout=120
        )

    listed = kubectl("war", "list", "-A", "--sync")
    assert (listed.returncode, listed.stderr) == (0, "")
    assert EC2 in listed.stdout and "SYNCED" in listed.stdout
    before = kubectl("get", "war", "-n", "bookinfo", EC2, "-o", "jsonpath={.metadata.uid}")
    # Deleted, its simulated agent onboards again: a new WAR under the same name.
    deleted = kubectl(
        "war", "delete", "-n", "bookinfo", EC2, "--wait-reregistered", "--timeout", "90s"
    )
    assert deleted.returncode == 0, deleted.stderr
    after = kubectl("get", "war", "-n", "bookinfo", EC2, "-o", "jsonpath={.metadata.uid}")
    assert after.returncode == 0 and after.stdout and after.stdout != before.stdout
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0


def test_make_demo_prints_the_table_and_nothing_of_make_or_pip() -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [
        line
        for line in done.stdout.splitlines()
        # Printed only when .venv must be (re)built first.
        if not line.startswith("Setting up .venv")
    ]
    assert lines[0] == "$ kubectl war list -A"
    assert lines[1].startswith("NAMESPACE   NAME")
    assert not [line for line in lines if line.lstrip().startswith("#")]
    assert "pip" not in done.stdout + done.stderr
    assert done.stderr == ""
