"""The fake API server's own record of how many WARs of a WorkloadGroup were unavailable at once."""

from __future__ import annotations

from typing import Any

import pytest
import urllib3

from tests.factories import wait_until, war, workload_group
from tests.fakekube import FakeKube
from tests.fakekube.faults import Faults
from tests.fakekube.onboarding import OnboardingPlane

WARS = "workloadautoregistrations"
WAR_GROUP = "runtime.onboarding.tetrate.io"


def seed(fake: FakeKube) -> None:
    """ratings: up-1..up-4 connected, joining (no status), down (disconnected);
    reviews: r-1 connected."""
    fake.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bookinfo"}})
    for group in ("ratings", "reviews"):
        fake.add(workload_group(group))
    for i in range(1, 5):
        fake.add(war(f"up-{i}", group="ratings"))
    fake.add(war("joining", group="ratings", connected=None))
    fake.add(war("down", group="ratings", connected="False"))
    fake.add(war("r-1", group="reviews"))


def connect(fake: FakeKube, name: str) -> None:
    status = war(name)["status"]
    fake.update(
        WARS, "bookinfo", name, lambda o: o.__setitem__("status", status), subresource="status"
    )


def recreate(fake: FakeKube, name: str, connected: str | None) -> None:
    fake.add(war(name, group="ratings", connected=connected))


def record(fake: FakeKube) -> tuple[list[str], int, int]:
    return (
        fake.unavailable("bookinfo", "ratings"),
        fake.max_unavailable("bookinfo", "ratings"),
        fake.max_missing("bookinfo", "ratings"),
    )


def test_joining_wars_count_disconnected_ones_never(fake_kube: FakeKube) -> None:
    seed(fake_kube)
    assert record(fake_kube) == (["joining"], 1, 0)
    fake_kube.delete(WARS, "bookinfo", "down")  # outside the group's capacity
    assert record(fake_kube) == (["joining"], 1, 0)
    assert fake_kube.max_unavailable("bookinfo", "reviews") == 0
    fake_kube.delete(WARS, "bookinfo", "joining")  # its agent is expected back
    assert record(fake_kube) == (["joining"], 1, 1)


def test_deleted_then_back_then_connected(fake_kube: FakeKube) -> None:
    seed(fake_kube)
    fake_kube.delete(WARS, "bookinfo", "up-1")
    fake_kube.delete(WARS, "bookinfo", "up-2")
    assert record(fake_kube) == (["joining", "up-1", "up-2"], 3, 2)
    recreate(fake_kube, "up-1", connected=None)  # back, agent not connected yet
    assert record(fake_kube) == (["joining", "up-1", "up-2"], 3, 2)
    connect(fake_kube, "up-1")
    recreate(fake_kube, "up-2", connected="True")
    connect(fake_kube, "joining")
    assert record(fake_kube) == ([], 3, 2)
    fake_kube.delete(WARS, "bookinfo", "up-3")
    assert record(fake_kube) == (["up-3"], 3, 2)

    fake_kube.reset_availability("bookinfo", "ratings")
    assert record(fake_kube) == (["up-3"], 1, 1)
    fake_kube.delete(WARS, "bookinfo", "r-1")
    fake_kube.reset_availability()
    assert fake_kube.max_unavailable("bookinfo", "reviews") == 1  # r-1 is still missing


def test_a_delete_whose_answer_is_lost_is_on_the_record(
    fake_kube: FakeKube, kubeconfig: str
) -> None:
    from kubernetes import client, config

    seed(fake_kube)
    fake_kube.faults = Faults(drop_after_rate=1.0)
    configuration = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    configuration.retries = False
    api = client.CustomObjectsApi(client.ApiClient(configuration))
    with pytest.raises(urllib3.exceptions.ProtocolError, match="Connection aborted"):
        api.delete_namespaced_custom_object(WAR_GROUP, "v1alpha1", "bookinfo", WARS, "up-4")
    assert record(fake_kube) == (["joining", "up-4"], 2, 1)


def test_the_record_matches_the_simulated_agents(fake_kube: FakeKube) -> None:
    seed(fake_kube)
    connect(fake_kube, "joining")  # nothing unavailable to begin with
    fake_kube.reset_availability()
    with OnboardingPlane(fake_kube, delay=0.5, connect_delay=0.2, lifetime=300) as plane:
        for name in ("up-1", "up-2"):
            fake_kube.delete(WARS, "bookinfo", name)
        assert fake_kube.unavailable("bookinfo", "ratings") == ["up-1", "up-2"]
        wait_until(lambda: not fake_kube.unavailable("bookinfo", "ratings"))
        assert plane.idle()
        fake_kube.delete(WARS, "bookinfo", "up-3")
        assert plane.idle()
        wait_until(lambda: not fake_kube.unavailable("bookinfo", "ratings"))
    assert record(fake_kube) == ([], 2, 2)
    assert plane.max_unavailable("ratings") == 2
    back: Any = fake_kube.get(WARS, "bookinfo", "up-3")
    assert back["status"]["conditions"][0]["status"] == "True"
