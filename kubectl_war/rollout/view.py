"""How a rollout looks: the plan, one line per change when piped, a live view on a
terminal, and the closing report.

Only text is made here; `rich` is imported only by the live view, which exists only
when a person watches a terminal.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import IO

from kubectl_war.durations import human_duration
from kubectl_war.render import NONE, Table, terminal_safe
from kubectl_war.rollout import progress as pr
from kubectl_war.rollout.plan import Batch, GroupPlan, Plan
from kubectl_war.rollout.states import EventKind, MemberState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rich.console import Console, Group, RenderableType
    from rich.live import Live


def plural(count: int, word: str) -> str:
    """`1 WAR`, `2 WARs`, `1 batch`, `3 batches`."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word}es" if word.endswith(("s", "ch")) else f"{count} {word}s"


def group_header(gp: GroupPlan) -> str:
    """`WorkloadGroup bookinfo/ratings: 6 WARs to re-onboard in 3 batches of up to 2 (...)`."""
    bound = f"max unavailable {gp.max_unavailable} of {gp.connected} connected"
    if gp.unavailable:
        bound += f", {gp.unavailable} already unavailable"
    members = gp.members
    if not members:
        return f"WorkloadGroup {gp.ref}: nothing to re-onboard ({bound})"
    canary = ""
    if gp.batches and gp.batches[0].canary:
        canary = f", the first a canary of {len(gp.batches[0].members)}"
    return (
        f"WorkloadGroup {gp.ref}: {plural(len(members), 'WAR')} to re-onboard in "
        f"{plural(len(gp.batches), 'batch')} of up to {gp.batch_size}{canary} ({bound})"
    )


_FRESHNESS = {"No": "outdated", "Yes": "up to date", "Unknown": "freshness unknown"}


def plan_text(plan: Plan) -> str:
    """Each group's header, then its batches and the WARs left out, as one table."""
    out = []
    for gp in plan.groups:
        out.append(group_header(gp) + "\n")
        rows: list[list[str]] = []
        total = gp.total
        for b in gp.batches:
            for m in b.members:
                note = _FRESHNESS.get(m.freshness or "", m.freshness or "")
                rows.append(
                    [f"{b.number}/{total}", m.name, m.zone or NONE, m.instance or NONE, note]
                )
        for x in gp.left_out:
            ident = x.war.identity
            zone, instance = ident.zone_label or NONE, ident.instance or NONE
            rows.append(["-", x.name, zone, instance, f"left out: {x.why}"])
        for name in gp.missing:
            rows.append(["-", name, NONE, NONE, "missing: deleted earlier, not back yet"])
        if rows:
            out.append(Table(["BATCH", "NAME", "ZONE", "INSTANCE", "NOTE"]).render(rows))
    return "".join(out)


def event_line(ev: pr.Event) -> str | None:
    """The line a piped rollout prints for one event (None: nothing to say)."""
    gp = ev.group
    where = f"batch {ev.batch.number}/{gp.total}" if ev.batch else ""
    if ev.kind == EventKind.GROUP:
        return group_header(gp)
    if ev.kind == EventKind.BATCH and ev.batch is not None:
        if ev.held:
            return None  # it waits first (the `recover` line); said when it deletes
        zone = f" in zone {ev.batch.zone}" if ev.batch.zone else ""
        return f"{where}: deleting {plural(ev.count, 'WAR')}{zone}"
    if ev.kind == EventKind.RECOVER:
        names = ", ".join(ev.names)
        if ev.carried:
            return f"waiting for {plural(ev.count, 'WAR')} deleted by an earlier run: {names}"
        return (
            f"{where}: waiting for {plural(ev.count, 'unavailable WAR')} of the group to be "
            f"back first (max unavailable {gp.max_unavailable}): {names}"
        )
    if ev.kind == EventKind.PAUSE:
        if ev.detail == "canary":
            return f"{where}: canary back; pausing {human_duration(ev.seconds)} (--canary-pause)"
        return f"pausing {human_duration(ev.seconds)} before the next batch"
    if ev.kind == EventKind.CHECK:
        return check_line(ev, where)
    if ev.kind == EventKind.ANALYSIS:
        return f'{where}: analysis "{ev.name}" {ev.detail}'
    if ev.kind == EventKind.ALERTS:
        return f"{where}: {ev.detail}"
    if ev.kind == EventKind.RECHECK:
        return f"{where}: an earlier run stopped while its checks ran: running them again first"
    if ev.kind == EventKind.BATCH_DONE:
        return f"{where}: all back"
    if ev.kind == EventKind.GROUP_DONE:
        return f"WorkloadGroup {gp.ref}: rolled out"
    if ev.kind == EventKind.STATE:
        return f"{ev.name}: {state_text(ev.state, ev.detail)}"
    return None


