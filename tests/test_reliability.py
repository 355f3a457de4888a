"""A flaky API server changes nothing the user sees, and loses nothing."""

from __future__ import annotations

import subprocess
from typing import Callable

from tests import factories as f
from tests.fakekube import FakeKube
from tests.fakekube.faults import Faults

Run = Callable[..., subprocess.CompletedProcess[str]]
PLURAL = "workloadautoregistrations"
REF = "workloadautoregistration.runtime.onboarding.tetrate.io"


def test_list_under_20_percent_faults_is_identical_to_fault_free(
    fleet_kube: FakeKube, run_war: Run
) -> None:
    fleet_kube.seed_large_fleet(700)
    clean = run_war("list", "-A", "-o", "wide", "--chunk-size", "100")
    assert clean.returncode == 0
    faults = Faults(rate=0.2, drop_rate=0.05, expire_continue_rate=0.1, seed=7)
    fleet_kube.faults = faults
    flaky = run_war("list", "-A", "-o", "wide", "--chunk-size", "100")
    # No istiod here: both say so once (SIDECAR <none>), and nothing else.
    assert clean.stderr.startswith("warning: SIDECAR is <none>: ")
    assert (flaky.returncode, flaky.stderr) == (0, clean.stderr)
    assert flaky.stdout == clean.stdout
    # The faults really happened, of every kind.
    kinds = {k for k, _, _ in faults.injected}
    assert {"drop", "expire"} <= kinds and kinds & {"429", "500", "502", "503", "504"}


def test_each_retry_is_logged_with_debug(fleet_kube: FakeKube, run_war: Run) -> None:
    fleet_kube.faults = Faults(rate=1.0, statuses=(429,), seed=1)
    r = run_war("list", "-n", "bookinfo", "--debug", "--request-timeout", "1s")
    assert r.returncode == 1
    assert (
        "debug: retrying GET /apis/runtime.onboarding.tetrate.io after 429 (attempt 2, "
        "waiting 0.0s)" in r.stderr
    )
    assert r.stderr.splitlines()[-1].startswith("error: Error from server (TooManyRequests): ")


def test_a_server_that_never_recovers_is_given_up_on_within_the_bound(
    fleet_kube: FakeKube, run_war: Run
) -> None:
    fleet_kube.faults = Faults(rate=1.0, statuses=(503,), seed=1)
    r = run_war("list", "-n", "bookinfo", "--request-timeout", "2s")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == (
        "error: Error from server (ServiceUnavailable): the server is currently unable to "
        "handle the request\n"
    )
    sent = [q for q in fleet_kube.requests if q.path == "/apis/runtime.onboarding.tetrate.io"]
    assert 3 <= len(sent) <= 8  # backoff 0.2, 0.4, 0.8 ... within two seconds


def test_a_delete_whose_answer_is_lost_is_retried_and_reported_once(
    fake_kube: FakeKube, run_war: Run
) -> None:
    name = "ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0"
    fake_kube.add(f.war(name, group="ratings", uid="uid-1"))
    fake_kube.add(f.war("other-jwt-x--y", group="other", uid="uid-2"))
    fake_kube.faults = Faults(drop_after_rate=1.0, drop_after_limit=1, seed=3)
    r = run_war("delete", "-n", "bookinfo", name)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == f'{REF} "{name}" deleted from bookinfo namespace\n'
    deletes = [q for q in fake_kube.requests if q.method == "DELETE"]
    assert len(deletes) >= 2  # the answer was lost; the retry found it gone
    assert {q.body["preconditions"]["uid"] for q in deletes} == {"uid-1"}
    assert [o["metadata"]["name"] for o in fake_kube.objects(PLURAL)] == ["other-jwt-x--y"]


