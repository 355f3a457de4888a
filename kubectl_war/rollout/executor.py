"""Running a rollout plan: delete a batch, wait until it is back, go on.

After a WorkloadGroup changes, each machine keeps the old config until its WAR is
deleted and its agent onboards again. The plan (`rollout.plan`) decides which WARs go
and in which batches; the executor deletes one batch at a time through
`deletion.delete_wars` (uid preconditions), then waits (`kube.watch.until`, reading the
WARs it waits on directly too) until every WAR of the batch is back: same name, new
uid, agent connected and, when a sidecar source exists, its sidecar SYNCED. It never
lets more of a group be unavailable than `--max-unavailable`, counting WARs that were
already unavailable.

"Unavailable" means expected back but not healthy: a WAR deleted (by this run or,
per the journal, an earlier one) and not back yet, a WAR whose DELETE went out with no
answer that says it did not land, a WAR that vanished since it was planned, and a WAR
whose agent has not connected yet (no AgentConnected condition, or Unknown).
Disconnected agents (False) are outside the group's capacity: they cannot re-onboard,
are never deleted, and the onboarding endpoint removes them after the grace period.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from kubectl_war.durations import go_duration
from kubectl_war.errors import WarError
from kubectl_war.kube.watch import REREAD_EVERY, Store, until
from kubectl_war.rollout import journal as rj
from kubectl_war.rollout.journal import Journal
from kubectl_war.rollout.plan import Batch, GroupPlan, Plan
from kubectl_war.rollout.progress import (
    BACK,
    COMPLETE,
    DELETED,
    FAILED,
    GONE,
    INTERRUPTED,
    NOT_DELETED,
    NOT_STARTED,
    OLD_PRESENT,
    RECREATED,
    SENT,
    SKIPPED,
    STOPPED,
    SYNCING,
    Event,
    GroupResult,
    MemberResult,
    Result,
    Tracked,
)
from kubectl_war.rollout.states import EventKind
from kubectl_war.rollout.view import plural
from kubectl_war.war import War


class _Stop(Exception):
    """Ends the rollout: a batch did not come back, or a deletion failed."""


class Executor:
    """Runs a plan: one batch at a time, never more of a group unavailable than allowed.

    Talks to the cluster only through `kube` (`list`, `get`, `watch`, and `delete` via
    `deletion.delete_wars`). Time is injected: `clock` (monotonic seconds) for deadlines
    and elapsed time, `sleep` for `--pause`.

    Interruption: `interrupt(reason)` (from a SIGINT or SIGTERM handler, which then
    raises KeyboardInterrupt unless `shielded`) stops any further request; `run` turns
    it into an `interrupted` result. Every DELETE is in the journal before it is sent,
    so an interrupt, or a kill, at any point leaves the journal a superset of what was
    deleted; only a journal write is shielded, so that the file is never torn.
    """

    def __init__(
        self,
        kube: Any,
        res: Any,
        plan: Plan,
        *,
        eligible: Callable[[War], bool],
        timeout: float,
        pause: float = 0.0,
        sidecar_synced: Callable[[War], bool | None] | None = None,
        journal: Journal | None = None,
        report: Callable[[Event], None] = lambda ev: None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        poll: float = 1.0,
        resync: float = REREAD_EVERY,
    ) -> None:
        self.kube = kube
        self.res = res
        self.plan = plan
        self.eligible = eligible
        self.timeout = timeout
        self.pause = pause
        self.sidecar_synced = sidecar_synced
        self.journal = journal or Journal(None, grace_seconds=0)
        self.report = report
        self.clock = clock
        self.sleep = sleep
        self.interrupted = False
        self.reason = "interrupted"
        self.shielded = False
        self.in_flight: list[Tracked] = []
        # How often WARs whose sidecar is not SYNCED yet are judged again (None: never).
        self.sidecar_poll = poll if sidecar_synced is not None else None
        self.resync = resync
        self._current: GroupResult | None = None
        self._batch: Batch | None = None
        self._failed_in_batch = ""
        self._resumed_back: set[tuple[str, str]] = set()

    def interrupt(self, reason: str = "interrupted") -> None:
        self.reason = reason
        self.interrupted = True

    @contextlib.contextmanager
    def _shield(self) -> Iterator[None]:
        """A journal write: a signal waits for its end (then interrupts)."""
        self.shielded = True
        try:
            yield
        finally:
            self.shielded = False
        if self.interrupted:
            raise KeyboardInterrupt

    # -- running ------------------------------------------------------------------------

    def run(self) -> Result:
        start = self.clock()
        results = [GroupResult(g) for g in self.plan.groups]
        for gr in results:
            for m in gr.plan.members:
                gr.members[m.name] = MemberResult(m.name, NOT_STARTED)
        outcome, message = COMPLETE, ""
        first = True
        try:
            for gr in results:
                self._current = gr
                self.report(Event(EventKind.GROUP, gr.plan))
                carried = self._carried(gr.plan)
                for batch in gr.plan.batches:
                    if self.interrupted:
                        raise KeyboardInterrupt
                    if not first and self.pause > 0:
                        self.report(Event(EventKind.PAUSE, gr.plan, batch, seconds=self.pause))
                        self.sleep(self.pause)
                    first = False
                    if self.interrupted:
                        raise KeyboardInterrupt
                    carried = self._run_batch(gr, batch, carried)
                    gr.batches_done += 1
                if carried:
                    self._finish_carried(gr, carried)
                self.report(Event(EventKind.GROUP_DONE, gr.plan))
        except _Stop as stop:
            outcome, message = STOPPED, str(stop)
        except WarError as exc:
            # The cluster stopped answering mid-way: report what is in flight all the same.
            outcome, message = STOPPED, f"{exc.message}; the rollout stopped"
        except KeyboardInterrupt:
            self.interrupted = True
            outcome = INTERRUPTED
            message = f"{self.reason}: no further WAR will be deleted"
        self.shielded = True  # the rollout is over: a late signal must not cut its report
        waiting = [t for t in self.in_flight if not t.resolved]
        for t in waiting:
            gr = self._current
            if gr is not None and t.name in gr.members and t.old_uid:
                gr.members[t.name] = MemberResult(t.name, t.state, t.waiting_on)
        resumed = len(self._resumed_back)
        return Result(outcome, results, message, waiting, self.clock() - start, resumed)

    def _carried(self, gp: GroupPlan) -> list[Tracked]:
        """WARs of the group an earlier rollout deleted (or sent a DELETE for) that may
        not be back yet."""
        return [
            Tracked(gp.namespace, name, uid, DELETED, carried=True)
            for name, uid in self.journal.in_flight(gp.namespace, gp.name)
        ]

    def _finish_carried(self, gr: GroupResult, carried: list[Tracked]) -> None:
        """Nothing of the group was deleted by this run: wait for what an earlier one left
        in flight, so that "rolled out" is true when it is said."""
        gp = gr.plan
        self._batch = None
        self.in_flight = carried
        objs = _by_name(self.kube.list(self.res, gp.namespace).items)
        for t in carried:
            self._observe(t, objs.get(t.name))
        with self._shield():
            self.journal.forget(gp.namespace, [t.name for t in carried if t.resolved])
        carried = [t for t in carried if not t.resolved]
        if not carried:
            return
        names = tuple(t.name for t in carried)
        self.report(Event(EventKind.RECOVER, gp, count=len(carried), names=names, carried=True))
        ok = self._await(gp.namespace, carried, 0, self.clock() + self.timeout)
        with self._shield():
            self.journal.forget(gp.namespace, [t.name for t in carried if t.resolved])
        if not ok:
            late = [t for t in carried if not t.resolved]
            raise _Stop(
                f"{plural(len(late), 'WAR')} of WorkloadGroup {gp.ref} deleted by an earlier "
                f"rollout did not come back within {go_duration(self.timeout)}"
            )

    def _run_batch(self, gr: GroupResult, batch: Batch, carried: list[Tracked]) -> list[Tracked]:
        gp = gr.plan
        self._batch = batch
        live = self.kube.list(self.res, gp.namespace)
        objs = _by_name(live.items)
        chosen: list[War] = []
        unavailable: list[Tracked] = []
        for t in carried:
            self._observe(t, objs.get(t.name))
        # Back (or never deleted after all): no longer in flight.
        with self._shield():
            self.journal.forget(gp.namespace, [t.name for t in carried if t.resolved])
        unavailable += [t for t in carried if not t.resolved]
        for m in batch.members:
            obj = objs.get(m.name)
            current = War(obj) if obj is not None else None
            if current is None:
                # Gone since planned: someone else deleted it; it may be on its way back.
                self._skip(gr, m.name, "deleted since planned; counted as unavailable")
                t = Tracked(m.namespace, m.name, m.uid, DELETED)
                unavailable.append(t)
            elif current.uid != m.uid:
                self._skip(gr, m.name, "re-registered since planned")
            elif not self.eligible(current):
                self._skip(gr, m.name, "no longer selected (changed since planned)")
            else:
                chosen.append(current)
        tracked_names = {t.name for t in unavailable} | {w.name for w in chosen}
        for obj in objs.values():
            w = War(obj)
            joining = w.group == gp.name and not w.is_connected and not w.is_disconnected
            if joining and w.name not in tracked_names:
                unavailable.append(Tracked(gp.namespace, w.name, None, RECREATED))
        if not chosen:
            return [t for t in unavailable if t.old_uid and not t.resolved]
        deadline = self.clock() + self.timeout
        room = gp.max_unavailable - len(chosen)
        held = [t for t in unavailable if not t.resolved]
        waits = len(held) > room
        held_first = len(held) if waits else 0
        self.report(Event(EventKind.BATCH, gp, batch, count=len(chosen), held=held_first))
        if waits:
            self.report(
                Event(
                    EventKind.RECOVER,
                    gp,
                    batch,
                    count=len(held),
                    names=tuple(t.name for t in held),
                    carried=all(t.carried for t in held),
                )
            )
            self.in_flight = unavailable
            ok = self._await(gp.namespace, unavailable, room, deadline)
            if not ok:
                late = [t for t in unavailable if not t.resolved]
                raise _Stop(
                    f"batch {batch.number}/{len(gp.batches)} of WorkloadGroup {gp.ref} "
                    f"not started: {len(late)} of its WARs stayed unavailable for "
                    f"{go_duration(self.timeout)} (max unavailable {gp.max_unavailable})"
                )
            # Said again now that its WARs are really being deleted.
            self.report(Event(EventKind.BATCH, gp, batch, count=len(chosen)))
        if self.interrupted:
            raise KeyboardInterrupt
        self.in_flight = [t for t in unavailable if t.old_uid]
        targets = self._delete(gr, chosen)
        if not targets:
            return [t for t in unavailable if t.old_uid and not t.resolved]
        # WARs an earlier rollout left in flight finish with this batch: resuming
        # means completing what was interrupted, then going on.
        resumed = [t for t in unavailable if t.carried and not t.resolved]
        try:
            ok = self._await(gp.namespace, targets + resumed, 0, deadline)
        except WarError:
            if self._failed_in_batch:
                raise _Stop(self._failed_message(targets)) from None
            raise
        done = [t.name for t in targets if t.state == BACK]
        for name in done:
            gr.members[name] = MemberResult(name, BACK)
        # A DELETE answered with an error whose WAR is still there stays recorded: if
        # it lands after all, a re-run must count it.
        with self._shield():
            self.journal.forget(gp.namespace, done + [t.name for t in resumed if t.resolved])
        if self._failed_in_batch:
            raise _Stop(self._failed_message(targets))
        if not ok:
            raise _Stop(
                f"batch {batch.number}/{len(gp.batches)} of WorkloadGroup {gp.ref} did not come "
                f"back within {go_duration(self.timeout)}; the rollout stopped and nothing more "
                "will be deleted"
            )
        self.report(Event(EventKind.BATCH_DONE, gp, batch))
        # Carried WARs that came back along the way are forgotten; the rest still count.
        back = [t.name for t in unavailable if t.old_uid and t.resolved]
        with self._shield():
            self.journal.forget(gp.namespace, back)
        return [t for t in unavailable if t.old_uid and not t.resolved]

    def _skip(self, gr: GroupResult, name: str, why: str) -> None:
        gr.members[name] = MemberResult(name, SKIPPED, why)
        self.report(Event(EventKind.STATE, gr.plan, self._batch, name, SKIPPED, why))

    def _delete(self, gr: GroupResult, wars: list[War]) -> list[Tracked]:
        """Delete the batch one WAR at a time, each recorded in the journal before its
        DELETE is sent. Answers the WARs to wait for: those deleted, and the one whose
        DELETE failed (the answer may be lost while the DELETE landed: a read decides)."""
        from kubectl_war import deletion

        gp = gr.plan
        self._failed_in_batch = ""
        targets: list[Tracked] = []
        for war in wars:
            if self.interrupted:
                raise KeyboardInterrupt
            with self._shield():
                self.journal.record(gp.name, [war])
            # From here on the DELETE may be out: an interrupt reports it as sent.
            t = Tracked(gp.namespace, war.name, war.uid, SENT, unsure=True)
            self.in_flight.append(t)
            (outcome,) = deletion.delete_wars(
                self.kube, self.res, [war], still_selected=self.eligible
            )
            name = war.name
            if outcome.result == deletion.DELETED:
                t.state, t.unsure = DELETED, False
                with self._shield():
                    self.journal.answered(gp.namespace, name, rj.DELETED)
                targets.append(t)
                gr.members[name] = MemberResult(name, DELETED, t.waiting_on)
                self.report(Event(EventKind.STATE, gp, self._batch, name, DELETED))
            elif outcome.failed:
                with self._shield():
                    self.journal.answered(gp.namespace, name, rj.UNANSWERED)
                targets.append(t)
                gr.members[name] = MemberResult(name, FAILED, outcome.message)
                self.report(Event(EventKind.STATE, gp, self._batch, name, FAILED, outcome.message))
                self._failed_in_batch = outcome.message
                break
            else:
                # Refused by its preconditions (re-registered, changed) or already gone:
                # this DELETE removed nothing.
                self.in_flight.remove(t)
                with self._shield():
                    self.journal.forget(gp.namespace, [name])
                self._skip(gr, name, outcome.line().split(": ", 1)[-1])
        return targets

    def _failed_message(self, targets: list[Tracked]) -> str:
        """Why the rollout stops after a DELETE that failed, by what a read showed since."""
        t = next(t for t in targets if t.unsure)
        ref = f"WAR {t.namespace}/{t.name}"
        why = self._failed_in_batch
        tail = "the rollout stopped and nothing more will be deleted"
        if t.state == NOT_DELETED:
            return f"could not delete {ref} ({why}); {tail}"
        if t.state == SENT:
            return (
                f"no answer tells whether {ref} was deleted ({why}): it counts as deleted "
                f"until a re-run sees it; {tail}"
            )
        return f"the DELETE of {ref} failed ({why}) but the server carried it out; {tail}"

    # -- waiting ------------------------------------------------------------------------

    def _observe(self, t: Tracked, obj: Mapping[str, Any] | None) -> None:
        """Move a tracked WAR to the state the object now under its name shows."""
        before = (t.state, t.detail)
        t.detail = ""
        if obj is None:
            t.state = DELETED if t.old_uid else GONE
        else:
            war = War(obj)
            if t.old_uid and war.uid == t.old_uid:
                # A DELETE recorded by an earlier rollout, or one whose answer was an
                # error or lost, with the WAR still there: that DELETE did not happen.
                t.state = NOT_DELETED if t.carried or t.unsure else OLD_PRESENT
            elif not war.is_connected:
                t.state = RECREATED
            else:
                synced = self.sidecar_synced(war) if self.sidecar_synced else None
                t.state = SYNCING if synced is False else BACK
                if synced is False:
                    # Why the source cannot tell, when it failed (CachedSidecars.error).
                    t.detail = str(getattr(self.sidecar_synced, "error", "") or "")
        if t.carried and t.state == BACK:
            self._resumed_back.add((t.namespace, t.name))
        if (t.state, t.detail) != before and self._current is not None:
            self.report(Event(EventKind.STATE, self._current.plan, self._batch, t.name, t.state))

    def _await(
        self, namespace: str, tracked: list[Tracked], allowed_pending: int, deadline: float
    ) -> bool:
        """Wait until at most `allowed_pending` of `tracked` are unresolved; False at the
        deadline. Raises KeyboardInterrupt as soon as the rollout is interrupted.

        One list, then a watch; the unresolved WARs are also read directly now and then
        (a lost watch event costs seconds), and those whose sidecar is not SYNCED yet are
        judged again every `sidecar_poll` seconds.
        """
        wanted = {t.name: t for t in tracked}

        def settled(store: Store) -> bool:
            event = store.changed
            if event is None:
                for t in tracked:
                    if not t.resolved:
                        self._observe(t, store.get(namespace, t.name))
            else:
                t = wanted.get(War(event.object).name)
                if t is not None:
                    self._observe(t, store.get(namespace, t.name))
            return sum(not t.resolved for t in tracked) <= allowed_pending

        def poll() -> float | None:
            syncing = any(t.state == SYNCING for t in tracked)
            return self.sidecar_poll if syncing else None

        return until(
            self.kube,
            self.res,
            namespace,
            settled,
            deadline=deadline,
            clock=self.clock,
            poll=poll,
            reread=lambda: [(namespace, t.name) for t in tracked if not t.resolved],
            reread_every=self.resync,
            interrupted=lambda: self.interrupted,
        )


def _by_name(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """WAR objects of one namespace by name."""
    return {War(obj).name: obj for obj in items}


class CachedSidecars:
    """`sidecar_synced(war)` over a sidecar source read at most every `max_age` seconds.

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
        max_age: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetch = fetch
        self.max_age = max_age
        self.clock = clock
        self.error = ""
        self._at: float | None = None
        self._proxies: Mapping[str, Any] = {}
        self._first_asked: dict[tuple[str, str], float] = {}

    def _fresh(self) -> Mapping[str, Any]:
        now = self.clock()
        if self._at is None or now - self._at >= self.max_age:
            self._at = now
            try:
                self._proxies = self.fetch()
                self.error = ""
            except Exception as exc:  # any source failure means "cannot tell yet"
                self._proxies = {}
                self.error = str(getattr(exc, "message", exc))
        return self._proxies

    def probe(self) -> None:
        """Read the source now (a failure is kept in `error`)."""
        self._at = None
        self._fresh()

    def __call__(self, war: War) -> bool | None:
        since = self._first_asked.setdefault((war.proxy_name, war.uid), self.clock())
        proxies = self._fresh()
        if self._at is None or self._at < since:
            return False
        proxy = proxies.get(war.proxy_name)
        if proxy is None:
            return False
        from kubectl_war.sidecars.records import SyncState

        return getattr(proxy, "overall", None) == SyncState.SYNCED
