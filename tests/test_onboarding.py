"""The simulated onboarding plane: agents re-onboard after their WAR is deleted."""

from __future__ import annotations

from tests.fakekube import FakeKube
from tests.fakekube.onboarding import OnboardingPlane, rollout_fleet

WARS = "workloadautoregistrations"
PREFIX = "ratings-aws-aws-123456789012-"


def _names(fake: FakeKube) -> list[str]:
    return [o["metadata"]["name"] for o in fake.objects(WARS, "bookinfo")]


def test_a_deleted_war_with_a_live_agent_comes_back_with_a_new_uid(fake_kube: FakeKube) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    name = PREFIX + "us-east-2a-ec2-i-a1"
    old = fake_kube.get(WARS, "bookinfo", name)
    assert old is not None
    fake_kube.clock_ctl.advance(60)
    with OnboardingPlane(fake_kube, delay=0.05) as plane:
        fake_kube.delete(WARS, "bookinfo", name)
        assert plane.idle()
        new = fake_kube.get(WARS, "bookinfo", name)
    assert new is not None
    assert new["metadata"]["uid"] != old["metadata"]["uid"]
    assert new["spec"] == old["spec"]
    assert new["metadata"]["ownerReferences"] == old["metadata"]["ownerReferences"]
    assert new["metadata"]["creationTimestamp"] == "2024-05-16T12:01:00Z"
    (cond,) = new["status"]["conditions"]
    assert (cond["type"], cond["status"]) == ("AgentConnected", "True")
    assert plane.deleted() == [name] and plane.created() == [name]
    assert plane.missing() == [] and plane.max_missing() == 1


def test_dead_agents_and_disconnected_agents_never_come_back(fake_kube: FakeKube) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1, disconnected=1))
    dead, gone = PREFIX + "us-east-2b-ec2-i-b1", PREFIX + "us-east-2a-ec2-i-ad1"
    with OnboardingPlane(fake_kube, delay=0.02) as plane:
        plane.never_return("bookinfo", dead)
        fake_kube.delete(WARS, "bookinfo", dead)
        fake_kube.delete(WARS, "bookinfo", gone)
        assert plane.idle()  # nothing scheduled: neither comes back
        assert sorted(plane.missing()) == sorted([dead, gone])
    assert dead not in _names(fake_kube) and gone not in _names(fake_kube)


def test_agents_can_connect_after_the_war_is_re_created(fake_kube: FakeKube) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    name = PREFIX + "us-east-2c-ec2-i-c1"
    with OnboardingPlane(fake_kube, delay=0.01, connect_delay=0.1) as plane:
        fake_kube.delete(WARS, "bookinfo", name)
        assert plane.idle()
    # Re-created without a status first (joining), connected by a later change: the
    # store's own record, whatever the test thread happened to see in between.
    assert [c.kind for c in plane.record if c.name == name] == ["deleted", "created", "connected"]
    added = [e for e in fake_kube.store.events_after(0) if e.key == f"bookinfo/{name}"
             and e.type == "ADDED"]  # fmt: skip
    created = added[-1]  # the first is the seeded WAR
    assert "status" not in created.new.load()
    connected = fake_kube.get(WARS, "bookinfo", name)
    assert connected is not None
    assert connected["status"]["conditions"][0]["status"] == "True"


def test_max_missing_follows_the_servers_own_order_of_changes(fake_kube: FakeKube) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=2))
    names = _names(fake_kube)
    with OnboardingPlane(fake_kube, delay=0.05, jitter=0.05, seed=7) as plane:
        for name in names[:3]:
            fake_kube.delete(WARS, "bookinfo", name)
        assert plane.idle()
        for name in names[3:]:
            fake_kube.delete(WARS, "bookinfo", name)
            assert plane.idle()
    assert plane.max_missing("ratings") == 3
    assert plane.max_missing("reviews") == 0
    assert sorted(plane.created()) == sorted(names)


def test_sidecars_sync_after_re_onboarding_unless_told_never_to(fake_kube: FakeKube) -> None:
    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=1))
    a, b = PREFIX + "us-east-2a-ec2-i-a1", PREFIX + "us-east-2b-ec2-i-b1"
    connected: list[tuple[str, object]] = []

    class Istiod:
        def connect(self, proxy: str, states: object = None) -> None:
            connected.append((proxy, states))

    with OnboardingPlane(fake_kube, delay=0.01, sync_delay=0.02, istiod=Istiod()) as plane:
        plane.never_sync("bookinfo", b)
        fake_kube.delete(WARS, "bookinfo", a)
        fake_kube.delete(WARS, "bookinfo", b)
        assert plane.idle()

    class View:
        def __init__(self, name: str) -> None:
            self.namespace, self.name = "bookinfo", name

    assert plane.sidecar_synced(View(a)) is True
    assert plane.sidecar_synced(View(b)) is False
    assert (f"{a}.bookinfo", None) in connected  # synced: all types SYNCED
    assert (f"{b}.bookinfo", None) not in connected


def test_the_plane_stops_on_its_own_after_its_lifetime(fake_kube: FakeKube) -> None:
    plane = OnboardingPlane(fake_kube, lifetime=0.05).start()
    assert plane._thread is not None
    plane._thread.join(2)
    assert not plane._thread.is_alive()
