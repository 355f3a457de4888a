"""The closed sets a rollout reports in: its members' states, its endings, its progress
events and its journal's answers, each a `str` Enum that prints as its text."""

from __future__ import annotations

from enum import Enum


class _Text(str, Enum):
    """A `str`, so it compares equal to, prints as and serialises to JSON as its text."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class MemberState(_Text):
    """What a member of a batch (or a WAR counted unavailable) is doing, as last seen."""

    PENDING = "pending"
    SENT = "sent"  # a DELETE went out and no answer says what became of it
    DELETED = "deleted"
    OLD_PRESENT = "deleting"
    RECREATED = "re-created"
    SYNCING = "agent connected"
    BACK = "back"
    GONE = "gone"
    NOT_DELETED = "not deleted"
    SKIPPED = "skipped"
    FAILED = "failed"
    NOT_STARTED = "not started"


class Ending(_Text):
    """How a rollout ended."""

    COMPLETE = "complete"
    STOPPED = "failed"
    INTERRUPTED = "interrupted"
    PAUSED = "paused"  # stopped on purpose after a canary: a re-run continues
    ABORTED = "aborted"  # stopped by `rollout abort`: a later run starts anew


class EventKind(_Text):
    """What a progress event says (see `progress.Event`)."""

    GROUP = "group"
    BATCH = "batch"
    RECOVER = "recover"
    STATE = "state"
    BATCH_DONE = "batch-done"
    PAUSE = "pause"
    CHECK = "check"
    ANALYSIS = "analysis"
    ALERTS = "alerts"
    GROUP_DONE = "group-done"
    RECHECK = "recheck"  # an earlier run's interrupted checks run again first


class Answer(_Text):
    """A journal entry's outcome: what the answer to its DELETE said."""

    SENDING = "sending"  # recorded before the DELETE went out; no answer (yet)
    DELETED = "deleted"  # answered: the server deleted it
    UNANSWERED = "unanswered"  # an error or no answer: the DELETE may or may not have landed
    REFUSED = "refused"  # answered 403 Forbidden: the DELETE did not land
