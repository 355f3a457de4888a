"""Peak RSS and wall time of every command that reads the whole fleet (issue #19).

Run by hand (numbers depend on the machine):

    python bench/memory.py                    # 50,000 WARs
    python bench/memory.py --size 10000 --only 'list -A -o json'

Starts the fake API server in a process of its own with N WARs (as bench/server.py
does, so the server's memory is not the command's) and an emulated istiod whose
`/debug/syncz` reports a SYNCED sidecar for each WAR, then runs each command once
with stdout to a file and reports the child's wall time and peak RSS (`ru_maxrss`).
Rows marked `(istiod)` read that source; the others are told `--proxy-status none`
or find no source, as on a cluster without one. `-w` is interrupted after 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMMANDS: list[tuple[str, list[str]]] = [
    ("list -A", ["list", "-A"]),
    ("list -A -o wide", ["list", "-A", "-o", "wide", "--proxy-status", "none"]),
    ("list -A -o wide (istiod)", ["list", "-A", "-o", "wide", "--proxy-status", "istiod"]),
    ("list -A --sync (istiod)", ["list", "-A", "--sync", "--proxy-status", "istiod"]),
    ("list -A --sort-by zone -L app", ["list", "-A", "--sort-by", "zone", "-L", "app"]),
    # Interrupted once the list is printed: the peak of the list before the first change.
    ("list -A -w", ["list", "-A", "-w"]),
    ("list -A -o json", ["list", "-A", "-o", "json"]),
    ("list -A -o yaml", ["list", "-A", "-o", "yaml"]),
    ("list -A -o name", ["list", "-A", "-o", "name"]),
    ("status -A", ["status", "-A", "--proxy-status", "none"]),
    ("status -A (istiod)", ["status", "-A", "--proxy-status", "istiod"]),
    ("proxy-status -A (istiod)", ["proxy-status", "-A", "--proxy-status", "istiod"]),
    ("rollout api --dry-run", ["rollout", "api", "-n", "fleet-00", "--dry-run"]),
    ("rollout status -A --all-groups", ["rollout", "status", "-A", "--all-groups"]),
]


def serve(n: int, kubeconfig: str) -> int:
    """The server process: FakeKube with n WARs and an istiod that knows each sidecar."""
    sys.path.insert(0, str(ROOT))
    from tests.fakekube import FakeKube
    from tests.fakekube.istiod import FakeIstiod

    fake = FakeKube().start()
    try:
        fake.seed_large_fleet(n)
        istiod = FakeIstiod(fake, replicas=2)
        istiod.connect_all(
            f"{o['metadata']['name']}.{o['metadata']['namespace']}"
            for o in fake.objects("workloadautoregistrations")
        )
        print(json.dumps({"kubeconfig": fake.write_kubeconfig(kubeconfig)}), flush=True)
        sys.stdin.read()  # until the parent closes it
    finally:
        fake.stop()
    return 0


def measure(
    argv: list[str], env: dict[str, str], out: Path, cwd: str | None = None
) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, exit code) of one run."""
    with open(out, "wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE, env=env, cwd=cwd)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 124):
        sys.stderr.write(f"{' '.join(argv)}: exit {code}: {err.decode()[-500:]}\n")
    return wall, usage.ru_maxrss / 1024, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--only", action="append", help="a command's label; repeatable")
    parser.add_argument(
        "--source", metavar="DIR", help="run the kubectl_war package found in DIR instead"
    )
    parser.add_argument("--serve", nargs=2, metavar=("N", "KUBECONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(int(args.serve[0]), args.serve[1])
    plugin = [str(Path(sys.executable).with_name("kubectl-war"))]
    if args.source:
        plugin = [sys.executable, "-m", "kubectl_war"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(args.size), str(work / "kubeconfig")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None and server.stdin is not None
        kubeconfig = json.loads(server.stdout.readline())["kubeconfig"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECTL_WAR_")}
        env.update(KUBECONFIG=kubeconfig, NO_COLOR="1", HOME=str(work))
        if args.source:
            env["PYTHONPATH"] = args.source
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        print(f"| command at {args.size:,} WARs | wall | peak RSS | exit | output |")
        print("|---|---|---|---|---|")
        try:
            for label, command in COMMANDS:
                if args.only and label not in args.only:
                    continue
                out = work / "out"
                wrap = ["timeout", "-s", "INT", "30"] if "-w" in command else []
                # `python -m` puts the working directory first on sys.path.
                wall, rss, code = measure([*wrap, *plugin, *command], env, out, args.source)
                size = out.stat().st_size / 1e6
                print(f"| `{label}` | {wall:.1f} s | {rss:.0f} MB | {code} | {size:.1f} MB |")
                sys.stdout.flush()
        finally:
            server.stdin.close()
            server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
