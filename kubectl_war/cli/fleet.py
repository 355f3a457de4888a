"""Many clusters at once: which kubeconfig contexts to ask, and asking them concurrently.

`--contexts` and `--all-contexts` name the clusters. Each context gets its own
connection and the same work, in a bounded pool of threads; what each answered, or
why it could not, comes back in the order the contexts were named, so merged output
is the same from one run to the next however the answers raced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from kubectl_war.errors import UsageError, WarError
from kubectl_war.kube.config import context_names

C = TypeVar("C")
T = TypeVar("T")

#: At most this many clusters are talked to at the same time.
MAX_WORKERS = 8


@dataclass(frozen=True)
class FleetFlags:
    """`--contexts`, `--all-contexts` and `--ignore-unreachable` of one invocation.

    Attributes:
        contexts: the contexts named, each once, in the order given.
        all_contexts: every context in the kubeconfig.
        ignore_unreachable: a context that fails is reported but does not fail the run.
    """

    contexts: tuple[str, ...] = ()
    all_contexts: bool = False
    ignore_unreachable: bool = False

    @property
    def active(self) -> bool:
        """Whether the command works on a fleet rather than on one cluster."""
        return bool(self.contexts) or self.all_contexts


def split_contexts(values: Sequence[str]) -> tuple[str, ...]:
    """`--contexts a,b --contexts c` as `("a", "b", "c")`: each name once, in order.

    Raises:
        UsageError: a value names no context at all.
    """
    names: list[str] = []
    for value in values:
        parts = [p.strip() for p in value.split(",")]
        if not any(parts):
            raise UsageError(f"--contexts {value!r} names no context")
        names += [p for p in parts if p]
    return tuple(dict.fromkeys(names))


def resolve(flags: FleetFlags, kubeconfig: str | None) -> list[str]:
    """The contexts to ask: those named, in the order given, or all, in kubeconfig order."""
    if flags.all_contexts:
        return context_names(kubeconfig)
    return list(flags.contexts)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What one context answered, or why it could not.

    Attributes:
        context: the kubeconfig context.
        value: the work's result (None when it failed).
        error: the one-line reason it failed (None when it answered).
    """

    context: str
    value: T | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run(
    contexts: Sequence[str],
    connect: Callable[[str], C],
    work: Callable[[str, C], T],
    *,
    max_workers: int = MAX_WORKERS,
) -> list[Outcome[T]]:
    """`work(context, connect(context))` for every context; outcomes in context order.

    Connections are made one after another (reading kubeconfigs and loading the client
    is local and quick); the work, which waits on the network, runs concurrently in at
    most `max_workers` threads. A `WarError` (unreachable, forbidden, API not served,
    no such context) fails only its own context; anything else is a bug and is raised.
    """
    outcomes: list[Outcome[T] | None] = [None] * len(contexts)
    pending: list[tuple[int, str, C]] = []
    for i, name in enumerate(contexts):
        try:
            pending.append((i, name, connect(name)))
        except WarError as exc:
            outcomes[i] = Outcome(name, error=exc.message)

    def one(item: tuple[int, str, C]) -> Outcome[T]:
        _, name, client = item
        try:
            return Outcome(name, value=work(name, client))
        except WarError as exc:
            return Outcome(name, error=exc.message)

    if pending:
        workers = max(1, min(max_workers, len(pending)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="context") as pool:
            for (i, _, _), outcome in zip(pending, pool.map(one, pending)):
                outcomes[i] = outcome
    return [o for o in outcomes if o is not None]


def warnings(outcomes: Sequence[Outcome[T]]) -> list[str]:
    """One line for each context that failed, in context order."""
    return [f'warning: context "{o.context}": {o.error}' for o in outcomes if not o.ok]


def failed(outcomes: Sequence[Outcome[T]], flags: FleetFlags) -> bool:
    """Whether the failures fail the run: any, unless --ignore-unreachable; all, always
    (with no context answering there is nothing to show)."""
    bad = [o for o in outcomes if not o.ok]
    if not bad:
        return False
    return not flags.ignore_unreachable or len(bad) == len(outcomes)
