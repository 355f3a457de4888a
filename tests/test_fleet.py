"""The fleet runner and context resolution in-process: concurrency, order, failures."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from kubectl_war.cli import fleet as fl
from kubectl_war.errors import UsageError, WarError
from kubectl_war.kube.config import context_names


def test_contexts_are_asked_concurrently_and_answers_kept_in_context_order() -> None:
    names = ["a", "b", "c"]
    # Every piece of work waits for all three: run one after another, this would time out.
    barrier = threading.Barrier(len(names), timeout=60)

    def work(name: str, client: Any) -> str:
        barrier.wait()
        if name == "b":
            raise WarError("no route to b")
        return f"{name}:{client}"

    outcomes = fl.run(names, lambda name: name.upper(), work)
    assert outcomes == [
        fl.Outcome("a", "a:A"),
        fl.Outcome("b", error="no route to b"),
        fl.Outcome("c", "c:C"),
    ]
    assert fl.warnings(outcomes) == ['warning: context "b": no route to b']
    assert fl.failed(outcomes, fl.FleetFlags(("a", "b", "c")))
    assert not fl.failed(outcomes, fl.FleetFlags(("a", "b", "c"), ignore_unreachable=True))


def test_a_context_that_cannot_be_connected_to_fails_alone() -> None:
    def connect(name: str) -> str:
        if name == "gone":
            raise WarError('context "gone" does not exist')
        return name

    outcomes = fl.run(["gone", "here"], connect, lambda name, client: client)
    assert outcomes == [
        fl.Outcome("gone", error='context "gone" does not exist'),
        fl.Outcome("here", "here"),
    ]


def test_contexts_flags_split_on_commas_and_keep_the_first_of_each_name() -> None:
    assert fl.split_contexts(["east,west", " south ", "east"]) == ("east", "west", "south")
    with pytest.raises(UsageError):
        fl.split_contexts([" , "])


def test_all_contexts_come_in_file_then_entry_order(tmp_path: Path, monkeypatch: Any) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.write_text("contexts:\n- name: west\n- name: east\n")
    b.write_text("contexts:\n- name: east\n- name: north\n")
    monkeypatch.setenv("KUBECONFIG", f"{a}:{tmp_path / 'missing'}:{b}")
    assert context_names(None) == ["west", "east", "north"]
    assert context_names(str(b)) == ["east", "north"]
    with pytest.raises(WarError, match="stat nope: no such file or directory"):
        context_names("nope")
    a.write_text("contexts: [\n")
    with pytest.raises(WarError, match=f"invalid kubeconfig {a}: "):
        context_names(None)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(WarError, match="no contexts in the kubeconfig"):
        context_names(None)
