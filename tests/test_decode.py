"""Decoding the API server's JSON (`kubectl_war.kube.decode`): pages of WARs decoded
without managedFields give exactly the objects less their managedFields, whatever the
text holds; orjson decodes when installed and the standard library when it is not."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from kubectl_war.kube import decode
from tests.fakekube import Clock
from tests.fakekube.fleet import iter_large_fleet

ROOT = Path(__file__).resolve().parent.parent


def without_managed_fields(value: Any) -> Any:
    """What `loads_without_managed_fields` must answer: every managedFields member gone."""
    if isinstance(value, dict):
        return {k: without_managed_fields(v) for k, v in value.items() if k != "managedFields"}
    if isinstance(value, list):
        return [without_managed_fields(v) for v in value]
    return value


def compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def page_of(items: list[dict[str, Any]]) -> bytes:
    return compact({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {}})


def test_a_page_of_real_shaped_wars_loses_only_managed_fields(kube_clock: Clock) -> None:
    wars = [o for o in iter_large_fleet(kube_clock(), 60) if o["kind"].startswith("Workload")]
    data = page_of(wars)
    got = decode.loads_without_managed_fields(data)
    assert got == without_managed_fields(json.loads(data))
    assert b'"managedFields"' in data
    assert len(decode._cut(data, decode._KEY)) < len(data) * 0.7


CASES = {
    "first member, comma after": {"metadata": {"managedFields": [{"a": "b"}], "name": "x"}},
    "last member, comma before": {"metadata": {"name": "x", "managedFields": [{"a": "b"}]}},
    "only member": {"metadata": {"managedFields": [{"a": "b"}]}},
    "empty array": {"metadata": {"name": "x", "managedFields": []}},
    "brackets and quotes in strings": {
        "metadata": {
            "name": "x",
            "managedFields": [
                {"fieldsV1": {'k:{"ip":"10.0.0.1"}': {}, "v:]": {}, 'f:"]"': {}, "]": "]"}}
            ],
            "uid": "u",
        }
    },
    "an array inside stays": {"metadata": {"managedFields": [{"a": [1, 2]}], "name": "x"}},
    "an escaped backslash stays": {"metadata": {"managedFields": [{"a": "c:\\"}], "n": "x"}},
    "the key inside a string is text": {
        "metadata": {"name": 'x","managedFields":[', "note": '"managedFields":["]"]'}
    },
    "not an array": {"metadata": {"managedFields": {"a": "b"}, "name": "x"}},
    "deep and many": {
        "items": [
            {"metadata": {"managedFields": [{"t": str(i)}], "name": f"n{i}"}, "spec": {"i": i}}
            for i in range(5)
        ]
    },
    "unicode around it": {"metadata": {"name": "ä✓", "managedFields": [{"m": "ü]"}], "z": "é"}},
}


@pytest.mark.parametrize("name", list(CASES))
def test_cutting_is_exact_or_leaves_the_text_alone(name: str) -> None:
    obj = copy.deepcopy(CASES[name])
    data = compact(obj)
    assert decode.loads_without_managed_fields(data) == without_managed_fields(obj) or (
        # What cannot be cut exactly is decoded in full: managedFields stays.
        decode.loads_without_managed_fields(data) == obj
    )
    # Decoding never changes anything but managedFields.
    got = decode.loads_without_managed_fields(data)
    assert without_managed_fields(got) == without_managed_fields(obj)


def test_what_can_be_cut_is_cut() -> None:
    for name in ("first member, comma after", "last member, comma before", "only member",
                 "empty array", "brackets and quotes in strings", "deep and many",
                 "unicode around it"):  # fmt: skip
        data = compact(CASES[name])
        assert b"managedFields" not in decode._cut(data, decode._KEY), name


def test_what_cannot_be_cut_exactly_is_left_whole() -> None:
    for name in ("an array inside stays", "an escaped backslash stays", "not an array"):
        data = compact(CASES[name])
        assert decode._cut(data, decode._KEY) == data, name
    text = CASES["the key inside a string is text"]
    assert decode._cut(compact(text), decode._KEY) == compact(text)
    # JSON with spaces (not what an API server sends) is decoded as it is.
    spaced = json.dumps({"metadata": {"managedFields": [{"a": "b"}], "name": "x"}}).encode()
    assert decode._cut(spaced, decode._KEY) == spaced


def test_not_json_is_still_an_error() -> None:
    with pytest.raises(ValueError):
        decode.loads_without_managed_fields(b'{"metadata":{"managedFields":[{"a":"b"}],')


def _decoder_in_fresh_python(block_orjson: bool) -> dict[str, Any]:
    code = (
        "import json, sys\n"
        + ("sys.modules['orjson'] = None\n" if block_orjson else "")
        + "from kubectl_war.kube import decode\n"
        'big = b\'{"n":123456789012345678901234567890,"s":"\\\\u00e9"}\'\n'
        'page = (b\'{"items":[{"metadata":\'\n'
        '    b\'{"managedFields":[{"a":"b"}],"name":"x"}}]}\')\n'
        "print(json.dumps({'decoder': decode.DECODER, 'big': decode.row_loads(big),\n"
        "                  'page': decode.loads_without_managed_fields(page)}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return dict(json.loads(done.stdout))


def test_the_standard_library_decodes_without_orjson() -> None:
    got = _decoder_in_fresh_python(block_orjson=True)
    assert got == {
        "decoder": "json",
        "big": {"n": 123456789012345678901234567890, "s": "é"},
        "page": {"items": [{"metadata": {"name": "x"}}]},
    }


def test_orjson_decodes_rows_when_installed() -> None:
    pytest.importorskip("orjson")
    got = _decoder_in_fresh_python(block_orjson=False)
    assert got["decoder"] == "orjson"
    assert got["page"] == {"items": [{"metadata": {"name": "x"}}]}
    assert got["big"]["s"] == "é"
    assert got["big"]["n"] == pytest.approx(123456789012345678901234567890)


def test_answers_printed_or_written_back_keep_every_digit(
    fake_kube: Any, make_kubeconfig: Callable[..., str]
) -> None:
    """orjson reads integers beyond 64 bits as floats: every answer but a row's page is
    decoded by the standard library, so `-o json` and describe print what the server
    sent."""
    from kubectl_war.kube.client import Kube
    from kubectl_war.kube.config import Connection

    war = {
        "apiVersion": "runtime.onboarding.tetrate.io/v1alpha1",
        "kind": "WorkloadAutoRegistration",
        "metadata": {"name": "big", "namespace": "default"},
        "spec": {"extra": 123456789012345678901234567890},
    }
    fake_kube.add(war)
    client = Kube(Connection(kubeconfig=make_kubeconfig(fake_kube)))
    got = client.get(client.war_resource(), "default", "big")
    assert got is not None
    assert got["spec"]["extra"] == 123456789012345678901234567890
