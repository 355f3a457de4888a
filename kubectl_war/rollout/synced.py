"""Whether a re-onboarded WAR's sidecar is SYNCED, read from a proxy-status source no more
often than istiod can bear: `CachedSidecars` keeps the last answer and says when to read
again."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from kubectl_war.sidecars.records import SyncState
from kubectl_war.war import War

#: While agents are still coming back, the source is read at most this often (seconds).
SLOW = 1.0
#: Once a wait has nothing left but sidecars, the source is read this soon after the last
#: read, `FAST_READS` times (a sidecar is usually SYNCED within a few tenths of a second
#: of its agent connecting), then twice as long after each read that did not end the wait,
#: up to `SLOW`.
FAST = 0.05
FAST_READS = 4
#: A read never starts sooner than this many times the last read's duration after it
#: ended: with 50,000 proxies an answer of istiod's is tens of megabytes, and asking for
#: it back to back would keep istiod (and the API server's proxy) busy serving us.
COST = 1.0


class CachedSidecars:
    """`sidecar_synced(war)` over a sidecar source read at most every `max_age` seconds,
    or sooner when a wait asks for it (`next_read`).

    `fetch()` answers the proxies connected to istiod by name (`<war>.<namespace>`),
    each with `overall` (`SYNCED` when every type is). A proxy missing from the answer
    is not connected to istiod: not synced. A source that fails is "not synced
    yet" with the error kept in `error`, so a rollout waits rather than guesses.

    The proxy keeps its name across re-onboarding, so an answer read before a WAR
    was first asked about (that is, before it was seen back) may describe the old
    sidecar's state: such an answer is "not synced yet" until a newer one is read.
    """

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        *,
        max_age: float = SLOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetch = fetch
        self.max_age = max_age
        self.clock = clock
        self.error = ""
        self.reads = 0
        self.took = 0.0  # how long the last read took
        self._at: float | None = None  # when the last read started
        self._due: float | None = None  # when a wait wants the next read
        self._close_from: int | None = None  # `reads` when only sidecars were left
        self._proxies: Mapping[str, Any] = {}
        self._first_asked: dict[tuple[str, str], float] = {}

    def _fresh(self) -> Mapping[str, Any]:
        now = self.clock()
        due = self._due is not None and now >= self._due
        if self._at is None or now - self._at >= self.max_age or due:
            self._at, self._due = now, None
            self.reads += 1
            try:
                self._proxies = self.fetch()
                self.error = ""
            except Exception as exc:  # any source failure means "cannot tell yet"
                self._proxies = {}
                self.error = str(getattr(exc, "message", exc))
            self.took = self.clock() - now
        return self._proxies

    def probe(self) -> None:
        """Read the source now (a failure is kept in `error`)."""
        self._at = None
        self._fresh()

    def next_read(self, *, close: bool) -> float:
        """Seconds until a waiting rollout should look again (and this reads anew then).

        `close`: nothing but sidecars stands between the wait and its end, so the answer
        is wanted soon (`FAST`, `FAST_READS` times, then doubling with each read that did
        not end it); else a read every `max_age` is enough. Never sooner than `COST` times
        the last read's duration after it ended.
        """
        now = self.clock()
        if self._at is None:
            return 0.0
        if close:
            if self._close_from is None:
                self._close_from = self.reads
            slower = max(0, self.reads - self._close_from - FAST_READS + 1)
            gap = min(self.max_age, FAST * 2**slower)
        else:
            gap, self._close_from = self.max_age, None
        ended = self._at + self.took
        self._due = max(self._at + gap, ended + COST * self.took)
        return max(0.0, self._due - now)

    def state(self, war: War) -> str:
        """The sidecar's sync state in the source's last answer (`SYNCED`, `STALE`...)."""
        proxy = self._fresh().get(war.proxy_name)
        if proxy is None:
            return f"unknown ({self.error})" if self.error else "not connected to istiod"
        return str(getattr(proxy, "overall", "UNKNOWN"))

    def __call__(self, war: War) -> bool | None:
        since = self._first_asked.setdefault((war.proxy_name, war.uid), self.clock())
        proxies = self._fresh()
        if self._at is None or self._at < since:
            return False
        proxy = proxies.get(war.proxy_name)
        if proxy is None:
            return False
        return getattr(proxy, "overall", None) == SyncState.SYNCED
