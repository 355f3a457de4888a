"""What a rollout deleted, or may have deleted, that is not back yet: the write-ahead journal
a re-run or `rollout status` reads, one small private JSON file per cluster under the XDG
state directory."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from kubectl_war.rollout.states import Answer
from kubectl_war.war import War

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube

# A journal entry's outcome, by its short name (see `Answer`).
SENDING = Answer.SENDING
DELETED = Answer.DELETED
UNANSWERED = Answer.UNANSWERED
REFUSED = Answer.REFUSED

# The directory and its files are private whatever the umask: the journal decides
# what a re-run may delete, so no other user may write (or swap) it.
DIR_MODE = 0o700
FILE_MODE = 0o600


class Journal:
    """WARs a rollout deleted (or sent a DELETE for) and has not seen back, in a JSON file.

    Write-ahead: a WAR is recorded (name, uid, time) before its DELETE is sent and its
    outcome written after the answer, so a rollout that stops, is interrupted or is
    killed between the two leaves behind every WAR that may be missing. A DELETE whose
    answer is lost counts as sent until the server shows otherwise: `reconcile` drops
    entries whose WAR still has its recorded uid (that DELETE never happened), and a
    re-run (or `rollout status`) counts the rest that are absent as missing. An entry
    older than the grace period is forgotten: an agent alive when its WAR was deleted is
    back by then, and the onboarding endpoint itself forgets agents that stay away that
    long.
    """

    def __init__(
        self,
        path: str | None,
        *,
        grace_seconds: float,
        wall: Callable[[], float] = time.time,
        private_dir: bool = False,
    ) -> None:
        """`private_dir`: the journal's directory is the tool's own, tightened to 0700 even
        when it already exists (a directory named by the user is only created 0700)."""
        self.path = path
        self.grace = grace_seconds
        self.wall = wall
        self.private_dir = private_dir
        self._data: dict[str, dict[str, Any]] = {}
        # Rollouts that stopped on purpose (a canary, a check, a "no"), by namespace/group.
        self._paused: dict[str, dict[str, Any]] = {}
        # Groups whose canary is back, by namespace/group: the WorkloadGroup's generation.
        self._canaries: dict[str, dict[str, Any]] = {}
        # Checks running (or interrupted) after a batch came back, by namespace/group.
        self._checking: dict[str, dict[str, Any]] = {}
        # Batches an earlier run of the same rollout finished, by (namespace, group).
        self.done_batches: dict[tuple[str, str], int] = {}
        self._load()
        self._dirty = False  # in memory, not on disk yet

    def _load(self) -> None:
        if not self.path:
            return
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return
        if not isinstance(data, dict):
            return
        for key, into in (
            ("inFlight", self._data),
            ("paused", self._paused),
            ("canaries", self._canaries),
            ("checking", self._checking),
        ):
            entries = data.get(key)
            if isinstance(entries, dict):
                into.update((k, v) for k, v in entries.items() if isinstance(v, dict))

    def _save(self) -> None:
        self._dirty = False
        if not self.path:
            return
        _private_dirs(os.path.dirname(os.path.abspath(self.path)), tighten=self.private_dir)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)  # a leftover of a killed run with the same pid
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), FILE_MODE)
            # One write: json.dump writes piece by piece, thousands of calls for a batch.
            # Compact: only then is the encoder the C one (a batch's record is written
            # between the last WAR back and the next DELETE; indenting took 5-10 ms).
            doc: dict[str, Any] = {"inFlight": self._data}
            if self._paused:
                doc["paused"] = self._paused
            if self._canaries:
                doc["canaries"] = self._canaries
            if self._checking:
                doc["checking"] = self._checking
            fh.write(json.dumps(doc, sort_keys=True, separators=(",", ":")))
            fh.flush()
            os.fsync(fh.fileno())  # the record must be on disk before the DELETE goes out
        os.replace(tmp, self.path)  # atomic: an interrupted write never leaves half a file

    @staticmethod
    def _key(namespace: str, name: str) -> str:
        return f"{namespace}/{name}"

    def _current(self, entry: dict[str, Any]) -> bool:
        when = entry.get(
            "sentAt", entry.get("deletedAt")
        )  # deletedAt: journals written before outcomes were
        try:
            return self.wall() - float(when or 0) <= self.grace
        except (TypeError, ValueError):
            return False

    def in_flight(self, namespace: str, group: str) -> list[tuple[str, str]]:
        """(name, uid) of the group's WARs recorded within the grace period and not back."""
        out = []
        for entry in self._data.values():
            if entry.get("namespace") != namespace or entry.get("group") != group:
                continue
            if self._current(entry):
                out.append((str(entry.get("name")), str(entry.get("uid"))))
        return sorted(out)

    def missing_by_group(self) -> dict[tuple[str, str], list[str]]:
        """Recorded names by (namespace, group), within the grace period."""
        out: dict[tuple[str, str], list[str]] = {}
        for e in self._data.values():
            if self._current(e):
                key = (str(e.get("namespace")), str(e.get("group")))
                out.setdefault(key, []).append(str(e.get("name")))
        return out

    def outcome(self, namespace: str, name: str) -> str | None:
        entry = self._data.get(self._key(namespace, name))
        return str(entry.get("outcome") or DELETED) if entry is not None else None

    def record(self, group: str, wars: Sequence[War]) -> None:
        """Before their DELETEs are sent: from now on these count as missing when absent."""
        now = self.wall()
        for war in wars:
            self._data[self._key(war.namespace, war.name)] = {
                "namespace": war.namespace,
                "group": group,
                "name": war.name,
                "uid": war.uid,
                "sentAt": now,
                "outcome": SENDING,
            }
        self._save()

    def answered(self, namespace: str, name: str, outcome: Answer, *, save: bool = True) -> None:
        """What the DELETE's answer said (DELETED, or UNANSWERED for an error or none).

        `save=False` keeps it in memory until the next write (or `flush`): an answer
        that says a DELETE landed changes nothing a re-run does, so a batch's answers
        need not cost a write each.
        """
        entry = self._data.get(self._key(namespace, name))
        if entry is not None and entry.get("outcome") != outcome:
            entry["outcome"] = outcome
            self._dirty = True
            if save:
                self._save()

    def flush(self) -> None:
        """Write what `answered(save=False)` kept in memory."""
        if self._dirty:
            self._save()

    def forget(self, namespace: str, names: Iterable[str]) -> None:
        changed = False
        for name in names:
            changed |= self._data.pop(self._key(namespace, name), None) is not None
        if changed:
            self._save()

    def pause(self, namespace: str, group: str, record: dict[str, Any]) -> None:
        """Keep why and where a group's rollout stopped on purpose (`record` is data:
        `progressive.Paused.record`), for a re-run and `rollout status`."""
        self._paused[self._key(namespace, group)] = {
            "namespace": namespace,
            "group": group,
            "at": self.wall(),
            **record,
        }
        self._save()

    def paused(self, namespace: str, group: str) -> dict[str, Any] | None:
        """Why and where the group's last rollout stopped on purpose, if it did."""
        return self._paused.get(self._key(namespace, group))

    def paused_by_group(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(str(p.get("namespace")), str(p.get("group"))): p for p in self._paused.values()}

    def resume(self, namespace: str, group: str) -> None:
        """The group's rollout goes on (or is done): it is no longer paused."""
        if self._paused.pop(self._key(namespace, group), None) is not None:
            self._save()

    def canary_back(self, namespace: str, group: str, generation: str) -> None:
        """The group's canary is re-onboarded (for this WorkloadGroup generation): a
        re-run goes on with the rest, whatever stopped this one."""
        self._canaries[self._key(namespace, group)] = {
            "namespace": namespace,
            "group": group,
            "generation": generation,
        }
        self._save()

    def canaries(self) -> dict[tuple[str, str], str]:
        """The generation each group's canary was re-onboarded for."""
        return {
            (str(c.get("namespace")), str(c.get("group"))): str(c.get("generation"))
            for c in self._canaries.values()
        }

    def checking(self, namespace: str, group: str, record: dict[str, Any] | None) -> None:
        """The checks after a batch start (`record`: the batch, its WARs, the generation)
        or passed (None): a run interrupted meanwhile leaves the record, and the next run
        checks that batch again before it deletes anything."""
        key = self._key(namespace, group)
        if record is None:
            if self._checking.pop(key, None) is not None:
                self._save()
            return
        self._checking[key] = {"namespace": namespace, "group": group, **record}
        self._save()

    def pending_check(self, namespace: str, group: str) -> dict[str, Any] | None:
        """The batch whose checks an earlier run started and never finished, if any."""
        return self._checking.get(self._key(namespace, group))

    def rolled_out(self, namespace: str, group: str) -> None:
        """The group's rollout is complete: no pause, no canary, no check to remember."""
        key = self._key(namespace, group)
        found = self._paused.pop(key, None) is not None
        found = self._checking.pop(key, None) is not None or found
        if self._canaries.pop(key, None) is not None or found:
            self._save()

    def reconcile(self, wars: Iterable[War], namespace: str | None) -> list[str]:
        """Check every entry of `namespace` (None: all) against the WARs listed there now.

        A WAR still present with its recorded uid was never deleted (the DELETE did not
        happen, or was refused): its entry goes. An absent WAR stays recorded (it is
        missing); one re-created under a new uid stays too, until a rollout sees it
        back. Answers the names dropped.
        """
        uids = {(w.namespace, w.name): w.uid for w in wars}
        dropped = []
        for key, e in list(self._data.items()):
            ns, name = str(e.get("namespace")), str(e.get("name"))
            if namespace is not None and ns != namespace:
                continue
            if uids.get((ns, name)) == e.get("uid"):
                del self._data[key]
                dropped.append(name)
        if dropped:
            self._save()
        return sorted(dropped)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _private_dirs(path: str, *, tighten: bool) -> None:
    """Create `path` and its missing parents 0700 (the XDG rule for state directories),
    whatever the umask; with `tighten`, make an existing `path` 0700 as well."""
    missing = []
    at = path
    while at and not os.path.isdir(at):
        missing.append(at)
        parent = os.path.dirname(at)
        if parent == at:
            break
        at = parent
    for d in reversed(missing):
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by another process: not ours to change
        os.chmod(d, DIR_MODE)  # mkdir's mode is filtered by the umask
    if tighten and not missing:
        st = os.stat(path)
        if st.st_uid == os.getuid() and st.st_mode & 0o777 != DIR_MODE:
            os.chmod(path, DIR_MODE)


def state_dir() -> tuple[str, bool]:
    """The journals' directory, and whether it is the tool's own (not named by the user):
    `$KUBECTL_WAR_STATE_DIR`, else `kubectl-war` under the XDG state directory."""
    named = os.environ.get("KUBECTL_WAR_STATE_DIR")
    if named:
        return named, False
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(state, "kubectl-war"), True


def journal_path(server: str, context: str | None) -> str:
    """Where a cluster's journal lives: `$KUBECTL_WAR_STATE_DIR`, else the XDG state dir."""
    digest = hashlib.sha256(f"{server}\n{context or ''}".encode()).hexdigest()[:16]
    return os.path.join(state_dir()[0], f"rollout-{digest}.json")


def for_cluster(client: Kube, grace_seconds: float) -> Journal:
    """The journal of the cluster and context `client` (a `kube.Kube`) talks to."""
    return Journal(
        journal_path(client.host, client.context_name),
        grace_seconds=grace_seconds,
        private_dir=state_dir()[1],
    )
