"""Keep Python's cyclic garbage collector out of bulk work.

Listing tens of thousands of WARs allocates millions of long-lived objects (the
API's JSON, the WAR views, the rows) and frees almost none of them; the
collector's repeated passes over that growing heap were up to 40% of `list`'s
time. A command decorated with `paused` runs with collection off; one that goes
on to wait for a long time (a watch) calls `settle()` first, which freezes what
was built so far (the collector never scans it again) and turns collection back
on for whatever the long phase allocates.
"""

from __future__ import annotations

import functools
import gc
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
    """Before a long-running phase: freeze what the bulk work built and collect again."""
    if not _frames:
        return
    gc.freeze()
    _frames[-1] = True
    gc.enable()
