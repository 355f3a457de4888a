"""The benchmark's fake API server, in a process of its own.

A process forked from a large parent starts out with the parent's resident memory
counted as its own peak RSS; with 50,000 WARs held by an in-process server, every
command measured would have reported the server's gigabyte. So the server lives
here, and `bench/run.py` talks to it over stdin/stdout, one JSON line each way:

    started: {"url", "kubeconfig", "war": {"namespace", "name"}, "seed_seconds"}
    "timings" -> [[method, path, table, seconds], ...] recorded since the last ask
    "stop"    -> the server stops and the process exits
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakekube import FakeKube  # noqa: E402


def main(argv: list[str]) -> int:
    n, kubeconfig = int(argv[0]), argv[1]
    fake = FakeKube().start()
    try:
        start = time.perf_counter()
        fake.seed_large_fleet(n)
        seeded = time.perf_counter() - start
        first = fake.objects("workloadautoregistrations")[0]["metadata"]
        fake.timings = []
        hello = {
            "url": fake.url,
            "kubeconfig": fake.write_kubeconfig(kubeconfig),
            "war": {"namespace": first["namespace"], "name": first["name"]},
            "seed_seconds": seeded,
        }
        print(json.dumps(hello), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "timings":
                taken, fake.timings = fake.timings, []
                rows = [[t.method, t.path, t.table, t.seconds] for t in taken]
                print(json.dumps(rows), flush=True)
            elif command == "stop":
                break
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
