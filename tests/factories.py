"""Hand-made test data for exact-output tests: WorkloadAutoRegistrations, WorkloadGroups,
the example WAR names, kubeconfig files, and the small helpers many test modules share."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

import yaml

from kubectl_war.kube.requests import Resource
from tests import inproc

WAR_API = "runtime.onboarding.tetrate.io/v1alpha1"
WG_API = "networking.istio.io/v1beta1"

#: The WAR resource as the request builders take it (spelled out, not the client's discovery).
WAR_RESOURCE = Resource(
    "runtime.onboarding.tetrate.io",
    "v1alpha1",
    "workloadautoregistrations",
    "WorkloadAutoRegistration",
)

#: What the ``run_war`` and ``run_kubectl`` fixtures are.
Run = Callable[..., subprocess.CompletedProcess[str]]
#: ``war_inproc``: the same run in the test's own process (tests/inproc.py).
InProc = Callable[..., inproc.Ran]

# The example WAR names, one of each platform (the names the onboarding endpoint gives).
EC2 = "ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0"
ECS = "ratings-aws-aws-123456789012-us-east-1a-ecs-bookinfo-3a151358f03a4e32bf8cd401c1c74653"
JWT = "ratings-jwt-my-corp--vm007-datacenter1-us-east.internal.corp"
CN = "ledger-aws-aws-cn-987654321098-cn-north-1a-ec2-i-0123456789abcdef1"
# EC2's neighbours in the other zones of us-east-2, for tests that want several EC2 WARs.
EC2_2A = "ratings-aws-aws-123456789012-us-east-2a-ec2-i-0a1b2c3d4e5f60718"
EC2_2C = "ratings-aws-aws-123456789012-us-east-2c-ec2-i-0f9e8d7c6b5a43210"


def ec2(partition: str, account: str, zone: str, instance: str) -> dict[str, Any]:
    region = zone[:-1]
    return {
        "aws": {
            "partition": partition,
            "account": account,
            "region": region,
            "zone": zone,
            "ec2": {"instanceId": instance},
        }
    }


def ecs(account: str, zone: str, cluster: str, task: str) -> dict[str, Any]:
    return {
        "aws": {
            "partition": "aws",
            "account": account,
            "region": zone[:-1],
            "zone": zone,
            "ecs": {"taskId": task, "cluster": cluster},
        }
    }


def jwt(subject: str, **attributes: str) -> dict[str, Any]:
    return {
        "jwt": {
            "issuer": "https://issuer.internal.corp",
            "subject": subject,
            "attributes": attributes,
        }
    }


def war(
    name: str,
    namespace: str = "bookinfo",
    *,
    group: str | None = None,
    group_uid: str | None = None,
    identity: dict[str, Any] | None = None,
    created: str = "2024-05-16T10:00:00Z",
    connected: str | None = "True",
    since: str = "2024-05-16T10:00:05Z",
    ip: str | None = "10.0.0.1",
    agent: str = "v1.4.0",
    istio: str = "1.9.8-15bc6e5e32",
    revision: str | None = None,
    labels: dict[str, str] | None = None,
    uid: str | None = None,
) -> dict[str, Any]:
    """A WAR as the onboarding endpoint writes it; `connected=None` leaves out status."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "creationTimestamp": created}
    if uid:
        meta["uid"] = uid
    if labels:
        meta["labels"] = labels
    if group:
        meta["ownerReferences"] = [
            {
                "apiVersion": WG_API,
                "kind": "WorkloadGroup",
                "name": group,
                "uid": group_uid or f"uid-wg-{namespace}-{group}",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    istio_block: dict[str, Any] = {"version": istio}
    if revision:
        istio_block["revision"] = revision
    registration: dict[str, Any] = {
        "agent": {"version": agent},
        "sidecar": {"istio": istio_block},
        "settings": {"connectedOver": "VPC"},
        "workload": {"labels": {"version": "v5"}},
    }
    if ip:
        registration["host"] = {"addresses": [{"ip": ip, "type": "VPC"}]}
    obj: dict[str, Any] = {
        "apiVersion": WAR_API,
        "kind": "WorkloadAutoRegistration",
        "metadata": meta,
        "spec": {"registration": registration},
    }
    if identity is not None:
        obj["spec"]["identity"] = identity
    if connected is not None:
        status: dict[str, Any] = {
            "observedGeneration": 1,
            "conditions": [
                {
                    "type": "AgentConnected",
                    "status": connected,
                    "reason": "AgentEstablishedConnection" if connected == "True" else "Lost",
                    "lastTransitionTime": since,
                }
            ],
        }
        if connected == "True":
            status["activeAgentConnection"] = {"connectedTo": "onboarding-plane-745bf76677-974tq"}
        obj["status"] = status
    return obj


def ns(name: str) -> dict[str, Any]:
    """A Namespace object."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def too_old(rv: str) -> dict[str, Any]:
    """The Status a watch ends with when resourceVersion `rv` has been compacted away."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"too old resource version: {rv} ({int(rv) + 1})",
        "reason": "Expired",
        "code": 410,
    }


def workload_group(
    name: str,
    namespace: str = "bookinfo",
    *,
    created: str = "2024-05-01T00:00:00Z",
    spec_changed: str | None = None,
    generation: int | None = None,
    managed_fields: bool = True,
    uid: str | None = None,
) -> dict[str, Any]:
    """A WorkloadGroup whose spec last changed at `spec_changed` (None: never changed)."""
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": uid or f"uid-wg-{namespace}-{name}",
        "creationTimestamp": created,
        "generation": generation or (2 if spec_changed else 1),
    }
    if managed_fields:
        entries = [
            {
                "manager": "kubectl-client-side-apply",
                "operation": "Update",
                "apiVersion": WG_API,
                "time": created,
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}, "f:spec": {".": {}}},
            }
        ]
        if spec_changed:
            entries.append(
                {
                    "manager": "tsb-gitops",
                    "operation": "Update",
                    "apiVersion": WG_API,
                    "time": spec_changed,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:template": {"f:serviceAccount": {}}}},
                }
            )
        meta["managedFields"] = entries
    else:
        meta["managedFields"] = []  # none recorded (the fake server would otherwise make one)
    return {
        "apiVersion": WG_API,
        "kind": "WorkloadGroup",
        "metadata": meta,
        "spec": {"template": {"serviceAccount": name}},
    }