def check_line(ev: pr.Event, where: str) -> str:
    """A check's progress: started, a line of its output, passed or failed."""
    if ev.state == "output":
        return f"  | {ev.detail}"
    if ev.state == "started":
        return f'{where}: running check "{ev.name}"'
    if ev.state == "passed":
        return f'{where}: check "{ev.name}" passed'
    return f'{where}: check "{ev.name}" failed ({ev.detail})'


# How a piped rollout and the live view say each member state ("{}": the detail).
_STATE_TEXT: dict[MemberState, str] = {
    pr.SENT: "DELETE sent, no answer yet",
    pr.DELETED: "deleted, waiting to be re-created",
    pr.OLD_PRESENT: "deleting (old WAR still present)",
    pr.RECREATED: "re-created, agent not connected yet",
    pr.SYNCING: "agent connected, sidecar not SYNCED yet",
    pr.BACK: "back",
    pr.GONE: "gone",
    pr.NOT_DELETED: "still present: not deleted by the earlier rollout",
    pr.SKIPPED: "skipped: {}",
    pr.FAILED: "delete failed: {}",
}


def state_text(state: str, detail: str = "") -> str:
    text = _STATE_TEXT.get(state)  # type: ignore[call-overload]  # a plain str finds its member
    return text.format(detail) if text is not None else str(state)


