"""A fake cluster to try every command on: the demo fleet, istiod, and agents that
onboard again when their WAR is deleted (``make sandbox``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from .istiod import FakeIstiod
from .onboarding import OnboardingPlane
from .server import FakeKube

#: How long the simulated agents keep running: a sandbox is left open for a while.
LIFETIME = 7 * 24 * 3600.0


@contextlib.contextmanager
def start_sandbox(kubeconfig: Path, *, port: int = 0) -> Iterator[FakeKube]:
    """The sandbox, serving until the block ends, with its kubeconfig at `kubeconfig`."""
    fake = FakeKube(port=port).start()
    try:
        fake.seed_fleet()
        istiod = FakeIstiod(fake, replicas=2)
        for war in fake.objects("workloadautoregistrations"):
            meta = war["metadata"]
            if _connected(war):
                istiod.connect(f"{meta['name']}.{meta['namespace']}", replica=len(meta["name"]))
        kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        fake.write_kubeconfig(kubeconfig)
        plane = OnboardingPlane(
            fake,
            delay=2.0,
            jitter=3.0,
            connect_delay=1.0,
            sync_delay=2.0,
            istiod=istiod,
            lifetime=LIFETIME,
        )
        with plane:
            yield fake
    finally:
        fake.stop()


def _connected(war: dict) -> bool:
    conditions = (war.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "AgentConnected" and c.get("status") == "True" for c in conditions)
