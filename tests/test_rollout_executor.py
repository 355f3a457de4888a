"""The rollout executor against FakeKube and its simulated onboarding plane."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from kubectl_war import snapshot
from kubectl_war.assess import assess
from kubectl_war.kube import Connection, Kube
from kubectl_war.rollout.executor import Executor
from kubectl_war.rollout.journal import Journal
from kubectl_war.rollout.plan import Selection, make_plan, parse_max_unavailable
from kubectl_war.rollout.progress import (
    BACK,
    COMPLETE,
    DELETED,
    INTERRUPTED,
    STOPPED,
    Event,
    Result,
)
from kubectl_war.war import War
from tests.factories import Batches
from tests.fakekube import FakeKube
from tests.fakekube.onboarding import OnboardingPlane, rollout_fleet

WARS = "workloadautoregistrations"
PREFIX = "ratings-aws-aws-123456789012-"
GROUP = [("bookinfo", "ratings")]


def short(name: str) -> str:
    return name[len(PREFIX) :] if name.startswith(PREFIX) else name


@pytest.fixture
def client(fake_kube: FakeKube, make_kubeconfig: Callable[..., str]) -> Kube:
    return Kube(Connection(kubeconfig=make_kubeconfig(fake_kube), namespace="bookinfo"))


@pytest.fixture
def plane(fake_kube: FakeKube) -> Iterator[OnboardingPlane]:
    with OnboardingPlane(fake_kube, delay=0.05, lifetime=300) as p:
        yield p


class Clock:
    """The executor's clock: time.monotonic, until `expire()` moves it an hour on, past any
    deadline. A rollout timeout that must run out only after something happened (the rest
    of the batch back) then runs out when the test says so, however slow the machine."""

    def __init__(self, rate: float = 1.0) -> None:
        self.start = time.monotonic()
        self.rate = rate  # below 1: a slow clock, for what must stay fresh
        self.skipped = 0.0

    def __call__(self) -> float:
        return self.start + (time.monotonic() - self.start) * self.rate + self.skipped

    def expire(self) -> None:
        self.skipped = 3600.0


class Run:
    """Plan and execute a rollout of bookinfo/ratings as the CLI would."""

    def __init__(self, client: Kube, journal: Journal | None = None, **plan_kw: Any) -> None:
        self.client = client
        self.journal = journal or Journal(None, grace_seconds=300)
        snap = snapshot.take(client, "bookinfo", with_groups=True)
        now = client_now(snap)
        self.facts = lambda w: assess(w, snap, now, 300.0)
        self.selection = plan_kw.pop("selection", Selection())
        self.plan = make_plan(
            snap.wars,
            GROUP,
            self.facts,
            max_unavailable=parse_max_unavailable(plan_kw.pop("max_unavailable", "2")),
            selection=self.selection,
            missing=self.journal.missing_by_group(),
            **plan_kw,
        )
        self.events: list[Event] = []
        self.pauses: list[float] = []

    def execute(self, *, expire_once_back: Sequence[str] = (), **kw: Any) -> Result:
        """Run the plan. The timeout runs out only on a hang, or at once when every WAR
        of `expire_once_back` has been reported back (the executor's `Clock`)."""
        kw.setdefault("timeout", 60.0)
        report = kw.pop("report", self.events.append)
        clock = kw.pop("clock", None) or Clock()
        waiting = set(expire_once_back)

        def reported(ev: Event) -> None:
            report(ev)
            if waiting and ev.kind == "state" and ev.state == BACK:
                waiting.discard(ev.name)
                if not waiting:
                    clock.expire()

        self.executor = Executor(
            self.client,
            self.client.war_resource(),
            self.plan,
            eligible=lambda w: self.selection.reason_out(w, self.facts(w)) is None,
            journal=self.journal,
            report=reported,
            sleep=self.pauses.append,
            poll=0.05,
            clock=clock,
            **kw,
        )
        return self.executor.run()

    def states(self) -> list[tuple[str, str]]:
        return [(short(e.name), e.state) for e in self.events if e.kind == "state"]


def client_now(snap: snapshot.Snapshot) -> Any:
    from tests.conftest import FIXED_NOW
    from tests.fakekube.clock import parse_time

    return parse_time(FIXED_NOW)


def planned(run: Run) -> list[str]:
    return [m.name for m in run.plan.members]


def batches(run: Run, upto: int | None = None) -> Batches:
    """The plan's batches (the first `upto`), as `plane.deleted()` must match them."""
    planned_batches = run.plan.groups[0].batches[:upto]
    return Batches(*[[m.name for m in b.members] for b in planned_batches])


def test_rollout_re_onboards_every_planned_war_batch_by_batch(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=2, up_to_date=1, disconnected=1))
    run = Run(client, max_unavailable="2")
    result = run.execute(pause=0.5)
    assert result.outcome == COMPLETE
    assert plane.deleted() == batches(run)  # exactly the plan, batch by batch
    assert result.reonboarded == 6
    assert plane.max_unavailable("ratings") == 2
    assert run.pauses == [0.5, 0.5]  # between batches, not after the last
    kinds = [e.kind for e in run.events if e.kind != "state"]
    assert kinds == [
        "group",
        *["batch", "batch-done", "pause"] * 2,
        *["batch", "batch-done", "group-done"],
    ]
    assert run.states()[:4] == [
        ("us-east-2a-ec2-i-a1", "deleted"),
        ("us-east-2b-ec2-i-b1", "deleted"),
        ("us-east-2a-ec2-i-a1", "back"),
        ("us-east-2b-ec2-i-b1", "back"),
    ]
    for war in fake_kube.objects(WARS, "bookinfo"):
        assert war["status"]["conditions"][0]["status"] in ("True", "False")


