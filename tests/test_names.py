"""Object names are checked before any request: an empty name is the collection URL
(GET lists, DELETE is deletecollection), so it must never reach the API server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from kubectl_war.errors import UsageError
from kubectl_war.kube import Connection, Kube, KubeError
from kubectl_war.kube.requests import delete_request, get_request
from kubectl_war.names import check_object_name
from tests import factories as f
from tests.factories import EC2 as NAME
from tests.factories import WAR_RESOURCE as WAR
from tests.factories import Run
from tests.fakekube import FakeKube

INVALID = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
INVALID += "'-' or '.', and must start and end with an alphanumeric character"


@pytest.mark.parametrize(
    "args",
    [
        ["delete", "-n", "bookinfo", ""],
        ["delete", "-n", "bookinfo", "--yes", ""],
        ["delete", "-n", "bookinfo", "--dry-run=client", "", NAME],
        ["describe", "-n", "bookinfo", ""],
        ["describe", "-n", "bookinfo", NAME, ""],
        ["rollout", "-n", "bookinfo", ""],
        ["rollout", "status", "-n", "bookinfo", ""],
    ],
)
def test_an_empty_name_is_a_usage_error_and_sends_nothing(
    fake_kube: FakeKube, run_war: Run, args: list[str]
) -> None:
    fake_kube.add(f.war(NAME))
    fake_kube.clear_requests()
    r = run_war(*args)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.splitlines()[0] == "error: resource name may not be empty"
    assert fake_kube.requests == []
    assert [w["metadata"]["name"] for w in fake_kube.objects("workloadautoregistrations")] == [NAME]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("a/b", "resource name may not contain '/'"),
        ("..", 'resource name may not be ".."'),
        (".", 'resource name may not be "."'),
        ("50%", "resource name may not contain '%'"),
        ("Ratings", INVALID),
        ("ratings-", INVALID),
        ("ratings_1", INVALID),
        ("x" * 254, "must be no more than 253 characters"),
    ],
)
def test_names_no_war_can_have_are_refused_before_any_request(
    fake_kube: FakeKube, run_war: Run, name: str, why: str
) -> None:
    fake_kube.add(f.war(NAME))
    fake_kube.clear_requests()
    for cmd in (["delete", "--yes"], ["describe"]):
        r = run_war(*cmd, "-n", "bookinfo", name)
        assert (r.returncode, r.stdout) == (1, ""), r
        shown = json.dumps(name[:80] + ("…" if len(name) > 80 else ""), ensure_ascii=False)
        assert r.stderr.splitlines()[0] == f"error: invalid WAR name {shown}: {why}"
    r = run_war("rollout", "-n", "bookinfo", name)
    assert r.returncode == 1
    assert r.stderr.startswith("error: invalid WorkloadGroup name ")
    assert fake_kube.requests == []
    assert len(fake_kube.objects("workloadautoregistrations")) == 1


def test_jwt_subjects_with_dots_are_valid_names() -> None:
    name = "ratings-jwt-my-corp--vm007-datacenter1-us-east.internal.corp"
    assert check_object_name(name, "WAR") == name


@pytest.mark.parametrize("name", ["", ".", "..", "a/b"])
def test_request_builders_refuse_names_that_change_the_url(name: str) -> None:
    with pytest.raises(UsageError):
        get_request(WAR, "bookinfo", name)
    with pytest.raises(UsageError):
        delete_request(WAR, "bookinfo", name, uid="u1")


class _ListEverywhere(BaseHTTPRequestHandler):
    """A server that answers every GET with a List and records every request."""

    seen: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append(("GET", self.path))
        body = json.dumps(
            {"kind": "WorkloadAutoRegistrationList", "apiVersion": "v1", "items": []}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_DELETE(self) -> None:
        self.seen.append(("DELETE", self.path))
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def list_server() -> Iterator[str]:
    _ListEverywhere.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ListEverywhere)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_get_answered_with_a_list_is_never_taken_for_the_object(
    list_server: str, tmp_path: Path
) -> None:
    kubeconfig = f.kubeconfig_file(tmp_path / "kubeconfig", list_server)
    client = Kube(Connection(kubeconfig=kubeconfig))
    with pytest.raises(KubeError) as err:
        client.get(WAR, "bookinfo", NAME)
    assert err.value.message == (
        "the server answered GET workloadautoregistrations.runtime.onboarding.tetrate.io "
        f'"{NAME}" with a WorkloadAutoRegistrationList, not that object: refusing to act on it'
    )
    assert _ListEverywhere.seen == [
        (
            "GET",
            "/apis/runtime.onboarding.tetrate.io/v1alpha1/namespaces/bookinfo/"
            f"workloadautoregistrations/{NAME}",
        )
    ]
