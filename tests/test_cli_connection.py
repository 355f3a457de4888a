"""kubectl's connection flags, and one clean line with exit 1 for every way a cluster fails."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from tests import factories as f
from tests.factories import EC2, Run
from tests.fakekube import FakeKube

NAME_LINE = f"workloadautoregistration.runtime.onboarding.tetrate.io/{EC2}\n"


def _one_error_line(r: subprocess.CompletedProcess[str], text: str) -> None:
    assert r.returncode == 1, r
    assert r.stdout == ""
    assert r.stderr == f"error: {text}\n"


@pytest.fixture
def one(fake_kube: FakeKube) -> FakeKube:
    fake_kube.add(f.war(EC2, group="ratings"))
    return fake_kube


def test_missing_kubeconfig_file(run_war: Run) -> None:
    _one_error_line(
        run_war("list", "--kubeconfig", "/nonexistent/kc"),
        "stat /nonexistent/kc: no such file or directory",
    )


def test_garbage_kubeconfig(tmp_path: Path, war_inproc: Run) -> None:
    bad = tmp_path / "bad"
    bad.write_text("clusters: [unclosed\n")
    r = war_inproc("list", "--kubeconfig", str(bad))
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith(f"error: invalid kubeconfig {bad}: ")
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr


def test_unknown_context(one: FakeKube, war_inproc: Run) -> None:
    _one_error_line(war_inproc("list", "--context", "nope"), 'context "nope" does not exist')


def test_unreachable_server(
    tmp_path: Path, closed_port: int, make_kube_env: Callable[..., Any], run_war: Run
) -> None:
    port = closed_port
    kc = f.kubeconfig_file(tmp_path / "kc", f"http://127.0.0.1:{port}")
    r = run_war("list", env=make_kube_env(kc))
    _one_error_line(
        r,
        f"the connection to the server http://127.0.0.1:{port} was refused - "
        "did you specify the right host or port?",
    )


def test_forbidden_names_the_missing_permission(one: FakeKube, war_inproc: Run) -> None:
    one.forbid("list", "workloadautoregistrations", "bookinfo")
    r = war_inproc("list", "-n", "bookinfo")
    _one_error_line(
        r,
        "forbidden: cannot list workloadautoregistrations.runtime.onboarding.tetrate.io in "
        'namespace "bookinfo" (RBAC needs verb "list" on resource "workloadautoregistrations" '
        'in API group "runtime.onboarding.tetrate.io" in namespace "bookinfo"): '
        "workloadautoregistrations.runtime.onboarding.tetrate.io is forbidden: User "
        f'"{one.user}" cannot list resource "workloadautoregistrations" in API group '
        '"runtime.onboarding.tetrate.io" in the namespace "bookinfo"',
    )


def test_unserved_war_api(
    make_kubeconfig: Callable[..., str], make_kube_env: Callable[..., Any], war_inproc: Run
) -> None:
    with FakeKube(serve_wars=False) as fake:
        r = war_inproc("list", "-A", env=make_kube_env(make_kubeconfig(fake)))
    _one_error_line(
        r,
        "the cluster does not serve runtime.onboarding.tetrate.io: "
        "is TSB workload onboarding installed?",
    )


@pytest.fixture
def secured(make_kubeconfig: Callable[..., str]) -> Iterator[FakeKube]:
    # Over https: kubectl sends credentials only there.
    with FakeKube(tls=True, token="s3cret-token") as fake:
        fake.add(f.war(EC2, group="ratings"))
        yield fake


def test_wrong_token_is_unauthorized(
    secured: FakeKube,
    make_kubeconfig: Callable[..., str],
    make_kube_env: Callable[..., Any],
    war_inproc: Run,
) -> None:
    env = make_kube_env(make_kubeconfig(secured, token="wrong"))
    r = war_inproc("list", env=env)
    _one_error_line(
        r,
        "You must be logged in to the server (Unauthorized): the credentials of "
        f'context "fake" were rejected by {secured.url}',
    )
    r = war_inproc("list", "-n", "bookinfo", "-o", "name", "--token", "s3cret-token", env=env)
    assert (r.returncode, r.stdout) == (0, NAME_LINE)


def _list_by_flags(
    run_war: Run, server: str, env: dict[str, str], *more: str
) -> subprocess.CompletedProcess[str]:
    """`list -n bookinfo -o name` reaching `server` (https) by --server and --token alone."""
    flags = ("-s", server, "--token", "s3cret-token", "--insecure-skip-tls-verify")
    return run_war("list", "-n", "bookinfo", "-o", "name", *flags, *more, env=env)


def test_server_and_token_flags_need_no_kubeconfig(
    secured: FakeKube, tmp_path: Path, make_kube_env: Callable[..., Any], war_inproc: Run
) -> None:
    env = make_kube_env(str(tmp_path / "absent"))
    r = _list_by_flags(war_inproc, secured.url, env)
    assert (r.returncode, r.stdout, r.stderr) == (0, NAME_LINE, "")
    r = war_inproc("list", env=env)
    _one_error_line(
        r,
        "no configuration has been provided, try setting KUBECONFIG or "
        "--kubeconfig, or pass --server",
    )


def test_debug_logs_requests_but_never_the_token(
    secured: FakeKube, tmp_path: Path, make_kube_env: Callable[..., Any], run_war: Run
) -> None:
    env = make_kube_env(str(tmp_path / "absent"))
    r = _list_by_flags(run_war, secured.url, env, "--debug")
    assert r.returncode == 0
    assert "s3cret-token" not in r.stderr + r.stdout
    assert (
        f"debug: GET {secured.url}/apis/runtime.onboarding.tetrate.io/v1alpha1/namespaces/"
        "bookinfo/workloadautoregistrations?limit=500 -> 200 in " in r.stderr
    )


def test_kubeconfig_list_context_cluster_and_user(
    tmp_path: Path, make_kube_env: Callable[..., Any], war_inproc: Run
) -> None:
    """KUBECONFIG=a:b merges files; --context picks; --cluster/--user replace halves."""
    with FakeKube(tls=True, token="tok-a") as a, FakeKube(tls=True, token="tok-b") as b:
        a.add(f.war(EC2, group="ratings"))
        b.add(f.war("other-jwt-x--y", "bookinfo"))
        # Each file names its own current-context: as in kubectl, the first file's wins.
        first, second = (
            Path(
                f.kubeconfig_file(
                    tmp_path / f"{x}.yaml",
                    fake.url,
                    context=f"ctx-{x}",
                    cluster=f"cl-{x}",
                    user=f"u-{x}",
                    namespace="bookinfo",
                    credentials={"token": f"tok-{x}"},
                    certificate_authority=fake.ca_file,
                )
            )
            for x, fake in (("a", a), ("b", b))
        )
        env = make_kube_env(f"{first}:{second}")
        assert war_inproc("list", "-o", "name", env=env).stdout == NAME_LINE
        r = war_inproc("list", "-o", "name", "--context", "ctx-b", env=env)
        assert r.stdout == "workloadautoregistration.runtime.onboarding.tetrate.io/other-jwt-x--y\n"
        # ctx-a's namespace and user, ctx-b's cluster: the wrong token for b.
        r = war_inproc("list", "--cluster", "cl-b", env=env)
        assert r.returncode == 1 and "Unauthorized" in r.stderr
        r = war_inproc("list", "-o", "name", "--cluster", "cl-b", "--user", "u-b", env=env)
        assert r.stdout == "workloadautoregistration.runtime.onboarding.tetrate.io/other-jwt-x--y\n"
        _one_error_line(
            war_inproc("list", "--user", "nobody", env=env),
            'user "nobody" does not exist in the kubeconfig',
        )
        # Neither file was written to.
        assert "kubectl-war" not in first.read_text() + second.read_text()


def test_a_delete_on_the_wire(secured: FakeKube, make_kubeconfig: Callable[..., str]) -> None:
    from kubectl_war import __version__
    from kubectl_war.kube import Connection, Kube

    client = Kube(Connection(kubeconfig=make_kubeconfig(secured), as_groups=("ops",)))
    war = secured.get("workloadautoregistrations", "bookinfo", EC2)
    assert war is not None
    meta = war["metadata"]
    secured.clear_requests()
    uid, rv = meta["uid"], meta["resourceVersion"]
    client.delete(client.war_resource(), "bookinfo", EC2, uid=uid, resource_version=rv)
    (req,) = secured.requests_to(
        f"/apis/runtime.onboarding.tetrate.io/v1alpha1/namespaces/bookinfo/"
        f"workloadautoregistrations/{EC2}"
    )
    assert req.method == "DELETE"
    assert req.query == {}
    assert req.header("Authorization") == "Bearer s3cret-token"
    assert req.header("User-Agent") == f"kubectl-war/{__version__}"
    assert req.header("Accept") == "application/json"
    assert req.header("Content-Type") == "application/json"
    assert req.header_values("Impersonate-Group") == ["ops"]
    assert req.body == {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "preconditions": {"uid": uid, "resourceVersion": rv},
    }
    assert secured.get("workloadautoregistrations", "bookinfo", EC2) is None


def test_impersonation_headers(one: FakeKube, war_inproc: Run) -> None:
    one.clear_requests()
    r = war_inproc(
        "list", "-n", "bookinfo", "--as", "jane", "--as-group", "ops", "--as-group", "sre"
    )
    assert r.returncode == 0
    req = one.requests_to(
        "/apis/runtime.onboarding.tetrate.io/v1alpha1/namespaces/bookinfo/workloadautoregistrations"
    )[0]
    assert req.header("Impersonate-User") == "jane"
    assert req.header_values("Impersonate-Group") == ["ops", "sre"]


def test_tls_trusted_untrusted_and_insecure(
    tmp_path: Path, make_kube_env: Callable[..., Any], war_inproc: Run
) -> None:
    with FakeKube(tls=True) as fake:
        fake.add(f.war(EC2, group="ratings"))
        trusted = make_kube_env(fake.write_kubeconfig(tmp_path / "t", namespace="bookinfo"))
        assert war_inproc("list", "-o", "name", env=trusted).stdout == NAME_LINE
        plain = make_kube_env(
            fake.write_kubeconfig(tmp_path / "u", namespace="bookinfo", trust=False)
        )
        r = war_inproc("list", env=plain)
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr == (
            "error: tls: failed to verify certificate: x509: certificate signed by unknown "
            f"authority (the server at {fake.url}; trust its CA with --certificate-authority "
            "or the kubeconfig's certificate-authority)\n"
        )
        r = war_inproc(
            "list", "-o", "name", "--certificate-authority", str(fake.ca_file), env=plain
        )
        assert r.stdout == NAME_LINE
        r = war_inproc("list", "-o", "name", "--insecure-skip-tls-verify", env=plain)
        assert (r.stdout, r.stderr) == (NAME_LINE, "")


def test_request_timeout_bounds_a_silent_server(
    tmp_path: Path, make_kube_env: Callable[..., Any], run_war: Run
) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        env = make_kube_env(str(tmp_path / "absent"))
        r = run_war("list", "-s", url, "--request-timeout", "1s", env=env)
    # Ended by --request-timeout, as it says: without it the silent server would hold
    # the command until run_war's own time limit.
    _one_error_line(r, f"timed out after 1s waiting for the API server at {url}")


def test_exec_credential_plugin_supplies_the_token(
    tmp_path: Path, make_kube_env: Callable[..., Any], run_war: Run
) -> None:
    """A kubeconfig user with an `exec` credential plugin, as EKS and GKE write them."""
    plugin = tmp_path / "get-token"
    plugin.write_text(
        "#!/bin/sh\n"
        'echo \'{"apiVersion": "client.authentication.k8s.io/v1beta1", '
        '"kind": "ExecCredential", "status": {"token": "from-exec"}}\'\n'
    )
    plugin.chmod(0o755)
    with FakeKube(tls=True, token="from-exec") as fake:
        fake.add(f.war(EC2, group="ratings"))
        kc = f.kubeconfig_file(
            tmp_path / "kc",
            fake.url,
            namespace="bookinfo",
            certificate_authority=fake.ca_file,
            credentials={
                "exec": {
                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                    "command": str(plugin),
                    "interactiveMode": "Never",
                }
            },
        )
        r = run_war("list", "-o", "name", env=make_kube_env(kc))
    assert (r.returncode, r.stdout, r.stderr) == (0, NAME_LINE, "")
