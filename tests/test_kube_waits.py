"""Bounded relisting and waits that read directly, against the fake API server's faults:
continue tokens that always expire, watches that always expire, watches cut before
their first event."""

from __future__ import annotations

import subprocess
import threading
import time
from typing import Callable

import pytest

from kubectl_war.kube import Connection, Kube, Store
from kubectl_war.kube.requests import WatchEvent
from kubectl_war.kube.watch import RELISTS, WatchGaveUp, follow, until
from tests import factories as f
from tests.factories import EC2
from tests.fakekube import FakeKube
from tests.fakekube.faults import Faults

Run = Callable[..., subprocess.CompletedProcess[str]]
WARS = "workloadautoregistrations"
COLLECTION = f"/apis/runtime.onboarding.tetrate.io/v1alpha1/namespaces/bookinfo/{WARS}"
NAMES = [f"w{i}-jwt-corp--host{i}" for i in range(3)]


@pytest.fixture
def client(fake_kube: FakeKube, make_kubeconfig: Callable[..., str]) -> Kube:
    for name in NAMES:
        fake_kube.add(f.war(name, group="ratings"))
    conn = Connection(kubeconfig=make_kubeconfig(fake_kube), namespace="bookinfo", chunk_size=1)
    return Kube(conn)


def _lists(fake: FakeKube) -> list[tuple[str, str]]:
    """Each list request as (limit, continue token or "") in order."""
    return [
        (r.query.get("limit", [""])[0], r.query.get("continue", [""])[0])
        for r in fake.requests
        if r.method == "GET" and r.path == COLLECTION and "watch" not in r.query
    ]


def _watches(fake: FakeKube) -> int:
    return sum(1 for r in fake.requests if r.path == COLLECTION and "watch" in r.query)


# ---- lists ----------------------------------------------------------------------------


def test_an_expired_continue_token_restarts_once_then_lists_unpaged(
    fake_kube: FakeKube, client: Kube
) -> None:
    res = client.war_resource()
    fake_kube.faults = faults = Faults(expire_continue_rate=1.0)
    fake_kube.clear_requests()
    listed = client.list(res, "bookinfo")
    assert [o["metadata"]["name"] for o in listed.items] == NAMES  # each once
    pages = _lists(fake_kube)
    assert [limit for limit, _ in pages] == ["1", "1", "1", "1", ""]
    assert [bool(token) for _, token in pages] == [False, True, False, True, False]
    assert faults.count("expire") == 2


def test_list_each_hands_over_each_object_once_across_the_fallback(
    fake_kube: FakeKube, client: Kube
) -> None:
    fake_kube.faults = Faults(expire_continue_rate=1.0)
    seen: list[str] = []
    rv = client.list_each(
        client.war_resource(), "bookinfo", lambda o: seen.append(o["metadata"]["name"])
    )
    assert seen == NAMES
    assert rv == fake_kube.resource_version


def test_list_through_kubectl_with_every_continue_token_expiring(
    fake_kube: FakeKube, run_war: Run
) -> None:
    for name in NAMES:
        fake_kube.add(f.war(name, group="ratings"))
    clean = run_war("list", "-n", "bookinfo", "--chunk-size", "1")
    fake_kube.faults = Faults(expire_continue_rate=1.0)
    expiring = run_war("list", "-n", "bookinfo", "--chunk-size", "1")
    assert (expiring.returncode, expiring.stderr, expiring.stdout) == (0, "", clean.stdout)


# ---- watches that keep expiring give up -------------------------------------------------


def test_follow_gives_up_after_a_few_relists_when_every_watch_expires(
    fake_kube: FakeKube, client: Kube
) -> None:
    res = client.war_resource()
    listed = client.list(res, "bookinfo")
    fake_kube.faults = Faults(expire_watch_rate=1.0)
    fake_kube.clear_requests()
    with pytest.raises(WatchGaveUp) as err:
        list(follow(client, res, "bookinfo", listed, deadline=time.monotonic() + 30))
    assert err.value.message == (
        "the watch of workloadautoregistrations.runtime.onboarding.tetrate.io kept expiring "
        "(410 Gone): gave up after listing again 3 times"
    )
    assert RELISTS == 3
    assert _watches(fake_kube) == RELISTS + 1
    assert len(_lists(fake_kube)) == RELISTS * len(NAMES)  # each relist is paged by one


def test_until_without_direct_reads_raises_when_every_watch_expires(
    fake_kube: FakeKube, client: Kube
) -> None:
    fake_kube.faults = Faults(expire_watch_rate=1.0)
    with pytest.raises(WatchGaveUp):
        until(
            client,
            client.war_resource(),
            "bookinfo",
            lambda state: False,
            deadline=time.monotonic() + 30,
        )


