"""The fake API server's bad-day knobs: Warning headers, slow answers, expiring continues
and watches, cut watch streams; checked on the wire, with the Python client and kubectl."""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
import time
from typing import Any, Callable

import pytest

from tests.factories import ns, too_old, wait_until, war
from tests.fakekube import FakeKube
from tests.fakekube.faults import Faults

WAR_GROUP = "runtime.onboarding.tetrate.io"
WARS = f"/apis/{WAR_GROUP}/v1alpha1"
BOOKINFO_WARS = f"{WARS}/namespaces/bookinfo/workloadautoregistrations"
INCONSISTENT_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You "
    "can start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list."
)


def seed(fake: FakeKube, n: int = 3) -> list[str]:
    fake.add(ns("bookinfo"))
    names = [f"w{i}" for i in range(1, n + 1)]
    for name in names:
        fake.add(war(name))
    return names


def request(
    fake: FakeKube, method: str, path: str, timeout: float = 60
) -> tuple[int, list[str], Any]:
    """One request: status, its Warning header values, parsed body."""
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=timeout)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, resp.headers.get_all("Warning") or [], json.loads(body or b"null")
    finally:
        conn.close()


def custom_api(kubeconfig: str, retries: bool = True) -> Any:
    """The official client; ``retries=False`` turns off urllib3's own retries (by default
    it sends a request again, DELETE too, when the answer times out)."""
    from kubernetes import client, config

    configuration = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    if not retries:
        configuration.retries = False
    return client.CustomObjectsApi(client.ApiClient(configuration))


# -- Warning headers ---------------------------------------------------------------------


def test_warnings_go_out_as_the_api_server_writes_them(fake_kube: FakeKube) -> None:
    seed(fake_kube, 1)
    fake_kube.warn("workloadautoregistrations v1alpha1 is deprecated")
    fake_kube.warn('say "hi" \\ bye', method="DELETE")
    fake_kube.warn("only WARs", path_prefix=WARS)
    fake_kube.warn("only WARs", path_prefix=WARS)  # the same text twice goes out once

    listed = request(fake_kube, "GET", BOOKINFO_WARS)
    missing = request(fake_kube, "GET", f"{BOOKINFO_WARS}/nope")
    deleted = request(fake_kube, "DELETE", f"{BOOKINFO_WARS}/w1")
    version = request(fake_kube, "GET", "/version")
    watch = request(fake_kube, "GET", f"{BOOKINFO_WARS}?watch=1&timeoutSeconds=0")

    assert listed[:2] == (
        200,
        ['299 - "workloadautoregistrations v1alpha1 is deprecated"', '299 - "only WARs"'],
    )
    assert missing[:2] == (404, listed[1])
    assert deleted[:2] == (
        200,
        [
            '299 - "workloadautoregistrations v1alpha1 is deprecated"',
            '299 - "say \\"hi\\" \\\\ bye"',
            '299 - "only WARs"',
        ],
    )
    assert version[1] == ['299 - "workloadautoregistrations v1alpha1 is deprecated"']
    assert watch[1] == listed[1]
    fake_kube.clear_warnings()
    assert request(fake_kube, "GET", BOOKINFO_WARS)[1] == []


def test_kubectl_prints_each_warning_once(
    fake_kube: FakeKube, run_kubectl: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    seed(fake_kube, 1)
    fake_kube.warn("first warning")
    fake_kube.warn("WARs are watched", path_prefix=WARS)
    done = run_kubectl("get", "workloadautoregistrations", "-n", "bookinfo", "-o", "name")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"workloadautoregistration.{WAR_GROUP}/w1\n",
        "Warning: first warning\nWarning: WARs are watched\n",
    )


# -- slow answers ------------------------------------------------------------------------


def test_a_delete_answered_after_the_clients_timeout_still_lands(
    fake_kube: FakeKube, kubeconfig: str
) -> None:
    seed(fake_kube, 2)
    fake_kube.faults = faults = Faults(latency_by_method={"DELETE": 120.0})
    api = custom_api(kubeconfig, retries=False)
    start = time.monotonic()
    with pytest.raises(Exception) as info:
        api.delete_namespaced_custom_object(
            WAR_GROUP, "v1alpha1", "bookinfo", "workloadautoregistrations", "w1",
            _request_timeout=0.5,
        )  # fmt: skip
    lost_after = time.monotonic() - start
    # Carried out long before its answer (120s) would come.
    wait_until(lambda: fake_kube.get("workloadautoregistrations", "bookinfo", "w1") is None)

    listed = api.list_namespaced_custom_object(
        WAR_GROUP, "v1alpha1", "bookinfo", "workloadautoregistrations", _request_timeout=60
    )
    assert "timed out" in str(info.value).lower()
    assert lost_after < 60  # the client's 0.5s, not the answer's 120s, on a loaded machine
    assert [i["metadata"]["name"] for i in listed["items"]] == ["w2"]
    assert faults.injected == [("slow", "DELETE", f"{BOOKINFO_WARS}/w1")]


def test_slow_answers_by_path_prefix(fake_kube: FakeKube) -> None:
    seed(fake_kube, 1)
    fake_kube.faults = Faults().slow_answer(1.0, "GET", f"{BOOKINFO_WARS}/w1")
    assert request(fake_kube, "GET", BOOKINFO_WARS)[0] == 200
    start = time.monotonic()
    assert request(fake_kube, "GET", f"{BOOKINFO_WARS}/w1")[0] == 200
    assert time.monotonic() - start >= 1.0
    # Only the request under the prefix was held back (the collection's answer was not).
    assert fake_kube.faults.injected == [("slow", "GET", f"{BOOKINFO_WARS}/w1")]


