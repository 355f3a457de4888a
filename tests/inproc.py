"""`kubectl war ...` run in the test's own process: the entry point the plugin's executable
runs (`kubectl_war.cli.main`), with the environment, stdin, stdout and stderr of a process
started by kubectl, and none of a process's start-up cost.

For tests of what a command prints and does to the cluster; what needs the real process
(kubectl's plugin lookup, its exit, signals, a terminal, completion through
kubectl_complete-war, start-up imports) goes through `run_war` and real kubectl.

What a process would start afresh is reset for each run, and what a run could leave
behind in this process is checked: the once-per-process warnings of the client and of
`notice` start empty; the root logger's handlers and level, the SIGINT and SIGTERM
handlers, and the cyclic collector's state are as they were before the run.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import sys
import sysconfig
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass


@dataclass
class Ran:
    """What `subprocess.run` answers, as far as the tests read it."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


#: What kubectl runs: the plugin's executable (its name makes the usage lines say
#: `kubectl war`, as they do when kubectl runs it).
EXECUTABLE = os.path.join(sysconfig.get_path("scripts"), "kubectl-war")


@contextlib.contextmanager
def _process_state() -> Iterator[None]:
    """What a fresh process starts with, and a check that the run left nothing behind."""
    from kubectl_war import notice
    from kubectl_war.kube import wire

    wire._warned.clear()
    notice._said.clear()
    complete = sys.modules.get("kubectl_war.complete")
    if complete is not None:
        complete._abandoned.clear()  # set by a lookup left running past its budget
    exit_now = os._exit
    os._exit = _no_exit
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    signals = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    collecting = gc.isenabled()
    argv = sys.argv
    sys.argv = [EXECUTABLE]
    try:
        yield
    finally:
        os._exit = exit_now
        sys.argv = argv
        left = {sig: signal.getsignal(sig) for sig in signals}
        # A --debug run configures logging to its stderr, which is gone after the run.
        root.handlers[:] = handlers
        root.setLevel(level)
        for sig, handler in signals.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        if gc.isenabled() != collecting:
            (gc.enable if collecting else gc.disable)()
            raise AssertionError("the run left the cyclic collector switched")
        assert left == signals, "the run left its signal handlers installed"


def _no_exit(code: int) -> None:
    """`os._exit` for a run in this process: the run ends, the test process does not."""
    raise SystemExit(code)


def run(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    stdin: str | None = None,
    main: Callable[[Sequence[str]], None] | None = None,
) -> Ran:
    """Run `kubectl-war ARGV` here with exactly `env` as its environment (variables of
    this process that `env` lacks are unset for the run), `stdin` as its input; `main`:
    another entry point (`kubectl_war.cli.complete_main`: `kubectl_complete-war`)."""
    from click.testing import CliRunner

    from kubectl_war import cli

    entry = main or cli.main
    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:  # click 8.2+: stderr is always apart
        runner = CliRunner()
    overrides: dict[str, str | None] = {key: None for key in os.environ if key not in env}
    overrides.update(env)
    code = 0
    with _process_state(), runner.isolation(input=stdin, env=overrides) as streams:
        try:
            entry(list(argv))
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                sys.stderr.write(f"{exc.code}\n")
                code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        out, err = streams[0].getvalue(), streams[1].getvalue()
    return Ran(list(argv), code, out.decode(), err.decode("utf-8", "backslashreplace"))