def test_a_batch_not_back_in_time_stops_the_rollout_and_nothing_more_is_deleted(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=2))
    run = Run(client, max_unavailable="2")
    dead = run.plan.groups[0].batches[1].members[1].name
    plane.never_return("bookinfo", dead)
    result = run.execute(expire_once_back=[n for n in planned(run)[:4] if n != dead])
    assert result.outcome == STOPPED
    assert "batch 2/3 of WorkloadGroup bookinfo/ratings did not come back within" in result.message
    assert plane.deleted() == batches(run, 2)
    assert [(t.name, t.waiting_on) for t in result.waiting] == [(dead, "not re-created yet")]
    data = result.to_dict()
    assert data["result"] == "failed"
    assert data["groups"][0]["failed"] == [{"name": dead, "waitingOn": "not re-created yet"}]
    assert len(data["groups"][0]["notStarted"]) == 2
    assert data["groups"][0]["batchesDone"] == 1


def test_never_more_of_a_group_unavailable_than_allowed_under_jittered_re_onboarding(
    fake_kube: FakeKube, client: Kube
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=4, joining=1))
    with OnboardingPlane(
        fake_kube, delay=0.02, jitter=0.15, connect_delay=0.03, seed=11, lifetime=300
    ) as plane:
        run = Run(client, max_unavailable="3")
        assert run.plan.groups[0].batch_size == 2  # one WAR already unavailable
        result = run.execute()
    assert result.outcome == COMPLETE
    assert sorted(plane.deleted()) == sorted(planned(run))
    # The joining WAR (no agent behind it) stays unavailable throughout: 1 + 2 <= 3.
    assert plane.max_unavailable("ratings") == 2
    assert ("us-east-2a-ec2-i-a1", "re-created") in run.states()


def test_resume_after_a_stop_deletes_no_war_twice(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane, tmp_path: Path
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=2))
    journal = tmp_path / "journal.json"
    first = Run(client, Journal(str(journal), grace_seconds=300), max_unavailable="2")
    late, other = planned(first)[:2]
    plane.hold("bookinfo", late)
    assert first.execute(expire_once_back=[other]).outcome == STOPPED
    assert plane.deleted() == batches(first, 1)
    # Resumed before the late WAR is back: it is missing and counts against the budget.
    second = Run(client, Journal(str(journal), grace_seconds=300), max_unavailable="2")
    assert second.plan.groups[0].missing == [late]
    assert second.plan.groups[0].batch_size == 1
    assert late not in planned(second)
    plane.release("bookinfo", late)
    result = second.execute()
    assert result.outcome == COMPLETE
    counts = Counter(plane.deleted())
    assert set(counts) == set(planned(first))
    assert max(counts.values()) == 1
    assert plane.max_unavailable("ratings") == 2
    assert Journal(str(journal), grace_seconds=300).missing_by_group() == {}


