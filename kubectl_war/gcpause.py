"""Keep Python's memory management out of bulk work.

Listing tens of thousands of WARs allocates millions of long-lived objects (the
API's JSON, the WAR views, the rows) and frees almost none of them; the
collector's repeated passes over that growing heap were up to 40% of `list`'s
time. A command decorated with `paused` runs with collection off; one that goes
on to wait for a long time (a watch) calls `settle()` first, which freezes what
was built so far (the collector never scans it again) and turns collection back
on for whatever the long phase allocates; a phase made of rounds (a rollout's
batches) calls it again before each round, so a collection during one round looks
only at what that round built. `keep` leaves objects the process no longer needs to
be reclaimed at exit rather than freed one by one.
"""

from __future__ import annotations

import functools
import gc

#: `typing` is read only by type checkers here: importing it costs some 5 ms of start-up on
#: the paths that run without click (`kubectl war --help`, `decode`).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

# One entry per active `paused` call: whether it has frozen the heap.
_frames: list[bool] = []


def paused(func: F) -> F:
    """Run `func` with cyclic collection off; restore the collector's state after."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        was_enabled = gc.isenabled()
        gc.disable()
        _frames.append(False)
        try:
            return func(*args, **kwargs)
        finally:
            if _frames.pop():
                # Hand frozen objects back, so an in-process caller (tests) can
                # collect them once they are garbage.
                gc.unfreeze()
            if was_enabled:
                gc.enable()
            else:
                gc.disable()

    return wrapper  # type: ignore[return-value]


def settle() -> None:
    """Before a long-running phase: freeze what the bulk work built and collect again.

    Called again, it freezes what was built since, after a collection of the young
    generations (a millisecond at most) so that cycles the last round left behind are
    not frozen with it. Frozen objects are still freed when nothing refers to them any
    more; only garbage in reference cycles among them waits for the command's end (when
    `paused` unfreezes them).
    """
    if not _frames:
        return
    if _frames[-1]:
        gc.collect(1)
    gc.freeze()
    _frames[-1] = True
    gc.enable()


def sweep() -> None:
    """Collect the youngest objects now, while collection is paused.

    For bulk work that leaves a little cyclic garbage per item (json's indenting
    encoder builds a cycle of closures on every call): called every few hundred items,
    it frees that garbage and looks at each object once, as it moves to an older
    generation that is never looked at again.
    """
    if _frames:
        gc.collect(0)


# Set by `cli.main` when it will end the process with os._exit (run as the program).
exiting_fast = False
# Objects `keep` holds until the process ends, and how many at most.
KEEP_LIMIT = 5000
_kept: list[object] = []


def keep(obj: object) -> None:
    """Hold `obj` for the rest of the process, when the process will end soon and fast.

    Freeing decoded API objects one by one costs about a third of decoding them (some
    8 µs a WAR). A run that ends with os._exit leaves them to the OS, which reclaims a
    process's memory at once; `list` hands over each WAR once its row is built. At
    most KEEP_LIMIT objects are held (about 60 MB of WARs), so a long list still frees
    its pages as it goes and memory stays bounded.
    """
    if exiting_fast and len(_kept) < KEEP_LIMIT:
        _kept.append(obj)
