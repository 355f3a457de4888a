"""The rollout planner, status counts and journal: pure, no server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from kubectl_war.assess import Facts, assess
from kubectl_war.errors import UsageError
from kubectl_war.rollout.journal import Journal, journal_path
from kubectl_war.rollout.plan import Plan, Selection, make_plan, parse_max_unavailable, plan_to_dict
from kubectl_war.rollout.status import group_status
from kubectl_war.rollout.synced import CachedSidecars
from kubectl_war.snapshot import Snapshot
from kubectl_war.war import KIND as WAR_KIND
from kubectl_war.war import War
from tests.fakekube.clock import parse_time
from tests.fakekube.onboarding import rollout_fleet

NOW = parse_time("2024-05-16T12:00:00Z")
PREFIX = "ratings-aws-aws-123456789012-"


def short(name: str) -> str:
    return name[len(PREFIX) :] if name.startswith(PREFIX) else name


def world(objs: list[dict[str, Any]]) -> tuple[list[War], Callable[[War], Facts]]:
    wars = [War(o) for o in objs if o["kind"] == "WorkloadAutoRegistration"]
    snap = Snapshot(wars, groups_fetched=True)
    for o in objs:
        if o["kind"] == "WorkloadGroup":
            snap.groups[(o["metadata"]["namespace"], o["metadata"]["name"])] = o
    return wars, lambda w: assess(w, snap, NOW, 300.0)


def plan(objs: list[dict[str, Any]], max_unavailable: str = "2", **kw: Any) -> Plan:
    wars, facts = world(objs)
    groups = kw.pop("groups", [("bookinfo", "ratings")])
    return make_plan(
        wars, groups, facts, max_unavailable=parse_max_unavailable(max_unavailable), **kw
    )


def batches(p: Plan, group: int = 0) -> list[list[str]]:
    return [[short(m.name) for m in b.members] for b in p.groups[group].batches]


@pytest.mark.parametrize(
    ("text", "connected", "expected"),
    [
        ("2", 10, 2),
        ("10%", 25, 2),  # rounded down
        ("10%", 5, 1),  # at least 1
        ("100%", 7, 7),
        ("34%", 3, 1),
        (" 3 ", 1, 3),
    ],
)
def test_max_unavailable_is_a_count_or_a_rounded_down_percentage_of_connected(
    text: str, connected: int, expected: int
) -> None:
    assert parse_max_unavailable(text).of(connected) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0", "must be at least 1"),
        ("0%", "must be at least 1"),
        ("150%", "at most 100%"),
        ("abc", "expected a number of WARs (2) or a percentage"),
        ("-1", "expected a number"),
        ("1.5", "expected a number"),
        ("", "expected a number"),
    ],
)
def test_bad_max_unavailable_is_a_usage_error(text: str, why: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_max_unavailable(text)
    assert err.value.exit_code == 1
    assert why in err.value.message
    assert f'"{text}" for --max-unavailable' in err.value.message


def test_plan_takes_connected_outdated_wars_and_lists_the_rest_with_reasons() -> None:
    objs = rollout_fleet(NOW, per_zone=1, up_to_date=1, disconnected=1, joining=1)
    p = plan(objs, "3")
    g = p.groups[0]
    assert [short(m.name) for m in g.members] == [
        "us-east-2a-ec2-i-a1",
        "us-east-2b-ec2-i-b1",
        "us-east-2c-ec2-i-c1",
    ]
    assert [(short(x.name), x.why) for x in g.left_out] == [
        ("us-east-2a-ec2-i-ad1", "disconnected (removal 4m left)"),
        ("us-east-2a-ec2-i-aj1", "agent not connected yet"),
        ("us-east-2a-ec2-i-au1", "up to date"),
    ]
    assert g.connected == 4
    assert g.joining == [PREFIX + "us-east-2a-ec2-i-aj1"]
    # Max unavailable 3, one WAR already unavailable: batches of 2.
    assert g.batch_size == 2
    assert batches(p) == [["us-east-2a-ec2-i-a1", "us-east-2b-ec2-i-b1"], ["us-east-2c-ec2-i-c1"]]


def test_include_up_to_date_and_unknown_widen_the_plan_but_never_to_disconnected() -> None:
    objs = rollout_fleet(NOW, per_zone=1, up_to_date=1, disconnected=1)
    # A WorkloadGroup whose last spec change cannot be known: freshness unknown.
    wg = next(o for o in objs if o["kind"] == "WorkloadGroup")
    wg["metadata"].pop("managedFields")
    assert {x.why for x in plan(objs).groups[0].left_out} == {
        "freshness unknown",
        "disconnected (removal 4m left)",
    }
    wide = plan(objs, selection=Selection(include_up_to_date=True, include_unknown=True))
    assert len(wide.groups[0].members) == 4
    assert [x.reason for x in wide.groups[0].left_out] == ["disconnected"]


def test_up_to_date_wars_are_included_only_when_asked() -> None:
    objs = rollout_fleet(NOW, per_zone=1, up_to_date=2)
    assert len(plan(objs).groups[0].members) == 3
    every = plan(objs, selection=Selection(include_up_to_date=True))
    assert len(every.groups[0].members) == 5
    assert {m.freshness for m in every.groups[0].members} == {"No", "Yes"}


def test_joined_before_leaves_out_wars_that_joined_after_the_rollout_started() -> None:
    objs = rollout_fleet(NOW, per_zone=1, up_to_date=1)
    sel = Selection(include_up_to_date=True, joined_before=NOW - timedelta(minutes=40))
    p = plan(objs, selection=sel)
    assert [(short(x.name), x.reason) for x in p.groups[0].left_out] == [
        ("us-east-2a-ec2-i-au1", "joined after the rollout started")
    ]


def test_default_batches_interleave_zones() -> None:
    p = plan(rollout_fleet(NOW, per_zone=2), "2")
    assert batches(p) == [
        ["us-east-2a-ec2-i-a1", "us-east-2b-ec2-i-b1"],
        ["us-east-2c-ec2-i-c1", "us-east-2a-ec2-i-a2"],
        ["us-east-2b-ec2-i-b2", "us-east-2c-ec2-i-c2"],
    ]


def test_zone_by_zone_batches_never_span_zones_and_finish_each_zone_first() -> None:
    p = plan(rollout_fleet(NOW, per_zone=3), "2", zone_by_zone=True)
    got = [(b.zone, [short(m.name)[-2:] for m in b.members]) for b in p.groups[0].batches]
    assert got == [
        ("us-east-2a", ["a1", "a2"]),
        ("us-east-2a", ["a3"]),
        ("us-east-2b", ["b1", "b2"]),
        ("us-east-2b", ["b3"]),
        ("us-east-2c", ["c1", "c2"]),
        ("us-east-2c", ["c3"]),
    ]


def test_percentage_is_of_the_groups_connected_wars() -> None:
    # 9 connected (plus one disconnected, not counted): 25% is 2.
    p = plan(rollout_fleet(NOW, per_zone=3, disconnected=1), "25%")
    assert p.groups[0].max_unavailable == 2
    assert [len(b.members) for b in p.groups[0].batches] == [2, 2, 2, 2, 1]


def test_wars_an_earlier_rollout_left_missing_count_as_unavailable() -> None:
    objs = rollout_fleet(NOW, per_zone=2)
    gone = PREFIX + "us-east-2c-ec2-i-c9"
    present = PREFIX + "us-east-2a-ec2-i-a1"  # back already: not missing
    p = plan(objs, "3", missing={("bookinfo", "ratings"): [gone, present]})
    assert p.groups[0].missing == [gone]
    assert p.groups[0].batch_size == 2


def test_groups_are_planned_in_the_order_given() -> None:
    objs = rollout_fleet(NOW, per_zone=1) + rollout_fleet(
        NOW, group="reviews", per_zone=1, with_namespace=False
    )
    p = plan(objs, groups=[("bookinfo", "reviews"), ("bookinfo", "ratings")])
    assert [g.ref for g in p.groups] == ["bookinfo/reviews", "bookinfo/ratings"]
    assert all(m.name.startswith("reviews-") for m in p.groups[0].members)


def test_plan_as_data_names_batches_members_zones_and_instances() -> None:
    p = plan(rollout_fleet(NOW, zones=("us-east-2a",), per_zone=2, disconnected=1), "1")
    data = plan_to_dict(p)
    g = data["groups"][0]
    assert data["maxUnavailable"] == "1"
    assert [b["number"] for b in g["batches"]] == [1, 2]
    first = g["batches"][0]["members"][0]
    assert first == {
        "name": PREFIX + "us-east-2a-ec2-i-a1",
        "uid": first["uid"],
        "zone": "us-east-2a",
        "instance": "i-a1",
        "upToDate": "No",
    }
    assert g["leftOut"] == [
        {
            "name": PREFIX + "us-east-2a-ec2-i-ad1",
            "reason": "disconnected",
            "removalInSeconds": 240,
        }
    ]


def test_status_counts_per_group_and_is_done_only_when_all_connected_are_up_to_date() -> None:
    objs = rollout_fleet(NOW, per_zone=1, up_to_date=2, disconnected=1, joining=1)
    wars, facts = world(objs)
    (st,) = group_status(
        wars,
        [("bookinfo", "ratings")],
        facts,
        {("bookinfo", "ratings"): ["ratings-gone", PREFIX + "us-east-2a-ec2-i-a1"]},
    )
    assert (st.up_to_date, st.outdated, st.unknown, st.disconnected) == (2, 3, 0, 1)
    assert st.missing == [PREFIX + "us-east-2a-ec2-i-aj1", "ratings-gone"]
    assert not st.done
    assert st.message() == (
        'Waiting for WorkloadGroup "ratings" rollout to finish: '
        "2 of 5 connected WARs up to date, 2 missing"
    )
    (fresh,) = group_status(
        [w for w in wars if w.name.endswith(("u1", "u2", "d1"))], [("bookinfo", "ratings")], facts
    )
    assert fresh.done
    assert fresh.message() == 'WorkloadGroup "ratings" successfully rolled out'


def test_status_counts_connected_wars_no_policy_admits_as_blocked() -> None:
    objs = rollout_fleet(NOW, per_zone=1, up_to_date=1, disconnected=1)
    wars, facts = world(objs)
    outdated = next(w for w in wars if w.name.endswith("-a1"))
    gone = next(w for w in wars if w.name.endswith("-ad1"))
    assert gone.is_disconnected and not outdated.is_disconnected
    (st,) = group_status(wars, [("bookinfo", "ratings")], facts, blocked={outdated.uid, gone.uid})
    # As `rollout` leaves them out: only a connected WAR is blocked.
    assert st.blocked == 1
    assert st.to_dict()["blocked"] == 1
    assert st.message() == (
        'Waiting for WorkloadGroup "ratings" rollout to finish: '
        f"1 of {st.connected} connected WARs up to date, "
        "1 blocked (no OnboardingPolicy admits them now)"
    )


def test_journal_keeps_in_flight_wars_until_forgotten_or_past_the_grace_period(
    tmp_path: Any,
) -> None:
    clock = [1000.0]
    path = str(tmp_path / "state" / "j.json")
    wars = [War(o) for o in rollout_fleet(NOW, per_zone=1) if o["kind"] == WAR_KIND]
    j = Journal(path, grace_seconds=300, wall=lambda: clock[0])
    j.record("ratings", wars[:2])
    again = Journal(path, grace_seconds=300, wall=lambda: clock[0])
    assert [n for n, _ in again.in_flight("bookinfo", "ratings")] == [w.name for w in wars[:2]]
    assert again.in_flight("bookinfo", "reviews") == []
    again.forget("bookinfo", [wars[0].name])
    assert Journal(path, grace_seconds=300, wall=lambda: clock[0]).missing_by_group() == {
        ("bookinfo", "ratings"): [wars[1].name]
    }
    clock[0] += 301
    assert (
        Journal(path, grace_seconds=300, wall=lambda: clock[0]).in_flight("bookinfo", "ratings")
        == []
    )


def test_journal_records_before_the_delete_and_the_outcome_after(tmp_path: Any) -> None:
    path = str(tmp_path / "j.json")
    war = next(War(o) for o in rollout_fleet(NOW, per_zone=1) if o["kind"] == WAR_KIND)
    j = Journal(path, grace_seconds=300, wall=lambda: 1000.0)
    j.record("ratings", [war])
    again = Journal(path, grace_seconds=300, wall=lambda: 1000.0)
    assert again.outcome("bookinfo", war.name) == "sending"
    j.answered("bookinfo", war.name, "unanswered")
    again = Journal(path, grace_seconds=300, wall=lambda: 1000.0)
    assert again.outcome("bookinfo", war.name) == "unanswered"
    assert again.in_flight("bookinfo", "ratings") == [(war.name, war.uid)]


def test_reconcile_drops_only_wars_still_there_with_their_recorded_uid(tmp_path: Any) -> None:
    path = str(tmp_path / "j.json")
    wars = [War(o) for o in rollout_fleet(NOW, per_zone=1) if o["kind"] == WAR_KIND]
    kept, gone, recreated = wars
    j = Journal(path, grace_seconds=300, wall=lambda: 1000.0)
    j.record("ratings", wars)
    new = War({**recreated.obj, "metadata": {**recreated.obj["metadata"], "uid": "uid-new"}})
    assert j.reconcile([kept, new], "other") == []  # another namespace: not checked
    assert j.reconcile([kept, new], "bookinfo") == [kept.name]
    again = Journal(path, grace_seconds=300, wall=lambda: 1000.0)
    assert again.missing_by_group() == {
        ("bookinfo", "ratings"): sorted([gone.name, recreated.name])
    }


def test_a_journal_without_a_path_keeps_nothing_on_disk(tmp_path: Any) -> None:
    j = Journal(None, grace_seconds=300)
    j.record("ratings", [War(rollout_fleet(NOW, per_zone=1)[2])])
    assert len(j.in_flight("bookinfo", "ratings")) == 1
    assert list(tmp_path.iterdir()) == []


def test_journal_path_is_per_cluster_and_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECTL_WAR_STATE_DIR", "/state")
    a = journal_path("https://a:6443", "prod")
    assert a.startswith("/state/rollout-") and a.endswith(".json")
    assert a != journal_path("https://a:6443", "staging")
    assert a == journal_path("https://a:6443", "prod")


def test_cached_sidecars_read_the_source_at_most_once_per_interval() -> None:
    class Proxy:
        def __init__(self, overall: str) -> None:
            self.overall = overall

    now = [0.0]
    calls: list[int] = []
    answer = {"w1.bookinfo": Proxy("STALE")}

    def fetch() -> dict[str, Any]:
        calls.append(1)
        return dict(answer)

    check = CachedSidecars(fetch, max_age=1.0, clock=lambda: now[0])
    w1 = War({"metadata": {"name": "w1", "namespace": "bookinfo", "uid": "u1"}})
    w2 = War({"metadata": {"name": "w2", "namespace": "bookinfo", "uid": "u2"}})
    assert check(w1) is False
    assert check(w2) is False  # not connected to any istiod
    answer["w1.bookinfo"] = Proxy("SYNCED")
    assert check(w1) is False and len(calls) == 1
    now[0] = 1.0
    assert check(w1) is True and len(calls) == 2
    # Re-onboarded (new uid) within the same interval: the answer read before it
    # came back may be the old sidecar's, so it proves nothing yet.
    again = War({"metadata": {"name": "w1", "namespace": "bookinfo", "uid": "u3"}})
    now[0] = 1.5
    assert check(again) is False and len(calls) == 2
    now[0] = 2.0
    assert check(again) is True and len(calls) == 3

    def broken() -> dict[str, Any]:
        raise RuntimeError("istiod unreachable")

    failing = CachedSidecars(broken, clock=lambda: now[0])
    assert failing(w1) is False
    assert failing.error == "istiod unreachable"


def test_wars_no_policy_admits_now_are_blocked_unless_included() -> None:
    objs = rollout_fleet(NOW, per_zone=1)
    wars, _ = world(objs)
    blocked = frozenset({wars[0].uid})
    p = plan(objs, selection=Selection(unadmitted=blocked))
    forced = plan(objs, selection=Selection(unadmitted=blocked, include_unadmitted=True))

    assert [short(m.name) for m in p.groups[0].members] == [
        "us-east-2b-ec2-i-b1",
        "us-east-2c-ec2-i-c1",
    ]
    assert [(short(x.name), x.why) for x in p.groups[0].left_out] == [
        (
            "us-east-2a-ec2-i-a1",
            "blocked: no OnboardingPolicy admits it now (--include-unadmitted to delete)",
        )
    ]
    assert len(forced.groups[0].members) == 3
