"""Running a rollout plan: delete a batch, wait until it is back, go on.

After a WorkloadGroup changes, each machine keeps the old config until its WAR is
deleted and its agent onboards again. The plan (`rollout.plan`) decides which WARs go
and in which batches; the executor deletes one batch at a time, a few DELETEs in flight
at once (`deletion.delete_concurrently`, uid preconditions), then waits
(`kube.watch.until`, reading the WARs it waits on directly too) until every WAR of the
batch is back: same name, new uid, agent connected and, when a sidecar source exists,
its sidecar SYNCED (`rollout.synced`). It never
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
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from kubectl_war import deletion, gcpause
from kubectl_war.deletion import CONCURRENCY
from kubectl_war.durations import go_duration
from kubectl_war.errors import WarError
from kubectl_war.kube.watch import REREAD_EVERY, Store
from kubectl_war.rollout import journal as rj
from kubectl_war.rollout.journal import Journal
from kubectl_war.rollout.plan import Batch, GroupPlan, Member, Plan
from kubectl_war.rollout.progress import (
    ABORTED,
    BACK,
    COMPLETE,
    DELETED,
    FAILED,
    INTERRUPTED,
    NOT_DELETED,
    NOT_STARTED,
    PAUSED,
    RECREATED,
    SENT,
    SKIPPED,
    STOPPED,
    Event,
    GroupResult,
    MemberResult,
    Result,
    Tracked,
)
from kubectl_war.rollout.progressive import Aborted, BatchBack, Gate, Pause, Stopped
from kubectl_war.rollout.states import EventKind, MemberState
from kubectl_war.rollout.view import plural
from kubectl_war.rollout.wait import BatchWaits, View
from kubectl_war.war import War

if TYPE_CHECKING:
    from kubectl_war.deletion import Outcome
    from kubectl_war.kube.client import Kube
    from kubectl_war.kube.requests import Resource


class _Stop(Exception):
    """Ends the rollout: a batch did not come back, or a deletion failed."""


class Executor(BatchWaits):
    """Runs a plan: one batch at a time, never more of a group unavailable than allowed.

    Talks to the cluster only through `kube` (`list`, `get`, `watch`, and `delete` via
    `deletion.delete_concurrently`). Time is injected: `clock` (monotonic seconds) for deadlines
    and elapsed time, `sleep` for `--pause`. `listed`: the WARs the plan was made from,
    which the first batch starts from instead of listing them again while fresh
    (`wait.VIEW_FRESH`).

    Interruption: `interrupt(reason)` (from a SIGINT or SIGTERM handler, which then
    raises KeyboardInterrupt unless `shielded`) stops any further request; `run` turns
    it into an `interrupted` result. Every DELETE is in the journal before it is sent,
    so an interrupt, or a kill, at any point leaves the journal a superset of what was
    deleted; only a journal write is shielded, so that the file is never torn.
    """

    def __init__(
        self,
        kube: Kube,
        res: Resource,
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
        concurrency: int = CONCURRENCY,
        gate: Gate | None = None,
        listed: View | None = None,
        requested: Callable[[GroupPlan, Batch | None], None] | None = None,
        generation: Callable[[GroupPlan], str | None] | None = None,
        versions: dict[tuple[str, str], str] | None = None,
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
        self.concurrency = concurrency
        self.gate = gate
        self._current: GroupResult | None = None
        self._batch: Batch | None = None
        self._failed_in_batch = ""
        self._resumed_back: set[tuple[str, str]] = set()
        # The WARs as the wait that just ended saw them, or as listed for the plan.
        self._view: View | None = listed
        self._store: Store | None = None  # what the last wait saw
        self._back: list[Tracked] = []  # the batch being (or just) waited on
        # Raises `Stopped` when a pause or an abort was asked for from elsewhere.
        self.requested = requested
        # The WorkloadGroup's generation now (None: gone), against `versions` (planned).
        self.generation = generation
        self.versions = dict(versions or {})
        self.stop_asked = False  # set with `requested`'s request: send no more DELETEs

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
        paused: dict[str, Any] | None = None
        first = True
        try:
            for gr in results:
                self._current = gr
                self.report(Event(EventKind.GROUP, gr.plan))
                with self._shield():
                    # Run again: whatever stopped it on purpose is over.
                    self.journal.resume(gr.plan.namespace, gr.plan.name)
                carried = self._carried(gr.plan)
                self._recheck(gr)
                for batch in gr.plan.batches:
                    if self.interrupted:
                        raise KeyboardInterrupt
                    self._go_on(gr.plan, batch)
                    if not first and self.pause > 0:
                        self.report(Event(EventKind.PAUSE, gr.plan, batch, seconds=self.pause))
                        self.sleep(self.pause)
                    first = False
                    if self.interrupted:
                        raise KeyboardInterrupt
                    if self.gate is not None:
                        self.gate.before(gr.plan, batch)
                    # What earlier batches built and still hold (the wait's view of the
                    # WARs) is never scanned again: a full collection of the whole heap
                    # held every thread up for tens of milliseconds mid-batch.
                    gcpause.settle()
                    carried = self._run_batch(gr, batch, carried)
                    gr.batches_done += 1
                    if self.gate is not None and self._back:
                        self.gate.after(self._batch_back(gr, batch))
                if carried:
                    self._finish_carried(gr, carried)
                self._go_on(gr.plan, None)
                with self._shield():
                    self.journal.rolled_out(gr.plan.namespace, gr.plan.name)
                self.report(Event(EventKind.GROUP_DONE, gr.plan))
        except Stopped as stop:
            outcome = PAUSED if isinstance(stop, Pause) else STOPPED
            outcome = ABORTED if isinstance(stop, Aborted) else outcome
            message = stop.message
            gp = self._current.plan if self._current is not None else None
            if gp is not None and outcome != ABORTED:
                paused = {"namespace": gp.namespace, "group": gp.name, **stop.record}
                with contextlib.suppress(KeyboardInterrupt), self._shield():
                    self.journal.pause(gp.namespace, gp.name, stop.record)
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
            current = self._current
            if current is not None and t.name in current.members and t.old_uid:
                current.members[t.name] = MemberResult(t.name, t.state, t.waiting_on)
        resumed = len(self._resumed_back)
        return Result(outcome, results, message, waiting, self.clock() - start, resumed, paused)

    def _go_on(self, gp: GroupPlan, batch: Batch | None) -> None:
        """Before `batch` (None: before the group is said rolled out): stop if a pause or
        an abort was asked for, or if the WorkloadGroup changed since it was planned."""
        if self.requested is not None and batch is not None:
            self.requested(gp, batch)
        if self.generation is None:
            return
        was = self.versions.get((gp.namespace, gp.name))
        now = self.generation(gp)
        if now is None:
            raise _Stop(f"WorkloadGroup {gp.ref} was deleted during the rollout; it stopped")
        if was and now != was:
            raise _Stop(
                f"WorkloadGroup {gp.ref} changed during the rollout (generation {was} is now "
                f"{now}): the rollout stopped; run it again to re-onboard the WARs outdated "
                "by this change too"
            )

    def _recheck(self, gr: GroupResult) -> None:
        """An earlier run stopped while the checks after a batch ran: run them again on
        that batch before anything else is deleted."""
        gp = gr.plan
        pending = self.journal.pending_check(gp.namespace, gp.name)
        if self.gate is None or pending is None:
            return
        if pending.get("generation") != self.versions.get((gp.namespace, gp.name), ""):
            return
        names = [str(n) for n in pending.get("wars") or []]
        objs = _by_name(self.kube.list(self.res, gp.namespace).items)
        wars = [War(objs[n]) for n in names if n in objs]
        members = tuple(
            Member(w.namespace, w.name, w.uid, w.identity.zone_label, w.identity.instance, None)
            for w in wars
        )
        number = int(pending.get("batch") or 1)
        batch = Batch(number, members, canary=bool(pending.get("canary")))
        self.report(Event(EventKind.RECHECK, gp, batch, count=len(wars)))
        self.gate.after(BatchBack(gp, batch, wars, {}))

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

    def _choose(
        self,
        gr: GroupResult,
        batch: Batch,
        carried: list[Tracked],
        objs: dict[str, dict[str, Any]],
    ) -> tuple[list[War], list[Tracked]]:
        """The batch's WARs still to delete as the cluster shows them now, and the WARs of
        the group unavailable already (carried from an earlier run, gone since planned,
        joining)."""
        gp = gr.plan
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
            # Cheapest test first: almost every WAR is connected (its group is not read).
            joining = not w.is_connected and not w.is_disconnected and w.group == gp.name
            if joining and w.name not in tracked_names:
                unavailable.append(Tracked(gp.namespace, w.name, None, RECREATED))
        return chosen, unavailable

    def _run_batch(self, gr: GroupResult, batch: Batch, carried: list[Tracked]) -> list[Tracked]:
        gp = gr.plan
        self._batch = batch
        self._back = []
        live = self._recent_view(gp.namespace) or self.kube.list(self.res, gp.namespace)
        chosen, unavailable = self._choose(gr, batch, carried, _by_name(live.items))
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
                    f"batch {batch.number}/{gp.total} of WorkloadGroup {gp.ref} "
                    f"not started: {len(late)} of its WARs stayed unavailable for "
                    f"{go_duration(self.timeout)} (max unavailable {gp.max_unavailable})"
                )
            # Said again now that its WARs are really being deleted.
            self.report(Event(EventKind.BATCH, gp, batch, count=len(chosen)))
        if self.interrupted:
            raise KeyboardInterrupt
        self.in_flight = [t for t in unavailable if t.old_uid]
        targets = self._delete(gr, chosen)
        self._back = targets
        if not targets:
            return [t for t in unavailable if t.old_uid and not t.resolved]
        # WARs an earlier rollout left in flight finish with this batch: resuming
        # means completing what was interrupted, then going on.
        resumed = [t for t in unavailable if t.carried and not t.resolved]
        # The list this batch was chosen from starts the wait (its watch replays the
        # DELETEs and what followed): one list a batch, not two. Not after a DELETE
        # that failed: only a read taken since tells whether it landed.
        fresh = waits or bool(self._failed_in_batch)
        try:
            ok = self._await(
                gp.namespace, targets + resumed, 0, deadline, listed=None if fresh else live
            )
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
                f"batch {batch.number}/{gp.total} of WorkloadGroup {gp.ref} did not come "
                f"back within {go_duration(self.timeout)}; the rollout stopped and nothing more "
                "will be deleted"
            )
        self.report(Event(EventKind.BATCH_DONE, gp, batch))
        # Carried WARs that came back along the way are forgotten; the rest still count.
        back = [t.name for t in unavailable if t.old_uid and t.resolved]
        with self._shield():
            self.journal.forget(gp.namespace, back)
        return [t for t in unavailable if t.old_uid and not t.resolved]

    def _batch_back(self, gr: GroupResult, batch: Batch) -> BatchBack:
        """The batch just back, for the gate: its WARs as the wait last saw them."""
        wars, back_at = [], {}
        for t in self._back:
            obj = self._store.get(t.namespace, t.name) if self._store is not None else None
            if t.state == BACK and obj is not None:
                wars.append(War(obj))
                back_at[t.name] = t.back_at if t.back_at is not None else self.clock()
        return BatchBack(gr.plan, batch, wars, back_at)

    def _skip(self, gr: GroupResult, name: str, why: str) -> None:
        gr.members[name] = MemberResult(name, SKIPPED, why)
        self.report(Event(EventKind.STATE, gr.plan, self._batch, name, SKIPPED, why))

    def _delete(self, gr: GroupResult, wars: list[War]) -> list[Tracked]:
        """Delete the batch, a few WARs at a time (`deletion.delete_concurrently`). Every
        WAR of the batch is in the journal before the first DELETE is sent (one write);
        those never sent are taken out again when the batch stops short. Answers the WARs
        to wait for: those deleted, and any whose DELETE failed (the answer may be lost
        while the DELETE landed: a read decides). States are reported in plan order."""
        gp = gr.plan
        self._failed_in_batch = ""
        sent: dict[str, Tracked] = {}
        answered: dict[str, tuple[MemberState, str]] = {}
        order = [w.name for w in wars]
        shown = 0

        def sending(war: War) -> None:
            # From here on the DELETE may be out: an interrupt reports it as sent.
            t = Tracked(gp.namespace, war.name, war.uid, SENT, unsure=True)
            sent[war.name] = t
            self.in_flight.append(t)

        with self._shield():
            self.journal.record(gp.name, wars)
        try:
            for outcome in deletion.delete_concurrently(
                self.kube,
                self.res,
                wars,
                still_selected=self.eligible,
                stop=lambda: self.interrupted or self.stop_asked,
                sending=sending,
                workers=self.concurrency,
            ):
                answered[outcome.war.name] = self._answer(gr, sent[outcome.war.name], outcome)
                while shown < len(order) and order[shown] in answered:
                    name = order[shown]
                    state, detail = answered[name]
                    self.report(Event(EventKind.STATE, gp, self._batch, name, state, detail))
                    shown += 1
        finally:
            unsent = [name for name in order if name not in sent]
            with self._shield():
                # Answers that need no write of their own go to disk with this one.
                self.journal.forget(gp.namespace, unsent)
                self.journal.flush()
        if self.interrupted:
            raise KeyboardInterrupt
        return [t for t in sent.values() if answered[t.name][0] != SKIPPED]

    def _answer(self, gr: GroupResult, t: Tracked, outcome: Outcome) -> tuple[MemberState, str]:
        """Take in the answer to one DELETE: the member's state and its detail."""
        gp, name = gr.plan, t.name
        if outcome.result == deletion.DELETED:
            t.state, t.unsure = DELETED, False
            # A DELETE answered is as safe on disk as one being sent: written later.
            self.journal.answered(gp.namespace, name, rj.DELETED, save=False)
            gr.members[name] = MemberResult(name, DELETED, t.waiting_on)
            return DELETED, ""
        if outcome.failed:
            # Refused (403): that DELETE did not land. Anything else may have.
            said = rj.REFUSED if outcome.status == 403 else rj.UNANSWERED
            with self._shield():
                self.journal.answered(gp.namespace, name, said)
            gr.members[name] = MemberResult(name, FAILED, outcome.message)
            self._failed_in_batch = self._failed_in_batch or outcome.message
            return FAILED, outcome.message
        # Refused by its preconditions (re-registered, changed) or already gone: this
        # DELETE removed nothing.
        self.in_flight.remove(t)
        with self._shield():
            self.journal.forget(gp.namespace, [name])
        why = outcome.line().split(": ", 1)[-1]
        gr.members[name] = MemberResult(name, SKIPPED, why)
        return SKIPPED, why

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


def _by_name(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """WAR objects of one namespace by name."""
    return {War(obj).name: obj for obj in items}
