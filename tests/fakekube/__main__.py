"""Run the fake API server by hand: ``python -m tests.fakekube serve|demo``.

``serve`` seeds a fleet, writes a kubeconfig and serves until Ctrl-C or SIGTERM.
``demo`` runs ``kubectl war list -A`` against the demo fleet and exits with
kubectl's exit code (``make demo``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from .server import FakeKube


def _seed(fake: FakeKube, fleet: str) -> None:
    if fleet == "demo":
        fake.seed_fleet()
    elif fleet == "empty":
        return
    else:
        try:
            count = int(fleet)
        except ValueError:
            raise SystemExit(
                f"--fleet must be 'demo', 'empty' or a number, not {fleet!r}"
            ) from None
        fake.seed_large_fleet(count)


def serve(args: argparse.Namespace) -> int:
    # A token is served over https: kubectl (and kubectl war) send credentials only there.
    fake = FakeKube(token=args.token, port=args.port, tls=bool(args.token)).start()
    try:
        _seed(fake, args.fleet)
        if args.kubeconfig:
            path = Path(args.kubeconfig)
        else:
            path = Path(tempfile.mkdtemp(prefix="fakekube-")) / "kubeconfig"
        fake.write_kubeconfig(path)
        print(f"fake API server at {fake.url}", flush=True)
        print(f"kubeconfig written to {path}", flush=True)
        print(f"  export KUBECONFIG={path}", flush=True)
        print("serving until Ctrl-C", flush=True)
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


def demo(args: argparse.Namespace) -> int:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("demo: no kubectl on PATH (make demo puts the pinned one first)", file=sys.stderr)
        return 127
    with FakeKube() as fake, tempfile.TemporaryDirectory(prefix="fakekube-demo-") as tmp:
        fake.seed_fleet()
        kubeconfig = fake.write_kubeconfig(Path(tmp) / "kubeconfig")
        env = dict(os.environ, KUBECONFIG=kubeconfig)
        command = [kubectl, "war", "list", "-A", *args.kubectl_args]
        print(f"$ kubectl war list -A {' '.join(args.kubectl_args)}".rstrip(), flush=True)
        return subprocess.run(command, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakekube", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p_serve = commands.add_parser("serve", help="serve a seeded fake cluster until interrupted")
    p_serve.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default: any free)"
    )
    p_serve.add_argument("--kubeconfig", help="where to write the kubeconfig (default: a temp dir)")
    p_serve.add_argument(
        "--fleet", default="demo", help="'demo' (default), 'empty', or a number of generated WARs"
    )
    p_serve.add_argument(
        "--token", help="require this bearer token (then served over https, with a CA of its own)"
    )
    p_serve.set_defaults(func=serve)
    p_demo = commands.add_parser("demo", help="run `kubectl war list -A` against the demo fleet")
    p_demo.add_argument("kubectl_args", nargs="*", help="extra arguments for `kubectl war list`")
    p_demo.set_defaults(func=demo)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
