"""Every way enterprise kubeconfigs authenticate, through the lazy client import: exec
plugins (ok, failing, interactive-only), OIDC refresh written back, client certificates,
tokenFile and proxy-url; each failure one `error: ...` line, as kubectl words it."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, ClassVar

import pytest
import yaml

from tests import factories as f
from tests.factories import EC2, Run
from tests.fakekube import Clock, FakeKube

NAME_LINE = f"workloadautoregistration.runtime.onboarding.tetrate.io/{EC2}\n"
Env = Callable[..., dict[str, str]]


def write_kubeconfig(
    path: Path,
    fake: FakeKube,
    user: dict[str, Any],
    *,
    cluster: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A kubeconfig whose one context reaches `fake` as user "u" with `user`'s credentials."""
    entry: dict[str, Any] = {"server": fake.url, **(cluster or {})}
    if fake.ca_file:
        entry["certificate-authority"] = fake.ca_file
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "clusters": [{"name": "c", "cluster": entry}],
        "contexts": [
            {"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "bookinfo"}}
        ],
        "users": [{"name": "u", "user": user}],
        **(extra or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)


@pytest.fixture
def secured(kube_clock: Clock) -> Iterator[FakeKube]:
    """An https API server that accepts only the token "good-token"."""
    with FakeKube(clock=kube_clock, tls=True, token="good-token") as fake:
        fake.add(f.ec2_war())
        yield fake


def plugin(tmp_path: Path, body: str) -> str:
    path = tmp_path / "get-token"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def exec_user(command: str, mode: str = "Never") -> dict[str, Any]:
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": command,
            "interactiveMode": mode,
        }
    }


def test_exec_plugin_token(secured: FakeKube, tmp_path: Path, make_kube_env: Env, run_war: Run):
    cred = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": "good-token"},
    }
    # The plugin is told what client-go tells it: the ExecCredential it must answer.
    command = plugin(
        tmp_path,
        'echo "$KUBERNETES_EXEC_INFO" > "$(dirname "$0")/info.json"\n'
        f"echo '{json.dumps(cred)}'\n",
    )
    kc = write_kubeconfig(tmp_path / "kc", secured, exec_user(command))
    r = run_war("list", "-o", "name", env=make_kube_env(kc), stdin=subprocess.DEVNULL)
    assert (r.returncode, r.stdout, r.stderr) == (0, NAME_LINE, "")
    assert json.loads((tmp_path / "info.json").read_text()) == {
        "kind": "ExecCredential",
        "apiVersion": "client.authentication.k8s.io/v1",
        "spec": {"interactive": False},
    }


def test_a_failing_exec_plugin_is_one_error_after_its_own_message(
    secured: FakeKube, tmp_path: Path, make_kube_env: Env, run_war: Run
) -> None:
    command = plugin(
        tmp_path, "echo 'the SSO session has expired: run aws sso login' >&2\nexit 3\n"
    )
    kc = write_kubeconfig(tmp_path / "kc", secured, exec_user(command))
    r = run_war("list", env=make_kube_env(kc), stdin=subprocess.DEVNULL)
    assert (r.returncode, r.stdout, r.stderr) == (
        1,
        "",
        "the SSO session has expired: run aws sso login\n"
        f"error: getting credentials: exec: executable {command} failed with exit code 3\n",
    )


@pytest.mark.parametrize(
    ("output", "error"),
    [
        ("not json", "decoding stdout: Expecting value: line 1 column 1 (char 0)"),
        (
            '{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", '
            '"status": {"token": "x"}}',
            "exec plugin is configured to use API version client.authentication.k8s.io/v1, "
            "plugin returned version client.authentication.k8s.io/v1beta1",
        ),
        (
            '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", '
            '"status": {}}',
            "exec plugin didn't return a token or cert/key pair",
        ),
    ],
)
def test_exec_plugin_answers_that_give_no_credentials(
    secured: FakeKube, tmp_path: Path, make_kube_env: Env, run_war: Run, output: str, error: str
) -> None:
    command = plugin(tmp_path, f"echo '{output}'\n")
    kc = write_kubeconfig(tmp_path / "kc", secured, exec_user(command))
    r = run_war("list", env=make_kube_env(kc), stdin=subprocess.DEVNULL)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", f"error: getting credentials: {error}\n")


