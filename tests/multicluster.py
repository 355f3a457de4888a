"""Two test API servers as two contexts of one kubeconfig, beside a context whose server
port is closed and one whose server forbids listing WARs: the fleet `--contexts` and
`--all-contexts` tests run against."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tests import factories as f
from tests.factories import CN, EC2, JWT
from tests.fakekube import Clock, FakeKube
from tests.fakekube.istiod import FakeIstiod

W1 = "ratings-aws-aws-210987654321-eu-west-1a-ec2-i-0aaaaaaaaaaaaaaa1"
W2 = "ratings-aws-aws-210987654321-eu-west-1b-ec2-i-0bbbbbbbbbbbbbbb2"
W3 = "reviews-aws-aws-210987654321-eu-west-1c-ec2-i-0ccccccccccccccc3"

FORBIDDEN = (
    "forbidden: cannot list workloadautoregistrations.runtime.onboarding.tetrate.io at the "
    'cluster scope (RBAC needs verb "list" on resource "workloadautoregistrations" in API '
    'group "runtime.onboarding.tetrate.io" at the cluster scope): '
    "workloadautoregistrations.runtime.onboarding.tetrate.io is forbidden: User "
    '"system:serviceaccount:default:tester" cannot list resource "workloadautoregistrations" '
    'in API group "runtime.onboarding.tetrate.io" at the cluster scope; '
    "-A reads every namespace at once: try -n NAMESPACE"
)


def seed_east(fake: FakeKube) -> None:
    """bookinfo/ratings changed at 11:00: EC2 outdated, ECS disconnected (100s left), JWT
    connected on a newer agent; payments/ledger: CN. istiod knows EC2, JWT (STALE) and CN."""
    fake.add(f.workload_group("ratings", spec_changed="2024-05-16T11:00:00Z"))
    fake.add(f.workload_group("ledger", "payments"))
    fake.add(f.ec2_war())
    fake.add(f.ecs_war(ip="10.10.4.19"))
    fake.add(f.jwt_war(group="ratings", agent="v1.5.0", ip="10.20.0.7"))
    fake.add(f.cn_war())
    f.admit_wars(fake)


def seed_west(fake: FakeKube, *, healthy: bool = False) -> None:
    """bookinfo/ratings (never changed): W1, W2 connected; bookinfo/reviews: W3 with no
    status yet (unless `healthy`). No istiod."""
    fake.add(f.workload_group("ratings"))
    fake.add(f.workload_group("reviews"))
    for name, zone, inst, ip in (
        (W1, "eu-west-1a", "i-0aaaaaaaaaaaaaaa1", "10.1.0.1"),
        (W2, "eu-west-1b", "i-0bbbbbbbbbbbbbbb2", "10.1.0.2"),
    ):
        fake.add(
            f.war(
                name,
                group="ratings",
                identity=f.ec2("aws", "210987654321", zone, inst),
                ip=ip,
                istio="1.9.8-15bc6e5e32" if name == W1 else "1.10.3",
            )
        )
    fake.add(
        f.war(
            W3,
            group="reviews",
            identity=f.ec2("aws", "210987654321", "eu-west-1c", "i-0ccccccccccccccc3"),
            connected="True" if healthy else None,
            ip="10.1.0.3",
        )
    )
    f.admit_wars(fake)


def write_kubeconfig(path: Path, servers: list[tuple[str, str]], current: str) -> str:
    """One kubeconfig holding a context (and cluster and user) per (name, server URL)."""
    lines = ["apiVersion: v1", "kind: Config", "clusters:"]
    for name, url in servers:
        lines += [f"- name: {name}", "  cluster:", f"    server: {url}"]
    lines.append("contexts:")
    for name, _ in servers:
        lines += [f"- name: {name}", "  context:", f"    cluster: {name}", f"    user: {name}"]
    lines += [f"current-context: {current}", "users:"]
    for name, _ in servers:
        lines += [f"- name: {name}", "  user: {}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@dataclass
class Fleet:
    east: FakeKube
    west: FakeKube
    locked: FakeKube
    down: int
    env: dict[str, str]
    istiod: FakeIstiod

    @property
    def refused(self) -> str:
        return (
            f"the connection to the server http://127.0.0.1:{self.down} was refused - "
            "did you specify the right host or port?"
        )


@contextmanager
def start_fleet(
    clock: Clock, tmp_path: Path, make_kube_env: Callable[[str], dict[str, str]]
) -> Iterator[Fleet]:
    """Contexts east, down (closed port), west, locked (WARs forbidden), in that order."""
    east = FakeKube(clock=clock).start()
    west = FakeKube(clock=clock).start()
    locked = FakeKube(clock=clock).start()
    try:
        seed_east(east)
        seed_west(west)
        locked.add(f.war(EC2, group="ratings"))
        locked.forbid("list", "workloadautoregistrations")
        istiod = FakeIstiod(east)
        istiod.connect(f"{EC2}.bookinfo", replica=0)
        istiod.connect(f"{JWT}.bookinfo", {"CDS": "SYNCED", "EDS": "STALE"}, replica=1)
        istiod.connect(f"{CN}.payments", replica=0)
        down = f.closed_port()
        path = write_kubeconfig(
            tmp_path / "kube" / "config",
            [
                ("east", east.url),
                ("down", f"http://127.0.0.1:{down}"),
                ("west", west.url),
                ("locked", locked.url),
            ],
            current="east",
        )
        yield Fleet(east, west, locked, down, make_kube_env(path), istiod)
        istiod.close()
    finally:
        for fake in (east, west, locked):
            fake.stop()