def test_stopping_the_server_does_not_wait_for_held_answers(kube_clock: Any) -> None:
    fake = FakeKube(clock=kube_clock).start()
    seed(fake, 1)
    fake.faults = Faults(latency_by_method={"DELETE": 60.0})
    outcome: list[Any] = []

    def delete() -> None:
        try:
            outcome.append(request(fake, "DELETE", f"{BOOKINFO_WARS}/w1", timeout=30))
        except (OSError, http.client.HTTPException) as exc:
            outcome.append(type(exc).__name__)

    client = threading.Thread(target=delete)
    client.start()
    wait_until(lambda: not fake.get("workloadautoregistrations", "bookinfo", "w1"))
    start = time.monotonic()
    fake.stop()
    stopped_in = time.monotonic() - start
    client.join(60)
    assert stopped_in < 30  # not the 60s the answer is held (a bound a loaded machine meets)
    assert outcome == ["RemoteDisconnected"]  # no answer: the server went away


# -- continue tokens that always expire --------------------------------------------------


def test_every_continue_token_expires_but_unpaged_lists_work(fake_kube: FakeKube) -> None:
    names = seed(fake_kube, 3)
    fake_kube.faults = faults = Faults(expire_continue_rate=1.0)
    first = request(fake_kube, "GET", f"{BOOKINFO_WARS}?limit=1")
    token = first[2]["metadata"]["continue"]
    expired = [request(fake_kube, "GET", f"{BOOKINFO_WARS}?limit=1&continue={token}")]
    fresh = expired[0][2]["metadata"]["continue"]
    expired.append(request(fake_kube, "GET", f"{BOOKINFO_WARS}?limit=1&continue={fresh}"))
    whole = request(fake_kube, "GET", BOOKINFO_WARS)

    assert [i["metadata"]["name"] for i in first[2]["items"]] == ["w1"]
    for status, _, body in expired:
        assert status == 410
        assert body == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {"continue": body["metadata"]["continue"]},
            "status": "Failure",
            "message": INCONSISTENT_CONTINUE,
            "reason": "Expired",
            "code": 410,
        }
    assert [i["metadata"]["name"] for i in whole[2]["items"]] == names
    assert [k for k, _, _ in faults.injected] == ["expire", "expire"]


def test_the_python_client_meets_the_expired_continue(fake_kube: FakeKube, kubeconfig: str) -> None:
    from kubernetes import client

    seed(fake_kube, 3)
    fake_kube.faults = Faults(expire_continue_rate=1.0)
    api = custom_api(kubeconfig)
    args = (WAR_GROUP, "v1alpha1", "bookinfo", "workloadautoregistrations")
    page = api.list_namespaced_custom_object(*args, limit=2)
    with pytest.raises(client.ApiException) as info:
        api.list_namespaced_custom_object(*args, limit=2, _continue=page["metadata"]["continue"])
    whole = api.list_namespaced_custom_object(*args)
    assert (info.value.status, info.value.reason) == (410, "Gone")
    assert json.loads(info.value.body)["reason"] == "Expired"
    assert len(whole["items"]) == 3


# -- watches that expire or are cut ------------------------------------------------------


def test_every_watch_answered_410_expired(fake_kube: FakeKube, kubeconfig: str) -> None:
    from kubernetes import client, watch

    seed(fake_kube, 1)
    rv = fake_kube.resource_version
    fake_kube.faults = faults = Faults(expire_watch_rate=1.0)
    status, _, event = request(fake_kube, "GET", f"{BOOKINFO_WARS}?watch=1&resourceVersion={rv}")
    assert (status, event) == (
        200,
        {
            "type": "ERROR",
            "object": too_old(rv),
        },
    )

    # The client retries a 410 once by itself (when no timeout_seconds is given), then
    # gives up.
    api = custom_api(kubeconfig)
    stream = watch.Watch().stream(
        api.list_namespaced_custom_object, WAR_GROUP, "v1alpha1", "bookinfo",
        "workloadautoregistrations", resource_version=rv, _request_timeout=60,
    )  # fmt: skip
    with pytest.raises(client.ApiException) as info:
        next(iter(stream))
    assert info.value.status == 410
    assert [k for k, _, _ in faults.injected] == ["expire-watch"] * 3
    assert request(fake_kube, "GET", BOOKINFO_WARS)[0] == 200  # lists are untouched


def _raw_watch(fake: FakeKube, path: str) -> tuple[int, bytes, str]:
    """Read a watch to its end: status, the body bytes, and how the stream ended."""
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=60)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = b""
        try:
            while chunk := resp.read1(65536):
                body += chunk
            ended = "cleanly"
        except http.client.IncompleteRead as exc:
            body += exc.partial
            ended = "cut"
        return resp.status, body, ended
    finally:
        conn.close()


@pytest.mark.parametrize(("cut", "events"), [(0, 0), (1, 3)])
def test_watch_streams_cut_after_n_chunks(fake_kube: FakeKube, cut: int, events: int) -> None:
    seed(fake_kube, 3)
    fake_kube.faults = faults = Faults(cut_watch_after=cut)
    status, body, ended = _raw_watch(fake_kube, f"{BOOKINFO_WARS}?watch=1&timeoutSeconds=3")
    assert (status, ended) == (200, "cut")
    assert [json.loads(line)["type"] for line in body.splitlines()] == ["ADDED"] * events
    assert [k for k, _, _ in faults.injected] == ["cut-watch"]