def test_an_interactive_only_plugin_without_a_terminal(
    secured: FakeKube, tmp_path: Path, make_kube_env: Env, run_war: Run
) -> None:
    command = plugin(tmp_path, 'touch "$(dirname "$0")/ran"\nexit 0\n')
    kc = write_kubeconfig(tmp_path / "kc", secured, exec_user(command, mode="Always"))
    r = run_war("list", env=make_kube_env(kc), stdin=subprocess.DEVNULL)
    assert (r.returncode, r.stdout, r.stderr) == (
        1,
        "",
        "error: getting credentials: exec plugin cannot support interactive mode: standard "
        "input is not a terminal\n",
    )
    assert not (tmp_path / "ran").exists()


def test_client_certificates_present_and_missing(
    secured: FakeKube, tmp_path: Path, make_kube_env: Env, run_war: Run
) -> None:
    from tests.fakekube.tls import CLIENT_USER

    assert secured.client_cert_file and secured.client_key_file
    ok = write_kubeconfig(
        tmp_path / "ok",
        secured,
        {
            "client-certificate": secured.client_cert_file,
            "client-key": secured.client_key_file,
            "token": "good-token",
        },
    )
    r = run_war("list", "-o", "name", env=make_kube_env(ok))
    assert (r.returncode, r.stdout, r.stderr) == (0, NAME_LINE, "")
    assert {r.client_cert for r in secured.requests} == {CLIENT_USER}
    missing = write_kubeconfig(
        tmp_path / "missing",
        secured,
        {"client-certificate": "u.crt", "client-key": "/nonexistent/u.key"},
    )
    r = run_war("list", env=make_kube_env(missing))
    assert (r.returncode, r.stdout, r.stderr) == (
        1,
        "",
        "error: Error in configuration: unable to read client-cert u.crt for u due to open "
        "u.crt: no such file or directory; unable to read client-key /nonexistent/u.key for u "
        "due to open /nonexistent/u.key: no such file or directory\n",
    )


def test_token_file_relative_to_the_kubeconfig(
    secured: FakeKube, tmp_path: Path, make_kube_env: Env, run_war: Run
) -> None:
    (tmp_path / "token").write_text("good-token\n")
    kc = write_kubeconfig(tmp_path / "kc", secured, {"tokenFile": "token"})
    r = run_war("list", "-o", "name", env=make_kube_env(kc))
    assert (r.returncode, r.stdout, r.stderr) == (0, NAME_LINE, "")
    (tmp_path / "token").unlink()
    r = run_war("list", env=make_kube_env(kc))
    assert (r.returncode, r.stdout, r.stderr) == (
        1,
        "",
        "error: open token: no such file or directory\n",
    )