class LineReporter:
    """One line per change: what CI logs and pipes get."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def __call__(self, ev: pr.Event) -> None:
        line = event_line(ev)
        if line is not None:
            self.say(line)

    def say(self, line: str) -> None:
        """A line of its own (from any thread: a control seen by the Lease's renewer)."""
        with self._lock:
            self.stream.write(terminal_safe(line) + "\n")
            self.stream.flush()


class LiveReporter:
    """A rich live view for a person at a terminal: the batch, its members and their
    states, elapsed time. Milestones (group start, batch done) stay printed above it."""

    def __init__(
        self, plan: Plan, console: Console, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.plan = plan
        self.console = console
        self.clock = clock
        self.started = clock()
        self.group: GroupPlan | None = None
        self.batch: Batch | None = None
        self.note = ""
        self.states: dict[str, str] = {}
        self.back = 0
        self._members = {m.name for m in plan.members}
        self.total = len(self._members)
        self._live: Live | None = None

    def __enter__(self) -> LiveReporter:
        from rich.live import Live  # rich only for the live view on a terminal

        self._live = Live(self, console=self.console, refresh_per_second=4, transient=True)
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    @contextlib.contextmanager
    def suspended(self) -> Iterator[None]:
        """The view stopped (say, while a question is asked on the terminal), then resumed."""
        live = self._live is not None
        if live:
            self.__exit__()
        try:
            yield
        finally:
            if live:
                self.__enter__()

    def _print(self, line: str) -> None:
        from rich.text import Text  # rich only for the live view on a terminal

        self.console.print(Text(terminal_safe(line)))

    say = _print  # a line of its own (from any thread: rich's console locks)

    def __call__(self, ev: pr.Event) -> None:
        if ev.kind == EventKind.GROUP:
            self.group, self.batch, self.note = ev.group, None, ""
            self._print(group_header(ev.group))
        elif ev.kind == EventKind.BATCH:
            self.batch, self.note = ev.batch, ""
        elif ev.kind in (EventKind.RECOVER, EventKind.PAUSE):
            self.note = event_line(ev) or ""
        elif ev.kind in (EventKind.CHECK, EventKind.ANALYSIS, EventKind.ALERTS):
            # Its output stays printed above the view, as in a piped log.
            waiting = ev.state in ("started", "measured", "firing")
            self.note = (event_line(ev) or "") if waiting else ""
            self._print(event_line(ev) or "")
        elif ev.kind == EventKind.STATE:
            self.states[ev.name] = state_text(ev.state, ev.detail)
            if ev.state == pr.BACK and ev.name in self._members:
                self.back += 1
            if ev.state in (pr.SKIPPED, pr.FAILED):
                self._print(event_line(ev) or "")
        elif ev.kind in (EventKind.BATCH_DONE, EventKind.GROUP_DONE):
            self.note = ""
            self._print(event_line(ev) or "")
        if self._live is not None:
            self._live.refresh()

    def __rich__(self) -> Group:
        # rich only for the live view on a terminal
        from rich.console import Group
        from rich.table import Table as RichTable
        from rich.text import Text

        elapsed = human_duration(max(0.0, self.clock() - self.started))
        head = Text()
        if self.group is not None:
            head.append(f"WorkloadGroup {terminal_safe(self.group.ref)}", style="bold")
            if self.batch is not None:
                head.append(f"   batch {self.batch.number}/{self.group.total}")
        head.append(f"   re-onboarded {self.back}/{self.total}   elapsed {elapsed}")
        parts: list[RenderableType] = [head]
        if self.batch is not None:
            table = RichTable(box=None, pad_edge=False, show_edge=False)
            for col in ("NAME", "ZONE", "INSTANCE", "STATE"):
                table.add_column(col)
            for m in self.batch.members:
                state = self.states.get(m.name, "pending")
                style = "green" if state == "back" else "yellow"
                # Text, not str: rich would read `[...]` in a cell as markup.
                cells = [
                    Text(terminal_safe(c)) for c in (m.name, m.zone or NONE, m.instance or NONE)
                ]
                table.add_row(*cells, Text(terminal_safe(state), style=style))
            parts.append(table)
        if self.note:
            parts.append(Text(terminal_safe(self.note), style="dim"))
        return Group(*parts)


def report_text(result: pr.Result, resume: str) -> tuple[str, str]:
    """The closing words: (stdout, stderr)."""
    done = result.reonboarded
    not_started = sum(len(g.names(pr.NOT_STARTED)) for g in result.groups)
    if result.outcome == pr.PAUSED:
        return (
            result.message[:1].upper()
            + result.message[1:]
            + f".\nRe-onboarded so far: {plural(done, 'WAR')}.\n"
            + f"To continue, run the same command again:\n  {resume}\n"
        ), ""
    if result.outcome == pr.ABORTED:
        return "", (
            f"error: {result.message}\nRe-onboarded so far: {plural(done, 'WAR')}. "
            "A later rollout starts anew.\n"
        )
    if result.outcome == pr.COMPLETE:
        skipped = sum(len(g.names(pr.SKIPPED)) for g in result.groups)
        tail = f", {skipped} skipped" if skipped else ""
        if result.resumed:
            are = "is" if result.resumed == 1 else "are"
            tail += f"; {plural(result.resumed, 'WAR')} deleted by an earlier run {are} back"
        return f"Rollout complete: {plural(done, 'WAR')} re-onboarded{tail}.\n", ""
    lines: list[str] = []
    if result.outcome == pr.INTERRUPTED:
        lines.append(result.message[:1].upper() + result.message[1:] + ".")
        if any(t.state == pr.SENT for t in result.waiting):
            lines.append("In flight (deleted or DELETE sent, not back yet):")
        elif result.waiting:
            lines.append("In flight (deleted, not back yet):")
    else:
        lines.append(f"error: {result.message}")
        if result.waiting:
            lines.append("Waiting on:")
    lines += _waiting_lines(result.waiting)
    if any(t.state == pr.SENT for t in result.waiting):
        lines.append(
            "A re-run first reads each of these from the cluster: one still there was not "
            "deleted; one gone counts against --max-unavailable until it is back."
        )
    lines.append(
        f"Re-onboarded so far: {plural(done, 'WAR')}; not started: {plural(not_started, 'WAR')}."
    )
    when = " once those are back:" if result.waiting else ":"
    lines.append("To resume, run the same command again" + when)
    lines.append(f"  {resume}")
    return "", "\n".join(lines) + "\n"


def _waiting_lines(waiting: Sequence[pr.Tracked]) -> list[str]:
    out = []
    for t in waiting:
        origin = " (deleted by an earlier rollout)" if t.carried else ""
        if t.old_uid is None:
            origin = " (not part of this rollout)"
        out.append(f"  {t.namespace}/{t.name}: {t.waiting_on}{origin}")
    return out
