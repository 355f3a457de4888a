"""gcpause: bulk work runs without the cyclic collector, and the collector's state
is given back exactly as it was found."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from kubectl_war import gcpause


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gc.unfreeze()
    if was:
        gc.enable()
    else:
        gc.disable()


def test_paused_turns_collection_off_and_back_on() -> None:
    gc.enable()
    seen: list[bool] = []

    @gcpause.paused
    def work() -> str:
        seen.append(gc.isenabled())
        return "done"

    assert work() == "done"
    assert seen == [False]
    assert gc.isenabled()


def test_paused_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()

    @gcpause.paused
    def work() -> None:
        gcpause.settle()

    work()
    assert not gc.isenabled()


def test_settle_freezes_what_was_built_and_collects_again() -> None:
    gc.enable()
    states: list[tuple[bool, int]] = []

    @gcpause.paused
    def work() -> None:
        built = [{"n": i} for i in range(1000)]
        gcpause.settle()
        states.append((gc.isenabled(), gc.get_freeze_count()))
        del built

    work()
    assert states[0][0] is True
    assert states[0][1] >= 1000
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_settle_again_freezes_what_was_built_since() -> None:
    gc.enable()
    counts: list[int] = []

    @gcpause.paused
    def work() -> None:
        # Lists: always tracked (a dict of atoms is untracked by the first collection).
        first = [[i] for i in range(1000)]
        gcpause.settle()
        counts.append(gc.get_freeze_count())
        second = [[i] for i in range(1000)]
        gcpause.settle()
        counts.append(gc.get_freeze_count())
        del first, second

    work()
    assert counts[1] - counts[0] >= 1000
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_settle_again_first_collects_what_the_last_round_left_in_cycles() -> None:
    gc.enable()

    class Node:
        me: Node

    freed: list[bool] = []

    @gcpause.paused
    def work() -> None:
        gcpause.settle()
        gc.disable()  # no collection but the next settle's
        node = Node()
        node.me = node
        ref = weakref.ref(node)
        del node
        gcpause.settle()
        freed.append(ref() is None)

    work()
    assert freed == [True]


def test_the_collector_comes_back_when_the_command_fails() -> None:
    gc.enable()

    @gcpause.paused
    def work() -> None:
        gcpause.settle()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        work()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_settle_outside_a_paused_command_does_nothing() -> None:
    gc.enable()
    gcpause.settle()
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_keep_holds_objects_only_when_the_process_ends_fast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gcpause, "_kept", [])
    monkeypatch.setattr(gcpause, "exiting_fast", False)
    gcpause.keep({"a": 1})
    assert gcpause._kept == []
    monkeypatch.setattr(gcpause, "exiting_fast", True)
    monkeypatch.setattr(gcpause, "KEEP_LIMIT", 2)
    for i in range(5):
        gcpause.keep({"n": i})
    assert gcpause._kept == [{"n": 0}, {"n": 1}]