def test_a_retried_delete_never_touches_a_re_registered_war(
    fake_kube: FakeKube, run_war: Run
) -> None:
    """The first DELETE works but its answer is lost; the agent re-registers at once.
    The retry carries the old uid, so the new WAR survives."""
    name = "ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0"
    fake_kube.add(f.war(name, group="ratings", uid="uid-old"))
    faults = Faults(drop_after_rate=1.0, drop_after_limit=1, seed=3)

    def reregister(req: object) -> None:
        gone = fake_kube.get(PLURAL, "bookinfo", name) is None
        if faults.count("drop-after") == 1 and gone:
            fake_kube.add(f.war(name, group="ratings", uid="uid-new"))

    fake_kube.faults = faults
    fake_kube.request_hooks.append(reregister)
    r = run_war("delete", "-n", "bookinfo", name)
    assert r.returncode == 0, r.stderr
    assert fake_kube.get(PLURAL, "bookinfo", name)["metadata"]["uid"] == "uid-new"  # type: ignore[index]
    assert {q.body["preconditions"]["uid"] for q in fake_kube.requests if q.method == "DELETE"} == {
        "uid-old"
    }


def test_watch_streams_cut_mid_way_lose_and_repeat_nothing(
    fake_kube: FakeKube, kubectl_bin: str, kube_env: dict[str, str]
) -> None:
    from tests.test_cli_watch import Follower

    faults = Faults(cut_watch_after=1, rate=0.2, seed=5)
    fake_kube.faults = faults
    fol = Follower(kubectl_bin, kube_env, "-n", "bookinfo", "-o", "name", "--output-watch-events")
    try:
        names = [f"w{i}-jwt-corp--host{i}" for i in range(6)]
        got = []
        for n in names:
            fake_kube.add(f.war(n))
            got += fol.take(1)
        assert got == [f"{REF}/{n}" for n in names]  # each once, in order
        fake_kube.delete(PLURAL, "bookinfo", names[0])
        assert fol.take(1) == [f"{REF}/{names[0]}"]
        assert fol.quiet(0.8)
        assert faults.count("cut-watch") >= 5
    finally:
        fol.stop()


def test_rollout_under_faults_keeps_its_invariant_and_deletes_exactly_its_plan(
    fake_kube: FakeKube, run_war: Run, kube_env: dict[str, str], tmp_path: object
) -> None:
    import json

    from tests.fakekube.onboarding import OnboardingPlane, rollout_fleet

    fake_kube.add_all(rollout_fleet(fake_kube.clock(), per_zone=4))
    env = dict(kube_env, KUBECTL_WAR_STATE_DIR=f"{tmp_path}/state")
    plan = run_war(
        "rollout",
        "ratings",
        "-n",
        "bookinfo",
        "--max-unavailable",
        "3",
        "--dry-run",
        "-o",
        "json",
        "--proxy-status",
        "none",
        env=env,
    )
    assert plan.returncode == 0, plan.stderr
    planned = sorted(
        m["name"]
        for g in json.loads(plan.stdout)["groups"]
        for b in g["batches"]
        for m in b["members"]
    )
    assert len(planned) == 12
    faults = Faults(
        rate=0.2,
        drop_rate=0.05,
        drop_after_rate=0.1,
        # Every watch that gets more than one chunk of events is cut: however the
        # requests interleave (the Lease's and Events' shift the seeded schedule),
        # the batches' re-creations are more than one chunk, so cuts happen.
        cut_watch_after=1,
        expire_continue_rate=0.2,
        seed=11,
    )
    fake_kube.faults = faults
    with OnboardingPlane(fake_kube, delay=0.05, jitter=0.2, seed=4, lifetime=60) as plane:
        done = run_war(
            "rollout",
            "ratings",
            "-n",
            "bookinfo",
            "--max-unavailable",
            "3",
            "--yes",
            "--proxy-status",
            "none",
            env=env,
        )
        assert plane.idle()
    assert done.returncode == 0, done.stderr
    assert sorted(plane.deleted()) == planned  # exactly the plan, each once
    assert sorted(plane.created()) == planned
    assert plane.max_missing("ratings") <= 3
    assert {k for k, _, _ in faults.injected} >= {"drop", "drop-after", "cut-watch"}