class _Proxy(BaseHTTPRequestHandler):
    """A forward HTTP proxy that records each request line it forwards."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        req = urllib.request.Request(self.path, headers=dict(self.headers))
        with opener.open(req, timeout=60) as resp:
            body = resp.read()
            self.send_response(resp.status)
            for key, value in resp.headers.items():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_proxy_url_carries_every_request(
    fake_kube: FakeKube, tmp_path: Path, make_kube_env: Env, run_war: Run
) -> None:
    fake_kube.add(f.ec2_war())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    _Proxy.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proxy = f"http://127.0.0.1:{server.server_address[1]}"
        kc = write_kubeconfig(tmp_path / "kc", fake_kube, {}, cluster={"proxy-url": proxy})
        # NO_PROXY names 127.0.0.1 in the test environment: proxy-url wins, as in kubectl.
        r = run_war("list", "-o", "name", env=make_kube_env(kc))
    finally:
        server.shutdown()
        server.server_close()
    assert (r.returncode, r.stdout, r.stderr) == (0, NAME_LINE, "")
    assert f"{fake_kube.url}/apis/runtime.onboarding.tetrate.io" in _Proxy.seen


# ---- OIDC: `responses` stands in for the identity provider ---------------------------

ISSUER = "https://idp.example.com/realms/corp"
TOKEN_ENDPOINT = "https://idp.example.com/realms/corp/protocol/openid-connect/token"


def jwt(exp: int, sub: str = "jane") -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part({'sub': sub, 'exp': exp})}.c2ln"


EXPIRED = jwt(1_000_000_000)  # 2001
FRESH = jwt(4_000_000_000)  # 2096


@pytest.fixture
def oidc_kubeconfig(secured: FakeKube, tmp_path: Path) -> str:
    secured.token = FRESH
    return write_kubeconfig(
        tmp_path / "kc",
        secured,
        {
            "auth-provider": {
                "name": "oidc",
                "config": {
                    "idp-issuer-url": ISSUER,
                    "client-id": "kubectl",
                    "client-secret": "s3cret",
                    "id-token": EXPIRED,
                    "refresh-token": "refresh-1",
                },
            }
        },
        extra={
            "preferences": {"colors": True},
            "extensions": [{"name": "corp", "extension": {"team": "payments"}}],
        },
    )


def _list_names(kubeconfig: str) -> list[str]:
    from kubectl_war.kube.client import Kube
    from kubectl_war.kube.config import Connection

    client = Kube(Connection(kubeconfig=kubeconfig))
    return [o["metadata"]["name"] for o in client.list(client.war_resource(), "bookinfo").items]


def test_oidc_refreshes_an_expired_token_and_writes_it_back(oidc_kubeconfig: str) -> None:
    import responses

    before = yaml.safe_load(Path(oidc_kubeconfig).read_text())
    with responses.RequestsMock() as idp:
        idp.get(
            f"{ISSUER}/.well-known/openid-configuration",
            json={"issuer": ISSUER, "token_endpoint": TOKEN_ENDPOINT},
        )
        token = idp.post(
            TOKEN_ENDPOINT,
            json={"access_token": "a", "id_token": FRESH, "refresh_token": "refresh-2"},
        )
        assert _list_names(oidc_kubeconfig) == [EC2]
    sent = token.calls[0].request
    assert sent.body == "grant_type=refresh_token&refresh_token=refresh-1"
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"kubectl:s3cret").decode()
    after = yaml.safe_load(Path(oidc_kubeconfig).read_text())
    provider = before["users"][0]["user"]["auth-provider"]["config"]
    provider.update({"id-token": FRESH, "refresh-token": "refresh-2"})
    # Only the tokens changed: every other part of the file is as it was.
    assert after == before


def test_oidc_refresh_verifies_the_identity_provider_with_the_kubeconfigs_ca_data(
    oidc_kubeconfig: str,
) -> None:
    import responses

    ca = b"-----BEGIN CERTIFICATE-----\nidp-ca\n-----END CERTIFICATE-----\n"
    config = yaml.safe_load(Path(oidc_kubeconfig).read_text())
    provider = config["users"][0]["user"]["auth-provider"]["config"]
    provider["idp-certificate-authority-data"] = base64.b64encode(ca).decode()
    Path(oidc_kubeconfig).write_text(yaml.safe_dump(config))
    # What each request to the identity provider was verified with, read as it is sent.
    verified: list[bytes] = []

    def answer(body: dict[str, Any]) -> Any:
        def callback(request: Any) -> tuple[int, dict[str, str], str]:
            verified.append(Path(request.req_kwargs["verify"]).read_bytes())
            return 200, {}, json.dumps(body)

        return callback

    with responses.RequestsMock() as idp:
        idp.add_callback(
            "GET",
            f"{ISSUER}/.well-known/openid-configuration",
            callback=answer({"issuer": ISSUER, "token_endpoint": TOKEN_ENDPOINT}),
        )
        idp.add_callback(
            "POST", TOKEN_ENDPOINT, callback=answer({"id_token": FRESH, "refresh_token": "r2"})
        )
        assert _list_names(oidc_kubeconfig) == [EC2]
    assert verified == [ca, ca]


def test_oidc_refresh_refused_is_one_error(oidc_kubeconfig: str) -> None:
    import responses

    from kubectl_war.kube.errors import KubeError

    with responses.RequestsMock() as idp:
        idp.get(
            f"{ISSUER}/.well-known/openid-configuration", json={"token_endpoint": TOKEN_ENDPOINT}
        )
        idp.post(TOKEN_ENDPOINT, status=400, json={"error": "invalid_grant"})
        with pytest.raises(KubeError) as info:
            _list_names(oidc_kubeconfig)
    assert info.value.message == (
        "getting credentials: failed to refresh token: oauth2: cannot fetch token: 400 Bad "
        'Request: {"error": "invalid_grant"}'
    )
    config = yaml.safe_load(Path(oidc_kubeconfig).read_text())
    assert config["users"][0]["user"]["auth-provider"]["config"]["id-token"] == EXPIRED


def test_a_valid_oidc_token_asks_the_identity_provider_nothing(
    oidc_kubeconfig: str, fake_kube: FakeKube
) -> None:
    import responses

    config = yaml.safe_load(Path(oidc_kubeconfig).read_text())
    config["users"][0]["user"]["auth-provider"]["config"]["id-token"] = FRESH
    Path(oidc_kubeconfig).write_text(yaml.safe_dump(config))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as idp:
        assert _list_names(oidc_kubeconfig) == [EC2]
        assert [c.request.url for c in idp.calls] == []
