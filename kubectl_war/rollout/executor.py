"""Running a rollout plan: delete a batch, wait until it is back, go on.

After a WorkloadGroup changes, each machine keeps the old config until its WAR is
deleted and its agent onboards again. The plan (`rollout.plan`) decides which WARs go
and in which batches; the executor deletes one batch at a time through
`deletion.delete_wars` (uid preconditions), then waits, by watch, until every WAR
of the batch is back: same name, new uid, agent connected and, when a sidecar
source exists, its sidecar SYNCED. It never lets more of a group be unavailable
than `--max-unavailable`, counting WARs that were already unavailable.

"Unavailable" means expected back but not healthy: a WAR deleted (by this run or,
per the journal, an earlier one) and not back yet, a WAR that vanished since it was
planned, and a WAR whose agent has not connected yet (no AgentConnected condition,
or Unknown). Disconnected agents (False) are outside the group's capacity: they
cannot re-onboard, are never deleted, and the onboarding endpoint removes them
after the grace period.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kubectl_war.durations import go_duration
from kubectl_war.errors import WarError
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
    SKIPPED,
    STOPPED,
    SYNCING,
    Event,
    GroupResult,
    MemberResult,
    Result,
    Tracked,
)
from kubectl_war.war import War


class _Stop(Exception):
    """Ends the rollout: a batch did not come back, or a deletion failed."""


class Executor:
    """Runs a plan: one batch at a time, never more of a group unavailable than allowed.

    Talks to the cluster only through `kube` (`list`, `follow`, and `delete`/`get`
    via `deletion.delete_wars`). Time is injected: `clock` (monotonic seconds) for
    deadlines and elapsed time, `sleep` for `--pause`.

    Interruption: `interrupt()` (from a SIGINT handler) stops any further DELETE;
    while `deleting` is False the handler may also raise KeyboardInterrupt to cut a
    wait short, which `run` turns into an `interrupted` result.
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
        self.poll = poll
        self.interrupted = False
        self.deleting = False
        self.in_flight: list[Tracked] = []
        self._current: GroupResult | None = None
        self._batch: Batch | None = None
        self._failed_in_batch = ""

    def interrupt(self) -> None:
        self.interrupted = True

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
                self.report(Event("group", gr.plan))
                carried = self._carried(gr.plan)
                for batch in gr.plan.batches:
                    if self.interrupted:
                        raise KeyboardInterrupt
                    if not first and self.pause > 0:
                        self.report(Event("pause", gr.plan, batch, seconds=self.pause))
                        self.sleep(self.pause)
                    first = False
                    if self.interrupted:
                        raise KeyboardInterrupt
                    carried = self._run_batch(gr, batch, carried)
                    gr.batches_done += 1
                self.report(Event("group-done", gr.plan))
        except _Stop as stop:
            outcome, message = STOPPED, str(stop)
        except WarError as exc:
            # The cluster stopped answering mid-way: report what is in flight all the same.
            outcome, message = STOPPED, f"{exc.message}; the rollout stopped"
        except KeyboardInterrupt:
            self.interrupted = True
            outcome = INTERRUPTED
            message = "interrupted: no further WAR will be deleted"
        waiting = [t for t in self.in_flight if not t.resolved]
        for t in waiting:
            gr = self._current
            if gr is not None and t.name in gr.members and t.old_uid:
                gr.members[t.name] = MemberResult(t.name, t.state, t.waiting_on)
        return Result(outcome, results, message, waiting, self.clock() - start)

    def _carried(self, gp: GroupPlan) -> list[Tracked]:
        """WARs of the group an earlier rollout deleted and that may not be back yet."""
        return [
            Tracked(gp.namespace, name, uid, DELETED, carried=True)
            for name, uid in self.journal.in_flight(gp.namespace, gp.name)
        ]

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
        self.report(Event("batch", gp, batch, count=len(chosen)))
        deadline = self.clock() + self.timeout
        room = gp.max_unavailable - len(chosen)
        if sum(not t.resolved for t in unavailable) > room:
            self.report(Event("recover", gp, batch, count=sum(not t.resolved for t in unavailable)))
            self.in_flight = unavailable
            ok = self._await(gp.namespace, unavailable, room, deadline)
            if not ok:
                late = [t for t in unavailable if not t.resolved]
                raise _Stop(
                    f"batch {batch.number}/{len(gp.batches)} of WorkloadGroup {gp.ref} "
                    f"not started: {len(late)} of its WARs stayed unavailable for "
                    f"{go_duration(self.timeout)} (max unavailable {gp.max_unavailable})"
                )
        if self.interrupted:
            raise KeyboardInterrupt
        targets = self._delete(gr, chosen)
        self.in_flight = targets + [t for t in unavailable if t.old_uid]
        if not targets:
            return [t for t in unavailable if t.old_uid and not t.resolved]
        # WARs an earlier rollout left in flight finish with this batch: resuming
        # means completing what was interrupted, then going on.
        resumed = [t for t in unavailable if t.carried and not t.resolved]
        ok = self._await(gp.namespace, targets + resumed, 0, deadline)
        done = [t.name for t in targets if t.resolved]
        for name in done:
            gr.members[name] = MemberResult(name, BACK)
        self.journal.forget(gp.namespace, done + [t.name for t in resumed if t.resolved])
        if not ok:
            raise _Stop(
                f"batch {batch.number}/{len(gp.batches)} of WorkloadGroup {gp.ref} did not come "
                f"back within {go_duration(self.timeout)}; the rollout stopped and nothing more "
                "will be deleted"
            )
        if self._failed_in_batch:
            raise _Stop(self._failed_in_batch)
        self.report(Event("batch-done", gp, batch))
        # Carried WARs that came back along the way are forgotten; the rest still count.
        back = [t.name for t in unavailable if t.old_uid and t.resolved]
        self.journal.forget(gp.namespace, back)
        return [t for t in unavailable if t.old_uid and not t.resolved]

    def _skip(self, gr: GroupResult, name: str, why: str) -> None:
        gr.members[name] = MemberResult(name, SKIPPED, why)
        self.report(Event("state", gr.plan, self._batch, name, SKIPPED, why))

    def _delete(self, gr: GroupResult, wars: list[War]) -> list[Tracked]:
        from kubectl_war import deletion

        gp = gr.plan
        self._failed_in_batch = ""
        targets: list[Tracked] = []
        attempted: set[str] = set()
        # From here until every DELETE is answered, SIGINT only sets a flag: the
        # journal and the server must agree on what was deleted.
        self.deleting = True
        try:
            self.journal.record(gp.name, wars)
            for outcome in deletion.delete_wars(
                self.kube,
                self.res,
                wars,
                still_selected=self.eligible,
                stop=lambda: self.interrupted,
            ):
                name = outcome.war.name
                attempted.add(name)
                if outcome.result == deletion.DELETED:
                    t = Tracked(gp.namespace, name, outcome.war.uid, DELETED)
                    targets.append(t)
                    gr.members[name] = MemberResult(name, DELETED, t.waiting_on)
                    self.report(Event("state", gp, self._batch, name, DELETED))
                elif outcome.failed:
                    self.journal.forget(gp.namespace, [name])
                    gr.members[name] = MemberResult(name, FAILED, outcome.message)
                    self.report(Event("state", gp, self._batch, name, FAILED, outcome.message))
                    self._failed_in_batch = (
                        f"could not delete WAR {gp.namespace}/{name} ({outcome.message}); "
                        "the rollout stopped and nothing more will be deleted"
                    )
                    break
                else:
                    self.journal.forget(gp.namespace, [name])
                    self._skip(gr, name, outcome.line().split(": ", 1)[-1])
        finally:
            self.deleting = False
            unsent = [w.name for w in wars if w.name not in attempted]
            if unsent:
                self.journal.forget(gp.namespace, unsent)
        if self._failed_in_batch and not targets:
            raise _Stop(self._failed_in_batch)
        return targets

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
                # A journal entry whose WAR is still there: that DELETE never happened.
                t.state = NOT_DELETED if t.carried else OLD_PRESENT
            elif not war.is_connected:
                t.state = RECREATED
            else:
                synced = self.sidecar_synced(war) if self.sidecar_synced else None
                t.state = SYNCING if synced is False else BACK
                if synced is False:
                    # Why the source cannot tell, when it failed (CachedSidecars.error).
                    t.detail = str(getattr(self.sidecar_synced, "error", "") or "")
        if (t.state, t.detail) != before and self._current is not None:
            self.report(Event("state", self._current.plan, self._batch, t.name, t.state))

    def _await(
        self, namespace: str, tracked: list[Tracked], allowed_pending: int, deadline: float
    ) -> bool:
        """Watch until at most `allowed_pending` of `tracked` are unresolved; False at the
        deadline.

        One list gives the starting point; a watch (in a helper thread, so that the
        deadline and the sidecar polls are kept to the moment, while the API only ends
        a watch on whole seconds) reports every change; the sidecar source, which has
        no watch, is read again every `poll` seconds.
        """
        by_name = {t.name: t for t in tracked}

        def pending() -> int:
            return sum(not t.resolved for t in tracked)

        listed = self.kube.list(self.res, namespace)
        objs = {n: o for n, o in _by_name(listed.items).items() if n in by_name}
        for t in tracked:
            self._observe(t, objs.get(t.name))
        if pending() <= allowed_pending:
            return True
        events: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()
        watcher = threading.Thread(
            target=self._watch,
            args=(namespace, listed, events, stop),
            name="kubectl-war-watch",
            daemon=True,
        )
        watcher.start()
        try:
            while pending() > allowed_pending:
                left = deadline - self.clock()
                if left <= 0:
                    return False
                polling = self.sidecar_synced is not None and any(
                    t.state == SYNCING for t in tracked
                )
                try:
                    # Bounded: a timeout of "no limit" is infinite, which get() refuses.
                    ev = events.get(timeout=min(left, self.poll if polling else 3600.0))
                except queue.Empty:
                    ev = None
                if isinstance(ev, BaseException):
                    raise ev
                if ev is not None:
                    meta = ev.object.get("metadata") if isinstance(ev.object, dict) else None
                    meta = meta if isinstance(meta, dict) else {}
                    name = meta.get("name")
                    t = by_name.get(name) if isinstance(name, str) else None
                    if t is None:
                        continue
                    if ev.type == "DELETED":
                        current = objs.get(t.name)
                        if current is not None and War(current).uid == meta.get("uid"):
                            del objs[t.name]
                    else:
                        objs[t.name] = ev.object
                    self._observe(t, objs.get(t.name))
                elif polling:
                    for t in tracked:
                        if t.state == SYNCING:
                            self._observe(t, objs.get(t.name))
            return True
        finally:
            stop.set()

    def _watch(
        self, namespace: str, listed: Any, out: queue.Queue[Any], stop: threading.Event
    ) -> None:
        """Feed `out` with every change after `listed` until `stop` is set.

        Watches are opened for `_WATCH_WINDOW` seconds at a time and resumed from the
        last resourceVersion seen, so a stopped helper ends within that window.
        """
        from kubectl_war.kube import ListResult

        known = {_key(o): o for o in listed.items}
        rv = listed.resource_version
        try:
            while not stop.is_set():
                current = ListResult(list(known.values()), rv)
                for ev in self.kube.follow(
                    self.res, namespace, current, deadline=time.monotonic() + _WATCH_WINDOW
                ):
                    meta = ev.object.get("metadata") if isinstance(ev.object, dict) else None
                    if isinstance(meta, dict) and meta.get("resourceVersion"):
                        rv = str(meta["resourceVersion"])
                    if ev.type == "DELETED":
                        known.pop(_key(ev.object), None)
                    else:
                        known[_key(ev.object)] = ev.object
                    if stop.is_set():
                        return
                    out.put(ev)
        except Exception as exc:  # handed to the waiting thread, which raises it
            if not stop.is_set():
                out.put(exc)


_WATCH_WINDOW = 2.0


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    war = War(obj)
    return (war.name, war.uid)


def _by_name(items: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for obj in items:
        war = War(obj)
        out[war.name] = war.obj
    return out


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
