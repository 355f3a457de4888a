"""A rollout that wastes no time and stays inside its bound: a batch's DELETEs go out
together (slow start, one pause for all on throttling), the next batch starts from the
wait's own view when its watch is sound, and sidecar sources are read soon only when a
batch has nothing else left."""

from __future__ import annotations

import gc
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kubectl_war import gcpause
from kubectl_war.kube import Connection, Kube
from kubectl_war.rollout.progress import COMPLETE, Event
from kubectl_war.rollout.synced import COST, FAST, FAST_READS, CachedSidecars
from kubectl_war.rollout.wait import VIEW_FRESH, View
from kubectl_war.war import War
from tests.factories import wait_until
from tests.fakekube import FakeKube
from tests.fakekube.faults import Faults
from tests.fakekube.onboarding import OnboardingPlane, rollout_fleet
from tests.test_rollout_executor import WARS, Clock, Run, planned

COLLECTION = "/apis/runtime.onboarding.tetrate.io/v1alpha1/namespaces/bookinfo/" + WARS


@pytest.fixture
def client(fake_kube: FakeKube, make_kubeconfig: Callable[..., str]) -> Kube:
    return Kube(Connection(kubeconfig=make_kubeconfig(fake_kube), namespace="bookinfo"))


@pytest.fixture
def plane(fake_kube: FakeKube) -> Iterator[OnboardingPlane]:
    with OnboardingPlane(fake_kube, delay=0.05, lifetime=300) as p:
        yield p


class Waves:
    """Holds every DELETE before the server carries it out, until the test lets the whole
    wave through (`release`): what the client sends while a wave is held is the next
    wave, however slow the machine. Counts the DELETEs of each wave."""

    def __init__(self, fake: FakeKube) -> None:
        self.counts = [0]
        self._held: list[threading.Event] = []
        self._lock = threading.Lock()
        fake.request_hooks.append(self._hook)

    def _hook(self, req: Any) -> None:
        if req.method != "DELETE":
            return
        go = threading.Event()
        with self._lock:
            self.counts[-1] += 1
            self._held.append(go)
        go.wait(60)

    def sent(self) -> int:
        with self._lock:
            return sum(self.counts)

    def release(self) -> None:
        with self._lock:
            held, self._held = self._held, []
            self.counts.append(0)
        for go in held:
            go.set()


def waves_of(fake: FakeKube, run: Run, expected: list[int]) -> list[int]:
    """Run the rollout, letting each wave of DELETEs through once `expected` says it is
    all there (a wave that stays short is let through after a minute: a hang); answer
    the waves' sizes. A client that sent more than a wave's share shows in the sizes."""
    waves = Waves(fake)
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(run.execute()), daemon=True)
    thread.start()
    total = 0
    for size in expected:
        total += size
        wait_until(lambda n=total: waves.sent() >= n, why=f"{total} DELETEs")
        waves.release()
    thread.join(60)
    assert result and result[0].outcome == COMPLETE
    return [n for n in waves.counts if n]


def test_a_batch_deletes_concurrently_after_a_slow_start(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=3))
    run = Run(client, max_unavailable="100%")
    assert [len(b.members) for b in run.plan.groups[0].batches] == [9]
    # One alone, then each answer lets two go: 1, 2, 4, then the 2 left (of 9).
    assert waves_of(fake_kube, run, [1, 2, 4, 2]) == [1, 2, 4, 2]
    assert sorted(plane.deleted()) == sorted(planned(run))
    # Reported in plan order whatever order the answers came in.
    deleted = [e.name for e in run.events if e.kind == "state" and e.state == "deleted"]
    assert deleted == planned(run)


def test_the_first_delete_goes_before_more_workers_are_started(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=3))
    workers: list[int] = []

    def hook(req: Any) -> None:
        if req.method == "DELETE":
            alive = [t for t in threading.enumerate() if t.name == "kubectl-war-delete"]
            workers.append(len(alive))

    fake_kube.request_hooks.append(hook)
    run = Run(client, max_unavailable="100%")
    assert run.execute().outcome == COMPLETE
    assert len(workers) == 9
    # One worker for the first DELETE; more only as the slow start lets more out.
    assert workers[0] == 1
    assert max(workers) <= 8


