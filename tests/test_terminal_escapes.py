"""Text from the cluster never drives the operator's terminal: control characters in
labels, annotations, what the agent registered, condition and event messages and istiod's
proxy names are escaped in tables, describe and proxy-status (ESC as `^[` and CR as `\\r`,
as kubectl's printers write them), while `-o json` keeps the server's text exactly."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator

import pytest

from kubectl_war.render import Table, terminal_safe
from tests import factories as f
from tests.conftest import FIXED_NOW
from tests.factories import EC2, ECS, InProc
from tests.fakekube import FakeKube
from tests.fakekube.istiod import FakeIstiod

# A colour, a title change ended by BEL, CR over the line, a C1 CSI (0x9B), DEL, a NUL,
# a tab and a newline: what a hostile or broken agent could put in what it reports.
RED = "\x1b[31m"
TITLE = "\x1b]0;owned\x07"


def _hostile_war() -> dict:
    war = f.war(
        EC2,
        group="ratings",
        identity=f.ec2("aws", "123456789012", "us-east-2b", "i-1234567890abcdef0"),
        connected="False",
        since="2024-05-16T11:58:00Z",
        ip="10.0.2.45",
        agent=f"v1.4.0{RED}",
        istio=f"1.9.8{TITLE}",
        labels={"app": f"ratings{RED}", "tier": "back\rend"},
    )
    war["metadata"]["annotations"] = {"note": "bell\x07 c1\x9b del\x7f nul\x00 tab\tnl\nend"}
    registration = war["spec"]["registration"]
    registration["settings"]["connectedOver"] = f"VPC{RED}"
    registration["host"]["addresses"][0]["type"] = "VPC\r"
    registration["workload"]["labels"] = {"version": f"v5{TITLE}"}
    condition = war["status"]["conditions"][0]
    condition["reason"] = f"Lost{RED}"
    condition["message"] = "agent gone\r\x1b[2Kall fine"
    return war


def _event(message: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": "ev1",
            "namespace": "bookinfo",
            "creationTimestamp": "2024-05-16T11:58:00Z",
        },
        "involvedObject": {
            "kind": "WorkloadAutoRegistration",
            "namespace": "bookinfo",
            "name": EC2,
            "uid": "uid-ec2",
            "apiVersion": f.WAR_API,
        },
        "type": "Warning",
        "reason": f"AgentLost{RED}",
        "message": message,
        "source": {"component": "onboarding-plane"},
        "firstTimestamp": "2024-05-16T11:58:00Z",
        "lastTimestamp": "2024-05-16T11:58:00Z",
        "count": 1,
    }


@pytest.fixture
def hostile(fake_kube: FakeKube) -> Iterator[FakeIstiod]:
    fake_kube.add(f.workload_group("ratings"))
    war = _hostile_war()
    war["metadata"]["uid"] = "uid-ec2"
    fake_kube.add(war)
    fake_kube.add(_event(f"lost{RED} the agent\x1b[0m\r\x9b"))
    ecs = f.ecs("123456789012", "us-east-1a", "bookinfo", "3a151358f03a4e32bf8cd401c1c74653")
    fake_kube.add(f.war(ECS, group="ratings", identity=ecs, ip="10.10.4.19"))
    istiod = FakeIstiod(fake_kube)
    istiod.connect(f"{ECS}.bookinfo", istio_version=f"1.24.1{RED}", cluster="east\x07\x9b")
    yield istiod
    istiod.close()


LIST_WIDE = f"""\
NAME{" " * 84}GROUP     PLATFORM   INSTANCE                                    ZONE         IP           AGENT CONNECTED   UP-TO-DATE   AGE    ACCOUNT        REGION      AGENT          ISTIO                       CONNECTED TO
{ECS}   ratings   ecs        bookinfo/3a151358f03a4e32bf8cd401c1c74653   us-east-1a   10.10.4.19   True              Yes          120m   123456789012   us-east-1   v1.4.0         1.9.8-15bc6e5e32/default    onboarding-plane-745bf76677-974tq
{EC2}{" " * 25}ratings   ec2        i-1234567890abcdef0                         us-east-2b   10.0.2.45    False (3m left)   Yes          120m   123456789012   us-east-2   v1.4.0^[[31m   1.9.8^[]0;owned^G/default   <none>
"""  # noqa: E501


def test_list_wide_escapes_what_the_agent_registered(
    hostile: FakeIstiod, war_inproc: InProc
) -> None:
    r = war_inproc("list", "-n", "bookinfo", "-o", "wide", "--proxy-status", "none")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == LIST_WIDE


def test_watch_lines_are_escaped_like_the_table(
    hostile: FakeIstiod, fake_kube: FakeKube, kubectl_bin: str, kube_env: dict[str, str]
) -> None:
    env = dict(kube_env, KUBECTL_WAR_NOW=FIXED_NOW)
    argv = [kubectl_bin, "war", "list", "-n", "bookinfo", "-w", "--proxy-status", "none"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        table = [proc.stdout.readline() for _ in range(3)]  # the header and two WARs
        assert table[0].startswith("NAME ")

        def lose(war: dict) -> None:
            war["spec"]["registration"]["host"]["addresses"][0]["ip"] = f"10.0.0.9{TITLE}"

        fake_kube.update("workloadautoregistrations", "bookinfo", ECS, lose)
        timer = threading.Timer(60, proc.kill)  # a missing line fails, never hangs
        timer.start()
        line = proc.stdout.readline()
        timer.cancel()
    finally:
        proc.terminate()
        proc.wait(10)
    assert f.cells(line)[5] == "10.0.0.9^[]0;owned^G"


DESCRIBE = f"""\
Name:         {EC2}
Namespace:    bookinfo
Labels:       app=ratings^[[31m
              tier=back\\rend
Annotations:  note=bell^G c1\\x9b del^? nul^@ tab\\tnl\\nend
API Version:  runtime.onboarding.tetrate.io/v1alpha1
Kind:         WorkloadAutoRegistration
Created:      2024-05-16T10:00:00Z (120m ago)
UID:          uid-ec2
Identity:
  Platform:     AWS EC2
  Partition:    aws
  Account:      123456789012
  Region:       us-east-2
  Zone:         us-east-2b
  Instance ID:  i-1234567890abcdef0
  Source:       spec.identity (verified by the onboarding endpoint)
Workload Group:
  Name:          ratings
  Exists:        Yes
  Spec Changed:  2024-05-01T00:00:00Z (15d ago)
  Up To Date:    Yes
Admitted by:  <none now>
Agent:
  Connected:     False
  Since:         2024-05-16T11:58:00Z (2m ago)
  Reason:        Lost^[[31m
  Message:       agent gone\\r^[[2Kall fine
  Version:       v1.4.0^[[31m
  Connected To:  <none>
  Removal:       3m left (grace period 5m)
Registration:
  Addresses:
    10.0.2.45 (VPC\\r)
  Connected Over:  VPC^[[31m
  Sidecar Istio:   1.9.8^[]0;owned^G (revision default)
  Workload Labels:  version=v5^[]0;owned^G
Events:
  Type     Reason           Age   From              Message
  ----     ------           ----  ----              -------
  Warning  AgentLost^[[31m  2m    onboarding-plane  lost^[[31m the agent^[[0m\\r\\x9b
"""


def test_describe_escapes_labels_registration_messages_and_events(
    hostile: FakeIstiod, war_inproc: InProc
) -> None:
    r = war_inproc("describe", "-n", "bookinfo", EC2, "--proxy-status", "none")
    assert (r.returncode, r.stderr) == (0, "")
    # Exactly describe's own lines: nothing the cluster sent starts a line of its own.
    assert r.stdout == DESCRIBE


STATUS = f"""\
WORKLOADGROUP   WARS   CONNECTED   DISCONNECTED   OUTDATED   NOT SYNCED   AGENT                          ISTIO
ratings         2      1           1 (3m left)    0          <none>       v1.4.0 (1), v1.4.0^[[31m (1)   1.9.8^[]0;owned^G (1), 1.9.8-15bc6e5e32 (1)

NAME{" " * 62}GROUP     PROBLEMS
{EC2}   ratings   disconnected (3m left)
<none>{" " * 60}ratings   no OnboardingPolicy selects it: new machines cannot join
"""  # noqa: E501


def test_status_escapes_the_agent_and_istio_versions(
    hostile: FakeIstiod, war_inproc: InProc
) -> None:
    r = war_inproc("status", "-n", "bookinfo", "--proxy-status", "none")
    assert (r.returncode, r.stderr) == (1, "")
    assert r.stdout == STATUS


PROXY_STATUS = f"""\
NAME{" " * 84}GROUP     AGENT CONNECTED   SIDECAR   ISTIOD                   VERSION        CLUSTER      CDS      LDS      EDS      RDS      ECDS
{ECS}   ratings   True              SYNCED    istiod-6f9c7d8b5-x7k2p   1.24.1^[[31m   east^G\\x9b   SYNCED   SYNCED   SYNCED   SYNCED   NOT SENT
{EC2}{" " * 25}ratings   False             <none>    <none>                   <none>         <none>       <none>   <none>   <none>   <none>   <none>
"""  # noqa: E501


def test_proxy_status_escapes_what_istiod_reported(hostile: FakeIstiod, war_inproc: InProc) -> None:
    r = war_inproc("proxy-status", "-n", "bookinfo", "-o", "wide", "--proxy-status", "istiod")
    assert (r.returncode, r.stderr) == (1, "")
    assert r.stdout == PROXY_STATUS


def test_json_keeps_the_servers_text_exactly(hostile: FakeIstiod, war_inproc: InProc) -> None:
    war = _hostile_war()
    r = war_inproc("list", "-n", "bookinfo", "-o", "json", "--proxy-status", "none")
    assert r.returncode == 0
    (listed,) = [i for i in json.loads(r.stdout)["items"] if i["metadata"]["name"] == EC2]
    assert listed["metadata"]["labels"] == war["metadata"]["labels"]
    assert listed["metadata"]["annotations"] == war["metadata"]["annotations"]
    assert listed["spec"]["registration"] == war["spec"]["registration"]
    assert listed["status"]["conditions"] == war["status"]["conditions"]
    r = war_inproc("proxy-status", "-n", "bookinfo", "-o", "json", "--proxy-status", "istiod")
    (ecs,) = [e for e in json.loads(r.stdout)["items"] if e["name"] == ECS]
    assert (ecs["sidecar"]["istioVersion"], ecs["sidecar"]["cluster"]) == (
        f"1.24.1{RED}",
        "east\x07\x9b",
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain", "plain"),
        ("", ""),
        ("é ünïcode ✓", "é ünïcode ✓"),
        ("\x1b[31mred\x1b[0m", "^[[31mred^[[0m"),
        ("a\rb", "a\\rb"),
        ("a\nb\tc", "a\\nb\\tc"),
        ("\x00\x07\x08\x1f\x7f", "^@^G^H^_^?"),
        ("\x80\x9b\x9f", "\\x80\\x9b\\x9f"),
        ("\u00a0", "\u00a0"),  # not printable to Python, harmless to a terminal: kept
    ],
)
def test_terminal_safe_forms(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown
    assert terminal_safe(shown) == shown  # escaping twice changes nothing


def test_a_table_aligns_escaped_cells_by_their_shown_width() -> None:
    table = Table(["name", "value"])
    assert table.render([["a\x1b[1m", "x"], ["bb", "y"]]) == (
        "NAME     VALUE\na^[[1m   x\nbb       y\n"
    )


def test_rollout_lines_and_live_view_escape_members_and_details() -> None:
    import io

    from rich.console import Console

    from kubectl_war.rollout import progress as pr
    from kubectl_war.rollout import view
    from kubectl_war.rollout.plan import Batch, GroupPlan, MaxUnavailable, Member, Plan

    member = Member("bookinfo", EC2, "uid-ec2", f"us-east-2b{RED}", "i-1\r", "No")
    gp = GroupPlan("bookinfo", "ratings", 1, 1, [Batch(1, (member,))], [])
    failed = pr.Event("state", gp, gp.batches[0], EC2, pr.FAILED, f"forbidden{RED}\nby policy")
    lines = io.StringIO()
    view.LineReporter(lines)(failed)
    assert lines.getvalue() == f"{EC2}: delete failed: forbidden^[[31m\\nby policy\n"

    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None, force_terminal=False)
    live = view.LiveReporter(Plan([gp], MaxUnavailable(1, False)), console, clock=lambda: 0.0)
    live(pr.Event("group", gp))
    live(pr.Event("batch", gp, gp.batches[0], count=1))
    live(failed)
    console.print(live)
    text = out.getvalue()
    assert "\x1b" not in text and "\r" not in text
    assert f"{EC2}: delete failed: forbidden^[[31m\\nby policy" in text
    assert "us-east-2b^[[31m" in text and "i-1\\r" in text
