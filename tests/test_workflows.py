"""The GitHub workflows: actionlint (with shellcheck on their scripts) and the matrix.

actionlint and shellcheck come from the test extras (wheels that carry the binaries);
on a platform without those wheels the lint is skipped, and CI still runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"


def _tool(name: str) -> str | None:
    """`name` from this environment's scripts first, then PATH."""
    here = Path(sys.executable).parent / name
    return str(here) if here.is_file() else shutil.which(name)


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    actionlint = _tool("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (the test extras install it on Linux, macOS)")
    shellcheck = _tool("shellcheck")
    env = dict(os.environ)
    if shellcheck:
        # actionlint runs shellcheck on every `run:` script it finds on PATH.
        env["PATH"] = os.pathsep.join([str(Path(shellcheck).parent), env.get("PATH", "")])
    done = subprocess.run(
        [actionlint, "-no-color", "-oneline", *sorted(str(p) for p in WORKFLOWS.glob("*.yml"))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env=env,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def _workflow(name: str) -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); the workflows are read only for jobs.
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def test_ci_tests_every_python_from_3_9_to_the_newest_on_linux_and_macos() -> None:
    test = _workflow("ci.yml")["jobs"]["test"]
    matrix = test["strategy"]["matrix"]
    linux = [f"3.{minor}" for minor in range(9, 16)]
    assert (matrix["os"], matrix["python"]) == (["ubuntu-latest"], linux)
    assert [(i["os"], i["python"]) for i in matrix["include"]] == [
        ("macos-latest", "3.9"),
        ("macos-latest", "3.14"),
    ]
    runs = [step.get("run", "") for step in test["steps"]]
    assert "make test PYTHON=python" in runs
    assert any("python dist/kubectl-war version" in run for run in runs)
    checkout = test["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0  # the archive's date needs the history


def test_release_checks_the_manifest_before_anything_is_published() -> None:
    jobs = _workflow("release.yml")["jobs"]
    assert jobs["test"]["uses"] == "./.github/workflows/ci.yml"
    build_runs = "\n".join(step.get("run", "") for step in jobs["build"]["steps"])
    assert "cmp dist/krew-manifest.yaml krew-manifest.yaml" in build_runs
    assert "python release/build.py check" in build_runs
    assert set(jobs["github-release"]["needs"]) == {"test", "build"}
    assert set(jobs["pypi"]["needs"]) == {"test", "build"}
    assert jobs["pypi"]["permissions"] == {"id-token": "write"}
    assert jobs["pypi"]["steps"][-1]["uses"] == "pypa/gh-action-pypi-publish@release/v1"
    assert jobs["krew-index"]["needs"] == "github-release"
    assert jobs["krew-index"]["steps"][-1]["uses"].startswith("rajatjindal/krew-release-bot@")
    assert jobs["project-index"]["needs"] == "github-release"
