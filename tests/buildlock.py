"""Builds of the release, one at a time across the suite's processes.

`make test` runs the suite in several processes (`pytest -n`). The release builds share
this checkout's wheel caches under build/, which pip fills on first use, and
`python -m build` writes into the checkout itself (setuptools' build/, *.egg-info and
the sdist's tree): each build holds this lock while it runs.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def one_build_at_a_time() -> Iterator[None]:
    """Hold the checkout's build lock (not re-entrant: never nest it)."""
    path = ROOT / "build" / ".build.lock"
    path.parent.mkdir(exist_ok=True)
    with open(path, "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        yield  # closing the file releases the lock
