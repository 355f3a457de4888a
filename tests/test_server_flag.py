"""`-s/--server` sends every request to the server it names, not to the kubeconfig's.

Two API servers hold the same WARs; the kubeconfig's current context points at the
first. Each command run with `-s SECOND` must reach the second alone, judged by each
server's own request record.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest

from tests.fakekube import Clock, FakeKube
from tests.fakekube.onboarding import OnboardingPlane, rollout_fleet
from tests.fakekube.tls import make_certs

Run = Callable[..., subprocess.CompletedProcess[str]]
P = "ratings-aws-aws-123456789012-"
A1, B1 = P + "us-east-2a-ec2-i-a1", P + "us-east-2b-ec2-i-b1"


TOKEN = "shared-token"


@pytest.fixture
def two(kube_clock: Clock, tmp_path: Path) -> Iterator[tuple[FakeKube, FakeKube]]:
    """The kubeconfig's cluster (first) and the one `-s` names (second), alike, both
    taking the kubeconfig user's token (a user with a token is what kubeconfigs hold),
    over https (kubectl sends tokens only there) with certificates of one CA."""
    certs = make_certs(str(tmp_path / "certs"))
    first = FakeKube(clock=kube_clock, token=TOKEN, certs=certs).start()
    second = FakeKube(clock=kube_clock, token=TOKEN, certs=certs).start()
    try:
        for fake in (first, second):
            fake.add_all(
                rollout_fleet(fake.clock(), per_zone=1, zones=("us-east-2a", "us-east-2b"))
            )
            fake.clear_requests()
        yield first, second
    finally:
        first.stop()
        second.stop()


@pytest.fixture
def war(
    two: tuple[FakeKube, FakeKube],
    make_kubeconfig: Callable[..., str],
    war_env: dict[str, str],
    run_war: Run,
) -> Run:
    """`kubectl war` with a kubeconfig whose current context is the first server."""
    env = dict(war_env, KUBECONFIG=make_kubeconfig(two[0], name="two"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_war(*args, env=env)

    return run


def _url(fake: FakeKube) -> str:
    return f"https://127.0.0.1:{fake.port}"


def _only_second(first: FakeKube, second: FakeKube) -> None:
    assert [(r.method, r.path) for r in first.requests] == []
    assert second.requests, "the server -s names got no request"


def test_list_with_server_reads_only_that_server(two: tuple[FakeKube, FakeKube], war: Run) -> None:
    first, second = two
    done = war("list", "-A", "-o", "name", "-s", _url(second))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "".join(
        f"workloadautoregistration.runtime.onboarding.tetrate.io/{n}\n" for n in (A1, B1)
    )
    _only_second(first, second)


def test_delete_with_server_deletes_only_in_that_server(
    two: tuple[FakeKube, FakeKube], war: Run
) -> None:
    first, second = two
    done = war("delete", "-n", "bookinfo", A1, "-s", _url(second))
    assert done.returncode == 0, done.stderr
    assert second.get("workloadautoregistrations", "bookinfo", A1) is None
    assert first.get("workloadautoregistrations", "bookinfo", A1) is not None
    _only_second(first, second)


def test_rollout_with_server_deletes_only_in_that_server(
    two: tuple[FakeKube, FakeKube], war: Run, tmp_path: Path
) -> None:
    first, second = two
    with OnboardingPlane(second, delay=0.05, lifetime=30) as plane:
        done = war(
            "rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "1", "--yes",
            "--proxy-status", "none", "-s", _url(second),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert sorted(plane.deleted()) == [A1, B1]
    _only_second(first, second)
    assert [r for r in first.requests if r.method == "DELETE"] == []


def test_server_flag_keeps_the_kubeconfig_users_credentials(
    two: tuple[FakeKube, FakeKube], war: Run
) -> None:
    """kubectl keeps the context's user when -s replaces only the server."""
    _, second = two
    done = war("list", "-A", "-o", "name", "-s", _url(second))
    assert done.returncode == 0, done.stderr
    assert {r.header("Authorization") for r in second.requests} == {f"Bearer {TOKEN}"}
