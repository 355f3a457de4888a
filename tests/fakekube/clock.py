"""Time for the fake API server: a steppable clock, RFC 3339 stamps, HumanDuration."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

__all__ = ["Clock", "format_time", "human_duration", "parse_time", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def format_time(when: datetime) -> str:
    """metav1.Time on the wire: RFC 3339 in UTC, whole seconds."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 stamp as the API server writes it (``Z`` or an offset)."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def human_duration(delta: timedelta) -> str:
    """apimachinery's ``duration.HumanDuration``: what the server puts in an AGE cell.

    Go truncates every division towards zero, so integer arithmetic on whole
    microseconds reproduces it without float rounding surprises.
    """
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    seconds = int(micros / 1_000_000)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


class Clock:
    """A clock that stands still until told to move, so ages and stamps are exact.

    Call it for the current time. Thread-safe: the server reads it from handler
    threads while a test advances it.
    """

    def __init__(self, start: datetime | str = "2024-05-16T12:00:00Z") -> None:
        if isinstance(start, str):
            start = parse_time(start)
        if start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
        self._now = start.astimezone(timezone.utc)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float = 0.0, **kwargs: float) -> datetime:
        """Move forward by ``seconds`` (plus any ``timedelta`` keywords); return the new now."""
        step = timedelta(seconds=seconds, **kwargs)
        with self._lock:
            self._now += step
            return self._now

    def set(self, when: datetime | str) -> None:
        if isinstance(when, str):
            when = parse_time(when)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        with self._lock:
            self._now = when.astimezone(timezone.utc)

    def __repr__(self) -> str:
        return f"Clock({format_time(self())!r})"
