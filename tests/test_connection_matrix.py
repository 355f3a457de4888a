"""Every connection flag reaches the cluster it names, as the user it names.

Two API servers, each over TLS with its own CA: `a`, whose kubeconfig user has a bearer
token, and `b`, whose kubeconfig user authenticates with a client certificate.
KUBECONFIG lists two files: the first holds context `a` (current) and the clusters and
users below, the second context `b`. For every command that talks to a cluster and
every connection flag, the servers' own request records say which server got the
requests, with which credentials, impersonation and client certificate, and that the
other got none.
`kubectl get war` run with the same flags must reach the same server as the same
identity.

Commands run in-process (the same code path as the installed plugin, without a
process start per cell); `list -w` and `kubectl get` run as processes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import inproc
from tests.conftest import FIXED_NOW
from tests.fakekube import Clock, FakeKube, RecordedRequest
from tests.fakekube.istiod import FakeIstiod
from tests.fakekube.onboarding import rollout_fleet
from tests.fakekube.tls import CLIENT_USER

P = "ratings-aws-aws-123456789012-"
A1 = P + "us-east-2a-ec2-i-a1"
TOKEN_A = "token-a"
TOKEN_X = "token-x"


@dataclass(frozen=True)
class Identity:
    """Who a request said it was: its bearer token, impersonation and client certificate."""

    authorization: str | None
    impersonation: tuple[tuple[str, str], ...]
    client_cert: str | None


def identity(r: RecordedRequest) -> Identity:
    # Header names are case-insensitive and their order carries no meaning (kubectl
    # sends them in another order than the plugin).
    imp = tuple(
        sorted((k.lower(), v) for k, v in r.header_list if k.lower().startswith("impersonate-"))
    )
    return Identity(r.header("Authorization"), imp, r.client_cert)


@dataclass
class World:
    a: FakeKube
    b: FakeKube
    home: Path
    first: Path
    second: Path
    untrusted: Path

    def servers(self) -> dict[str, FakeKube]:
        return {"a": self.a, "b": self.b}

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
        env.update(
            HOME=str(self.home),
            KUBECONFIG=os.pathsep.join([str(self.first), str(self.second)]),
            KUBECTL_WAR_NOW=FIXED_NOW,
            KUBECTL_WAR_STATE_DIR=str(self.home / "state"),
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        env.pop("NO_COLOR", None)
        return env

    def clear(self) -> None:
        self.a.clear_requests()
        self.b.clear_requests()


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    clock = Clock(FIXED_NOW)
    # kubectl sends no bearer token over plain HTTP: both servers speak TLS.
    a = FakeKube(clock=clock, token=TOKEN_A, tls=True).start()
    b = FakeKube(clock=clock, tls=True).start()
    a.add_user(TOKEN_X, "x-user")
    istiods = []
    for fake in (a, b):
        fake.add_all(rollout_fleet(fake.clock(), per_zone=1, zones=("us-east-2a", "us-east-2b")))
        istiod = FakeIstiod(fake, replicas=1)
        istiod.connect(f"{A1}.bookinfo", replica=0)
        istiods.append(istiod)
    d = tmp_path_factory.mktemp("matrix")
    (d / "home").mkdir()
    assert b.ca_file and b.client_cert_file and b.client_key_file
    user_b = {"client-certificate": b.client_cert_file, "client-key": b.client_key_file}
    first = _write(
        d / "first",
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "a",
            "clusters": [
                {"name": "a", "cluster": {"server": a.url, "certificate-authority": a.ca_file}},
                {"name": "b", "cluster": {"server": b.url, "certificate-authority": b.ca_file}},
                {"name": "b-untrusted", "cluster": {"server": b.url}},
            ],
            "users": [{"name": "a", "user": {"token": TOKEN_A}}, {"name": "b", "user": user_b}],
            "contexts": [
                {"name": "a", "context": {"cluster": "a", "user": "a"}},
                {"name": "b-untrusted", "context": {"cluster": "b-untrusted", "user": "b"}},
            ],
        },
    )
    second = _write(
        d / "second",
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "b",
            "clusters": [
                {"name": "b", "cluster": {"server": b.url, "certificate-authority": b.ca_file}}
            ],
            "users": [{"name": "b", "user": user_b}],
            "contexts": [{"name": "b", "context": {"cluster": "b", "user": "b"}}],
        },
    )
    try:
        yield World(a, b, d / "home", first, second, d / "untrusted")
    finally:
        for istiod in istiods:
            istiod.close()
        a.stop()
        b.stop()


@dataclass(frozen=True)
class Case:
    """A set of connection flags, and where and as whom they must send every request."""

    id: str
    flags: tuple[str, ...]
    server: str  # "a" or "b"
    who: Identity
    kubectl: bool = True  # kubectl get takes the same flags


TOKEN_A_ID = Identity(f"Bearer {TOKEN_A}", (), None)
CERT_ID = Identity(None, (), CLIENT_USER)


def cases(w: World) -> list[Case]:
    b = w.b
    assert b.ca_file and b.client_cert_file and b.client_key_file
    imp = (
        ("impersonate-extra-example.com%2fscope", "read"),
        ("impersonate-group", "g1"),
        ("impersonate-group", "g2"),
        ("impersonate-uid", "42"),
        ("impersonate-user", "alice"),
    )
    return [
        Case("kubeconfig-current", (), "a", TOKEN_A_ID),
        Case("--kubeconfig", ("--kubeconfig", str(w.second)), "b", CERT_ID),
        Case("--context", ("--context", "b"), "b", CERT_ID),
        Case("--cluster", ("--cluster", "b"), "b", TOKEN_A_ID),
        Case("--user", ("--context", "b", "--user", "a"), "b", TOKEN_A_ID),
        Case(
            "-s/--certificate-authority",
            ("-s", b.url, "--certificate-authority", b.ca_file),
            "b",
            TOKEN_A_ID,
        ),
        Case("--server", ("--server", b.url, "--insecure-skip-tls-verify"), "b", TOKEN_A_ID),
        Case("--token", ("--token", TOKEN_X), "a", Identity(f"Bearer {TOKEN_X}", (), None)),
        Case(
            "--as/--as-group/--as-uid/--as-user-extra",
            (
                "--as",
                "alice",
                "--as-group",
                "g1",
                "--as-group",
                "g2",
                "--as-uid",
                "42",
                "--as-user-extra",
                "example.com/scope=read",
            ),
            "a",
            Identity(f"Bearer {TOKEN_A}", imp, None),
        ),
        Case(
            "--client-certificate/--client-key",
            (
                "--context",
                "b",
                "--user",
                "a",
                "--client-certificate",
                b.client_cert_file,
                "--client-key",
                b.client_key_file,
            ),
            "b",
            Identity(f"Bearer {TOKEN_A}", (), CLIENT_USER),
        ),
        Case(
            "--insecure-skip-tls-verify",
            ("--context", "b-untrusted", "--insecure-skip-tls-verify"),
            "b",
            CERT_ID,
        ),
        Case(
            "--tls-server-name", ("--context", "b", "--tls-server-name", "localhost"), "b", CERT_ID
        ),
        Case("--request-timeout", ("--request-timeout", "20s"), "a", TOKEN_A_ID),
        Case("-n", ("-n", "bookinfo"), "a", TOKEN_A_ID),
        Case("--disable-compression", ("--disable-compression",), "a", TOKEN_A_ID),
    ]


# Each command that talks to a cluster, as (words before the flags, words after them).
COMMANDS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("list", ("list", "-o", "name"), ()),
    ("list --sync", ("list", "--sync", "--proxy-status", "istiod"), ()),
    ("describe", ("describe", "-n", "bookinfo", A1), ()),
    ("delete", ("delete", "-n", "bookinfo", A1, "--dry-run=server"), ()),
    ("status", ("status",), ()),
    ("proxy-status", ("proxy-status", "--proxy-status", "istiod"), ()),
    ("rollout", ("rollout", "ratings", "-n", "bookinfo", "--dry-run"), ()),
    ("rollout status", ("rollout", "status", "ratings", "-n", "bookinfo"), ()),
    ("completion", ("__complete", "describe", "-n", "bookinfo"), ("",)),
]


def run_inproc(w: World, argv: list[str]) -> inproc.Ran:
    """`kubectl-war ARGV` in this process (tests/inproc.py), with the world's environment."""
    return inproc.run(argv, w.env())


