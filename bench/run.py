"""`make bench`: kubectl-war against the yardstick operators would otherwise type.

Starts the fake API server (tests.fakekube) with N WARs for each size asked for
and measures, alternating the two commands so drift on a shared machine hits both
alike, after a warm-up each:

- `kubectl get war -A` (the pinned, real kubectl) against `kubectl war list -A`
  (the plugin, found and run by that same kubectl), both writing to a file:
  median and min/max wall time, the ratio plugin/kubectl, time per WAR;
- peak RSS of the plugin's process (kubectl execs the plugin in place, so the
  process's high-water mark is the plugin's);
- the fake server's own time to build each page, Tables (kubectl) apart from
  plain JSON (the plugin), so a slow server cannot hide a slow client;
- `kubectl war list -A -o json` and `kubectl war describe` of one WAR;
- start-up: `kubectl war --help` and `kubectl war decode NAME` (and the zipapp's
  `--help`, through kubectl and alone, when `make dist` has built one);
- where the plugin's time goes at one size (a cProfile of `list -A`).

Writes BENCHMARKS.md and exits 1 naming every target missed.

    python bench/run.py                      # every size: 100 1000 10000 50000
    python bench/run.py --sizes 1000,10000 --runs 7 --output -
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


SIZES = (100, 1_000, 10_000, 50_000)
STARTUP_LIMIT = 0.150  # seconds: --help and decode
RATIO_LIMITS = {1_000: 1.5, 10_000: 1.2}  # plugin / kubectl, median wall time
RSS_LIMIT_MB = 400.0  # peak RSS of list -A at RSS_SIZE WARs
RSS_SIZE = 50_000
# Linear in N: the marginal time per WAR from 10,000 to 50,000 may be at most this
# many times the marginal time per WAR from 1,000 to 10,000.
LINEAR_FACTOR = 1.5
# The server's time building the plugin's pages, as a share of the plugin's wall time.
SERVER_SHARE_LIMIT = 0.25
DECODE_NAME = "ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0"
WAR_PLURAL = "workloadautoregistrations"
FINDINGS = Path(__file__).with_name("findings.md")


@dataclass
class Run:
    wall: float
    rss_mb: float
    server: list[float] = field(default_factory=list)  # seconds per WAR page
    cpu: float = 0.0  # user + system seconds of the measured process


@dataclass
class Series:
    runs: list[Run] = field(default_factory=list)

    @property
    def walls(self) -> list[float]:
        return [r.wall for r in self.runs]

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def rss_mb(self) -> float:
        return max(r.rss_mb for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def pages(self) -> list[float]:
        return [s for r in self.runs for s in r.server]

    @property
    def server_per_run(self) -> float:
        return statistics.median(sum(r.server) for r in self.runs) if self.runs else 0.0

    def spread(self) -> str:
        return f"{ms(self.median)} ({ms(min(self.walls))}–{ms(max(self.walls))})"


@dataclass
class SizeResult:
    n: int
    seed_seconds: float
    kubectl: Series
    plugin: Series
    json: Series
    describe: Series

    @property
    def ratio(self) -> float:
        return self.plugin.median / self.kubectl.median


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.bin = Path(sys.executable).parent
        self.kubectl = shutil.which("kubectl", path=str(self.bin)) or shutil.which("kubectl")
        if not self.kubectl:
            raise SystemExit("bench: no kubectl (make bench runs the venv's pinned one)")
        home = work / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECTL_WAR_")}
        env.pop("KUBECONFIG", None)
        env["HOME"] = str(home)  # a private discovery cache for kubectl
        env["PATH"] = os.pathsep.join([str(self.bin), env.get("PATH", "")])
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        env["NO_COLOR"] = "1"
        self.env = env
        self.out = work / "out.txt"

    # ---- running -------------------------------------------------------------------

    def run(
        self,
        argv: Sequence[str],
        *,
        fake: Server | None = None,
        expect_lines: int | None = None,
        env: dict[str, str] | None = None,
    ) -> Run:
        """Run once with stdout to a file; wall time, peak RSS and the server's page times."""
        with open(self.out, "wb") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, env=env or self.env)
            assert proc.stderr is not None
            err = proc.stderr.read()
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"bench: {' '.join(argv)} failed ({proc.returncode}): {err.decode()}")
        if expect_lines is not None:
            with open(self.out, "rb") as f:
                lines = sum(1 for _ in f)
            if lines != expect_lines:
                raise SystemExit(
                    f"bench: {' '.join(argv)} printed {lines} lines, expected {expect_lines}"
                )
        server: list[float] = []
        if fake is not None:
            server = [
                seconds
                for method, path, _table, seconds in fake.timings()
                if method == "GET" and path.endswith("/" + WAR_PLURAL)
            ]
        # ru_maxrss is in KiB on Linux.
        return Run(wall, usage.ru_maxrss / 1024, server, usage.ru_utime + usage.ru_stime)

    def kubectl_cmd(self, *args: str) -> list[str]:
        assert self.kubectl is not None
        return [self.kubectl, *args]

    # ---- measuring -----------------------------------------------------------------

    def startup(self) -> dict[str, Series]:
        runs = max(self.args.runs, 10)
        commands: dict[str, list[str]] = {
            "kubectl war --help": self.kubectl_cmd("war", "--help"),
            "kubectl war decode NAME": self.kubectl_cmd("war", "decode", DECODE_NAME),
            "kubectl-war --help (no kubectl)": [str(self.bin / "kubectl-war"), "--help"],
            "kubectl version --client (kubectl alone)": self.kubectl_cmd("version", "--client"),
            # This venv's interpreter: its editable install of kubectl-war adds an import
            # finder to every start (python -S skips site and so the finder).
            "python -c pass (this venv)": [sys.executable, "-c", "pass"],
            "python -S -c pass (no site-packages)": [sys.executable, "-S", "-c", "pass"],
        }
        envs: dict[str, dict[str, str]] = {}
        zipapp = _zipapp()
        if zipapp is not None:
            # As a krew user runs it: the zipapp on PATH as kubectl-war, started by the
            # system's python3 (its shebang), with no virtualenv on PATH.
            plugin_dir = self.work / "zipapp-bin"
            plugin_dir.mkdir(exist_ok=True)
            link = plugin_dir / "kubectl-war"
            if not link.exists():
                link.symlink_to(zipapp)
            path = os.pathsep.join([str(plugin_dir), "/usr/local/bin", "/usr/bin", "/bin"])
            zip_env = dict(self.env, PATH=path)
            built = time.strftime("%Y-%m-%d %H:%M", time.gmtime(zipapp.stat().st_mtime))
            name = f"kubectl war --help (the zipapp dist/kubectl-war, built {built} UTC)"
            commands[name] = self.kubectl_cmd("war", "--help")
            envs[name] = zip_env
            python3 = shutil.which("python3", path=path) or "python3"
            name = f"{python3} dist/kubectl-war --help (zipapp, no kubectl)"
            commands[name] = [python3, str(zipapp), "--help"]
            envs[name] = zip_env
        out: dict[str, Series] = {name: Series() for name in commands}
        for name, argv in commands.items():
            self.run(argv, env=envs.get(name))  # warm-up (and the zipapp's bytecode cache)
        for _ in range(runs):
            for name, argv in commands.items():
                out[name].runs.append(self.run(argv, env=envs.get(name)))
        return out

    def size(self, n: int) -> SizeResult:
        fake = Server(n, self.work / f"kubeconfig-{n}")
        try:
            seeded = fake.seed_seconds
            self.env["KUBECONFIG"] = fake.kubeconfig
            first = fake.war
            kubectl = self.kubectl_cmd("get", "war", "-A")
            plugin = self.kubectl_cmd("war", "list", "-A")
            lines = n + 1
            result = SizeResult(n, seeded, Series(), Series(), Series(), Series())
            self.run(kubectl, fake=fake, expect_lines=lines)  # warm-up (and discovery cache)
            self.run(plugin, fake=fake, expect_lines=lines)
            # Small lists are quick: more runs there steady the medians the ratios use.
            runs = self.args.runs * (3 if n <= 1_000 else 1)
            for i in range(runs):
                pair = [(kubectl, result.kubectl), (plugin, result.plugin)]
                for argv, series in pair if i % 2 == 0 else reversed(pair):
                    series.runs.append(self.run(argv, fake=fake, expect_lines=lines))
            as_json = self.kubectl_cmd("war", "list", "-A", "-o", "json")
            describe = self.kubectl_cmd("war", "describe", "-n", first["namespace"], first["name"])
            self.run(as_json, fake=fake)
            for _ in range(self.args.runs):
                result.json.runs.append(self.run(as_json, fake=fake))
            self.run(describe, fake=fake)
            for _ in range(self.args.runs):
                result.describe.runs.append(self.run(describe, fake=fake))
            _progress(
                f"{n:>6} WARs: kubectl {result.kubectl.spread()}, plugin {result.plugin.spread()}"
                f", ratio {result.ratio:.2f}, RSS {result.plugin.rss_mb:.0f} MB"
            )
            return result
        finally:
            fake.stop()
            self.env.pop("KUBECONFIG", None)

    def profile(self, n: int) -> list[tuple[str, float]]:
        """Where `list -A` spends its time at n WARs: cumulative seconds per phase."""
        fake = Server(n, self.work / "kubeconfig-prof")
        try:
            env = dict(self.env, KUBECONFIG=fake.kubeconfig)
            stats = self.work / "list.prof"
            code = (
                "import cProfile, sys\n"
                "p = cProfile.Profile()\n"
                "p.enable()\n"
                "from kubectl_war.cli import main\n"
                "try:\n"
                "    main(['list', '-A'])\n"
                "finally:\n"
                "    p.disable()\n"
                f"    p.dump_stats({str(stats)!r})\n"
            )
            with open(self.out, "wb") as out:
                subprocess.run([sys.executable, "-c", code], stdout=out, env=env, check=True)
        finally:
            fake.stop()
        return _phases(stats)