def test_the_pool_is_bounded(fake_kube: FakeKube, client: Kube, plane: OnboardingPlane) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=8))
    run = Run(client, max_unavailable="100%")
    # 24 WARs: 1, 2, 4, 8, then never more than 8 at once.
    assert waves_of(fake_kube, run, [1, 2, 4, 8, 8, 1]) == [1, 2, 4, 8, 8, 1]


def test_throttling_pauses_every_worker_and_the_bound_holds(
    fake_kube: FakeKube, client: Kube
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=5))
    faults = Faults(rate=0.15, statuses=(429,), retry_after="2", seed=5)
    decided: list[tuple[float, str, Any]] = []
    decide = faults.decide

    def recording(method: str, path: str, has_continue: bool) -> Any:
        fault = decide(method, path, has_continue)
        decided.append((time.monotonic(), method, fault))
        return fault

    faults.decide = recording  # type: ignore[method-assign]
    fake_kube.faults = faults
    with OnboardingPlane(fake_kube, delay=0.05, jitter=0.2, seed=3, lifetime=300) as plane:
        run = Run(client, max_unavailable="5")
        result = run.execute(timeout=20)
    assert result.outcome == COMPLETE
    counts = Counter(plane.deleted())
    assert set(counts) == set(planned(run)) and max(counts.values()) == 1
    assert fake_kube.max_unavailable("bookinfo", "ratings") <= 5
    throttled = [t for t, method, fault in decided if method == "DELETE" and fault == 429]
    assert throttled, "no DELETE was throttled: the test proves nothing"
    deletes = [t for t, method, _ in decided if method == "DELETE"]
    for at in throttled:
        # Retry-After 2: no worker sends a DELETE while the pause is on. Its first 0.5s
        # are left out: a DELETE sent just before the 429 arrived may reach the server
        # that late on a loaded machine.
        assert not [t for t in deletes if at + 0.5 < t < at + 1.8]


def _war_gets(fake_kube: FakeKube, *, watch: bool) -> list[Any]:
    """The GETs of the WAR collection the server saw: its watches, or its lists."""
    return [r for r in fake_kube.requests_to(COLLECTION, "GET") if ("watch" in r.query) is watch]