def _reached(w: World, case: Case) -> list[RecordedRequest]:
    """The requests of the server the case names, after checking the other got none."""
    other = "b" if case.server == "a" else "a"
    stray = [(r.method, r.path) for r in w.servers()[other].requests]
    assert stray == [], f"{case.id}: server {other} got requests"
    got = list(w.servers()[case.server].requests)
    assert got, f"{case.id}: server {case.server} got no request"
    return got


@pytest.mark.parametrize("name", [c[0] for c in COMMANDS])
def test_every_flag_reaches_the_server_it_names_as_the_identity_it_names(
    world: World, name: str
) -> None:
    _, before, after = next(c for c in COMMANDS if c[0] == name)
    expected_codes: set[int] = set()
    for case in cases(world):
        world.clear()
        done = run_inproc(world, [*before, *case.flags, *after])
        assert "Traceback" not in done.stderr and "error:" not in done.stderr, (case.id, done)
        if case.id != "-n":  # -n looks in another namespace than the context's
            expected_codes.add(done.returncode)
        got = _reached(world, case)
        assert {identity(r) for r in got} == {case.who}, case.id
        if "-n" in case.flags:
            assert all("/namespaces/bookinfo/" in r.path for r in got if "workloadauto" in r.path)
        if case.id == "--disable-compression":
            assert {r.header("Accept-Encoding") for r in got} <= {None, "identity"}
    # Every cell agreed on the outcome (rollout status exits 1 while WARs are outdated).
    assert len(expected_codes) == 1, expected_codes


