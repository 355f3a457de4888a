"""Judging `make bench`'s measurements against the targets, and writing BENCHMARKS.md."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import Series, ms

FINDINGS = Path(__file__).with_name("findings.md")

STARTUP_LIMIT = 0.150  # seconds: --help and decode
STARTUP_RATIO_LIMIT = 1.8  # against `kubectl version --client`, pair by pair
RATIO_LIMITS = {1_000: 1.3}  # list -A / kubectl get war -A, median wall time
# list -A's CPU time (user + system) against kubectl get war -A's, per WAR, medians: CPU
# time is the client's own work whatever the server and the rate limiter do.
CPU_RATIO_LIMITS = {1_000: 0.8, 10_000: 0.8, 50_000: 0.8}
# Over this share of kubectl's wall time spent by the server (or by kubectl's own rate
# limiter), the wall ratio at that size measures that, not the clients.
WAIT_SHARE = 0.25
RSS_SIZE = 50_000  # the RSS targets hold at this many WARs
RSS_LIMIT_MB = 250.0
STREAM_FACTOR = 2.0  # -o json / -o yaml peak RSS against list -A's
# Linear in N: the marginal time per WAR from 10,000 to 50,000 may be at most this
# many times the marginal time per WAR from 1,000 to 10,000.
LINEAR_FACTOR = 1.5
# The server's time building the plugin's pages, as a share of the plugin's wall time.
SERVER_SHARE_LIMIT = 0.25
ROLLOUT_FACTOR = 1.5  # rollout wall time against the sum of its batches' agent delays
ROLLOUT_GAP_LIMIT = 0.5  # seconds from a batch's last WAR back to the next batch's first DELETE


@dataclass(frozen=True)
class Command:
    """One command measured at each size: ``args`` follow `kubectl`."""

    key: str
    label: str
    args: tuple[str, ...]
    table: bool = False  # prints a header and one line per WAR
    ok: tuple[int, ...] = (0,)
    watch: bool = False  # -w: measured until its first table is out, then stopped
    contains: bytes | None = None  # must appear in the output (a real SIDECAR state)
    rss_target: bool = False  # its peak RSS at RSS_SIZE must stay under RSS_LIMIT_MB
    streamed: bool = False  # its peak RSS must stay within STREAM_FACTOR of list -A's
    orjson: bool = False  # run with orjson importable (every other plugin run: without)


# The floor under the CPU targets, measured at this size: what any `kubectl war` command
# costs before the plugin's own code runs (see Floor).
FLOOR_SIZE = 1_000
# Collection off from the first line, as the plugin runs its bulk work: the floor is the
# least any plugin pays.
FLOOR_IMPORTS = (
    "import gc\ngc.disable()\nimport click, yaml\nfrom kubectl_war.kube import lazy\nlazy.load()\n"
)


@dataclass
class Floor:
    """CPU time no `kubectl war` command of this design can avoid, from runs paired with
    `kubectl get war -A`'s: kubectl's plugin dispatch (it starts, builds its command tree,
    finds `kubectl-war` on PATH and execs it) and a Python process importing the three
    dependencies every cluster-reading command uses (click, PyYAML for the kubeconfig,
    the official client's modules as the plugin loads them). Beside them, both clients'
    whole run against a namespace with no WARs: each one's fixed cost. And the least
    list of WARs this design allows (`bench/least_list.py`): click, the official client
    and PyYAML listing every WAR through kubectl and printing its namespace and name,
    without anything the plugin adds: about as little as a `list -A` on these parts
    can take."""

    series: dict[str, Series]  # keys: FLOOR_RUNS

    @property
    def dispatch(self) -> float:
        return self.series["via-kubectl"].cpu - self.series["direct"].cpu

    @property
    def imports(self) -> float:
        return self.series["imports"].cpu

    @property
    def total(self) -> float:
        return self.dispatch + self.imports

    @property
    def least(self) -> float:
        """`bench/least_list.py` through kubectl: a list of every WAR's namespace and name
        and nothing else, built on the same parts."""
        return self.series["least-list"].cpu


# key -> what it runs, as the report names it
FLOOR_RUNS = {
    "via-kubectl": "`kubectl war --help`",
    "direct": "`kubectl-war --help` (no kubectl)",
    "imports": "`python -c 'import click, yaml; <the client modules>'` (collection off)",
    "list-empty": "`kubectl war list -n <no WARs>`",
    "get-empty": "`kubectl get war -n <no WARs>`",
    "least-list": "`kubectl war-least -A` (`bench/least_list.py`: namespace and name of each WAR)",
}


@dataclass
class SizeResult:
    n: int
    seed_seconds: float
    series: dict[str, Series]
    group: str  # the WorkloadGroup of `rollout GROUP --dry-run`, "NS/NAME"
    # One `kubectl get war -A -v=3` run: wall time, and the waits client-go's rate limiter
    # logged (seconds, count). None when not measured (--quick).
    throttle: tuple[float, float, int] | None = None
    floor: Floor | None = None  # at FLOOR_SIZE

    @property
    def kubectl(self) -> Series:
        return self.series["get"]

    @property
    def plugin(self) -> Series:
        return self.series["list"]

    @property
    def ratio(self) -> float:
        return self.plugin.median / self.kubectl.median

    @property
    def cpu_ratio(self) -> float:
        return self.plugin.cpu / self.kubectl.cpu if self.kubectl.cpu else float("inf")

    @property
    def throttle_share(self) -> float | None:
        """The share of kubectl's wall time its rate limiter held requests back."""
        if self.throttle is None or not self.throttle[0]:
            return None
        return self.throttle[1] / self.throttle[0]

    def wall_note(self) -> str:
        """What the wall ratio at this size measures, when not the clients' own work."""
        notes = []
        if self.kubectl.server_share > WAIT_SHARE:
            notes.append(
                f"the server took {self.kubectl.server_share * 100:.0f}% of kubectl's wall "
                "time: the wall ratio at this size measures the server"
            )
        share = self.throttle_share
        if share is not None and share > WAIT_SHARE:
            notes.append(
                f"kubectl's own rate limiter held its requests back for {share * 100:.0f}% of "
                "its wall time: the wall ratio at this size measures that wait"
            )
        return "; ".join(notes)


@dataclass
class Batch:
    number: int
    size: int
    first_delete: float  # seconds since the rollout started
    last_delete: float
    agent_delay: float  # the longest of its WARs from its DELETE to back
    last_back: float
    gap: float | None  # to the next batch's first DELETE


@dataclass
class RolloutResult:
    wars: int
    max_unavailable: str
    limit: int  # WARs of the group that may be unavailable at once
    most_unavailable: int  # as the server saw it
    wall: float
    rss_mb: float
    agents: dict[str, float]  # the simulated agents' delays
    batches: list[Batch] = field(default_factory=list)

    @property
    def ideal(self) -> float:
        return sum(b.agent_delay for b in self.batches)

    @property
    def ratio(self) -> float:
        return self.wall / self.ideal if self.ideal else float("inf")

    @property
    def worst_gap(self) -> float:
        gaps = [b.gap for b in self.batches if b.gap is not None]
        return max(gaps) if gaps else 0.0


@dataclass
class Startup:
    series: dict[str, Series]
    ratios: dict[str, list[float]]  # command -> per pair, against kubectl version --client


@dataclass
class Verdict:
    target: str
    measured: str
    limit: str
    met: bool | None  # None: not measured in this run


def judge(
    commands: list[Command],
    startup: Startup,
    sizes: dict[int, SizeResult],
    rollout: RolloutResult | None,
) -> list[Verdict]:
    out: list[Verdict] = []
    for name, series in startup.series.items():
        if name not in startup.ratios:
            continue
        out.append(
            Verdict(f"`{name}` start-up", ms(series.median), f"< {ms(STARTUP_LIMIT)}",
                    series.median < STARTUP_LIMIT)
        )  # fmt: skip
        ratio = statistics.median(startup.ratios[name])
        out.append(
            Verdict(
                f"`{name}` / `kubectl version --client`, pair by pair",
                f"{ratio:.2f}×",
                f"≤ {STARTUP_RATIO_LIMIT}×",
                ratio <= STARTUP_RATIO_LIMIT,
            )
        )
    for n, limit in CPU_RATIO_LIMITS.items():
        r = sizes.get(n)
        floor = ""
        if r and r.floor is not None:
            floor = (
                f"; the floor alone (kubectl's plugin dispatch and the imports every "
                f"command needs) is {r.floor.total / r.kubectl.cpu:.2f}×, and the least "
                f"list of WARs this design allows (`bench/least_list.py`) "
                f"{r.floor.least / r.kubectl.cpu:.2f}×"
            )
        out.append(
            Verdict(
                f"`list -A` CPU per WAR / `kubectl get war -A`'s at {n:,} WARs",
                f"{r.cpu_ratio:.2f}× ({r.plugin.cpu / n * 1e6:.0f} / "
                f"{r.kubectl.cpu / n * 1e6:.0f} µs{floor})"
                if r
                else "not run",
                f"≤ {limit}×",
                (r.cpu_ratio <= limit) if r else None,
            )
        )
    for n, limit in RATIO_LIMITS.items():
        r = sizes.get(n)
        note = r.wall_note() if r else ""
        out.append(
            Verdict(
                f"`list -A` / `kubectl get war -A` wall time at {n:,} WARs",
                (f"{r.ratio:.2f}×" + (f" ({note})" if note else "")) if r else "not run",
                f"≤ {limit}×",
                (r.ratio <= limit) if r else None,
            )
        )
    out += _rss_verdicts(commands, sizes)
    a, b, c = sizes.get(1_000), sizes.get(10_000), sizes.get(50_000)
    if a and b and c:
        # CPU time: on a shared machine it moves far less than wall time.
        early = (b.plugin.cpu - a.plugin.cpu) / (b.n - a.n)
        late = (c.plugin.cpu - b.plugin.cpu) / (c.n - b.n)
        out.append(
            Verdict(
                "`list -A` time linear in N (CPU µs per extra WAR, 10k→50k vs 1k→10k)",
                f"{late * 1e6:.0f} vs {early * 1e6:.0f} µs",
                f"≤ {LINEAR_FACTOR}×",
                late <= early * LINEAR_FACTOR,
            )
        )
    else:
        out.append(Verdict("`list -A` time linear in N", "needs 1k, 10k and 50k", "", None))
    worst = max(
        ((r.plugin.server_per_run / r.plugin.median, n) for n, r in sizes.items()),
        default=None,
    )
    out.append(
        Verdict(
            "fake server's share of `list -A`'s wall time (worst size)",
            f"{worst[0] * 100:.0f}% at {worst[1]:,}" if worst else "not run",
            f"< {SERVER_SHARE_LIMIT * 100:.0f}%",
            (worst[0] < SERVER_SHARE_LIMIT) if worst else None,
        )
    )
    out += _rollout_verdicts(rollout)
    return out


def _rss_verdicts(commands: list[Command], sizes: dict[int, SizeResult]) -> list[Verdict]:
    """Peak RSS targets at RSS_SIZE; without that size, the largest one run is shown
    (not judged), so a short run still shows every target's row."""
    out: list[Verdict] = []
    n = RSS_SIZE if RSS_SIZE in sizes else max(sizes, default=None)
    r = sizes.get(n) if n is not None else None
    judged = n == RSS_SIZE
    where = "" if judged or n is None else f" (at {n:,} WARs: target size not run)"
    for cmd in commands:
        if not (cmd.rss_target or cmd.streamed):
            continue
        s = r.series.get(cmd.key) if r else None
        if cmd.rss_target:
            out.append(
                Verdict(
                    f"peak RSS of {cmd.label} at {RSS_SIZE:,} WARs",
                    f"{s.rss_mb:.0f} MB{where}" if s and s.runs else "not run",
                    f"≤ {RSS_LIMIT_MB:.0f} MB",
                    (s.rss_mb <= RSS_LIMIT_MB) if s and s.runs and judged else None,
                )
            )
        if cmd.streamed:
            base = r.series.get("list") if r else None
            yard = r.series.get("get-json") if r else None
            ok = bool(s and s.runs and base and base.runs)
            ratio = s.rss_mb / base.rss_mb if ok and s and base else 0.0
            kubectl = f"; `kubectl get -o json`: {yard.rss_mb:.0f} MB" if yard and yard.runs else ""
            out.append(
                Verdict(
                    f"peak RSS of {cmd.label} / `list -A`'s at {RSS_SIZE:,} WARs",
                    f"{ratio:.2f}× ({s.rss_mb:.0f} MB{kubectl}){where}" if ok and s else "not run",
                    f"≤ {STREAM_FACTOR:.0f}×",
                    (ratio <= STREAM_FACTOR) if ok and judged else None,
                )
            )
    return out


def _rollout_verdicts(r: RolloutResult | None) -> list[Verdict]:
    what = (
        f"rollout of {r.wars:,} WARs at --max-unavailable {r.max_unavailable}" if r else "rollout"
    )
    if r is None or not r.batches:
        return [
            Verdict(f"{what}: wall time / sum of its batches' agent delays", "not run",
                    f"≤ {ROLLOUT_FACTOR}×", None),
            Verdict(f"{what}: last WAR of a batch back → next batch's first DELETE (worst)",
                    "not run", f"≤ {ms(ROLLOUT_GAP_LIMIT)}", None),
            Verdict(f"{what}: most WARs unavailable at once (server's record)", "not run",
                    "", None),
        ]  # fmt: skip
    return [
        Verdict(
            f"{what}: wall time / sum of its batches' agent delays",
            f"{r.ratio:.2f}× ({ms(r.wall)} / {ms(r.ideal)})",
            f"≤ {ROLLOUT_FACTOR}×",
            r.ratio <= ROLLOUT_FACTOR,
        ),
        Verdict(
            f"{what}: last WAR of a batch back → next batch's first DELETE (worst)",
            ms(r.worst_gap),
            f"≤ {ms(ROLLOUT_GAP_LIMIT)}",
            r.worst_gap <= ROLLOUT_GAP_LIMIT,
        ),
        Verdict(
            f"{what}: most WARs unavailable at once (server's record)",
            str(r.most_unavailable),
            f"≤ {r.limit}",
            r.most_unavailable <= r.limit,
        ),
    ]


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def loadavg() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "unknown"


METHOD = """\
## Method

Everything runs on this machine against `tests/fakekube`, the loopback API server the
tests use, in a process of its own (`bench/server.py`) so its memory never counts
towards a measured process. The pinned, real `kubectl` runs every command: `kubectl
war ...` finds the plugin on PATH and execs it in place, so the measured process is the
plugin's (and its peak RSS never falls below kubectl's own start-up footprint).

- **Fleet.** For each size N, the server holds N varied WARs (EC2, ECS, JWT;
  connected, disconnected, joining) over 10 namespaces and 3 WorkloadGroups each (4
  namespaces up to 5,000 WARs), whose spec changed 6h ago, so part of every group is
  outdated. An emulated istiod (two replicas behind the API server's pod proxy, as
  `--proxy-status istiod` reads it) knows every connected WAR's sidecar as SYNCED; it
  answers `/debug/syncz` from a body built once per change of state, as a real istiod
  answers from memory, so the emulation's Python cost is not charged to the client.
- **WARs as a real API server returns them** (`iter_large_fleet` in
  `tests/fakekube/fleet.py`), about 3 KB of compact JSON each, of which 1.2 KB are
  managedFields: spec and the AgentConnected condition as the TSB reference and guide
  document them, condition times in nanoseconds as in the guide's `describe` example;
  `metadata.managedFields` as kube-apiserver records a controller's writes: one
  `Update` entry for the onboarding plane's create and one for its status-subresource
  writes, FieldsV1 trees with the ownerReference keyed by uid; keys sorted and compact,
  as the API server encodes a custom resource. Two annotations and two more conditions
  (`Registered`, `WorkloadEntryCreated`, AgentConnected between them) are not in the
  TSB docs: they stand for what controllers add, so that a list carries data no row
  shows. kubectl's server-side Table rows carry each WAR's full metadata
  (managedFields included), as the API server sends them.
- **The wire, as kube-apiserver's.** Answers over 128 KiB are gzipped (level 1) when
  the client accepts gzip, as the API server does: kubectl (Go's transport) asks for
  it, the Python client does not. Connections are kept alive and set TCP_NODELAY (Go's
  net/http does). kubectl's own client (client-go) allows 5 requests a second after a
  burst of 10, whatever the server; kubectl has no flag to change it, and the API
  server's priority-and-fairness headers do not lift it (the fake server sent them in
  a trial and kubectl 1.37 still waited). So kubectl's list of 20 pages (10,000 WARs)
  waits about 2 s, of 100 pages (50,000) about 18 s, against any server: the wall
  ratio there measures that wait, which is why the targets compare CPU time.
- **A run** is one process, started by fork and exec, stdout to a file, stderr apart:
  wall time from fork to exit; peak RSS (`ru_maxrss`) and user + system CPU time from
  `wait4`; the fake server's own time building every answer it gave meanwhile. A run
  that exits with an unexpected code, or a table with other than N + 1 lines, or a
  SIDECAR column without a single SYNCED, voids the benchmark.
- **Without orjson.** The plugin decodes table pages with orjson when it is installed
  (`kubectl_war/kube/decode.py`); the zipapp carries none and a plain `pip install`
  brings none, so every plugin command at each size runs with orjson made unimportable (a
  module of that name on PYTHONPATH that refuses to import), and `list -A` once more
  with it importable (an empty directory on PYTHONPATH instead, so both search alike).
- **As installed.** The package is byte-compiled before the first run, as pip does
  when it installs it, and `PYTHONDONTWRITEBYTECODE` is dropped from the runs'
  environment (with it set, every run compiles each module changed since its bytecode
  was last written, a few milliseconds apiece).
- **`list -A -w`** runs with stdout to a pipe, read until the header and N rows are
  out; then it gets SIGINT as Ctrl-C would send. Its wall time is to the end of the
  first table; its peak RSS is the process's, to its exit.
- **Rounds.** At each size every command runs once per round, in one order on even
  rounds and the reverse on odd ones, so drift on this shared machine hits all alike;
  `kubectl get war -A` is in every round as the yardstick. A warm-up run of every
  command comes first up to 10,000 WARs, of `kubectl get war -A` and `list -A` only
  above (kubectl keeps a discovery cache per server). Up to 1,000 WARs, extra
  `kubectl get war -A` / `list -A` pairs steady the ratios. From 50,000 WARs on, at
  most two rounds, and a command whose first run took over 30 s runs once (the whole
  bench must stay well under 20 minutes on 2 CPUs).
  Tables show the median (min–max) of wall time, the most RSS of any run.
- **Start-up.** Each round runs `kubectl version --client`, `kubectl war --help`,
  `kubectl war decode NAME` and the other start-up rows, in the reverse order every
  other round; `--help` and `decode` each give a ratio per round against that round's
  `kubectl version --client`, and the target is the median of those ratios.
- **Rollout.** A server with one WorkloadGroup of outdated connected WARs,
  emulated istiod, and simulated agents (`tests/fakekube/onboarding.py`): once its
  WAR is deleted, an agent re-creates it (same name, new uid, connected) after a
  random delay, and its sidecar turns SYNCED a little later. `kubectl war rollout
  GROUP -n NS --max-unavailable 25% --yes --proxy-status istiod` runs once; its
  `--dry-run -o json` plan says which WARs make each batch. The server notes when
  each DELETE arrives, and when each deleted WAR is back (its agent connected and
  its sidecar SYNCED at istiod, whichever is later). A batch's agent delay is the
  longest any of its WARs took from its own DELETE to back: the sum over batches is
  what the rollout would take if its DELETEs were instant and each batch began the
  moment the last one was back. The gap is from a batch's last WAR back to the next
  batch's first DELETE. The most WARs unavailable at once comes from the server's own
  availability record of every write, so it holds whatever the client believed.
- **Noise.** This machine has 2 CPUs shared with other work; the load average at the
  start is in the table above. Ratios measured in one run (plugin against kubectl,
  round by round) are steadier than absolute times; RSS hardly moves with load.
"""


def report(
    args: argparse.Namespace,
    info: dict[str, str],
    commands: list[Command],
    startup: Startup,
    sizes: dict[int, SizeResult],
    rollout: RolloutResult | None,
    phases: tuple[int, list[tuple[str, float]]] | None,
    verdicts: list[Verdict],
    started: dt.datetime,
    load_at_start: str,
    zipapp_note: str,
) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); numbers from the last run on this machine.",
        "",
        "| machine | |",
        "|---|---|",
        f"| CPUs | {os.cpu_count()} ({_cpu_model()}) |",
        f"| OS | {platform.system()} {platform.release()} |",
        *(f"| {k} | {v} |" for k, v in info.items()),
        f"| date | {started:%Y-%m-%d %H:%M} UTC |",
        f"| load average at start / end | {load_at_start} / {loadavg()} |",
        f"| sizes, rounds | {', '.join(f'{n:,}' for n in sorted(sizes)) or 'no'} WARs; "
        f"{args.runs} rounds{' (quick)' if args.quick else ''} |",
        "",
        "## Targets",
        "",
        "| target | measured | limit | |",
        "|---|---|---|---|",
    ]
    for v in verdicts:
        mark = {True: "met", False: "**MISSED**", None: "not measured"}[v.met]
        lines.append(f"| {v.target} | {v.measured} | {v.limit} | {mark} |")
    lines += ["", METHOD.rstrip()]
    lines += _commands_section(commands, sizes)
    lines += _list_section(sizes)
    lines += _floor_section(sizes)
    if rollout is not None:
        lines += _rollout_section(rollout)
    lines += _startup_section(startup, zipapp_note)
    if phases is not None:
        lines += _phases_section(*phases)
    if FINDINGS.exists():
        lines += ["", FINDINGS.read_text().rstrip()]
    return "\n".join(lines) + "\n"