# ---- the example WARs, as the list, describe and fleet tests see them -----------------------
# Each fixes the WAR's name, group and identity and what every user of it shares; keyword
# arguments are passed on to `war` and win over those.


def ec2_war(**kw: Any) -> dict[str, Any]:
    """EC2 in bookinfo/ratings, connected since 10:00:05, at 172.31.5.254."""
    identity = ec2("aws", "123456789012", "us-east-2b", "i-1234567890abcdef0")
    return war(EC2, **{"group": "ratings", "identity": identity, "ip": "172.31.5.254", **kw})


def ecs_war(**kw: Any) -> dict[str, Any]:
    """ECS in bookinfo/ratings, created at 11:30, disconnected at 11:56:40."""
    identity = ecs("123456789012", "us-east-1a", "bookinfo", "3a151358f03a4e32bf8cd401c1c74653")
    kw = {"group": "ratings", "connected": "False", "since": "2024-05-16T11:56:40Z", **kw}
    return war(ECS, **{"identity": identity, "created": "2024-05-16T11:30:00Z", **kw})


def jwt_war(**kw: Any) -> dict[str, Any]:
    """JWT in bookinfo (no group unless given), created at 11:59."""
    identity = jwt("vm007-datacenter1-us-east.internal.corp", region="us-east")
    return war(JWT, **{"identity": identity, "created": "2024-05-16T11:59:00Z", **kw})


def cn_war(**kw: Any) -> dict[str, Any]:
    """CN in payments/ledger, created three days before the fixed clock, at 172.31.5.10."""
    identity = ec2("aws-cn", "987654321098", "cn-north-1a", "i-0123456789abcdef1")
    kw = {"group": "ledger", "ip": "172.31.5.10", **kw}
    return war(CN, "payments", **{"identity": identity, "created": "2024-05-13T12:00:00Z", **kw})


# ---- kubeconfigs and ports --------------------------------------------------------------------


def kubeconfig_file(
    path: Path,
    server: str,
    *,
    context: str = "c",
    cluster: str = "c",
    user: str = "u",
    namespace: str | None = None,
    credentials: dict[str, Any] | None = None,
    certificate_authority: str | None = None,
) -> str:
    """A kubeconfig with one context (its current one) for `server`; the user's entry is
    `credentials` (a token "t" unless given), the cluster trusts `certificate_authority`
    (a CA file, for an https server). Returns its path."""
    ctx: dict[str, Any] = {"cluster": cluster, "user": user}
    if namespace is not None:
        ctx["namespace"] = namespace
    entry: dict[str, Any] = {"server": server}
    if certificate_authority:
        entry["certificate-authority"] = certificate_authority
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": context,
        "clusters": [{"name": cluster, "cluster": entry}],
        "contexts": [{"name": context, "context": ctx}],
        "users": [{"name": user, "user": {"token": "t"} if credentials is None else credentials}],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    return str(path)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- raw API requests ----------------------------------------------------------------------