def test_list_watch_reaches_the_server_it_names(world: World, tmp_path: Path) -> None:
    """`list -w` keeps a watch open: run as a process, stopped once the watch is there."""
    for case in cases(world):
        if case.id == "-n":
            continue  # -A below looks in every namespace
        world.clear()
        proc = subprocess.Popen(
            [sys.executable, "-m", "kubectl_war", "list", "-A", "-w", *case.flags],
            env=world.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("NAMESPACE"), case.id
            server = world.servers()[case.server]
            _wait_for(lambda s=server: any("watch" in r.query for r in s.requests), proc)
        finally:
            proc.kill()
            proc.communicate(timeout=60)
        got = _reached(world, case)
        assert {identity(r) for r in got} == {case.who}, case.id


def _wait_for(cond: Any, proc: subprocess.Popen[str]) -> None:
    """Until `cond()`; fails when the process ended first. The server's record is the
    event: the wait ends as soon as it shows the request, however slow the machine."""
    import time

    deadline = time.monotonic() + 120  # only a hang reaches this
    while not cond():
        assert proc.poll() is None, "the process ended before the request arrived"
        assert time.monotonic() < deadline, "no watch request within 120 s"
        time.sleep(0.02)


def test_kubectl_get_reaches_the_same_server_as_the_same_identity(
    world: World, kubectl_bin: str
) -> None:
    for case in cases(world):
        if not case.kubectl:
            continue
        world.clear()
        ours = run_inproc(world, ["list", "-A", "-o", "name", *case.flags])
        assert ours.returncode == 0, (case.id, ours)
        ours_id = {identity(r) for r in _reached(world, case)}
        world.clear()
        theirs = subprocess.run(
            [kubectl_bin, "get", "war", "-A", "-o", "name", *case.flags],
            env=world.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert theirs.returncode == 0, (case.id, theirs.stderr)
        assert theirs.stdout == ours.stdout, case.id
        assert {identity(r) for r in _reached(world, case)} == ours_id, case.id


def test_server_flag_reaches_only_the_named_server_even_with_a_token_user(world: World) -> None:
    """The kubeconfig user has a token (whose refresh once rewrote the server): -s wins."""
    world.clear()
    flags = ("-s", world.b.url, "--certificate-authority", str(world.b.ca_file))
    done = run_inproc(world, ["delete", "-n", "bookinfo", A1, *flags, "--dry-run=server"])
    assert done.returncode == 0, done
    got = _reached(world, Case("-s", flags, "b", TOKEN_A_ID))
    assert [(r.method, r.query.get("dryRun")) for r in got if r.method == "DELETE"] == [
        ("DELETE", ["All"])
    ]


# ---- errors that name the real cause ------------------------------------------------------


def test_a_host_that_does_not_resolve_says_so(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "api.nowhere.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    done = run_inproc(world, ["list", "-s", "https://api.nowhere.example:6443"])
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "error: dial tcp: lookup api.nowhere.example: no such host (the server "
        "https://api.nowhere.example:6443 has no address: is the name right, and reachable "
        "from here?)\n"
    )


def test_a_certificate_for_another_name_says_so(world: World) -> None:
    done = run_inproc(world, ["list", "--context", "b", "--tls-server-name", "wrong.example"])
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "error: tls: failed to verify certificate: x509: certificate is not valid for "
        f"wrong.example (the server at {world.b.url}; --tls-server-name or the kubeconfig's "
        "tls-server-name names the name to check)\n"
    )


def test_an_unknown_authority_says_so(world: World) -> None:
    done = run_inproc(world, ["list", "--context", "b-untrusted"])
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "error: tls: failed to verify certificate: x509: certificate signed by unknown "
        f"authority (the server at {world.b.url}; trust its CA with --certificate-authority "
        "or the kubeconfig's certificate-authority)\n"
    )


