"""Credentials go only over https, as kubectl sends them.

client-go applies a kubeconfig user's credentials only when the transport is TLS: to a
plain http API server kubectl sends no `Authorization` header, runs no exec plugin and
refreshes no OIDC token, while impersonation headers still go. kubectl war does the
same, judged from the server's own request record beside the pinned kubectl, and a 401
then says why.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from tests import factories as f
from tests.factories import EC2, Run
from tests.fakekube import Clock, FakeKube

Env = Callable[..., dict[str, str]]
TOKEN = "t0ken"
NAME_LINE = f"workloadautoregistration.runtime.onboarding.tetrate.io/{EC2}\n"


@pytest.fixture
def plain(kube_clock: Clock) -> Iterator[FakeKube]:
    """A plain http API server that takes only the bearer token TOKEN."""
    with FakeKube(clock=kube_clock, token=TOKEN) as fake:
        fake.add(f.ec2_war())
        yield fake


@pytest.fixture
def open_plain(kube_clock: Clock) -> Iterator[FakeKube]:
    """A plain http API server that asks for no credentials."""
    with FakeKube(clock=kube_clock) as fake:
        fake.add(f.ec2_war())
        yield fake


@pytest.fixture
def secured(kube_clock: Clock) -> Iterator[FakeKube]:
    """An https API server that takes only the bearer token TOKEN."""
    with FakeKube(clock=kube_clock, token=TOKEN, tls=True) as fake:
        fake.add(f.ec2_war())
        yield fake


def _identities(fake: FakeKube) -> set[tuple[Any, ...]]:
    """What each request the server got since the last call said about who sent it: its
    Authorization header and its Impersonate-* headers (a group's order kept)."""
    fake.wait_idle()
    seen = set()
    for req in fake.requests:
        imp = [(k.lower(), v) for k, v in req.header_list if k.lower().startswith("impersonate-")]
        seen.add((req.header("Authorization"), tuple(sorted(imp, key=lambda kv: kv[0]))))
    assert fake.requests, "the server got no request"
    fake.clear_requests()
    return seen


def _unsent(context: str, url: str) -> str:
    return (
        "error: You must be logged in to the server (Unauthorized): the credentials of "
        f'context "{context}" were not sent (credentials are sent only over https; the '
        f"server is {url})\n"
    )


def _kubectl(kubectl_bin: str, env: dict[str, str], *args: str) -> Any:
    """The pinned kubectl with `env` (its exit code, stdout and stderr)."""
    return subprocess.run(
        [kubectl_bin, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _list(kubeconfig: str | None = None, **conn: Any) -> list[str]:
    from kubectl_war.kube.client import Kube
    from kubectl_war.kube.config import Connection

    client = Kube(Connection(kubeconfig=kubeconfig, **conn))
    return [o["metadata"]["name"] for o in client.list(client.war_resource(), "bookinfo").items]


def test_no_token_over_http_as_kubectl(
    plain: FakeKube,
    make_kubeconfig: Callable[..., str],
    make_kube_env: Env,
    run_war: Run,
    kubectl_bin: str,
) -> None:
    """The differential: the same kubeconfig (a token, an http server), kubectl and
    kubectl war: neither sends the token, both exit 1; ours says why."""
    env = make_kube_env(make_kubeconfig(plain))
    plain.clear_requests()
    kubectl = _kubectl(kubectl_bin, env, "get", "war", "-A")
    by_kubectl = _identities(plain)
    war = run_war("list", "-A", env=env)
    assert _identities(plain) == by_kubectl == {(None, ())}
    assert (kubectl.returncode, war.returncode) == (1, 1)
    assert kubectl.stderr.endswith(
        "error: You must be logged in to the server (the server has asked for the client to "
        "provide credentials)\n"
    )
    assert (war.stdout, war.stderr) == ("", _unsent("fake", plain.url))


def test_impersonation_goes_over_http_without_the_token_as_kubectl(
    open_plain: FakeKube,
    make_kubeconfig: Callable[..., str],
    make_kube_env: Env,
    run_war: Run,
    kubectl_bin: str,
) -> None:
    env = make_kube_env(make_kubeconfig(open_plain, token=TOKEN, namespace="bookinfo"))
    flags = ("--as", "jane", "--as-group", "ops", "--as-group", "sre", "--as-uid", "42")
    open_plain.clear_requests()
    kubectl = _kubectl(kubectl_bin, env, "get", "war", "-o", "name", *flags)
    by_kubectl = _identities(open_plain)
    war = run_war("list", "-o", "name", *flags, env=env)
    imp = (
        ("impersonate-group", "ops"),
        ("impersonate-group", "sre"),
        ("impersonate-uid", "42"),
        ("impersonate-user", "jane"),
    )
    assert _identities(open_plain) == by_kubectl == {(None, imp)}
    assert (kubectl.returncode, kubectl.stdout) == (0, NAME_LINE)
    assert (war.returncode, war.stdout, war.stderr) == (0, NAME_LINE, "")


def test_debug_says_the_credentials_were_not_sent(
    plain: FakeKube, make_kubeconfig: Callable[..., str], make_kube_env: Env, run_war: Run
) -> None:
    r = run_war("list", "-A", "--debug", env=make_kube_env(make_kubeconfig(plain)))
    assert r.returncode == 1
    lines = r.stderr.splitlines(keepends=True)
    assert lines[0] == (
        f"debug: credentials not sent to {plain.url}: it is plain HTTP, and credentials are "
        "sent only over https (as kubectl does)\n"
    )
    assert lines[-1] == _unsent("fake", plain.url)
    assert _identities(plain) == {(None, ())}


def test_the_token_flag_is_not_sent_over_http(plain: FakeKube) -> None:
    from kubectl_war.kube.errors import Unauthorized

    with pytest.raises(Unauthorized) as info:
        _list(server=plain.url, token=TOKEN)
    assert info.value.message == (
        "You must be logged in to the server (Unauthorized): the given credentials were not "
        f"sent (credentials are sent only over https; the server is {plain.url})"
    )
    assert {r.header("Authorization") for r in plain.requests} == {None}


def test_credentials_follow_the_server_requests_go_to(
    open_plain: FakeKube, secured: FakeKube, make_kubeconfig: Callable[..., str]
) -> None:
    """`-s` decides: an https kubeconfig's token is not sent to the http server `-s`
    names, and an http kubeconfig's token is sent to the https server `-s` names."""
    to_secured = make_kubeconfig(secured, name="secured")
    assert _list(to_secured, server=open_plain.url) == [EC2]
    assert {r.header("Authorization") for r in open_plain.requests} == {None}
    assert secured.requests == []

    to_plain = make_kubeconfig(open_plain, token=TOKEN, name="plain")
    open_plain.clear_requests()
    assert _list(to_plain, server=secured.url, certificate_authority=secured.ca_file) == [EC2]
    assert {r.header("Authorization") for r in secured.requests} == {f"Bearer {TOKEN}"}
    assert open_plain.requests == []


def test_no_exec_plugin_runs_for_an_http_server_as_kubectl(
    open_plain: FakeKube, tmp_path: Path, make_kube_env: Env, run_war: Run, kubectl_bin: str
) -> None:
    ran = tmp_path / "ran"
    plugin = tmp_path / "get-token"
    plugin.write_text(
        f'#!/bin/sh\necho run >> "{ran}"\n'
        'echo \'{"apiVersion": "client.authentication.k8s.io/v1", '
        f'"kind": "ExecCredential", "status": {{"token": "{TOKEN}"}}}}\'\n'
    )
    plugin.chmod(0o755)
    exec_user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": str(plugin),
            "interactiveMode": "Never",
        }
    }
    kc = f.kubeconfig_file(
        tmp_path / "kc", open_plain.url, namespace="bookinfo", credentials=exec_user
    )
    env = make_kube_env(kc)
    kubectl = _kubectl(kubectl_bin, env, "get", "war", "-o", "name")
    war = run_war("list", "-o", "name", env=env, stdin=subprocess.DEVNULL)
    assert (kubectl.returncode, kubectl.stdout) == (0, NAME_LINE)
    assert (war.returncode, war.stdout, war.stderr) == (0, NAME_LINE, "")
    assert not ran.exists()
    assert _identities(open_plain) == {(None, ())}


def test_a_missing_token_file_is_not_read_for_an_http_server_as_kubectl(
    open_plain: FakeKube, tmp_path: Path, make_kube_env: Env, run_war: Run, kubectl_bin: str
) -> None:
    kc = f.kubeconfig_file(
        tmp_path / "kc", open_plain.url, namespace="bookinfo", credentials={"tokenFile": "gone"}
    )
    env = make_kube_env(kc)
    kubectl = _kubectl(kubectl_bin, env, "get", "war", "-o", "name")
    war = run_war("list", "-o", "name", env=env)
    assert (kubectl.returncode, kubectl.stdout) == (0, NAME_LINE)
    assert (war.returncode, war.stdout, war.stderr) == (0, NAME_LINE, "")


def test_no_oidc_refresh_for_an_http_server(open_plain: FakeKube, tmp_path: Path) -> None:
    import responses

    kc = tmp_path / "kc"
    f.kubeconfig_file(
        kc,
        open_plain.url,
        credentials={
            "auth-provider": {
                "name": "oidc",
                "config": {
                    "idp-issuer-url": "https://idp.example.com/realms/corp",
                    "client-id": "kubectl",
                    "id-token": "not-even-a-jwt",
                    "refresh-token": "refresh-1",
                },
            }
        },
    )
    before = kc.read_text()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as idp:
        assert _list(str(kc)) == [EC2]
        assert [c.request.url for c in idp.calls] == []
    assert kc.read_text() == before
    assert {r.header("Authorization") for r in open_plain.requests} == {None}


@pytest.mark.parametrize(
    ("server", "sends"),
    [
        ("https://127.0.0.1:6443", True),
        ("HTTPS://cluster.example.com", True),
        ("http://127.0.0.1:8080", False),
        ("127.0.0.1:6443", False),  # no scheme: http to client-go
        ("", False),
    ],
)
def test_sends_credentials_only_to_https(server: str, sends: bool) -> None:
    from kubectl_war.kube.clientconfig import sends_credentials

    assert sends_credentials(server) is sends