def test_a_war_re_registered_since_planned_is_skipped_not_deleted(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    run = Run(client, max_unavailable="1")
    moved = run.plan.members[1].name
    fake_kube.delete(WARS, "bookinfo", moved)  # its agent re-onboards on its own
    assert plane.idle()
    result = run.execute()
    assert result.outcome == COMPLETE
    assert Counter(plane.deleted())[moved] == 1
    assert ("us-east-2b-ec2-i-b1", "skipped") in run.states()
    assert result.to_dict()["groups"][0]["skipped"] == [
        {"name": moved, "reason": "re-registered since planned"}
    ]


def test_an_unsynced_sidecar_keeps_its_batch_waiting(fake_kube: FakeKube, client: Kube) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    with OnboardingPlane(fake_kube, delay=0.02, sync_delay=0.3, lifetime=300) as plane:
        run = Run(client, max_unavailable="3")
        stuck = run.plan.members[2].name
        plane.never_sync("bookinfo", stuck)
        # The batch's timeout runs out once the other two are back, not before.
        result = run.execute(expire_once_back=planned(run)[:2], sidecar_synced=plane.sidecar_synced)
    assert result.outcome == STOPPED
    assert [(t.name, t.waiting_on) for t in result.waiting] == [(stuck, "sidecar not SYNCED yet")]
    states = run.states()
    assert ("us-east-2a-ec2-i-a1", "agent connected") in states
    assert ("us-east-2a-ec2-i-a1", "back") in states


def test_without_a_sidecar_check_a_connected_agent_is_enough(
    fake_kube: FakeKube, client: Kube
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    with OnboardingPlane(fake_kube, delay=0.02, lifetime=300) as plane:
        plane.never_sync("bookinfo", PREFIX + "us-east-2a-ec2-i-a1")
        assert Run(client, max_unavailable="3").execute().outcome == COMPLETE


def test_an_interrupt_lets_no_new_delete_through(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=2))
    run = Run(client, max_unavailable="3")

    def report(ev: Event) -> None:
        run.events.append(ev)
        if ev.kind == "state" and ev.state == DELETED:
            run.executor.interrupt()  # what the SIGINT handler does mid-deletion

    result = run.execute(report=report)
    assert result.outcome == INTERRUPTED
    # A batch's first DELETE goes alone (`deletion.delete_concurrently`'s slow start):
    # the interrupt on its answer comes before any other is sent.
    assert plane.deleted() == planned(run)[:1]


def test_already_unavailable_wars_hold_back_the_next_batch(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1, joining=1))
    run = Run(client, max_unavailable="1")
    result = run.execute(timeout=0.3)
    assert result.outcome == STOPPED
    assert "batch 1/3 of WorkloadGroup bookinfo/ratings not started" in result.message
    assert plane.deleted() == []
    assert [(short(t.name), t.waiting_on, t.old_uid) for t in result.waiting] == [
        ("us-east-2a-ec2-i-aj1", "agent not connected yet", None)
    ]
    assert [e.kind for e in run.events][:3] == ["group", "batch", "recover"]


def test_a_delete_the_server_refuses_stops_the_rollout(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    run = Run(client, max_unavailable="2")
    fake_kube.forbid("delete", WARS)
    result = run.execute()
    assert result.outcome == STOPPED
    assert result.message.startswith(
        f"could not delete WAR bookinfo/{run.plan.members[0].name} (forbidden: cannot delete"
    )
    assert plane.deleted() == []


def test_unchanged_wars_are_checked_again_before_their_batch(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    run = Run(client, max_unavailable="1")
    last = run.plan.members[-1].name

    def disconnect(obj: dict[str, Any]) -> None:
        obj["status"]["conditions"][0]["status"] = "False"

    fake_kube.update(WARS, "bookinfo", last, disconnect, subresource="status")
    result = run.execute()
    assert result.outcome == COMPLETE
    assert last not in plane.deleted()
    assert result.to_dict()["groups"][0]["skipped"] == [
        {"name": last, "reason": "no longer selected (changed since planned)"}
    ]
    assert War(fake_kube.get(WARS, "bookinfo", last) or {}).is_disconnected


def test_a_wait_whose_watches_are_cut_before_any_event_reads_the_wars_directly(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane
) -> None:
    from tests.fakekube.faults import Faults

    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    run = Run(client, max_unavailable="3")
    faults = Faults(cut_watch_after=0)
    fake_kube.faults = faults
    result = run.execute(timeout=30.0, resync=0.3)
    assert result.outcome == COMPLETE
    assert faults.count("cut-watch") >= 1
    path = "/apis/runtime.onboarding.tetrate.io/v1alpha1/namespaces/bookinfo/" + WARS
    got = {r.path.rsplit("/", 1)[1] for r in fake_kube.requests if r.path.startswith(path + "/")}
    assert got == set(planned(run))  # each WAR was read by name
    assert sorted(plane.deleted()) == sorted(planned(run))


def test_a_delete_answered_with_an_error_stays_in_the_journal_for_a_rerun_to_check(
    fake_kube: FakeKube, client: Kube, plane: OnboardingPlane, tmp_path: Path
) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    journal = Journal(str(tmp_path / "j.json"), grace_seconds=300)
    run = Run(client, journal, max_unavailable="2")
    refused = run.plan.members[0].name
    fake_kube.forbid("delete", WARS)
    result = run.execute()
    assert result.outcome == STOPPED
    assert result.message.startswith(f"could not delete WAR bookinfo/{refused} (forbidden: ")
    assert result.waiting == []  # read back: still there, so not counted
    assert (
        Journal(str(tmp_path / "j.json"), grace_seconds=300).outcome("bookinfo", refused)
        == "refused"  # a 403: that DELETE did not land (any other error: "unanswered")
    )
    # The re-run's reconciliation finds it still there with its uid: the entry goes.
    snap = snapshot.take(client, "bookinfo")
    assert journal.reconcile(snap.wars, "bookinfo") == [refused]
