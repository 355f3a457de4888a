"""The README's pictures, rendered from the demo fleet with rich's own SVG export
(``make docs`` runs ``python -m tests.fakekube pictures docs/images``).

- ``status.svg``: ``kubectl war status -A`` run on a terminal (a pseudo-terminal, so the
  plugin colours it as it would for a person) against the demo fleet, with istiod.
- ``rollout.svg``: the live view of ``kubectl war rollout ratings -n bookinfo`` in its
  second batch, drawn by the plugin's own view (``rollout.view.LiveReporter``).

The clock is pinned, so the same code always draws the same bytes.
"""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .clock import Clock
from .istiod import FakeIstiod
from .server import FakeKube

#: The moment the pictures show: the demo fleet's ages are counted from it.
NOW = "2024-05-16T12:00:00Z"
WIDTH = 132
STALE = {"CDS": "SYNCED", "LDS": "SYNCED", "EDS": "STALE", "RDS": "SYNCED"}


def write_pictures(outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    with FakeKube(clock=Clock(NOW)) as fake, tempfile.TemporaryDirectory() as tmp:
        fake.seed_fleet()
        istiod = FakeIstiod(fake, replicas=2)
        connected = [w for w in fake.objects("workloadautoregistrations") if _connected(w)]
        for i, war in enumerate(connected):
            meta = war["metadata"]
            # One sidecar behind, as a real fleet usually has.
            istiod.connect(
                f"{meta['name']}.{meta['namespace']}", STALE if i == 1 else None, replica=i
            )
        kubeconfig = fake.write_kubeconfig(Path(tmp) / "kubeconfig")
        status = _on_a_terminal(["status", "-A"], kubeconfig)
        path = outdir / "status.svg"
        path.write_text(_svg(status, "kubectl war status -A"), encoding="utf-8")
        written.append(path)
        path = outdir / "rollout.svg"
        wars = fake.objects("workloadautoregistrations", "bookinfo")
        path.write_text(_rollout_svg(wars), encoding="utf-8")
        written.append(path)
    return written


def _connected(war: dict[str, Any]) -> bool:
    conditions = (war.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "AgentConnected" and c.get("status") == "True" for c in conditions)


def _on_a_terminal(args: list[str], kubeconfig: str) -> str:
    """What `kubectl war ARGS` writes to a terminal (colours included)."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "KUBERNETES_SERVICE_HOST")}
    env.update(KUBECONFIG=kubeconfig, KUBECTL_WAR_NOW=NOW, TERM="xterm-256color")
    env["COLUMNS"] = str(WIDTH)
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from kubectl_war.cli import main; main()", *args],
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
        env=env,
    )
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    proc.wait(timeout=60)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def _console(width: int = WIDTH) -> Any:
    from rich.console import Console

    return Console(
        record=True,
        width=width,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
    )


def _svg(ansi: str, title: str) -> str:
    from rich.text import Text

    console = _console()
    console.print(Text(f"$ {title}", style="bold"))
    console.print(Text.from_ansi(ansi.rstrip("\n")))
    return str(console.export_svg(title=title, unique_id="kubectl-war"))


def _rollout_svg(objects: list[dict[str, Any]]) -> str:
    """The live view while the second batch of `ratings` comes back."""
    from rich.text import Text

    from kubectl_war.rollout import progress as pr
    from kubectl_war.rollout import view
    from kubectl_war.rollout.plan import Batch, GroupPlan, MaxUnavailable, Member, Plan
    from kubectl_war.rollout.states import EventKind
    from kubectl_war.war import War

    # The ratings WARs the rollout takes, in name order (an illustration: the planner
    # itself is tested elsewhere).
    wars = sorted((War(o) for o in objects if _connected(o)), key=lambda w: w.name)
    members = [
        Member(w.namespace, w.name, w.uid, w.identity.zone, w.identity.instance_id, "outdated")
        for w in wars
        if w.group == "ratings"
    ]
    batches = [Batch(i // 2 + 1, tuple(members[i : i + 2])) for i in range(0, len(members), 2)]
    group = GroupPlan("bookinfo", "ratings", len(members), 2, batches, [])
    plan = Plan([group], MaxUnavailable(2, False))
    console = _console(120)
    seconds = iter([0.0, 83.0, 83.0, 83.0])
    reporter = view.LiveReporter(plan, console, clock=lambda: next(seconds, 83.0))
    title = "kubectl war rollout ratings -n bookinfo --max-unavailable 2 --yes"
    console.print(Text(f"$ {title}", style="bold"))
    reporter(pr.Event(EventKind.GROUP, group))
    first, second = batches[0], batches[1]
    reporter(pr.Event(EventKind.BATCH, group, batch=first))
    for m in first.members:
        reporter(pr.Event(EventKind.STATE, group, batch=first, name=m.name, state=pr.BACK))
    reporter(pr.Event(EventKind.BATCH_DONE, group, batch=first, seconds=41.0))
    reporter(pr.Event(EventKind.BATCH, group, batch=second))
    states = [pr.BACK, pr.MemberState.RECREATED]
    for m, state in zip(second.members, states):
        reporter(pr.Event(EventKind.STATE, group, batch=second, name=m.name, state=state))
    console.print(reporter)
    return str(console.export_svg(title="kubectl war rollout", unique_id="kubectl-war-rollout"))
