"""The PyPI release: `python -m build` gives an sdist and a wheel twine accepts, and the
wheel installed into a clean virtual environment runs both console scripts.

The build runs without isolation (setuptools and wheel come from the test extras) so it
needs no download. The clean environment gets the wheel and its dependencies from a
wheelhouse, build/pypi-wheelhouse, with `pip install --no-index`: what is installed is
decided by the wheel's metadata alone, and nothing from this environment leaks in. The
first run on a machine fills the wheelhouse with `pip download` of the wheel's
dependencies, as build/zipapp-wheels is filled for the zipapp; later runs are offline.
"""

from __future__ import annotations

import configparser
import email
import os
import platform
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from kubectl_war import __version__
from tests.buildlock import one_build_at_a_time

ROOT = Path(__file__).resolve().parent.parent
WHEELHOUSE = ROOT / "build" / "pypi-wheelhouse"
PROJECT = "kubectl_war"


def _run(*cmd: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        cmd, capture_output=True, text=True, timeout=600, check=False, **kwargs
    )


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("pypi")
    with one_build_at_a_time():
        done = _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def _cfg() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg


def test_twine_accepts_the_sdist_and_the_wheel(dists: tuple[Path, Path]) -> None:
    done = _run(sys.executable, "-m", "twine", "check", "--strict", *map(str, dists))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


def test_wheel_holds_the_package_its_scripts_and_its_requirements(
    dists: tuple[Path, Path],
) -> None:
    sdist, wheel = dists
    assert sdist.name == f"kubectl_war-{__version__}.tar.gz"
    assert wheel.name == f"kubectl_war-{__version__}-py3-none-any.whl"
    source = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / PROJECT).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    info = f"kubectl_war-{__version__}.dist-info"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = email.message_from_bytes(zf.read(f"{info}/METADATA"))
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
    assert {n for n in names if n.endswith(".py")} == source
    assert not [n for n in names if not n.startswith((f"{PROJECT}/", f"{info}/"))]
    assert any(n.startswith(f"{info}/") and "LICENSE" in n for n in names)
    assert metadata["Name"] == "kubectl-war"
    assert metadata["Version"] == __version__
    assert metadata["Requires-Python"] == ">=3.9"
    assert metadata["Description-Content-Type"] == "text/markdown"
    required = [r for r in _cfg().get("options", "install_requires").splitlines() if r]
    runtime = [Requirement(r) for r in metadata.get_all("Requires-Dist") if "extra ==" not in r]
    assert {(r.name, r.specifier) for r in runtime} == {
        (r.name, r.specifier) for r in map(Requirement, required)
    }
    assert "[console_scripts]" in entry_points
    assert "kubectl-war = kubectl_war.cli:main" in entry_points
    assert "kubectl_complete-war = kubectl_war.cli:complete_main" in entry_points
    top = f"kubectl_war-{__version__}"
    with tarfile.open(sdist) as tar:
        members = set(tar.getnames())
    assert {f"{top}/{n}" for n in ("LICENSE", "README.md", "setup.cfg", "pyproject.toml")} <= (
        members
    )
    assert {f"{top}/{n}" for n in source} <= members


def _install(venv: Path, wheel: Path) -> subprocess.CompletedProcess[str]:
    python = str(venv / "bin" / "python")
    return _run(
        python,
        *("-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(WHEELHOUSE)),
        str(wheel),
    )


def test_wheel_runs_from_a_clean_virtual_environment(
    dists: tuple[Path, Path], tmp_path: Path
) -> None:
    _, wheel = dists
    venv = tmp_path / "venv"
    made = _run(sys.executable, "-m", "venv", str(venv))
    assert made.returncode == 0, made.stderr
    installed = _install(venv, wheel)
    if installed.returncode:
        # The wheelhouse lacks a dependency this Python needs: fetch them once.
        fetched = _run(
            str(venv / "bin" / "python"),
            *("-m", "pip", "download", "--quiet", "--dest", str(WHEELHOUSE), str(wheel)),
        )
        assert fetched.returncode == 0, fetched.stderr
        (WHEELHOUSE / wheel.name).unlink(missing_ok=True)  # only dependencies live there
        installed = _install(venv, wheel)
    assert installed.returncode == 0, installed.stderr

    env = {"PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path)}
    client = _run(
        str(venv / "bin" / "python"),
        "-c",
        "import importlib.metadata as m; print(m.version('kubernetes'))",
        env=env,
    )
    assert client.returncode == 0, client.stderr
    version = _run(str(venv / "bin" / "kubectl-war"), "version", env=env, cwd=tmp_path)
    assert (version.returncode, version.stderr) == (0, "")
    assert version.stdout == (
        f"kubectl-war: v{__version__}\n"
        f"Python: {platform.python_version()}\n"
        f"kubernetes client: {client.stdout.strip()}\n"
    )

    complete = _run(str(venv / "bin" / "kubectl_complete-war"), "__complete", "", env=env)
    from_source = _run(
        str(Path(sys.executable).parent / "kubectl_complete-war"), "__complete", "", env=env
    )
    assert (complete.returncode, complete.stderr) == (0, "")
    assert complete.stdout == from_source.stdout
    lines = complete.stdout.splitlines()
    assert lines[-1].startswith(":")
    assert {"list", "version", "completion"} <= {line.split("\t")[0] for line in lines}


# ---- the PyPI page and the sdist -------------------------------------------------------------

_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def test_the_long_description_links_only_absolutely() -> None:
    # PyPI shows README.md as the project page: a relative link there leads nowhere.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = _LINK.findall(readme)
    assert links, "README.md has links"
    relative = [link for link in links if not link.startswith(("https://", "http://", "#"))]
    assert relative == []
    url = _cfg().get("metadata", "url")
    for link in links:
        if link.startswith(f"{url}/blob/main/"):
            assert (ROOT / link[len(f"{url}/blob/main/") :].split("#")[0]).exists(), link


def test_metadata_names_the_project_urls_pythons_and_licence(dists: tuple[Path, Path]) -> None:
    _, wheel = dists
    with zipfile.ZipFile(wheel) as zf:
        metadata = email.message_from_bytes(
            zf.read(f"kubectl_war-{__version__}.dist-info/METADATA")
        )
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert {"Documentation", "Source", "Changelog", "Issues"} <= set(urls)
    classifiers = set(metadata.get_all("Classifier"))
    assert "License :: OSI Approved :: Apache Software License" in classifiers
    assert metadata["License"] == "Apache-2.0"
    # Every Python from the oldest supported to the newest CI tests as released.
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    tested = re.search(r"python: \[([^\]]*)\]", ci)
    assert tested is not None
    versions = [v.strip().strip('"') for v in tested.group(1).split(",")]
    # The newest in CI may be a pre-release, not claimed yet; every other one is.
    for version in versions[:-1]:
        assert f"Programming Language :: Python :: {version}" in classifiers


def test_the_sdists_tests_run_from_the_unpacked_sdist(
    dists: tuple[Path, Path], tmp_path: Path
) -> None:
    sdist, _ = dists
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path)
    top = tmp_path / f"kubectl_war-{__version__}"
    for needed in (
        "tests/conftest.py",
        "tests/fakekube/server.py",
        "release/build.py",
        ".krew.yaml",
    ):
        assert (top / needed).exists(), needed
    env = {**os.environ, "PYTHONPATH": str(top)}
    done = _run(
        sys.executable,
        *("-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-p", "no:randomly"),
        "tests/test_identity.py",
        "tests/test_release.py",
        cwd=top,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout
    assert "needs the project's git history" in done.stdout