def test_the_next_batch_starts_from_the_waits_view_when_its_watch_is_sound(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    run = Run(client, max_unavailable="1")
    fake_kube.clear_requests()
    # A clock a hundred times slow (its 0.6s timeout is a minute): the wait's view is
    # fresh however slow the machine.
    assert run.execute(clock=Clock(rate=0.01), timeout=0.6).outcome == COMPLETE
    lists = _war_gets(fake_kube, watch=False)
    # Batch 1 lists; batches 2 and 3 start from the wait that just ended.
    assert len(lists) == 1


def test_the_first_batch_starts_from_the_list_the_plan_was_made_from_while_fresh(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    run = Run(client, max_unavailable="1")
    planned_from = client.list(client.war_resource(), "bookinfo")
    fake_kube.clear_requests()
    clock = Clock(rate=0.01)  # the list is fresh however slow the machine
    listed = View("bookinfo", planned_from, clock())
    assert run.execute(listed=listed, clock=clock, timeout=0.6).outcome == COMPLETE
    lists = _war_gets(fake_kube, watch=False)
    assert lists == []
    # Its wait watched from that list's resourceVersion.
    watches = _war_gets(fake_kube, watch=True)
    assert watches[0].query["resourceVersion"] == [planned_from.resource_version]
    assert sorted(plane.deleted()) == sorted(planned(run))


def test_a_list_older_than_a_second_is_taken_again_for_the_first_batch(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    run = Run(client, max_unavailable="1")
    planned_from = client.list(client.war_resource(), "bookinfo")
    fake_kube.clear_requests()
    # Planned, then a question on a terminal (or a canary's pause) took its time.
    listed = View("bookinfo", planned_from, time.monotonic() - VIEW_FRESH - 0.5)
    assert run.execute(listed=listed).outcome == COMPLETE
    lists = _war_gets(fake_kube, watch=False)
    assert len(lists) == 1  # batch 1 lists; batches 2 and 3 start from their waits


def test_a_war_re_registered_since_the_fresh_list_is_refused_by_its_preconditions(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    run = Run(client, max_unavailable="3")
    planned_from = client.list(client.war_resource(), "bookinfo")
    moved = run.plan.members[1].name
    fake_kube.delete(WARS, "bookinfo", moved)  # its agent re-onboards on its own
    assert plane.idle()
    clock = Clock(rate=0.01)  # the list is fresh however slow the machine
    listed = View("bookinfo", planned_from, clock())
    result = run.execute(listed=listed, clock=clock, timeout=0.6)
    assert result.outcome == COMPLETE
    # Sent with the listed uid, the DELETE removed nothing: the new WAR is still there.
    assert Counter(plane.deleted())[moved] == 1
    assert result.to_dict()["groups"][0]["skipped"] == [
        {"name": moved, "reason": "re-registered since it was listed"}
    ]
    assert fake_kube.max_unavailable("bookinfo", "ratings") <= 3


def test_after_a_wait_that_had_to_read_directly_the_next_batch_lists_again(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    run = Run(client, max_unavailable="1")
    fake_kube.faults = Faults(cut_watch_after=0)
    fake_kube.clear_requests()
    assert run.execute(timeout=30, resync=0.3).outcome == COMPLETE
    lists = _war_gets(fake_kube, watch=False)
    assert len(lists) == 3  # one before each batch


def test_each_batch_starts_with_what_came_before_frozen(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    run = Run(client, max_unavailable="1")
    seen: list[tuple[bool, int]] = []

    def report(ev: Event) -> None:
        run.events.append(ev)
        if ev.kind == "batch":
            seen.append((gc.isenabled(), gc.get_freeze_count()))

    was = gc.isenabled()
    gc.enable()
    try:
        # As the CLI runs it: planned with the collector paused, then settled.
        assert gcpause.paused(lambda: run.execute(report=report))().outcome == COMPLETE
    finally:
        gc.unfreeze()
        if not was:
            gc.disable()
    assert [enabled for enabled, _ in seen] == [True, True, True]
    counts = [count for _, count in seen]
    # Each batch froze what the one before it built (its wait's view of the WARs).
    assert 0 < counts[0] < counts[1] < counts[2]
    assert gc.get_freeze_count() == 0


# ---- reading sidecar state no more often than needed --------------------------------------


class Proxy:
    def __init__(self, overall: str) -> None:
        self.overall = overall


def sidecars(took: float = 0.0) -> tuple[CachedSidecars, list[float], Callable[[float], None]]:
    now = [0.0]
    reads: list[float] = []

    def fetch() -> dict[str, Any]:
        reads.append(now[0])
        now[0] += took
        return {"w1.bookinfo": Proxy("STALE")}

    def at(t: float) -> None:
        now[0] = t

    return CachedSidecars(fetch, max_age=1.0, clock=lambda: now[0]), reads, at


W1 = War({"metadata": {"name": "w1", "namespace": "bookinfo", "uid": "u1"}})


def test_while_agents_are_coming_back_the_source_is_read_once_a_second() -> None:
    check, reads, at = sidecars()
    assert check(W1) is False
    assert check.next_read(close=False) == 1.0
    at(0.5)
    assert check(W1) is False and reads == [0.0]
    at(1.0)
    assert check(W1) is False and reads == [0.0, 1.0]


def test_with_only_sidecars_left_the_source_is_read_soon_then_less_and_less() -> None:
    check, reads, at = sidecars()
    check.probe()
    gaps = []
    for _ in range(9):
        wait = check.next_read(close=True)
        gaps.append(round(wait, 3))
        at(reads[-1] + wait)
        check(W1)
    assert (FAST, FAST_READS) == (0.05, 4)
    assert gaps == [0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0]
    # Agents come back again (a new batch): the fast reads start over.
    assert check.next_read(close=False) == 1.0
    assert round(check.next_read(close=True), 3) == 0.05


def test_a_slow_source_is_never_read_back_to_back() -> None:
    check, reads, at = sidecars(took=0.5)
    check.probe()  # 0.0 to 0.5
    assert COST == 1.0
    # Soon is not sooner than as long again as the read took, after it ended.
    assert check.next_read(close=True) == 0.5
    at(1.0)
    check(W1)
    assert reads == [0.0, 1.0]
