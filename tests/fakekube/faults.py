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
        latency: seconds added before every request is handled.
        latency_by_method: seconds by HTTP method (``{"DELETE": 4.0}``) that an answer
            is held back AFTER the request was carried out: a client whose timeout is
            shorter loses the answer, but the write has landed. See ``slow_answer`` for
            a path prefix; ``stop()`` of the server cuts such waits short (no answer).
        expire_continue_rate: share of requests with a continue token answered 410
            Expired, with the API server's body (1.0: every continue token, every time;
            lists without a continue token are never touched).
        expire_watch_rate: share of watch requests answered with nothing but an ERROR
            event holding a 410 Expired Status (``too old resource version``), as the
            watch cache answers a watch from a compacted resourceVersion (1.0: every
            watch, so a client that re-lists and re-watches forever never gets further).
        cut_watch_after: end each watch stream abruptly (the connection closed
            mid-stream, no terminating chunk) after this many chunks of events; 0 cuts
            right after the response headers, before any event.
        seed: the random generator's seed.

    ``injected`` records each fault as (kind, method, path); kinds are the status
    number, "drop", "drop-after", "expire", "expire-watch", "cut-watch" and "slow".
    """

    rate: float = 0.0
    statuses: tuple[int, ...] = (429, 500, 502, 503, 504)
    drop_rate: float = 0.0
    drop_after_rate: float = 0.0
    drop_after_limit: int | None = None
    latency: float = 0.0
    latency_by_method: dict[str, float] = field(default_factory=dict)
    expire_continue_rate: float = 0.0
    expire_watch_rate: float = 0.0
    cut_watch_after: int | None = None
    retry_after: str = "0"
    seed: int = 0
    injected: list[tuple[str, str, str]] = field(default_factory=list)
    # (seconds, method or None, path prefix or None): see slow_answer().
    slow_answers: list[tuple[float, str | None, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        self._released = threading.Event()

    def release_slow_answers(self) -> None:
        """Send every answer held back now, and from now on hold none: a test that must
        not depend on how long a client waits releases the answer after what it waited
        for (the fake server's stop() releases them too, then drops them)."""
        self._released.set()

    def hold_answer(self, seconds: float) -> None:
        """Wait out a held answer: ``seconds``, or until release_slow_answers()."""
        self._released.wait(seconds)

    def slow_answer(
        self, seconds: float, method: str | None = None, path_prefix: str | None = None
    ) -> Faults:
        """Carry out matching requests at once but hold their answer back ``seconds``.

        method: an HTTP method (None: any); path_prefix: the start of the
        percent-decoded path (None: any). The first matching rule wins, and rules
        come before ``latency_by_method``. Returns self, to chain.
        """
        with self._lock:
            self.slow_answers.append((seconds, method.upper() if method else None, path_prefix))
        return self

    def answer_delay(self, method: str, path: str) -> float:
        """Seconds to hold back the answer to ``method path`` once it is carried out."""
        if not path.startswith(_API_PREFIXES):
            return 0.0
        with self._lock:
            for seconds, m, prefix in self.slow_answers:
                if m in (None, method) and path.startswith(prefix or ""):
                    return seconds
        return float(self.latency_by_method.get(method, 0.0))

    def expire_watch(self, method: str, path: str) -> bool:
        """Whether this watch request is answered with a 410 ERROR event only."""
        if self._roll(self.expire_watch_rate):
            self.note("expire-watch", method, path)
            return True
        return False

    def _roll(self, p: float) -> bool:
        if p <= 0:
            return False
        with self._lock:
            return self._random.random() < p

    def note(self, kind: str, method: str, path: str) -> None:
        with self._lock:
            self.injected.append((kind, method, path))

    def decide(self, method: str, path: str, has_continue: bool) -> str | int | None:
        """What happens to one request: None (serve it), a status, "drop", "drop-after",
        or "expire" (answer 410 to its continue token)."""
        if not path.startswith(_API_PREFIXES):
            return None
        if has_continue and self._roll(self.expire_continue_rate):
            self.note("expire", method, path)
            return "expire"
        if self._roll(self.drop_rate):
            self.note("drop", method, path)
            return "drop"
        if self._roll(self.rate):
            with self._lock:
                status = self._random.choice(self.statuses)
            self.note(str(status), method, path)
            return status
        spent = (
            self.drop_after_limit is not None and self.count("drop-after") >= self.drop_after_limit
        )
        if (
            method in ("DELETE", "POST", "PUT", "PATCH")
            and not spent
            and self._roll(self.drop_after_rate)
        ):
            self.note("drop-after", method, path)
            return "drop-after"
        return None

    def count(self, kind: str) -> int:
        with self._lock:
            return sum(1 for k, _, _ in self.injected if k == kind)