class Server:
    """The fake API server in a process of its own (bench/server.py).

    Run in this process, its memory would count towards every measured command's
    peak RSS: a forked child starts with its parent's resident pages.
    """

    def __init__(self, n: int, kubeconfig: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("server.py")), str(n), str(kubeconfig)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise SystemExit(f"bench: the fake API server with {n} WARs did not start")
        hello = json.loads(line)
        self.kubeconfig: str = hello["kubeconfig"]
        self.war: dict[str, str] = hello["war"]
        self.seed_seconds: float = hello["seed_seconds"]

    def _ask(self, command: str) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def timings(self) -> list[tuple[str, str, bool, float]]:
        """Each answer built since the last call: method, path, Table or not, seconds."""
        return [tuple(row) for row in self._ask("timings")]  # type: ignore[misc]

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write("stop\n")
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


PHASES = (
    ("running the command, after importing the CLI", "kubectl_war/cli/__init__.py", "_main"),
    ("importing the CLI (click, commands)", "kubectl_war/cli/__init__.py", "<module>"),
    ("kubeconfig, incl. importing the client", "kubectl_war/kube/config.py", "resolve"),
    ("  importing the client's submodules", "kubectl_war/kube/lazy.py", "load"),
    ("listing the WARs, page by page, into rows", "kubectl_war/kube/client.py", "list_each"),
    ("  HTTP requests (urllib3 through the client)", "kubernetes/client/api_client.py", "call_api"),
    ("  JSON decoding", "json/__init__.py", "loads"),
    ("  building rows (decode, assess, cells)", "kubectl_war/cli/list_wars.py", "_row"),
    ("the WorkloadGroups (UP-TO-DATE)", "kubectl_war/snapshot.py", "fetch_groups"),
    ("laying out the table", "kubectl_war/render.py", "render"),
)


