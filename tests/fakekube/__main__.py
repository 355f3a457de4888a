"""Run the fake API server by hand: ``python -m tests.fakekube serve|sandbox|demo|pictures``.

``serve`` seeds a fleet, writes a kubeconfig and serves until Ctrl-C or SIGTERM.
``sandbox`` (``make sandbox``) serves the demo fleet with istiod and simulated agents
that onboard again when their WAR is deleted, so every command can be tried,
``rollout`` included. ``demo`` runs ``kubectl war list -A`` against the demo fleet and
exits with kubectl's exit code (``make demo``). ``pictures`` writes the README's SVG
pictures (``make docs``).
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


def _wait_for_a_signal() -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop.wait(0.5):
        pass


def sandbox(args: argparse.Namespace) -> int:
    from .sandbox import start_sandbox

    path = Path(args.kubeconfig).resolve()
    with start_sandbox(path, port=args.port):
        print(f"A fake cluster with the demo fleet, istiod and simulated agents is at {path}.")
        print("In another shell, point kubectl at it and try any command:")
        print()
        print(f"  export KUBECONFIG={path}")
        print("  kubectl war status -A")
        print("  kubectl war list -A --sync")
        print("  kubectl war rollout ratings -n bookinfo --dry-run")
        print("  kubectl war rollout ratings -n bookinfo --max-unavailable 2 --yes")
        print()
        print("Deleted WARs come back a few seconds later, as real agents onboard again.")
        print("Serving until Ctrl-C.", flush=True)
        _wait_for_a_signal()
    return 0


def pictures(args: argparse.Namespace) -> int:
    from .pictures import write_pictures

    for path in write_pictures(Path(args.outdir)):
        print(f"{path}: written")
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
    p_sandbox = commands.add_parser(
        "sandbox", help="serve the demo fleet with istiod and simulated agents until interrupted"
    )
    p_sandbox.add_argument("--port", type=int, default=0, help="port on 127.0.0.1")
    p_sandbox.add_argument(
        "--kubeconfig", default=".sandbox/kubeconfig", help="where to write the kubeconfig"
    )
    p_sandbox.set_defaults(func=sandbox)
    p_pictures = commands.add_parser("pictures", help="write the README's SVG pictures")
    p_pictures.add_argument("outdir", help="the directory to write them to")
    p_pictures.set_defaults(func=pictures)
    p_demo = commands.add_parser("demo", help="run `kubectl war list -A` against the demo fleet")
    p_demo.add_argument("kubectl_args", nargs="*", help="extra arguments for `kubectl war list`")
    p_demo.set_defaults(func=demo)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