# Straight to the loopback server, whatever proxy the environment names.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(
    fake: Any,
    method: str,
    path: str,
    token: str | None = None,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> tuple[int, Any]:
    """One HTTP request to a FakeKube (as `token`'s bearer when given); returns the status
    and the parsed JSON body."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(fake.url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with _OPENER.open(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


# ---- what a rollout deleted ----------------------------------------------------------------


class Batches:
    """The WARs a rollout deleted, batch by batch: equal to a list of names whose first
    ``len(batches[0])`` names are the first batch in any order, the next ones the second
    batch, and so on, with nothing after the last. A batch's DELETEs go out concurrently,
    so their order is not the rollout's to keep; the order of the batches is.

    ``assert plane.deleted() == Batches([A1, B1], [C1])``
    """

    def __init__(self, *batches: Sequence[str]) -> None:
        self.batches = [sorted(batch) for batch in batches]

    def split(self, names: Sequence[str]) -> list[list[str]]:
        """`names` cut into batches of this one's sizes (any rest as one more batch)."""
        out, at = [], 0
        for batch in self.batches:
            out.append(sorted(names[at : at + len(batch)]))
            at += len(batch)
        if at < len(names):
            out.append(sorted(names[at:]))
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (list, tuple)):
            return NotImplemented
        return len(other) == sum(map(len, self.batches)) and self.split(other) == self.batches

    def __repr__(self) -> str:
        return "Batches(" + ", ".join(repr(b) for b in self.batches) + ")"


def wait_until(what: Callable[[], Any], timeout: float = 60.0, why: str = "") -> Any:
    """Poll `what` until it answers something true, and answer that. The deadline only
    catches a real hang: on a loaded machine the wait may be long, never wrong."""
    deadline = time.monotonic() + timeout
    while True:
        got = what()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out after {timeout:g}s waiting: {why or what}"
        time.sleep(0.01)


# ---- commands left running ------------------------------------------------------------------


class Lines:
    """A stream read line by line in a thread of its own, so that a test can wait for a
    line (the event it synchronises on) and still take the whole output at the end."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._ended = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        try:
            for line in stream:
                with self._changed:
                    self.lines.append(line)
                    self._changed.notify_all()
        finally:
            with self._changed:
                self._ended = True
                self._changed.notify_all()

    def wait_for(self, line: str, timeout: float = 60.0) -> None:
        """Wait until `line` (without its newline) has been read; fail at the deadline,
        which only a hang reaches, or when the stream ends without it."""
        want = line + "\n"
        with self._changed:
            ok = self._changed.wait_for(lambda: want in self.lines or self._ended, timeout)
            assert ok and want in self.lines, f"never printed {line!r}; got {self.text()!r}"

    def wait_for_lines(self, count: int, timeout: float = 60.0) -> None:
        """Wait until `count` lines have been read (or the stream ends)."""
        with self._changed:
            ok = self._changed.wait_for(lambda: len(self.lines) >= count or self._ended, timeout)
            assert ok and len(self.lines) >= count, f"got only {self.text()!r}"

    def text(self) -> str:
        return "".join(self.lines)

    def rest(self, timeout: float = 60.0) -> str:
        """Everything, once the stream has ended."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"still open after {timeout:g}s: {self.text()!r}"
        return self.text()


class Spawned:
    """A command running in the background, its stdout and stderr read as `Lines`.

    ``with Spawned(argv, env) as cmd: cmd.stdout.wait_for(...); code, out, err = cmd.end()``
    """

    def __init__(self, argv: Sequence[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            list(argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.stdout = Lines(self.proc.stdout)
        self.stderr = Lines(self.proc.stderr)

    def end(self, timeout: float = 60.0) -> tuple[int, str, str]:
        """Wait for it to exit: its exit code, stdout and stderr."""
        code = self.proc.wait(timeout)
        return code, self.stdout.rest(timeout), self.stderr.rest(timeout)

    def __enter__(self) -> Spawned:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for lines, stream in ((self.stdout, self.proc.stdout), (self.stderr, self.proc.stderr)):
            lines._thread.join(10)
            if stream is not None and not lines._thread.is_alive():
                stream.close()


# ---- reading tables -----------------------------------------------------------------------


def cells(line: str) -> list[str]:
    """A table line's cells (columns are three or more spaces apart; cells hold at most one)."""
    return re.split(r" {3,}", line.strip())


def on_terminal(argv: list[str], env: dict[str, str], answers: list[str]) -> tuple[int, str]:
    """Run with a pseudo-terminal as stdin, stdout and stderr; answer each question asked
    (kubectl's `(y/N): ` or `(y/N/a): `) with the next of `answers`."""
    import os
    import pty
    import select
    import time

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=dict(env, TERM="xterm", COLUMNS="200", LINES="50"),
        close_fds=True,
    )
    os.close(slave)
    out = b""
    asked = 0
    deadline = time.monotonic() + 120  # only a hang reaches it
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            questions = out.count(b"(y/N): ") + out.count(b"(y/N/a): ")
            if questions > asked and asked < len(answers):
                os.write(master, answers[asked].encode() + b"\n")
                asked += 1
            if proc.poll() is not None and not ready:
                break
        return proc.wait(timeout=60), out.decode("utf-8", "replace").replace("\r\n", "\n")
    finally:
        proc.kill()
        os.close(master)


def admit_wars(fake: Any) -> None:
    """OnboardingPolicies admitting the WARs a FakeKube holds (one per namespace), as a
    real cluster's WARs were admitted by some policy."""
    from tests.fakekube.fleet import admitting_policies

    fake.add_all(admitting_policies(fake.clock(), fake.objects("workloadautoregistrations")))
