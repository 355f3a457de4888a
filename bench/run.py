"""`make bench`: every kubectl-war command at up to 50,000 WARs, a rollout, and start-up.

Starts the fake API server (tests.fakekube, in a process of its own) with N WARs
and an emulated istiod for each size asked for, and measures, round after round
so drift on a shared machine hits every command alike:

- `kubectl get war -A` and `kubectl get war -A -o json` (the pinned, real kubectl:
  the yardsticks) beside `kubectl war list -A` in every format (table, `-o wide`,
  `--sync`, `-w` until its first table, `-o json`, `-o yaml`), `status -A`,
  `rollout GROUP --dry-run`, `rollout --all-groups -A --dry-run`, `rollout status -A
  --all-groups`, `proxy-status -A` and `describe` of one WAR: wall time, CPU time,
  peak RSS of the process, and the fake server's own time;
- a rollout of 2,004 WARs with simulated agents at `--max-unavailable 25%`: its wall
  time against the sum of its batches' agent delays, and the gap between a batch's
  last WAR back and the next batch's first DELETE, from the server's own record;
- start-up: `kubectl war --help` and `kubectl war decode NAME` against `kubectl
  version --client`, pair by pair (and the zipapp, when `make dist` has built one);
- where `list -A`'s time goes at one size (a cProfile).

Writes BENCHMARKS.md (bench/report.py says what each target is) and exits 1 naming
every target missed.

    python bench/run.py                      # every size: 100 1000 10000 50000
    python bench/run.py --sizes 1000,10000 --runs 5 --output -
    python bench/run.py --sizes 200 --runs 1 --quick --output -   # a smoke test
    python bench/run.py --only rollout --output -                  # the rollout alone
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import datetime as dt
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import Run, Runner, Series, Server, ms  # noqa: E402
from bench.report import (  # noqa: E402
    FLOOR_IMPORTS,
    FLOOR_RUNS,
    FLOOR_SIZE,
    Batch,
    Command,
    Floor,
    RolloutResult,
    SizeResult,
    Startup,
    judge,
    loadavg,
    report,
)

SIZES = (100, 1_000, 10_000, 50_000)
DECODE_NAME = "ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0"
BIG = 50_000  # from here on: at most two rounds, and slow commands once
SLOW = 30.0  # seconds: a command this slow in its first round at BIG runs once
SYNCED = b"SYNCED"
# The rollout: one WorkloadGroup of 3 * PER_ZONE WARs; agents back in under a second.
ROLLOUT = {"per_zone": 668, "delay": 0.5, "jitter": 0.4, "sync_delay": 0.1}
ROLLOUT_QUICK = {"per_zone": 4, "delay": 0.05, "jitter": 0.05, "sync_delay": 0.02}
MAX_UNAVAILABLE = "25%"
# The plugin decodes table pages with orjson when it is installed (`kube/decode.py`).
# Every plugin command is measured without it, as the zipapp and a plain `pip install`
# run; `list -A` once more with it, when this interpreter has it.
ORJSON = importlib.util.find_spec("orjson") is not None


def commands(group: dict[str, Any], war: dict[str, str]) -> list[Command]:
    """What is measured at each size; ``group`` for `rollout GROUP`, ``war`` for describe."""
    ok01 = (0, 1)  # status, rollout status and proxy-status exit 1 while anything is amiss
    return [
        Command("get", "`kubectl get war -A`", ("get", "war", "-A"), table=True),
        Command("get-json", "`kubectl get war -A -o json`", ("get", "war", "-A", "-o", "json")),
        Command("list", "`kubectl war list -A`", ("war", "list", "-A"), table=True,
                rss_target=True),
        *([Command("list-orjson", "`kubectl war list -A`, orjson installed",
                   ("war", "list", "-A"), table=True, rss_target=True, orjson=True)]
          if ORJSON else []),
        Command("wide", "`kubectl war list -A -o wide`", ("war", "list", "-A", "-o", "wide"),
                table=True, contains=SYNCED, rss_target=True),
        Command("sync", "`kubectl war list -A --sync --proxy-status istiod`",
                ("war", "list", "-A", "--sync", "--proxy-status", "istiod"), table=True,
                contains=SYNCED, rss_target=True),
        Command("watch", "`kubectl war list -A -w` (to its first table)",
                ("war", "list", "-A", "-w"), table=True, watch=True, rss_target=True),
        Command("json", "`kubectl war list -A -o json`", ("war", "list", "-A", "-o", "json"),
                streamed=True, rss_target=True),
        Command("yaml", "`kubectl war list -A -o yaml`", ("war", "list", "-A", "-o", "yaml"),
                streamed=True, rss_target=True),
        Command("status", "`kubectl war status -A`", ("war", "status", "-A"), ok=ok01,
                rss_target=True),
        Command("rollout-group", "`kubectl war rollout GROUP -n NS --dry-run`",
                ("war", "rollout", group["name"], "-n", group["namespace"], "--dry-run"),
                rss_target=True),
        Command("rollout-all", "`kubectl war rollout --all-groups -A --dry-run`",
                ("war", "rollout", "--all-groups", "-A", "--dry-run"), rss_target=True),
        Command("rollout-status", "`kubectl war rollout status -A --all-groups`",
                ("war", "rollout", "status", "-A", "--all-groups"), ok=ok01, rss_target=True),
        Command("proxy-status", "`kubectl war proxy-status -A`", ("war", "proxy-status", "-A"),
                table=True, ok=ok01, contains=SYNCED, rss_target=True),
        Command("describe", "`kubectl war describe -n NS NAME` (one WAR)",
                ("war", "describe", "-n", war["namespace"], war["name"]), rss_target=True),
    ]  # fmt: skip


# A run of the floor: its command, environment (None: the plugin's) and the lines it
# must print (None: not checked).
FloorRun = tuple[list[str], Optional[dict[str, str]], Optional[int]]


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.bin = Path(sys.executable).parent
        kubectl = shutil.which("kubectl", path=str(self.bin)) or shutil.which("kubectl")
        if not kubectl:
            raise SystemExit("bench: no kubectl (make bench runs the venv's pinned one)")
        self.kubectl = kubectl
        home = work / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECTL_WAR_")}
        env.pop("KUBECONFIG", None)
        env["HOME"] = str(home)  # a private discovery cache for kubectl
        env["PATH"] = os.pathsep.join([str(self.bin), env.get("PATH", "")])
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        env["NO_COLOR"] = "1"
        env["KUBECTL_WAR_STATE_DIR"] = str(work / "state")  # rollout journals
        # Measured as installed: pip byte-compiles a package when it installs it, and a
        # `PYTHONDONTWRITEBYTECODE` left in the environment would have every run compile
        # each module changed since its bytecode was last written (milliseconds apiece).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        compileall.compile_dir(str(ROOT / "kubectl_war"), quiet=1)
        # Without orjson (see ORJSON): a module of that name on PYTHONPATH that refuses to
        # import. The runs with orjson get an empty directory there, so both search one
        # more directory at each import.
        no_orjson = work / "no-orjson"
        no_orjson.mkdir()
        (no_orjson / "orjson.py").write_text("raise ImportError('not in this run')\n")
        (work / "empty").mkdir()
        self.orjson_path = str(work / "empty")
        env["PYTHONPATH"] = str(no_orjson)
        self.env = env
        self.runner = Runner(env, work)
        # On PATH only for its own runs: every other run searches the same directories.
        self.least_bin = str(least_plugin(work / "least-bin").parent)

    def kubectl_cmd(self, *args: str) -> list[str]:
        return [self.kubectl, *args]

    # ---- start-up --------------------------------------------------------------------

    def startup(self) -> Startup:
        rounds = 3 if self.args.quick else max(self.args.runs, 20)
        version = "kubectl version --client (kubectl alone)"
        paired = ("kubectl war --help", "kubectl war decode NAME")
        commands: dict[str, list[str]] = {
            version: self.kubectl_cmd("version", "--client"),
            paired[0]: self.kubectl_cmd("war", "--help"),
            paired[1]: self.kubectl_cmd("war", "decode", DECODE_NAME),
            "kubectl-war --help (no kubectl)": [str(self.bin / "kubectl-war"), "--help"],
            # This venv's interpreter: its editable install of kubectl-war adds an import
            # finder to every start (python -S skips site and so the finder).
            "python -c pass (this venv)": [sys.executable, "-c", "pass"],
            "python -S -c pass (no site-packages)": [sys.executable, "-S", "-c", "pass"],
        }
        envs: dict[str, dict[str, str]] = {}
        # Start-up as before the orjson stand-in (no command here decodes a list): one
        # directory fewer to search at each import.
        plain = {k: v for k, v in self.env.items() if k != "PYTHONPATH"}
        zipapp = _zipapp()
        if zipapp is not None and not self.args.quick:
            # As a krew user runs it: the zipapp on PATH as kubectl-war, started by the
            # system's python3 (its shebang), with no virtualenv on PATH.
            plugin_dir = self.work / "zipapp-bin"
            plugin_dir.mkdir(exist_ok=True)
            link = plugin_dir / "kubectl-war"
            if not link.exists():
                link.symlink_to(zipapp)
            path = os.pathsep.join([str(plugin_dir), "/usr/local/bin", "/usr/bin", "/bin"])
            zip_env = dict(plain, PATH=path)
            built = time.strftime("%Y-%m-%d %H:%M", time.gmtime(zipapp.stat().st_mtime))
            name = f"kubectl war --help (the zipapp dist/kubectl-war, built {built} UTC)"
            commands[name] = self.kubectl_cmd("war", "--help")
            envs[name] = zip_env
            python3 = shutil.which("python3", path=path) or "python3"
            name = f"{python3} dist/kubectl-war --help (zipapp, no kubectl)"
            commands[name] = [python3, str(zipapp), "--help"]
            envs[name] = zip_env
        out = Startup({name: Series() for name in commands}, {name: [] for name in paired})
        for name, argv in commands.items():
            self.runner.run(argv, env=envs.get(name, plain))  # warm-up (and the zipapp's bytecode)
        # Each round: kubectl version, then the commands paired with it, in alternating
        # order, so each pair ran next to each other.
        for i in range(rounds):
            names = list(commands) if i % 2 == 0 else list(reversed(commands))
            taken: dict[str, Run] = {}
            for name in names:
                taken[name] = self.runner.run(commands[name], env=envs.get(name, plain))
                out.series[name].runs.append(taken[name])
            for name in paired:
                out.ratios[name].append(taken[name].wall / taken[version].wall)
        return out

    # ---- every command at one size -----------------------------------------------------

    def size(self, n: int) -> SizeResult:
        with Server({"kubeconfig": str(self.work / f"kubeconfig-{n}"), "wars": n}) as fake:
            self.env["KUBECONFIG"] = fake.kubeconfig
            try:
                return self._size(n, fake)
            finally:
                self.env.pop("KUBECONFIG", None)

    def _size(self, n: int, fake: Server) -> SizeResult:
        cmds = commands(fake.group, fake.war)
        group = f"{fake.group['namespace']}/{fake.group['name']} ({fake.group['wars']:,} WARs)"
        result = SizeResult(n, fake.seed_seconds, {c.key: Series() for c in cmds}, group)
        by_key = {c.key: c for c in cmds}
        quick = self.args.quick
        # Warm-ups: kubectl's discovery cache, the page cache, bytecode.
        for cmd in cmds:
            if not quick and (n <= 10_000 or cmd.key in ("get", "list")):
                self._once(cmd, n, fake)
        rounds = self.args.runs if n < BIG else min(self.args.runs, 2)
        active = list(cmds)
        for i in range(rounds):
            for cmd in active if i % 2 == 0 else reversed(active):
                result.series[cmd.key].runs.append(self._once(cmd, n, fake))
            if n >= BIG:
                active = [c for c in active if result.series[c.key].median < SLOW]
        # Small lists are quick: more pairs there steady the medians the ratios use.
        floor = self._floor_runs(n) if n == FLOOR_SIZE else {}
        floor_series = {key: Series() for key in floor}
        result.floor = Floor(floor_series) if floor else None
        for argv, env, lines in floor.values():
            self.runner.run(argv, env=env, expect_lines=lines)  # warm-up
        if (n <= 1_000 and not quick) or floor:
            for i in range(1 if quick else self.args.runs * 2):
                pair = [by_key["get"], by_key["list"]]
                for cmd in pair if i % 2 == 0 else reversed(pair):
                    result.series[cmd.key].runs.append(self._once(cmd, n, fake))
                # The floor's runs in the same rounds as the two lists they bound.
                for key, (argv, env, lines) in floor.items() if i % 2 else reversed(floor.items()):
                    floor_series[key].runs.append(
                        self.runner.run(argv, env=env, expect_lines=lines)
                    )
        if not quick:
            # Why kubectl's wall time exceeds its CPU time: its own rate limiter, by its log.
            result.throttle = self.runner.throttled(self.kubectl_cmd("get", "war", "-A"))
            fake.timings()  # not a measured run: its answers count for none
        _progress(
            f"{n:>6} WARs: kubectl {result.kubectl.spread()}, plugin {result.plugin.spread()}"
            f", ratio {result.ratio:.2f}, CPU per WAR {result.kubectl.cpu / n * 1e6:.0f} / "
            f"{result.plugin.cpu / n * 1e6:.0f} µs ({result.cpu_ratio:.2f}×), "
            f"RSS {result.plugin.rss_mb:.0f} MB"
        )
        if result.throttle is not None:
            wall, waited, count = result.throttle
            _progress(
                f"        kubectl's client-side rate limiter: {count} waits, {ms(waited)} of "
                f"{ms(wall)}"
            )
        for cmd in cmds:
            s = result.series[cmd.key]
            if s.runs:
                _progress(f"        {cmd.label}: {s.spread()}, {s.rss_mb:.0f} MB")
        return result

    def _floor_runs(self, n: int) -> dict[str, FloorRun]:
        """The runs of Floor, by key (FLOOR_RUNS), the plugin's as it runs at every size
        (without orjson). The empty lists read a namespace the fleet does not use."""
        empty = "bench-no-wars"
        # The least list finds its plugin on PATH; it is checked as the lists are: every
        # WAR's line, or the run is void.
        least_env = dict(self.env, PATH=os.pathsep.join([self.least_bin, self.env["PATH"]]))
        runs = {
            "via-kubectl": (self.kubectl_cmd("war", "--help"), None, None),
            "direct": ([str(self.bin / "kubectl-war"), "--help"], None, None),
            "imports": ([sys.executable, "-c", FLOOR_IMPORTS], None, None),
            "list-empty": (self.kubectl_cmd("war", "list", "-n", empty), None, None),
            "get-empty": (self.kubectl_cmd("get", "war", "-n", empty), None, None),
            "least-list": (self.kubectl_cmd("war-least", "-A"), least_env, n + 1),
        }
        assert list(runs) == list(FLOOR_RUNS)
        return runs

    def _once(self, cmd: Command, n: int, fake: Server) -> Run:
        argv = self.kubectl_cmd(*cmd.args)
        if cmd.watch:
            return self.runner.run_watch(argv, fake=fake, lines=n + 1)
        return self.runner.run(
            argv,
            fake=fake,
            expect_lines=n + 1 if cmd.table else None,
            ok=cmd.ok,
            # Checked where it is cheap: a real source, not a silent fallback to none.
            contains=cmd.contains if n <= 10_000 else None,
            env=dict(self.env, PYTHONPATH=self.orjson_path) if cmd.orjson else None,
        )

    # ---- a rollout with simulated agents -----------------------------------------------

    def rollout(self) -> RolloutResult:
        agents = ROLLOUT_QUICK if self.args.quick else ROLLOUT
        config = {"kubeconfig": str(self.work / "kubeconfig-rollout"), "rollout": agents}
        with Server(config) as fake:
            env = dict(self.env, KUBECONFIG=fake.kubeconfig)
            base = ("war", "rollout", fake.group["name"], "-n", fake.group["namespace"])
            base += ("--max-unavailable", MAX_UNAVAILABLE, "--proxy-status", "istiod")
            planned = subprocess.run(
                self.kubectl_cmd(*base, "--dry-run", "-o", "json"),
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            (group,) = json.loads(planned.stdout)["groups"]
            members = [[m["name"] for m in b["members"]] for b in group["batches"]]
            fake.timings()
            started = time.monotonic()
            run = self.runner.run(self.kubectl_cmd(*base, "--yes", "--timeout", "2m"), env=env)
            record = fake.rollout_record()
        result = RolloutResult(
            wars=fake.group["wars"],
            max_unavailable=MAX_UNAVAILABLE,
            limit=int(group["maxUnavailable"]),
            most_unavailable=int(record["max_unavailable"]),
            wall=run.wall,
            rss_mb=run.rss_mb,
            agents={k: v for k, v in agents.items() if k != "per_zone"},
        )
        result.batches = _batches(members, record, started)
        _progress(
            f"rollout: {ms(result.wall)} against {ms(result.ideal)} of agent delays "
            f"({result.ratio:.2f}×), worst gap {ms(result.worst_gap)}, "
            f"{len(result.batches)} batches"
        )
        return result

    # ---- a profile -----------------------------------------------------------------------

    def profile(self, n: int) -> list[tuple[str, float]]:
        """Where `list -A` spends its time at n WARs: cumulative seconds per phase."""
        with Server({"kubeconfig": str(self.work / "kubeconfig-prof"), "wars": n}) as fake:
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
            with open(self.work / "prof.txt", "wb") as out:
                subprocess.run([sys.executable, "-c", code], stdout=out, env=env, check=True)
        return _phases(stats)


def least_plugin(directory: Path) -> Path:
    """bench/least_list.py as a kubectl plugin in `directory` (`kubectl war-least`), run by
    this interpreter as the plugin's entry point is."""
    directory.mkdir(parents=True, exist_ok=True)
    launcher = directory / "kubectl-war_least"
    launcher.write_text(f"#!{sys.executable}\n" + (ROOT / "bench" / "least_list.py").read_text())
    launcher.chmod(0o755)
    return launcher


