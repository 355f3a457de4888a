"""FakeKube's fast path for the Tables `kubectl get` asks for gives the very bytes of
the general one, on every page, before and after objects change."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakekube import FakeKube
from tests.fakekube.server import Request, Response

WARS = "/apis/runtime.onboarding.tetrate.io/v1alpha1/workloadautoregistrations"
TABLE = "application/json;as=Table;v={v};g=meta.k8s.io,application/json"


def _get(fake: FakeKube, version: str, query: dict[str, list[str]]) -> Response:
    headers = {"Accept": TABLE.format(v=version)}
    result = fake.handle(Request("GET", WARS, WARS, query, headers, None, b""))
    assert isinstance(result, Response)
    return result


def _general(fake: FakeKube, version: str, query: dict[str, list[str]]) -> bytes:
    """The page built the general way: every object parsed and serialised again."""
    original = fake._table_page
    fake._table_page = lambda *args, **kwargs: None  # type: ignore[method-assign]
    try:
        return _get(fake, version, query).body
    finally:
        fake._table_page = original  # type: ignore[method-assign]


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_table_pages_are_byte_for_byte_the_general_ones(fleet_kube: FakeKube, version: str) -> None:
    fleet_kube.seed_large_fleet(30)
    query: dict[str, Any] = {"limit": ["7"]}
    pages = 0
    while True:
        fast = _get(fleet_kube, version, query).body
        assert fast == _general(fleet_kube, version, query)
        pages += 1
        token = json.loads(fast)["metadata"].get("continue")
        if not token:
            break
        query = {"limit": ["7"], "continue": [token]}
    assert pages > 3


def test_a_changed_object_gets_a_fresh_row(fleet_kube: FakeKube) -> None:
    _get(fleet_kube, "v1", {})  # fill the cache
    war = fleet_kube.objects("workloadautoregistrations")[0]
    meta = war["metadata"]

    def disconnect(obj: dict[str, Any]) -> None:
        obj["status"] = {"conditions": [{"type": "AgentConnected", "status": "Unknown"}]}

    fleet_kube.update(
        "workloadautoregistrations",
        meta["namespace"],
        meta["name"],
        disconnect,
        subresource="status",
    )
    fast = _get(fleet_kube, "v1", {}).body
    assert fast == _general(fleet_kube, "v1", {})
    assert b'"Unknown"' in fast


def test_age_cells_follow_the_clock(fleet_kube: FakeKube) -> None:
    before = _get(fleet_kube, "v1", {}).body
    fleet_kube.clock_ctl.advance(3 * 86400)
    after = _get(fleet_kube, "v1", {}).body
    assert after != before
    assert after == _general(fleet_kube, "v1", {})
