"""Peak memory of reading a large saved `istioctl proxy-status` (issue #15, bounded inputs).

Run by hand, not by the test suite (timings and RSS depend on the machine):

    python bench/proxystatus_memory.py --mb 200            # istioctl 1.24 table
    python bench/proxystatus_memory.py --mb 200 --format syncz

Writes a generated file of about that size, then reads it in a fresh child process
through `FileSource` (what `--proxy-status file:PATH` does) and reports the child's peak
RSS (`ru_maxrss`) against the file's size and against a child that only imports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HEADER = (
    "NAME{pad}CLUSTER        CDS               LDS               EDS               RDS"
    "               ECDS              ISTIOD                      VERSION\n"
)
NAME_WIDTH = 77


def table_row(index: int) -> str:
    name = f"vm-{index:09d}-aws-123456789012-us-east-2b-ec2-i-0abcdef.bookinfo"
    # Ages differ from proxy to proxy, as istioctl 1.23+ prints them.
    age = f"{index % 60}m{index % 7}s"
    cells = (f"SYNCED ({age})", f"SYNCED ({age})", f"SYNCED ({index % 59}m)", f"SYNCED ({age})")
    return (
        f"{name:<{NAME_WIDTH}}Kubernetes     {''.join(c.ljust(18) for c in cells)}IGNORED"
        f"           istiod-5c4d8bd8c5-{index % 3}tmvq     1.24.1\n"
    )


def syncz_entry(index: int) -> dict[str, str]:
    nonce = f"2024-11-20T09:41:12Z/{index:010d}-8d3a-4e59-a6b7-1c2d3e4f5a6b"
    return {
        "cluster_id": "Kubernetes",
        "proxy": f"vm-{index:09d}-aws-123456789012-us-east-2b-ec2-i-0abcdef.bookinfo",
        "proxy_type": "sidecar",
        "istio_version": "1.24.1",
        **{f"{t}_{k}": nonce for t in ("cluster", "listener", "route") for k in ("sent", "acked")},
    }


def generate(path: Path, size: int, fmt: str) -> int:
    """Write about `size` bytes; answer the number of proxies written."""
    count = 0
    with path.open("w") as out:
        if fmt == "table":
            out.write(HEADER.format(pad=" " * (NAME_WIDTH - 4)))
            while out.tell() < size:
                out.write("".join(table_row(count + i) for i in range(1000)))
                count += 1000
        else:
            out.write("[\n")
            first = True
            while out.tell() < size:
                chunk = ",\n".join(json.dumps(syncz_entry(count + i)) for i in range(1000))
                out.write(("" if first else ",\n") + chunk)
                first = False
                count += 1000
            out.write("\n]\n")
    return count


CHILD = """
import resource, sys, time
sys.path.insert(0, {root!r})
from kubectl_war.sidecars.sources import FileSource
start = time.monotonic()
if {read}:
    proxies = FileSource({path!r}, warn=lambda text: None).fetch()
    print(len(proxies))
else:
    print(0)
print(time.monotonic() - start)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def child(path: Path, read: bool) -> tuple[int, float, float]:
    code = CHILD.format(root=str(ROOT), path=str(path), read=read)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"reader failed:\n{done.stderr}")
    count, seconds, rss_kb = done.stdout.split()
    return int(count), float(seconds), int(rss_kb) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="file size in MB (default 200)")
    parser.add_argument("--format", choices=("table", "syncz"), default="table")
    parser.add_argument("--keep", metavar="PATH", help="write the file here and keep it")
    args = parser.parse_args()
    size = int(args.mb * 1024 * 1024)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / f"proxy-status.{args.format}"
        written = generate(path, size, args.format)
        actual = os.path.getsize(path) / 1024 / 1024
        _, _, base_mb = child(path, read=False)
        count, seconds, peak_mb = child(path, read=True)
    if count != written:
        print(f"read {count} proxies, wrote {written}", file=sys.stderr)
        return 1
    growth = peak_mb - base_mb
    print(
        f"{args.format}: {actual:.0f} MB, {count:,} proxies, read in {seconds:.1f}s; "
        f"peak RSS {peak_mb:.0f} MB ({base_mb:.0f} MB after imports alone): "
        f"{growth / actual:.2f}x the file's size"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