def _phases(path: Path) -> list[tuple[str, float]]:
    import pstats

    stats: dict[Any, Any] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    out = []
    for label, suffix, func in PHASES:
        total = 0.0
        for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.items():
            if name == func and filename.replace(os.sep, "/").endswith(suffix):
                total += ct
        out.append((label, total))
    return out


def _zipapp() -> Path | None:
    """`make dist`'s zipapp, when there is one."""
    candidate = ROOT / "dist" / "kubectl-war"
    return candidate if candidate.is_file() and zipfile.is_zipfile(candidate) else None


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# ---- judging and reporting -----------------------------------------------------------


@dataclass
class Verdict:
    target: str
    measured: str
    limit: str
    met: bool | None  # None: not measured in this run


def judge(startup: dict[str, Series], sizes: dict[int, SizeResult]) -> list[Verdict]:
    out: list[Verdict] = []
    for name in ("kubectl war --help", "kubectl war decode NAME"):
        s = startup[name]
        out.append(
            Verdict(
                f"`{name}` start-up",
                ms(s.median),
                f"< {ms(STARTUP_LIMIT)}",
                s.median < STARTUP_LIMIT,
            )
        )
    for n, limit in RATIO_LIMITS.items():
        r = sizes.get(n)
        out.append(
            Verdict(
                f"`list -A` / `kubectl get war -A` at {n:,} WARs",
                f"{r.ratio:.2f}×" if r else "not run",
                f"≤ {limit}×",
                (r.ratio <= limit) if r else None,
            )
        )
    r = sizes.get(RSS_SIZE)
    out.append(
        Verdict(
            f"peak RSS of `list -A` at {RSS_SIZE:,} WARs",
            f"{r.plugin.rss_mb:.0f} MB" if r else "not run",
            f"< {RSS_LIMIT_MB:.0f} MB",
            (r.plugin.rss_mb < RSS_LIMIT_MB) if r else None,
        )
    )
    a, b, c = sizes.get(1_000), sizes.get(10_000), sizes.get(50_000)
    if a and b and c:
        # CPU time: on a shared machine it moves far less than wall time.
        early = (b.plugin.cpu - a.plugin.cpu) / (b.n - a.n)
        late = (c.plugin.cpu - b.plugin.cpu) / (c.n - b.n)
        out.append(
            Verdict(
                "time linear in N (CPU µs per extra WAR, 10k→50k vs 1k→10k)",
                f"{late * 1e6:.0f} vs {early * 1e6:.0f} µs",
                f"≤ {LINEAR_FACTOR}×",
                late <= early * LINEAR_FACTOR,
            )
        )
    else:
        out.append(Verdict("time linear in N", "needs 1k, 10k and 50k", "", None))
    worst = max(
        (r.plugin.server_per_run / r.plugin.median, n) for n, r in sizes.items() if r.plugin.runs
    )
    out.append(
        Verdict(
            "fake server's share of the plugin's wall time (worst size)",
            f"{worst[0] * 100:.0f}% at {worst[1]:,}",
            f"< {SERVER_SHARE_LIMIT * 100:.0f}%",
            worst[0] < SERVER_SHARE_LIMIT,
        )
    )
    return out