def _batches(members: list[list[str]], record: dict[str, Any], started: float) -> list[Batch]:
    """Each planned batch as the server saw it: when its DELETEs arrived, when its WARs
    were back, and the gap to the next batch's first DELETE (seconds since ``started``)."""
    deleted: dict[str, float] = {}
    for name, at in record["deletes"]:
        if name in deleted:
            raise SystemExit(f"bench: the rollout deleted {name} twice")
        deleted[name] = at
    back = {name: at for name, at in record["back"]}
    out: list[Batch] = []
    for number, names in enumerate(members, 1):
        missing = [n for n in names if n not in deleted or n not in back]
        if missing:
            raise SystemExit(f"bench: batch {number}: {missing[0]} was not deleted and back")
        deletes = [deleted[n] - started for n in names]
        backs = [back[n] - started for n in names]
        delay = max(back[n] - deleted[n] for n in names)
        out.append(Batch(number, len(names), min(deletes), max(deletes), delay, max(backs), None))
    for prev, nxt in zip(out, out[1:]):
        prev.gap = nxt.first_delete - prev.last_back
    return out


PHASES = (
    ("running the command, after importing the CLI", "kubectl_war/cli/__init__.py", "_main"),
    ("importing click and the command group", "kubectl_war/cli/group.py", "<module>"),
    ("kubeconfig, incl. importing the client", "kubectl_war/kube/config.py", "resolve"),
    ("  importing the client's submodules", "kubectl_war/kube/lazy.py", "load"),
    ("listing the WARs, page by page, into rows", "kubectl_war/kube/client.py", "list_each"),
    ("  HTTP requests (urllib3, the client's pool)", "kubectl_war/kube/client.py", "_urlopen"),
    ("  JSON decoding", "json/__init__.py", "loads"),
    ("  cutting managedFields out of the pages", "kubectl_war/kube/decode.py", "_cut"),
    ("  building rows (decode, assess, cells)", "kubectl_war/listing.py", "Layout.row"),
    ("the WorkloadGroups (UP-TO-DATE)", "kubectl_war/snapshot.py", "fetch_groups"),
    ("laying out and writing the table", "kubectl_war/render.py", "Table.write"),
)


