"""`kubectl war delete` against a server that records every DELETE and its preconditions."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import threading
import time

import pytest

from tests import factories as f
from tests.conftest import FIXED_NOW
from tests.factories import Run
from tests.fakekube import FakeKube
from tests.fakekube.server import RecordedRequest

PLURAL = "workloadautoregistrations"
REF = "workloadautoregistration.runtime.onboarding.tetrate.io"

A = f.EC2_2A  # connected, outdated
B = f.EC2  # gone 10m, outdated
C = f.EC2_2C  # gone 2m, up to date
D = "reviews-jwt-my-corp--vm007-datacenter1-us-east.internal.corp"  # connected, up to date
P = f.CN  # other namespace


@pytest.fixture
def fleet(fake_kube: FakeKube) -> FakeKube:
    fake_kube.add(f.workload_group("ratings", spec_changed="2024-05-16T11:00:00Z"))
    fake_kube.add(f.workload_group("reviews", spec_changed="2024-05-16T09:00:00Z"))
    fake_kube.add(f.workload_group("ledger", "payments"))
    fake_kube.add(f.war(A, group="ratings", uid="uid-a", labels={"app": "ratings", "zone": "a"}))
    fake_kube.add(
        f.war(
            B,
            group="ratings",
            uid="uid-b",
            labels={"app": "ratings"},
            connected="False",
            since="2024-05-16T11:50:00Z",
        )
    )
    fake_kube.add(
        f.war(
            C,
            group="ratings",
            uid="uid-c",
            created="2024-05-16T11:30:00Z",
            connected="False",
            since="2024-05-16T11:58:00Z",
        )
    )
    fake_kube.add(f.war(D, group="reviews", uid="uid-d", labels={"app": "reviews"}))
    fake_kube.add(f.war(P, "payments", group="ledger", uid="uid-p"))
    fake_kube.clear_requests()
    f.admit_wars(fake_kube)
    return fake_kube


def deletes(fake: FakeKube) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.method == "DELETE"]


def remaining(fake: FakeKube) -> list[str]:
    return [o["metadata"]["name"] for o in fake.objects(PLURAL)]


def test_delete_by_name_carries_uid_and_resource_version(fleet: FakeKube, run_war: Run) -> None:
    rv = fleet.get(PLURAL, "bookinfo", A)["metadata"]["resourceVersion"]  # type: ignore[index]
    r = run_war("delete", "-n", "bookinfo", A)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == f'{REF} "{A}" deleted from bookinfo namespace\n'
    (req,) = deletes(fleet)
    assert req.path.endswith(f"/namespaces/bookinfo/{PLURAL}/{A}")
    assert req.body["preconditions"] == {"uid": "uid-a", "resourceVersion": rv}
    assert remaining(fleet) == [B, C, D, P]


def test_not_found_is_an_error_unless_ignored(fleet: FakeKube, war_inproc: Run) -> None:
    r = war_inproc("delete", "-n", "bookinfo", "nope", A)
    assert r.returncode == 1
    assert r.stdout == f'{REF} "{A}" deleted from bookinfo namespace\n'
    assert r.stderr == (
        "Error from server (NotFound): workloadautoregistrations.runtime.onboarding.tetrate.io "
        '"nope" not found\n'
    )
    r = war_inproc("delete", "-n", "bookinfo", "nope", "--ignore-not-found")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert len(deletes(fleet)) == 1


def test_selector_deletion_without_a_terminal_needs_yes(fleet: FakeKube, war_inproc: Run) -> None:
    r = war_inproc("delete", "-n", "bookinfo", "--group", "ratings", input="")  # no terminal
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == (
        "error: refusing to delete 3 WAR(s) selected by flags without confirmation: no terminal "
        "to ask on; pass --yes (or preview with --dry-run=client)\n"
    )
    assert deletes(fleet) == []
    assert remaining(fleet) == [A, B, C, D, P]


@pytest.mark.parametrize(
    ("args", "gone"),
    [
        (["-l", "app=ratings"], [A, B]),
        (["-l", "app"], [A, B, D]),
        (["--group", "ratings"], [A, B, C]),
        (["--group", "ratings", "--group", "reviews"], [A, B, C, D]),
        (["--disconnected"], [B, C]),
        (["--disconnected", "--older-than", "5m"], [B]),
        (["--outdated"], [A, B]),
        (["--outdated", "--disconnected"], [B]),
        (["--group", "ratings", "-l", "zone=a"], [A]),
        (["--all"], [A, B, C, D]),
        (["-A", "--all"], [A, B, C, D, P]),
        (["-A", "--outdated"], [A, B]),
        ([A, D, "--outdated"], [A]),
        ([A, D, "-l", "app=reviews"], [D]),
    ],
)
def test_each_selection_deletes_exactly_what_it_selects(
    fleet: FakeKube, war_inproc: Run, args: list[str], gone: list[str]
) -> None:
    if "-A" not in args:
        args = ["-n", "bookinfo", *args]
    r = war_inproc("delete", *args, "--yes", "-o", "name")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.splitlines() == [f"{REF}/{n}" for n in gone]
    assert sorted(r.path.rsplit("/", 1)[1] for r in deletes(fleet)) == sorted(gone)
    assert all(r.body["preconditions"]["uid"] for r in deletes(fleet))
    assert remaining(fleet) == [n for n in [A, B, C, D, P] if n not in gone]


def test_client_dry_run_sends_nothing(fleet: FakeKube, war_inproc: Run) -> None:
    r = war_inproc("delete", "-n", "bookinfo", "--disconnected", "--dry-run=client")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == (
        f'{REF} "{B}" deleted from bookinfo namespace (dry run)\n'
        f'{REF} "{C}" deleted from bookinfo namespace (dry run)\n'
    )
    assert deletes(fleet) == []
    assert remaining(fleet) == [A, B, C, D, P]


def test_server_dry_run_asks_the_server_and_changes_nothing(
    fleet: FakeKube, war_inproc: Run
) -> None:
    r = war_inproc("delete", "-n", "bookinfo", A, "--dry-run=server")
    assert r.stdout == f'{REF} "{A}" deleted from bookinfo namespace (server dry run)\n'
    (req,) = deletes(fleet)
    assert req.query["dryRun"] == ["All"]
    assert req.body["preconditions"]["uid"] == "uid-a"
    assert remaining(fleet) == [A, B, C, D, P]


def test_a_war_recreated_after_listing_survives(fleet: FakeKube, war_inproc: Run) -> None:
    """Between the list and the DELETE, the agent re-onboards: same name, new uid."""
    done = []

    def reonboard(req: RecordedRequest) -> None:
        if req.method == "DELETE" and req.path.endswith(A) and not done:
            done.append(True)
            fleet.delete(PLURAL, "bookinfo", A)
            fleet.add(f.war(A, group="ratings", uid="uid-a2", created="2024-05-16T12:00:00Z"))

    fleet.request_hooks.append(reonboard)
    r = war_inproc("delete", "-n", "bookinfo", "--group", "ratings", "--outdated", "--yes")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == (
        f'{REF} "{A}" skipped: re-registered since it was listed\n'
        f'{REF} "{B}" deleted from bookinfo namespace\n'
    )
    assert fleet.get(PLURAL, "bookinfo", A)["metadata"]["uid"] == "uid-a2"  # type: ignore[index]
    assert [r.body["preconditions"]["uid"] for r in deletes(fleet)] == ["uid-a", "uid-b"]


def test_a_war_that_reconnected_after_listing_is_not_deleted(
    fleet: FakeKube, war_inproc: Run
) -> None:
    """Same uid, but its agent came back: it no longer matches --disconnected."""

    def reconnect(req: RecordedRequest) -> None:
        if req.method == "DELETE" and req.path.endswith(B):
            fleet.update(
                PLURAL,
                "bookinfo",
                B,
                lambda o: o["status"]["conditions"][0].update(status="True"),
                subresource="status",
            )

    fleet.request_hooks.append(reconnect)
    r = war_inproc("delete", "-n", "bookinfo", "--disconnected", "--older-than", "5m", "--yes")
    assert r.stdout == (f'{REF} "{B}" skipped: changed since it was listed and no longer matches\n')
    assert B in remaining(fleet)


def test_terminal_user_sees_a_preview_and_is_asked(
    fleet: FakeKube, kubectl_bin: str, kube_env: dict[str, str]
) -> None:
    def ask(answer: bytes) -> tuple[int, str]:
        master, slave = pty.openpty()
        env = dict(kube_env, KUBECTL_WAR_NOW=FIXED_NOW, NO_COLOR="1")
        proc = subprocess.Popen(
            [kubectl_bin, "war", "delete", "-n", "bookinfo", "--disconnected"],
            stdin=slave,
            stderr=slave,
            stdout=subprocess.PIPE,
            env=env,
        )
        os.close(slave)
        seen = b""
        deadline = time.monotonic() + 20
        while b"(y/N): " not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                seen += os.read(master, 4096)
        os.write(master, answer)
        out, _ = proc.communicate(timeout=20)
        try:
            while True:
                ready, _, _ = select.select([master], [], [], 0.2)
                if not ready:
                    break
                seen += os.read(master, 4096)
        except OSError:
            pass
        os.close(master)
        return proc.returncode, (seen + out).decode().replace("\r\n", "\n")

    code, text = ask(b"n\n")
    assert code == 1
    assert text.startswith("You are about to delete the following 2 WAR(s):\nNAME")
    assert f"\n{B}   ratings" in text and f"\n{C}   ratings" in text
    assert "Do you want to continue? (y/N): " in text and "Nothing was deleted." in text
    assert deletes(fleet) == []
    code, text = ask(b"y\n")
    assert code == 0
    assert text.endswith(
        f'{REF} "{B}" deleted from bookinfo namespace\n'
        f'{REF} "{C}" deleted from bookinfo namespace\n'
    )
    assert remaining(fleet) == [A, D, P]


def _reonboard_later(fleet: FakeKube, name: str, *after: str) -> threading.Thread:
    """Play the agent: once `name` and the WARs `after` are gone, register `name` again
    with a new uid."""

    def run() -> None:
        gone = (name, *after)
        f.wait_until(lambda: all(fleet.get(PLURAL, "bookinfo", n) is None for n in gone))
        fleet.add(
            f.war(name, group="ratings", uid=f"{name[-4:]}-new", created="2024-05-16T12:00:01Z")
        )

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_wait_until_gone(fleet: FakeKube, war_inproc: Run) -> None:
    r = war_inproc("delete", "-n", "bookinfo", A, "--wait")
    assert r.stdout == (
        f'{REF} "{A}" deleted from bookinfo namespace\n{REF} "{A}" gone from bookinfo namespace\n'
    )


def test_wait_reregistered_reports_returns_and_fails_on_the_rest(
    fleet: FakeKube, war_inproc: Run
) -> None:
    _reonboard_later(fleet, A, D)  # back once both are deleted and said so
    # A is back within milliseconds: a timeout a loaded machine meets (D's runs out).
    r = war_inproc("delete", "-n", "bookinfo", A, D, "--wait-reregistered", "--timeout", "5s")
    assert r.returncode == 1
    assert r.stdout == (
        f'{REF} "{A}" deleted from bookinfo namespace\n'
        f'{REF} "{D}" deleted from bookinfo namespace\n'
        f'{REF} "{A}" re-registered in bookinfo namespace (new uid {A[-4:]}-new, '
        "agent connected)\n"
    )
    assert r.stderr == (
        f'error: {REF} "{D}" in bookinfo namespace did not return within 5s: not re-created yet\n'
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [],
            "name WARs to delete, or select them with -l, --group, --disconnected, "
            "--outdated or --all",
        ),
        ([A, "--all"], "names cannot be combined with --all"),
        (["--older-than", "5m", "--all"], "--older-than goes with --disconnected"),
        (["--all", "--timeout", "x"], 'invalid value "x" for --timeout: '),
        (
            [A, "--wait", "--dry-run=client"],
            "--wait and --wait-reregistered cannot be used with --dry-run",
        ),
    ],
)
def test_usage_errors_exit_1_and_delete_nothing(
    fleet: FakeKube, run_war: Run, args: list[str], message: str
) -> None:
    r = run_war("delete", "-n", "bookinfo", *args)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.startswith(f"error: {message}")
    assert "Traceback" not in r.stderr
    assert deletes(fleet) == []
