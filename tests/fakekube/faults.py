"""Fault injection for the fake API server: the bad days a control-plane client must survive.

Every decision comes from one seeded random generator, so a failing run can be
replayed; every fault injected is recorded, so a test can show the faults really
happened rather than trusting a rate.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

# Paths that are not the API proper (health, metrics) are never faulted.
_API_PREFIXES = ("/api", "/apis", "/version")


@dataclass
class Faults:
    """What to break, and how often.

    Attributes:
        rate: share of requests answered with an error status instead of being handled.
        statuses: the error statuses to choose from (429 carries Retry-After).
        drop_rate: share of requests whose connection is closed with no answer at all.
        drop_after_rate: share of writes (DELETE, POST, PUT, PATCH) that are carried out
            and then lose their answer: the client cannot know the write happened.
        drop_after_limit: at most this many such lost answers (None: no limit).
        latency: seconds added before every answer.
        expire_continue_rate: share of requests with a continue token answered 410.
        cut_watch_after: end each watch stream abruptly after this many chunks.
        seed: the random generator's seed.
    """

    rate: float = 0.0
    statuses: tuple[int, ...] = (429, 500, 502, 503, 504)
    drop_rate: float = 0.0
    drop_after_rate: float = 0.0
    drop_after_limit: int | None = None
    latency: float = 0.0
    expire_continue_rate: float = 0.0
    cut_watch_after: int | None = None
    retry_after: str = "0"
    seed: int = 0
    injected: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def _roll(self, p: float) -> bool:
        if p <= 0:
            return False
        with self._lock:
            return self._random.random() < p

    def _note(self, kind: str, method: str, path: str) -> None:
        with self._lock:
            self.injected.append((kind, method, path))

    def decide(self, method: str, path: str, has_continue: bool) -> str | int | None:
        """What happens to one request: None (serve it), a status, "drop", "drop-after",
        or "expire" (answer 410 to its continue token)."""
        if not path.startswith(_API_PREFIXES):
            return None
        if has_continue and self._roll(self.expire_continue_rate):
            self._note("expire", method, path)
            return "expire"
        if self._roll(self.drop_rate):
            self._note("drop", method, path)
            return "drop"
        if self._roll(self.rate):
            with self._lock:
                status = self._random.choice(self.statuses)
            self._note(str(status), method, path)
            return status
        spent = (
            self.drop_after_limit is not None and self.count("drop-after") >= self.drop_after_limit
        )
        if (
            method in ("DELETE", "POST", "PUT", "PATCH")
            and not spent
            and self._roll(self.drop_after_rate)
        ):
            self._note("drop-after", method, path)
            return "drop-after"
        return None

    def count(self, kind: str) -> int:
        with self._lock:
            return sum(1 for k, _, _ in self.injected if k == kind)