def _code_line(suffix: str, func: str) -> tuple[str, int | None]:
    """The profiler's name for `func` in the module at `suffix`, and, for a method
    (`Class.method`), its first line: the profile names functions without their class,
    and `render.Table.write` is not `render.write`."""
    if "." not in func:
        return func, None
    import importlib

    obj: Any = importlib.import_module(suffix.removesuffix(".py").replace("/", "."))
    for part in func.split("."):
        obj = getattr(obj, part)
    return obj.__code__.co_name, obj.__code__.co_firstlineno


def _phases(path: Path) -> list[tuple[str, float]]:
    import pstats

    stats: dict[Any, Any] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    out = []
    for label, suffix, func in PHASES:
        name, first_line = _code_line(suffix, func)
        total = 0.0
        for (filename, line, fname), (_cc, _nc, _tt, ct, _callers) in stats.items():
            same_file = filename.replace(os.sep, "/").endswith(suffix)
            if fname == name and same_file and first_line in (None, line):
                total += ct
        out.append((label, total))
    return out


def _zipapp() -> Path | None:
    """`make dist`'s zipapp, when there is one."""
    candidate = ROOT / "dist" / "kubectl-war"
    return candidate if candidate.is_file() and zipfile.is_zipfile(candidate) else None


def _zipapp_note(args: argparse.Namespace) -> str:
    if args.quick:
        return "The zipapp is not measured in a quick run."
    if _zipapp() is None:
        return "No zipapp in `dist/` (run `make dist` first to measure it)."
    return (
        "The zipapp rows measure `dist/kubectl-war` as `make dist` last built it (see its "
        "build time), run by the system's python3 as a krew install would."
    )


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help=f"rounds of every command at each size (default 3; at most 2 from {BIG:,} WARs)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test of the harness: no warm-ups, no profile, no zipapp, "
        f"a rollout of {3 * int(ROLLOUT_QUICK['per_zone'])} WARs",
    )
    parser.add_argument("--no-rollout", action="store_true", help="skip the rollout")
    parser.add_argument(
        "--only",
        choices=("rollout",),
        help="run only this part (rollout: no start-up, no sizes, no profile)",
    )
    parser.add_argument(
        "--output", default=str(ROOT / "BENCHMARKS.md"), help="the report ('-': stdout only)"
    )
    parser.add_argument(
        "--profile-size",
        type=int,
        default=None,
        help="profile list -A at this many WARs (0: no profile; default 10000, 0 with --quick)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs: at least 1")
    if args.only == "rollout" and args.no_rollout:
        parser.error("--only rollout and --no-rollout contradict each other")
    if args.profile_size is None:
        args.profile_size = 0 if args.quick else 10_000
    started = dt.datetime.now(dt.timezone.utc)
    load = loadavg()
    clock = time.monotonic()
    with _workdir() as work:
        bench = Bench(args, work)
        info = versions(bench.kubectl)
        _progress(
            f"bench: {os.cpu_count()} CPUs, Python {info['Python']}, kubectl {info['kubectl']}"
            f", load {load}"
        )
        only_rollout = args.only == "rollout"
        startup = Startup({}, {}) if only_rollout else bench.startup()
        for name, s in startup.series.items():
            _progress(f"start-up: {name}: {s.spread()}")
        sizes = {} if only_rollout else {n: bench.size(n) for n in args.sizes}
        rollout = None if args.no_rollout else bench.rollout()
        phases = None
        if args.profile_size and not only_rollout:
            phases = (args.profile_size, bench.profile(args.profile_size))
    listed = commands({"name": "GROUP", "namespace": "NS"}, {"namespace": "NS", "name": "NAME"})
    verdicts = judge(listed, startup, sizes, rollout)
    text = report(
        args, info, listed, startup, sizes, rollout, phases, verdicts, started, load,
        _zipapp_note(args),
    )  # fmt: skip
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
        _progress(f"bench: wrote {args.output}")
    _progress(f"bench: took {ms(time.monotonic() - clock)}")
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