def _commands_section(commands: list[Command], sizes: dict[int, SizeResult]) -> list[str]:
    lines = [
        "",
        "## Every command at each size",
        "",
        "Wall time, median (min–max), and its ratio to `kubectl get war -A` of the same "
        "rounds; CPU: median user + system time of the client process, per WAR, and its "
        "ratio to `kubectl get war -A`'s; peak RSS: the most of any run; server: the fake "
        "server's share of the wall time (its time building answers).",
    ]
    for n, r in sorted(sizes.items()):
        yard = r.kubectl.median
        cpu_yard = r.kubectl.cpu
        lines += [
            "",
            f"### {n:,} WARs",
            "",
            f"`rollout GROUP` is `{r.group}`. Seeding the server took {ms(r.seed_seconds)}.",
        ]
        note = r.wall_note()
        if note:
            lines += ["", f"Here {note}."]
        lines += [
            "",
            "| command | wall | × `kubectl get war -A` | CPU | CPU per WAR | "
            "CPU × `kubectl get war -A` | peak RSS | server |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for cmd in commands:
            s = r.series.get(cmd.key)
            if s is None or not s.runs:
                continue
            cpu_ratio = f"{s.cpu / cpu_yard:.2f}×" if cpu_yard else "–"
            lines.append(
                f"| {cmd.label} | {s.spread()} | {s.median / yard:.2f}× | {ms(s.cpu)} | "
                f"{s.cpu / n * 1e6:.0f} µs | {cpu_ratio} | {s.rss_mb:.0f} MB | "
                f"{s.server_share * 100:.0f}% |"
            )
    lines += [
        "",
        "### Peak RSS (MB) by size",
        "",
        "| command | " + " | ".join(f"{n:,}" for n in sorted(sizes)) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for cmd in commands:
        cells = []
        for _n, r in sorted(sizes.items()):
            s = r.series.get(cmd.key)
            cells.append(f"{s.rss_mb:.0f}" if s and s.runs else "–")
        lines.append(f"| {cmd.label} | " + " | ".join(cells) + " |")
    return lines


def _list_section(sizes: dict[int, SizeResult]) -> list[str]:
    lines = [
        "",
        "## `kubectl get war -A` against `kubectl war list -A`: CPU and wall time",
        "",
        "Both measures side by side. CPU per WAR: median user + system time of the client "
        "process divided by N (kubectl's Go runtime spreads over both CPUs; the plugin's "
        "includes kubectl's own start before it execs the plugin): the clients' own work, "
        "whatever the server and the rate limiter do. Wall: median (min–max). Server share: "
        "the fake server's time for all answers of one run over that run's wall time "
        "(kubectl / plugin). Rate limiter: the waits client-go logged in one `kubectl get "
        "war -A -v=3` run (waits over 50 ms; kubectl fetches pages of 500 and its client "
        "allows 5 requests a second after a burst of 10), as a share of that run's wall "
        "time; the plugin has no client-side limiter. Server per page: the fake server's "
        "median time to build one page of 500 WARs, as a server-side Table for kubectl and "
        "as JSON for the plugin. CPU per extra WAR: the growth of each one's CPU time from "
        "the size before, per WAR added (what a WAR costs once each has started).",
        "",
        "| WARs | CPU per WAR kubectl / plugin | CPU ratio | CPU per extra WAR kubectl / "
        "plugin | wall kubectl | wall plugin | wall ratio | server share kubectl / plugin | "
        "kubectl's rate limiter | server per page kubectl / plugin | "
        "peak RSS kubectl / plugin |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    prev: SizeResult | None = None
    for n, r in sorted(sizes.items()):
        if prev is None:
            marginal = "–"
        else:
            added = n - prev.n
            k_extra = (r.kubectl.cpu - prev.kubectl.cpu) / added * 1e6
            p_extra = (r.plugin.cpu - prev.plugin.cpu) / added * 1e6
            marginal = f"{k_extra:.0f} / {p_extra:.0f} µs"
        prev = r
        kp = statistics.median(r.kubectl.pages) if r.kubectl.pages else 0.0
        pp = statistics.median(r.plugin.pages) if r.plugin.pages else 0.0
        k_share = r.kubectl.server_share
        p_share = r.plugin.server_share
        if r.throttle is None:
            limiter = "not measured"
        else:
            wall, waited, count = r.throttle
            limiter = f"{waited / wall * 100:.0f}% ({count} waits, {ms(waited)} of {ms(wall)})"
        lines.append(
            " | ".join(
                [
                    f"| {n:,}",
                    f"{r.kubectl.cpu / n * 1e6:.0f} / {r.plugin.cpu / n * 1e6:.0f} µs",
                    f"{r.cpu_ratio:.2f}×",
                    marginal,
                    r.kubectl.spread(),
                    r.plugin.spread(),
                    f"{r.ratio:.2f}×",
                    f"{k_share * 100:.0f}% / {p_share * 100:.0f}%",
                    limiter,
                    f"{kp * 1000:.1f} / {pp * 1000:.1f} ms",
                    f"{r.kubectl.rss_mb:.0f} / {r.plugin.rss_mb:.0f} MB |",
                ]
            )
        )
        note = r.wall_note()
        if note:
            notes.append(f"- At {n:,} WARs {note}.")
    if notes:
        lines += ["", *notes]
    return lines


def _rollout_section(r: RolloutResult) -> list[str]:
    agents = ", ".join(f"{k} {v:g} s" for k, v in r.agents.items())
    lines = [
        "",
        f"## Rollout of {r.wars:,} WARs at `--max-unavailable {r.max_unavailable}`",
        "",
        f"Agents: {agents}. Wall time {ms(r.wall)} (peak RSS {r.rss_mb:.0f} MB) against "
        f"{ms(r.ideal)} of agent delays: {r.ratio:.2f}×. At most {r.most_unavailable} of the "
        f"group unavailable at once (limit {r.limit}). Times in seconds from the start of "
        "the command.",
        "",
        "| batch | WARs | first DELETE | last DELETE | agent delay | last back | "
        "gap to next DELETE |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for b in r.batches:
        gap = "–" if b.gap is None else f"{b.gap:.2f}"
        lines.append(
            f"| {b.number} | {b.size} | {b.first_delete:.2f} | {b.last_delete:.2f} | "
            f"{b.agent_delay:.2f} | {b.last_back:.2f} | {gap} |"
        )
    return lines


def _floor_section(sizes: dict[int, SizeResult]) -> list[str]:
    r = sizes.get(FLOOR_SIZE)
    if r is None or r.floor is None:
        return []
    f = r.floor
    budget = CPU_RATIO_LIMITS[FLOOR_SIZE] * r.kubectl.cpu
    get_empty, list_empty = f.series["get-empty"].cpu, f.series["list-empty"].cpu
    lines = [
        "",
        f"## The floor under the CPU target at {FLOOR_SIZE:,} WARs",
        "",
        "CPU time (median user + system) of runs taken in the same rounds as the "
        f"{FLOOR_SIZE:,}-WAR lists above. Every `kubectl war` command pays kubectl's plugin "
        "dispatch (kubectl starts, builds its command tree, finds `kubectl-war` on PATH and "
        "execs it: the first two rows' difference) and, to read a cluster, Python with click, "
        "PyYAML (the kubeconfig) and the official client's modules as the plugin loads them "
        "(third row). Their sum is the floor: what no code of the plugin's own can remove.",
        "",
        "| run | CPU |",
        "|---|---:|",
    ]
    lines += [f"| {label} | {ms(f.series[key].cpu)} |" for key, label in FLOOR_RUNS.items()]
    lines += [
        "",
        "| | CPU | × `kubectl get war -A` |",
        "|---|---:|---:|",
        f"| kubectl's plugin dispatch | {ms(f.dispatch)} | {f.dispatch / r.kubectl.cpu:.2f}× |",
        f"| Python and the imports every cluster-reading command needs | {ms(f.imports)} | "
        f"{f.imports / r.kubectl.cpu:.2f}× |",
        f"| **the floor** | **{ms(f.total)}** | **{f.total / r.kubectl.cpu:.2f}×** |",
        f"| the plugin's own fixed cost (`list` of no WARs, less the floor) | "
        f"{ms(list_empty - f.total)} | {(list_empty - f.total) / r.kubectl.cpu:.2f}× |",
        f"| the plugin's work for {FLOOR_SIZE:,} WARs (`list -A` less `list` of none) | "
        f"{ms(r.plugin.cpu - list_empty)} | {(r.plugin.cpu - list_empty) / r.kubectl.cpu:.2f}× |",
        f"| the least list this design allows (`bench/least_list.py` through kubectl) | "
        f"{ms(f.least)} | {f.least / r.kubectl.cpu:.2f}× |",
        f"| `kubectl war list -A` | {ms(r.plugin.cpu)} | {r.cpu_ratio:.2f}× |",
        f"| the target's budget ({CPU_RATIO_LIMITS[FLOOR_SIZE]}× `kubectl get war -A`) | "
        f"{ms(budget)} | {CPU_RATIO_LIMITS[FLOOR_SIZE]:.2f}× |",
        "",
        f"kubectl's own fixed cost (`kubectl get war` of no WARs) is {ms(get_empty)}; its work "
        f"for {FLOOR_SIZE:,} WARs {ms(r.kubectl.cpu - get_empty)} (the server builds its rows).",
    ]
    own = r.plugin.cpu - f.total
    if f.total >= budget:
        room = f"is over it by {ms(f.total - budget)}"
    else:
        room = f"leaves {ms(budget - f.total)}"
    lines.append(
        f"The floor takes {f.total / budget * 100:.0f}% of the target's budget and {room} for "
        f"the plugin's own start and its {FLOOR_SIZE:,} rows, which take {ms(own)}."
    )
    if f.least >= budget:
        least = (
            f"is over the target's budget by {ms(f.least - budget)}: in this run even a list "
            "of WARs on click, PyYAML and the official client, started by kubectl, that prints "
            "nothing but names misses the target"
        )
    else:
        least = (
            f"leaves {ms(budget - f.least)} of the target's budget for everything `kubectl "
            "war list -A` does beyond printing names (discovery, the WorkloadGroups, "
            f"identities, agent state, freshness, the table), which takes "
            f"{ms(r.plugin.cpu - f.least)} here"
        )
    lines += [
        "",
        f"The least list this design allows (`bench/least_list.py`: click reads `-A`, the "
        f"official client loads the kubeconfig and lists the WARs page by page, decoded as "
        f"the plugin decodes them, and it prints each one's namespace and name) takes "
        f"{ms(f.least)}, {f.least / r.kubectl.cpu:.2f}× kubectl's CPU. It {least}.",
    ]
    return lines


def _startup_section(startup: Startup, zipapp_note: str) -> list[str]:
    lines = [
        "",
        "## Start-up",
        "",
        "| command | median (min–max) | peak RSS | / `kubectl version --client`, "
        "median (min–max) of pairs |",
        "|---|---:|---:|---:|",
    ]
    for name, s in startup.series.items():
        ratios = startup.ratios.get(name)
        pair = (
            f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f})"
            if ratios
            else ""
        )
        lines.append(f"| `{name}` | {s.spread()} | {s.rss_mb:.0f} MB | {pair} |")
    lines += ["", zipapp_note]
    return lines


def _phases_section(n: int, rows: list[tuple[str, float]]) -> list[str]:
    lines = [
        "",
        f"## Where `list -A` spends its time at {n:,} WARs",
        "",
        "Cumulative time per phase under cProfile (a deterministic profiler: it slows "
        "Python-heavy phases such as row building more than I/O and C code, so read the "
        "shares, not the absolute numbers).",
        "",
        "| phase | time |",
        "|---|---:|",
    ]
    lines += [
        f"| {'— of which ' if label.startswith('  ') else ''}{label.strip()} | {ms(t)} |"
        for label, t in rows
    ]
    if any(t == 0 for _, t in rows):
        lines += [
            "",
            "A phase at 0 ms was not found in the profile: its function moved or was "
            "renamed (update PHASES in `bench/run.py`).",
        ]
    return lines
