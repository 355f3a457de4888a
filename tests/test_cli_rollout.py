"""`kubectl war rollout` and `rollout status` end to end: real kubectl's plugin lookup,
FakeKube, and its simulated onboarding plane re-onboarding deleted WARs."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.factories import Batches, Spawned, on_terminal, wait_until
from tests.fakekube import FakeKube
from tests.fakekube.istiod import FakeIstiod
from tests.fakekube.onboarding import OnboardingPlane, rollout_fleet

Run = Callable[..., subprocess.CompletedProcess[str]]

P = "ratings-aws-aws-123456789012-"
A1, A2, B1, B2, C1, C2 = (
    P + "us-east-2a-ec2-i-a1",
    P + "us-east-2a-ec2-i-a2",
    P + "us-east-2b-ec2-i-b1",
    P + "us-east-2b-ec2-i-b2",
    P + "us-east-2c-ec2-i-c1",
    P + "us-east-2c-ec2-i-c2",
)
AD1, AU1 = P + "us-east-2a-ec2-i-ad1", P + "us-east-2a-ec2-i-au1"
NO_SOURCE = ("--proxy-status", "none")
WARS = "workloadautoregistrations"


@pytest.fixture
def plane(fake_kube: FakeKube) -> Iterator[OnboardingPlane]:
    with OnboardingPlane(fake_kube, delay=0.15, lifetime=300) as p:
        yield p


def seed(fake: FakeKube, **kw: Any) -> None:
    kw.setdefault("per_zone", 1)
    fake.add_all(rollout_fleet(fake.clock(), **kw))


def deletes(fake: FakeKube) -> list[str]:
    return [r.path.rsplit("/", 1)[1] for r in fake.requests if r.method == "DELETE"]


def test_dry_run_prints_groups_batches_and_members_and_deletes_nothing(
    fake_kube: FakeKube, war: Run
) -> None:
    seed(fake_kube, per_zone=2, up_to_date=1, disconnected=1)
    done = war("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "2", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "WorkloadGroup bookinfo/ratings: 6 WARs to re-onboard in 3 batches of up to 2 "
        "(max unavailable 2 of 7 connected)\n"
        "BATCH   NAME                                                ZONE         INSTANCE   NOTE\n"
        f"1/3     {A1}    us-east-2a   i-a1       outdated\n"
        f"1/3     {B1}    us-east-2b   i-b1       outdated\n"
        f"2/3     {C1}    us-east-2c   i-c1       outdated\n"
        f"2/3     {A2}    us-east-2a   i-a2       outdated\n"
        f"3/3     {B2}    us-east-2b   i-b2       outdated\n"
        f"3/3     {C2}    us-east-2c   i-c2       outdated\n"
        f"-       {AD1}   us-east-2a   i-ad1      left out: disconnected (removal 4m left)\n"
        f"-       {AU1}   us-east-2a   i-au1      left out: up to date\n"
        "Dry run: nothing was deleted.\n"
    )
    assert done.stderr == ""
    assert deletes(fake_kube) == []


def test_dry_run_as_json_is_the_plan_as_data(fake_kube: FakeKube, war: Run) -> None:
    seed(fake_kube, zones=("us-east-2a", "us-east-2b"), per_zone=2)
    done = war("rollout", "ratings", "-n", "bookinfo", "--zone-by-zone", "--dry-run", "-o", "json")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    (group,) = plan["groups"]
    assert (plan["kind"], plan["maxUnavailable"], plan["zoneByZone"]) == (
        "RolloutPlan",
        "10%",
        True,
    )
    assert group["maxUnavailable"] == 1
    assert [(b["zone"], [m["instance"] for m in b["members"]]) for b in group["batches"]] == [
        ("us-east-2a", ["i-a1"]),
        ("us-east-2a", ["i-a2"]),
        ("us-east-2b", ["i-b1"]),
        ("us-east-2b", ["i-b2"]),
    ]
    assert deletes(fake_kube) == []


def test_piped_rollout_prints_one_line_per_state_change(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, up_to_date=1)
    done = war(
        "rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "2", "--yes", *NO_SOURCE
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "WorkloadGroup bookinfo/ratings: 3 WARs to re-onboard in 2 batches of up to 2 "
        "(max unavailable 2 of 4 connected)\n"
        "batch 1/2: deleting 2 WARs\n"
        f"{A1}: deleted, waiting to be re-created\n"
        f"{B1}: deleted, waiting to be re-created\n"
        f"{A1}: back\n"
        f"{B1}: back\n"
        "batch 1/2: all back\n"
        "batch 2/2: deleting 1 WAR\n"
        f"{C1}: deleted, waiting to be re-created\n"
        f"{C1}: back\n"
        "batch 2/2: all back\n"
        "WorkloadGroup bookinfo/ratings: rolled out\n"
        "Rollout complete: 3 WARs re-onboarded.\n"
    )
    assert done.stderr == ""
    assert plane.deleted() == Batches([A1, B1], [C1])
    assert plane.max_missing("ratings") == 2


def test_the_wars_are_listed_once_before_the_first_delete(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube)
    done = war(
        "rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "2", "--yes", *NO_SOURCE
    )
    assert done.returncode == 0, done.stderr
    first = next(i for i, r in enumerate(fake_kube.requests) if r.method == "DELETE")
    lists = [
        r
        for r in fake_kube.requests[:first]
        if r.method == "GET" and r.path.endswith("/namespaces/bookinfo/" + WARS)
    ]
    # The plan's list starts batch 1 too; its wait watches from that list on.
    assert [r.query.get("watch") for r in lists] == [None]
    assert plane.deleted() == Batches([A1, B1], [C1])


def test_a_batch_that_does_not_come_back_stops_the_rollout_with_exit_1(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=2)
    plane.never_return("bookinfo", B1)
    # A1's agent is back in 0.15s: a timeout a loaded machine meets too (it runs out in full).
    done = war(
        "rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "2", "--timeout", "5s",
        "--yes", *NO_SOURCE,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout.endswith(f"{A1}: back\n")
    assert done.stderr == (
        "error: batch 1/3 of WorkloadGroup bookinfo/ratings did not come back within 5s; "
        "the rollout stopped and nothing more will be deleted\n"
        "Waiting on:\n"
        f"  bookinfo/{B1}: not re-created yet\n"
        "Re-onboarded so far: 1 WAR; not started: 4 WARs.\n"
        "To resume, run the same command again once those are back:\n"
        "  kubectl war rollout ratings -n bookinfo --max-unavailable 2 --timeout 5s "
        "--proxy-status none --yes\n"
    )
    fake_kube.wait_idle()  # all it sent is in the record
    assert plane.deleted() == Batches([A1, B1])


def test_rerunning_after_a_stop_resumes_without_deleting_any_war_twice(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=2)
    plane.hold("bookinfo", B1)
    args = ("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "2", "--yes", *NO_SOURCE)
    first = war(*args, "--timeout", "300ms")
    assert first.returncode == 1
    assert plane.deleted() == Batches([A1, B1])
    wait_until(lambda: fake_kube.get(WARS, "bookinfo", A1), why="A1 re-created")
    # B1 is still missing when the re-run plans, and counts against the budget; it comes
    # back while the re-run waits.
    plane.release_at_next_watch("bookinfo", B1)
    second = war(*args)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith(
        "WorkloadGroup bookinfo/ratings: 4 WARs to re-onboard in 4 batches of up to 1 "
        "(max unavailable 2 of 5 connected, 1 already unavailable)\n"
    )
    assert f"{B1}: back\n" in second.stdout
    counts = Counter(plane.deleted())
    assert set(counts) == {A1, A2, B1, B2, C1, C2}
    assert max(counts.values()) == 1
    assert plane.max_unavailable("ratings") == 2
    third = war(*args)
    assert (third.returncode, third.stdout.splitlines()[-1]) == (0, "Nothing to roll out.")


def test_zone_by_zone_finishes_each_zone_before_the_next(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, per_zone=2)
    done = war(
        "rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "3", "--zone-by-zone",
        "--yes", *NO_SOURCE,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert plane.deleted() == Batches([A1, A2], [B1, B2], [C1, C2])
    batches = [line for line in done.stdout.splitlines() if ": deleting " in line]
    assert batches == [
        "batch 1/3: deleting 2 WARs in zone us-east-2a",
        "batch 2/3: deleting 2 WARs in zone us-east-2b",
        "batch 3/3: deleting 2 WARs in zone us-east-2c",
    ]


def test_never_more_missing_than_max_unavailable_under_jittered_re_onboarding(
    fake_kube: FakeKube, war: Run
) -> None:
    seed(fake_kube, per_zone=4)
    with OnboardingPlane(fake_kube, delay=0.05, jitter=0.25, seed=3, lifetime=300) as plane:
        done = war(
            "rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "25%", "--yes",
            *NO_SOURCE,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(plane.deleted()) == sorted(plane.created())
    assert len(plane.deleted()) == 12
    assert plane.max_missing("ratings") == 3


def test_sigint_mid_rollout_stops_deleting_and_exits_130(
    fake_kube: FakeKube, kubectl_bin: str, war_env: dict[str, str]
) -> None:
    seed(fake_kube, per_zone=2)
    with OnboardingPlane(fake_kube, lifetime=300) as plane:
        plane.hold("bookinfo", A1)  # the batch is not back when the signal comes
        plane.hold("bookinfo", B1)
        argv = [kubectl_bin, "war", "rollout", "ratings", "-n", "bookinfo",
                "--max-unavailable", "2", "--yes", *NO_SOURCE]  # fmt: skip
        with Spawned(argv, war_env) as cmd:
            # Both deleted and said so: waiting for the batch to come back now.
            cmd.stdout.wait_for(f"{B1}: deleted, waiting to be re-created")
            cmd.proc.send_signal(signal.SIGINT)
            code, out, err = cmd.end()
        fake_kube.wait_idle()  # all it sent is in the record
        assert plane.deleted() == Batches([A1, B1])
    assert code == 130, err
    assert err == (
        "Interrupted: no further WAR will be deleted.\n"
        "In flight (deleted, not back yet):\n"
        f"  bookinfo/{A1}: not re-created yet\n"
        f"  bookinfo/{B1}: not re-created yet\n"
        "Re-onboarded so far: 0 WARs; not started: 4 WARs.\n"
        "To resume, run the same command again once those are back:\n"
        "  kubectl war rollout ratings -n bookinfo --max-unavailable 2 --proxy-status none --yes\n"
    )
    assert out.endswith(f"{B1}: deleted, waiting to be re-created\n")


def test_json_output_is_the_summary_and_progress_goes_to_stderr(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, disconnected=1)
    done = war(
        "rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "3", "--yes", "-o", "json",
        *NO_SOURCE,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["kind"], summary["result"], summary["reOnboarded"]) == (
        "RolloutSummary",
        "complete",
        3,
    )
    (group,) = summary["groups"]
    assert group["reOnboarded"] == [A1, P + "us-east-2b-ec2-i-b1", C1]
    assert group["leftOut"] == [{"name": AD1, "reason": "disconnected", "removalInSeconds": 240}]
    assert "batch 1/1: all back\n" in done.stderr


def test_without_a_terminal_yes_is_required(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube)
    done = war("rollout", "ratings", "-n", "bookinfo", *NO_SOURCE)
    assert done.returncode == 1
    assert done.stderr == (
        "error: refusing to re-onboard 3 WARs without confirmation: no terminal to ask on; "
        "pass --yes (or preview with --dry-run)\n"
    )
    assert deletes(fake_kube) == []


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("0", "must be at least 1 (a rollout that may take nothing down cannot delete anything)"),
        ("150%", "at most 100%"),
        ("abc", "expected a number of WARs (2) or a percentage of the connected ones (10%)"),
    ],
)
def test_bad_max_unavailable_is_a_usage_error(
    fake_kube: FakeKube, war: Run, value: str, why: str
) -> None:
    seed(fake_kube)
    done = war("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", value, "--yes")
    assert done.returncode == 1
    assert done.stderr == f'error: invalid value "{value}" for --max-unavailable: {why}\n'
    assert deletes(fake_kube) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name the WorkloadGroups to roll out, or pass --all-groups"),
        (("ratings", "--all-groups"), "name WorkloadGroups or pass --all-groups, not both"),
        (
            ("ratings", "-A"),
            "WorkloadGroup names cannot be combined with -A: names are per namespace (-n)",
        ),
    ],
)
def test_what_to_roll_out_must_be_said_exactly_once(
    fake_kube: FakeKube, war: Run, args: tuple[str, ...], message: str
) -> None:
    done = war("rollout", *args)
    assert (done.returncode, done.stderr.splitlines()[0]) == (1, f"error: {message}")


def test_an_unknown_workload_group_is_not_found(fake_kube: FakeKube, war: Run) -> None:
    seed(fake_kube)
    done = war("rollout", "reviews", "-n", "bookinfo", "--dry-run")
    assert done.returncode == 1
    assert done.stderr == (
        "error: Error from server (NotFound): workloadgroups.networking.istio.io "
        '"reviews" not found in bookinfo namespace\n'
    )


def test_all_groups_across_namespaces_go_one_after_another(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube)
    seed(fake_kube, group="reviews", with_namespace=False)
    seed(fake_kube, namespace="shop", group="ratings")
    done = war("rollout", "--all-groups", "-A", "--max-unavailable", "100%", "--yes", *NO_SOURCE)
    assert done.returncode == 0, done.stderr
    heads = [line for line in done.stdout.splitlines() if line.startswith("WorkloadGroup")]
    assert heads == [
        "WorkloadGroup bookinfo/ratings: 3 WARs to re-onboard in 1 batch of up to 3 "
        "(max unavailable 3 of 3 connected)",
        "WorkloadGroup bookinfo/ratings: rolled out",
        "WorkloadGroup bookinfo/reviews: 3 WARs to re-onboard in 1 batch of up to 3 "
        "(max unavailable 3 of 3 connected)",
        "WorkloadGroup bookinfo/reviews: rolled out",
        "WorkloadGroup shop/ratings: 3 WARs to re-onboard in 1 batch of up to 3 "
        "(max unavailable 3 of 3 connected)",
        "WorkloadGroup shop/ratings: rolled out",
    ]
    assert len(plane.deleted()) == 9
    assert plane.max_missing("ratings") == 3  # never two groups at once


def test_rollout_waits_for_sidecars_to_be_synced_by_istiod(fake_kube: FakeKube, war: Run) -> None:
    seed(fake_kube)
    istiod = FakeIstiod(fake_kube, replicas=1)
    istiod.connect_all(f"{w['metadata']['name']}.bookinfo" for w in fake_kube.objects(
        "workloadautoregistrations", "bookinfo"
    ))  # fmt: skip
    with OnboardingPlane(fake_kube, delay=0.05, sync_delay=0.5, istiod=istiod) as plane:
        plane.never_sync("bookinfo", C1)
        # A1 and B1 are SYNCED 0.55s after their DELETE: a timeout a loaded machine meets
        # too (it runs out in full: C1 never syncs).
        done = war(
            "rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "3", "--timeout", "6s",
            "--yes", "--proxy-status", "istiod",
        )  # fmt: skip
    assert done.returncode == 1
    assert f"{A1}: agent connected, sidecar not SYNCED yet\n{A1}: back\n" in "".join(
        line + "\n" for line in done.stdout.splitlines() if line.startswith(A1)
    )
    assert f"  bookinfo/{C1}: sidecar not SYNCED yet\n" in done.stderr


def test_istiod_is_read_while_the_wars_are_listed(fake_kube: FakeKube, war: Run) -> None:
    seed(fake_kube)
    istiod = FakeIstiod(fake_kube, replicas=1)
    istiod.connect_all(f"{w['metadata']['name']}.bookinfo" for w in fake_kube.objects(
        "workloadautoregistrations", "bookinfo"
    ))  # fmt: skip
    arrived: list[str] = []
    istiod_asked = threading.Event()
    hold_list = False

    def hook(req: Any) -> None:
        if req.method != "GET" or "watch" in req.query:
            return
        if req.path.endswith("/namespaces/bookinfo/" + WARS) and "list" not in arrived:
            arrived.append("list")
            if hold_list:
                # The first list is answered only once istiod has been asked (or, should
                # the rollout ask it only after the list, a minute later).
                istiod_asked.wait(60)
                arrived.append("list answered")
        elif "/pods/" in req.path and "istiod" not in arrived:
            arrived.append("istiod")
            istiod_asked.set()

    fake_kube.request_hooks.append(hook)
    done = war("rollout", "ratings", "-n", "bookinfo", "--dry-run", "--proxy-status", "istiod")
    assert done.returncode == 0, done.stderr
    assert "istiod" not in arrived  # a dry run reads no sidecar source
    arrived.clear()
    hold_list = True
    with OnboardingPlane(fake_kube, delay=0.05, sync_delay=0.05, istiod=istiod) as plane:
        done = war(
            "rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "3", "--yes",
            "--proxy-status", "istiod",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Asked before the list was answered (or even sent), not after the plan.
    assert arrived.index("istiod") < arrived.index("list answered")
    assert sorted(plane.deleted()) == [A1, B1, C1]


def test_with_nothing_to_roll_out_an_unreadable_source_says_nothing(
    fake_kube: FakeKube, war: Run
) -> None:
    seed(fake_kube, per_zone=0, up_to_date=1)
    done = war("rollout", "ratings", "-n", "bookinfo", "--yes", "--proxy-status", "istiod")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("Nothing to roll out.\n")
    assert done.stderr == ""


# ---- rollout status ---------------------------------------------------------------------


def test_status_counts_per_group_and_exits_1_until_rolled_out(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube, up_to_date=1, disconnected=1, joining=1)
    before = war("rollout", "status", "ratings", "-n", "bookinfo")
    assert before.returncode == 1
    assert before.stdout == (
        "NAME      UP-TO-DATE   OUTDATED   UNKNOWN   DISCONNECTED   MISSING   BLOCKED   "
        "ROLLED OUT\n"
        "ratings   1            3          0         1              1         0         No\n"
    )
    fake_kube.delete("workloadautoregistrations", "bookinfo", P + "us-east-2a-ec2-i-aj1")
    done = war(
        "rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "3", "--yes", *NO_SOURCE
    )
    assert done.returncode == 0, done.stderr
    after = war("rollout", "status", "ratings", "-n", "bookinfo", "-o", "json")
    assert after.returncode == 0
    assert json.loads(after.stdout)["groups"] == [
        {
            "namespace": "bookinfo",
            "name": "ratings",
            "upToDate": 4,
            "outdated": 0,
            "unknown": 0,
            "disconnected": 1,
            "missing": [],
            "blocked": 0,
            "rolledOut": True,
        }
    ]


def test_status_counts_wars_a_stopped_rollout_left_missing(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube)
    plane.never_return("bookinfo", A1)
    stopped = war(
        "rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "1", "--timeout", "300ms",
        "--yes", *NO_SOURCE,
    )  # fmt: skip
    assert stopped.returncode == 1
    status = war("rollout", "status", "--all-groups", "-n", "bookinfo")
    assert status.returncode == 1
    assert status.stdout.splitlines()[1] == (
        "ratings   0            2          0         0              1         0         No"
    )


def test_status_watch_blocks_until_the_rollout_is_done(
    fake_kube: FakeKube, war: Run, kubectl_bin: str, war_env: dict[str, str], plane: OnboardingPlane
) -> None:
    seed(fake_kube)
    argv = [kubectl_bin, "war", "rollout", "status", "ratings", "-n", "bookinfo", "-w",
            "--timeout", "120s"]  # fmt: skip
    with Spawned(argv, war_env) as watcher:
        watcher.stdout.wait_for_lines(1)  # watching, and has said where it starts
        done = war("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "3", "--yes")
        assert done.returncode == 0, done.stderr
        code, out, err = watcher.end()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (
        'Waiting for WorkloadGroup "ratings" rollout to finish: 0 of 3 connected WARs up to date'
    )
    assert lines[-1] == 'WorkloadGroup "ratings" successfully rolled out'
    assert len(lines) == len(set(lines))  # a line only when the state changes


def test_status_watch_whose_watches_never_deliver_sees_the_rollout_done_by_listing(
    fake_kube: FakeKube, war: Run, kubectl_bin: str, war_env: dict[str, str], plane: OnboardingPlane
) -> None:
    from tests.fakekube.faults import Faults

    seed(fake_kube)
    fake_kube.faults = faults = Faults(cut_watch_after=0)
    argv = [kubectl_bin, "war", "rollout", "status", "ratings", "-n", "bookinfo", "-w",
            "--timeout", "120s"]  # fmt: skip
    with Spawned(argv, war_env) as watcher:
        watcher.stdout.wait_for_lines(1)  # watching, and has said where it starts
        done = war("rollout", "ratings", "-n", "bookinfo", "--max-unavailable", "3", "--yes")
        assert done.returncode == 0, done.stderr
        code, out, err = watcher.end(timeout=120)
    assert code == 0, err
    assert out.splitlines()[-1] == 'WorkloadGroup "ratings" successfully rolled out'
    assert {k for k, _, _ in faults.injected} == {"cut-watch"}


def test_status_watch_times_out_with_exit_1(fake_kube: FakeKube, war: Run) -> None:
    seed(fake_kube)
    done = war("rollout", "status", "ratings", "-n", "bookinfo", "--watch", "--timeout", "1s")
    assert done.returncode == 1
    assert done.stderr == "error: timed out waiting for the condition\n"


# ---- on a terminal ----------------------------------------------------------------------


def test_on_a_terminal_the_plan_is_shown_and_confirmed_then_followed_live(
    fake_kube: FakeKube, kubectl_bin: str, war_env: dict[str, str], plane: OnboardingPlane
) -> None:
    seed(fake_kube)
    argv = [kubectl_bin, "war", "rollout", "ratings", "-n", "bookinfo", *NO_SOURCE]
    code, out = on_terminal([*argv, "--max-unavailable", "2"], war_env, ["y"])
    assert code == 0, out
    prompt = out.index("Do you want to continue? (y/N): ")
    assert out.index(f"1/2     {A1}") < prompt
    assert "This deletes 3 WARs, batch by batch, so their agents onboard again.\n" in out
    live = out[prompt:]
    assert "WorkloadGroup bookinfo/ratings: 3 WARs to re-onboard in 2 batches" in live
    assert "batch 1/2: all back" in live and "batch 2/2: all back" in live
    assert "Rollout complete: 3 WARs re-onboarded." in live
    assert plane.deleted() == Batches([A1, B1], [C1])


def test_on_a_terminal_anything_but_yes_deletes_nothing(
    fake_kube: FakeKube, kubectl_bin: str, war_env: dict[str, str], plane: OnboardingPlane
) -> None:
    seed(fake_kube)
    argv = [kubectl_bin, "war", "rollout", "ratings", "-n", "bookinfo", *NO_SOURCE]
    code, out = on_terminal(argv, war_env, ["n"])
    assert code == 1
    assert out.endswith("Do you want to continue? (y/N): n\nNothing was deleted.\n")
    assert deletes(fake_kube) == []


def test_a_sidecar_source_that_cannot_answer_stops_before_anything_is_deleted(
    fake_kube: FakeKube, war: Run, plane: OnboardingPlane
) -> None:
    seed(fake_kube)
    args = ("rollout", "ratings", "-n", "bookinfo", "--yes")
    done = war(*args, "--proxy-status", "istiod")
    assert done.returncode == 1
    assert done.stderr.startswith(
        "error: cannot read sidecar sync state (istiod: no running istiod pods"
    )
    assert done.stderr.endswith("pass --no-wait-sync to roll out without waiting for sidecars\n")
    assert deletes(fake_kube) == []
    assert war(*args, "--proxy-status", "istiod", "--no-wait-sync").returncode == 0