def versions(kubectl: str) -> dict[str, str]:
    try:
        raw = subprocess.run(
            [kubectl, "version", "--client", "-o", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        kubectl_version = json.loads(raw)["clientVersion"]["gitVersion"]
    except Exception:
        kubectl_version = "unknown"
    from kubectl_war import __version__
    from kubectl_war.kube import client_version

    return {
        "kubectl-war": __version__,
        "kubectl": kubectl_version,
        "kubernetes client": client_version(),
        "Python": platform.python_version(),
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def report(
    args: argparse.Namespace,
    info: dict[str, str],
    startup: dict[str, Series],
    sizes: dict[int, SizeResult],
    phases: tuple[int, list[tuple[str, float]]] | None,
    verdicts: list[Verdict],
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
        f"| date | {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC |",
        f"| load average at start | {_loadavg()} |",
        f"| method | {args.runs} runs of each command after a warm-up ({args.runs * 3} for "
        "`list -A` at up to 1,000 WARs), kubectl and the plugin alternating, stdout to a "
        "file; wall time from fork to exit |",
        "",
        "## Targets",
        "",
        "| target | measured | limit | |",
        "|---|---|---|---|",
    ]
    for v in verdicts:
        mark = {True: "met", False: "**MISSED**", None: "not measured"}[v.met]
        lines.append(f"| {v.target} | {v.measured} | {v.limit} | {mark} |")
    lines += [
        "",
        "## `kubectl get war -A` against `kubectl war list -A`",
        "",
        "Median (min–max) wall time. Per WAR: the plugin's median divided by N. CPU: median "
        "user + system time of the process (kubectl's Go runtime spreads over both CPUs). "
        "Peak RSS: of the process kubectl runs the plugin in (kubectl execs it), so never "
        "below kubectl's own start-up footprint. Server per "
        "page: the fake server's median time to build one page of 500 WARs, as a server-side "
        "Table for kubectl and as JSON for the plugin. Server share: the server's time for "
        "all pages of one run over that run's wall time (kubectl / plugin).",
        "",
        "| WARs | kubectl | plugin | ratio | plugin per WAR | CPU kubectl / plugin | "
        "peak RSS kubectl / plugin | server per page kubectl / plugin | "
        "server share kubectl / plugin |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, r in sorted(sizes.items()):
        kp = statistics.median(r.kubectl.pages) if r.kubectl.pages else 0.0
        pp = statistics.median(r.plugin.pages) if r.plugin.pages else 0.0
        k_share = r.kubectl.server_per_run / r.kubectl.median
        p_share = r.plugin.server_per_run / r.plugin.median
        lines.append(
            " | ".join(
                [
                    f"| {n:,}",
                    r.kubectl.spread(),
                    r.plugin.spread(),
                    f"{r.ratio:.2f}×",
                    f"{r.plugin.median / n * 1e6:.0f} µs",
                    f"{ms(r.kubectl.cpu)} / {ms(r.plugin.cpu)}",
                    f"{r.kubectl.rss_mb:.0f} / {r.plugin.rss_mb:.0f} MB",
                    f"{kp * 1000:.1f} / {pp * 1000:.1f} ms",
                    f"{k_share * 100:.0f}% / {p_share * 100:.0f}% |",
                ]
            )
        )
    lines += [
        "",
        "## Other commands",
        "",
        "| WARs | `kubectl war list -A -o json` | peak RSS | "
        "`kubectl war describe -n NS NAME` (one WAR) |",
        "|---:|---:|---:|---:|",
    ]
    for n, r in sorted(sizes.items()):
        lines.append(
            f"| {n:,} | {r.json.spread()} | {r.json.rss_mb:.0f} MB | {r.describe.spread()} |"
        )
    lines += [
        "",
        "## Start-up",
        "",
        "| command | median (min–max) | peak RSS |",
        "|---|---:|---:|",
    ]
    for name, s in startup.items():
        lines.append(f"| `{name}` | {s.spread()} | {s.rss_mb:.0f} MB |")
    if _zipapp() is None:
        lines += ["", "No zipapp in `dist/` (run `make dist` first to measure it)."]
    else:
        lines += [
            "",
            "The zipapp rows measure `dist/kubectl-war` as `make dist` last built it (see "
            "its build time), run by the system's python3 as a krew install would.",
        ]
    if phases is not None:
        n, rows = phases
        lines += [
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
    if FINDINGS.exists():
        lines += ["", FINDINGS.read_text().rstrip()]
    return "\n".join(lines) + "\n"


def _loadavg() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "unknown"


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(x.replace("_", "")) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes: numbers separated by commas, not {text!r}"
        ) from None
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError("--sizes: at least one size, each at least 1")
    return sorted(set(sizes))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=list(SIZES),
        help="numbers of WARs, comma-separated (default: 100,1000,10000,50000)",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument(
        "--output", default=str(ROOT / "BENCHMARKS.md"), help="the report ('-': stdout only)"
    )
    parser.add_argument(
        "--profile-size",
        type=int,
        default=10_000,
        help="profile list -A at this many WARs (0: no profile; default 10000)",
    )
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs: at least 5")
    with _workdir() as work:
        bench = Bench(args, work)
        assert bench.kubectl is not None
        info = versions(bench.kubectl)
        _progress(
            f"bench: {os.cpu_count()} CPUs, Python {info['Python']}, kubectl {info['kubectl']}"
        )
        startup = bench.startup()
        for name, s in startup.items():
            _progress(f"start-up: {name}: {s.spread()}")
        sizes = {n: bench.size(n) for n in args.sizes}
        phases = None
        if args.profile_size:
            phases = (args.profile_size, bench.profile(args.profile_size))
    verdicts = judge(startup, sizes)
    text = report(args, info, startup, sizes, phases, verdicts)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
        _progress(f"bench: wrote {args.output}")
    missed = [v for v in verdicts if v.met is False]
    for v in verdicts:
        state = {True: "met", False: "MISSED", None: "not measured"}[v.met]
        _progress(f"{state:>12}: {v.target}: {v.measured} (limit {v.limit})")
    if missed:
        _progress("bench: missed " + "; ".join(f"{v.target} ({v.measured})" for v in missed))
        return 1
    return 0


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kubectl-war-bench-") as tmp:
        yield Path(tmp)


if __name__ == "__main__":
    sys.exit(main())
