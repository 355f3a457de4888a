"""kube/watch.py against the fake API server: `until` (list, then watch until a
condition holds), its re-list on 410, its deadline and its polls; typed errors."""

from __future__ import annotations

import itertools
import threading
from typing import Callable

import pytest

from kubectl_war.kube import Connection, Kube, Store
from kubectl_war.kube.errors import (
    Conflict,
    Gone,
    KubeError,
    NotFound,
    ServerError,
    TooManyRequests,
    error_class,
)
from kubectl_war.kube.requests import get_request
from kubectl_war.kube.watch import until
from tests import factories as f
from tests.factories import EC2
from tests.fakekube import FakeKube

WARS = "workloadautoregistrations"
OTHER = "ratings-aws-aws-123456789012-us-east-2b-ec2-i-0fedcba0987654321"


@pytest.fixture
def client(fake_kube: FakeKube, make_kubeconfig: Callable[..., str]) -> Kube:
    fake_kube.add(f.war(EC2, group="ratings"))
    fake_kube.add(f.war(OTHER, group="ratings"))
    return Kube(Connection(kubeconfig=make_kubeconfig(fake_kube), namespace="bookinfo"))


def _watches(fake_kube: FakeKube) -> int:
    return sum(1 for r in fake_kube.requests if r.query.get("watch") == ["1"])


def test_a_condition_true_after_the_list_opens_no_watch(fake_kube: FakeKube, client: Kube) -> None:
    seen: list[tuple[int, object]] = []

    def both_there(state: Store) -> bool:
        seen.append((len(state), state.changed))
        return state.get("bookinfo", EC2) is not None

    fake_kube.clear_requests()
    assert until(client, client.war_resource(), "bookinfo", both_there) is True
    assert seen == [(2, None)]
    assert _watches(fake_kube) == 0


def test_the_condition_sees_each_change_and_the_wait_ends_when_it_holds(
    fake_kube: FakeKube, client: Kube
) -> None:
    res = client.war_resource()
    listed = client.list(res, "bookinfo")
    fake_kube.delete(WARS, "bookinfo", OTHER)
    fake_kube.delete(WARS, "bookinfo", EC2)
    calls: list[tuple[str | None, list[str]]] = []

    def all_gone(state: Store) -> bool:
        event = state.changed
        names = sorted(str(o["metadata"]["name"]) for o in state.items())
        calls.append((event.type if event else None, names))
        return len(state) == 0

    assert until(client, res, "bookinfo", all_gone, listed=listed, deadline=None) is True
    assert calls == [(None, [OTHER, EC2]), ("DELETED", [EC2]), ("DELETED", [])]


def test_a_forgotten_resource_version_lists_again_and_reports_the_difference(
    fake_kube: FakeKube, client: Kube
) -> None:
    res = client.war_resource()
    listed = client.list(res, "bookinfo")
    fake_kube.delete(WARS, "bookinfo", EC2)
    fake_kube.compact()  # the list's resourceVersion is now too old to watch from
    changes: list[str] = []

    def ec2_gone(state: Store) -> bool:
        if state.changed is not None:
            changes.append(f"{state.changed.type} {state.changed.object['metadata']['name']}")
        return state.get("bookinfo", EC2) is None

    fake_kube.clear_requests()
    assert until(client, res, "bookinfo", ec2_gone, listed=listed) is True
    assert changes == [f"DELETED {EC2}"]
    lists = [r for r in fake_kube.requests if r.method == "GET" and "watch" not in r.query]
    assert len(lists) == 1


def test_the_deadline_is_read_from_the_injected_clock(fake_kube: FakeKube, client: Kube) -> None:
    # Far past any real monotonic clock: only the injected clock says it has passed.
    deadline = 1e12
    ticks = itertools.count(deadline + 1)
    fake_kube.clear_requests()
    held = until(
        client,
        client.war_resource(),
        "bookinfo",
        lambda state: False,
        deadline=deadline,
        clock=lambda: next(ticks),
    )
    assert held is False
    assert _watches(fake_kube) == 0


def test_polls_call_the_condition_again_without_a_change(client: Kube) -> None:
    polls: list[object] = []

    def third_time(state: Store) -> bool:
        polls.append(state.changed)
        return len(polls) == 3

    held = until(client, client.war_resource(), "bookinfo", third_time, poll=lambda: 0.01)
    assert held is True
    assert polls == [None, None, None]


def test_with_polls_a_change_still_arrives_as_an_event(fake_kube: FakeKube, client: Kube) -> None:
    res = client.war_resource()
    listed = client.list(res, "bookinfo")
    threading.Timer(0.2, fake_kube.delete, (WARS, "bookinfo", EC2)).start()
    deleted: list[str] = []

    def ec2_gone(state: Store) -> bool:
        if state.changed is not None:
            deleted.append(state.changed.type)
        return state.get("bookinfo", EC2) is None

    held = until(client, res, "bookinfo", ec2_gone, listed=listed, poll=lambda: None)
    assert held is True
    assert deleted == ["DELETED"]


def test_with_polls_the_deadline_is_kept_to_the_moment(client: Kube) -> None:
    import time

    start = time.monotonic()
    held = until(
        client,
        client.war_resource(),
        "bookinfo",
        lambda state: False,
        deadline=start + 0.3,
        poll=lambda: None,
    )
    assert held is False
    # Not before the deadline, and not at a later poll or read (every 5s): the upper
    # bound is one a loaded machine meets.
    assert 0.3 <= time.monotonic() - start < 4.0


def test_answers_become_typed_errors_carrying_the_status(client: Kube) -> None:
    with pytest.raises(NotFound) as err:
        client.send(get_request(client.war_resource(), "bookinfo", "nope"))
    assert err.value.status == 404
    assert err.value.body["reason"] == "NotFound"
    assert err.value.message == (
        "Error from server (NotFound): "
        'workloadautoregistrations.runtime.onboarding.tetrate.io "nope" not found'
    )


def test_each_status_has_its_class() -> None:
    assert [error_class(s) for s in (404, 409, 410, 429, 500, 503, 418)] == [
        NotFound,
        Conflict,
        Gone,
        TooManyRequests,
        ServerError,
        ServerError,
        KubeError,
    ]
    assert Gone("expired").status == 410
    assert TooManyRequests("slow down").retryable is True