def test_refused_and_timed_out_each_have_their_own_words(world: World) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        done = run_inproc(world, ["list", "-s", url, "--request-timeout", "1s"])
    assert done.stderr == f"error: timed out after 1s waiting for the API server at {url}\n"
    done = run_inproc(world, ["list", "-s", url])  # the port is closed now
    assert done.stderr == (
        f"error: the connection to the server {url} was refused - "
        "did you specify the right host or port?\n"
    )


# ---- kubectl's global flags the plugin does not honour --------------------------------------


@pytest.mark.parametrize(
    "flag",
    [
        ("--username", "u"),
        ("--password", "p"),
        ("--cache-dir", "/tmp/x"),
        ("--kuberc", "/tmp/k"),
        ("--match-server-version",),
        ("--warnings-as-errors",),
        ("--profile", "cpu"),
        ("--profile-output", "x.pprof"),
        ("-v", "6"),
        ("--v=6",),
        ("--vmodule", "x=2"),
        ("--log-flush-frequency", "5s"),
    ],
    ids=lambda f: f[0],
)
def test_a_kubectl_global_flag_the_plugin_does_not_support_is_refused_by_name(
    world: World, flag: tuple[str, ...]
) -> None:
    world.clear()
    done = run_inproc(world, ["list", *flag])
    name = flag[0].partition("=")[0]
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith(
        f"error: {name} is a kubectl flag that kubectl war does not support: "
    ), done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert world.a.requests == [] and world.b.requests == []


def test_tokens_never_leave_in_output(world: World) -> None:
    done = run_inproc(world, ["list", "--token", TOKEN_X, "--debug"])
    assert TOKEN_X not in done.stdout + done.stderr