def test_list_watch_exits_with_an_error_when_every_watch_expires(
    fake_kube: FakeKube, run_war: Run
) -> None:
    fake_kube.add(f.war(EC2, group="ratings"))
    fake_kube.faults = Faults(expire_watch_rate=1.0)
    r = run_war("list", "-n", "bookinfo", "-w", "--no-headers", "-o", "name")
    assert r.returncode == 1
    assert r.stdout == f"workloadautoregistration.runtime.onboarding.tetrate.io/{EC2}\n"
    assert r.stderr == (
        "error: the watch of workloadautoregistrations.runtime.onboarding.tetrate.io kept "
        "expiring (410 Gone): gave up after listing again 3 times\n"
    )
    assert fake_kube.faults.count("expire-watch") == RELISTS + 1


# ---- waits that read what they wait for ---------------------------------------------------


@pytest.mark.parametrize(
    "faults",
    [Faults(cut_watch_after=0), Faults(expire_watch_rate=1.0)],
    ids=["every-watch-cut-before-any-event", "every-watch-expired"],
)
def test_a_wait_whose_watch_never_delivers_completes_by_reading_directly(
    fake_kube: FakeKube, client: Kube, faults: Faults
) -> None:
    res = client.war_resource()
    target = NAMES[1]
    fake_kube.faults = faults
    fake_kube.clear_requests()
    threading.Timer(0.3, fake_kube.delete, (WARS, "bookinfo", target)).start()
    reads: list[float] = []

    def gone(state: Store) -> bool:
        return state.get("bookinfo", target) is None

    def waits_on() -> list[tuple[str, str]]:
        reads.append(time.monotonic())
        return [("bookinfo", target)]

    # Within the deadline (a minute: only a hang reaches it) only by reading the WAR.
    held = until(
        client, res, "bookinfo", gone, deadline=time.monotonic() + 60, reread=waits_on,
        reread_every=0.5,
    )  # fmt: skip
    assert held is True
    assert reads  # asked what it waits on, and read it by name (below)
    by_name = [r for r in fake_kube.requests if r.path == f"{COLLECTION}/{target}"]
    assert by_name and {r.method for r in by_name} == {"GET"}
    kind = "cut-watch" if faults.cut_watch_after == 0 else "expire-watch"
    assert {k for k, _, _ in faults.injected} == {kind}


def test_many_names_are_read_with_one_list(fake_kube: FakeKube, client: Kube) -> None:
    from kubectl_war.kube.watch import GET_LIMIT

    res = client.war_resource()
    fake_kube.faults = Faults(cut_watch_after=0)
    wanted = [("bookinfo", f"x{i}-jwt-corp--host") for i in range(GET_LIMIT + 1)]
    fake_kube.clear_requests()
    threading.Timer(0.3, fake_kube.delete, (WARS, "bookinfo", NAMES[0])).start()
    held = until(
        client,
        res,
        "bookinfo",
        lambda state: state.get("bookinfo", NAMES[0]) is None,
        deadline=time.monotonic() + 60,
        reread=lambda: [*wanted, ("bookinfo", NAMES[0])],
        reread_every=0.5,
    )
    assert held is True
    assert not [r for r in fake_kube.requests if r.path.startswith(COLLECTION + "/")]
    assert len(_lists(fake_kube)) >= 2  # the first list, then a direct read by list


def test_delete_wait_whose_watches_are_cut_completes_by_reading_the_war(
    fake_kube: FakeKube, run_war: Run
) -> None:
    fake_kube.add(f.war(EC2, group="ratings"))
    fake_kube.faults = Faults(cut_watch_after=0)
    # Done at all means done by reading: run_war's 30s limit is within the 1m timeout.
    r = run_war("delete", "-n", "bookinfo", EC2, "--wait", "--timeout", "1m")
    ref = 'workloadautoregistration.runtime.onboarding.tetrate.io "' + EC2 + '"'
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == (
        f"{ref} deleted from bookinfo namespace\n{ref} gone from bookinfo namespace\n"
    )


# ---- the store keeps the newest of what events and reads say ----------------------------


def _obj(name: str, uid: str, rv: str) -> dict[str, object]:
    meta = {"name": name, "namespace": "bookinfo", "uid": uid, "resourceVersion": rv}
    return {"metadata": meta}


def test_a_late_event_never_undoes_a_direct_read() -> None:
    store = Store([_obj("a", "u1", "5")])
    store.refresh("bookinfo", "a", _obj("a", "u1", "9"))
    assert store.apply(WatchEvent("MODIFIED", _obj("a", "u1", "7"))) is False
    assert store.get("bookinfo", "a") == _obj("a", "u1", "9")
    # Read back re-created under a new uid: the old object's late events are stale.
    store.refresh("bookinfo", "a", _obj("a", "u2", "12"))
    assert store.apply(WatchEvent("MODIFIED", _obj("a", "u1", "10"))) is False
    assert store.apply(WatchEvent("DELETED", _obj("a", "u1", "11"))) is True
    assert store.get("bookinfo", "a") == _obj("a", "u2", "12")
    assert store.apply(WatchEvent("MODIFIED", _obj("a", "u2", "13"))) is True
    store.refresh("bookinfo", "a", None)
    assert store.get("bookinfo", "a") is None
    assert len(store) == 0
