"""The process entry points (`kubectl-war`, `kubectl_complete-war`).

Nothing here imports click: `kubectl_war.cli.quick` answers `kubectl war --help` and
plain `decode` lines without it, and every other line goes to the click group in
`kubectl_war.cli.group`. Commands that reach a cluster import the kubernetes client
when they run.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Sequence

from kubectl_war.cli import quick
from kubectl_war.cli.completion_var import COMPLETE_VAR
from kubectl_war.errors import WarError

#: `typing` is read only by type checkers here: importing it costs some 5 ms of start-up on
#: the paths that run without click (`kubectl war --help`, `decode`).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


def complete_main(argv: Sequence[str] | None = None) -> None:
    """`kubectl_complete-war`: the candidates for completing a `kubectl war` line."""
    # click and the completion code: not on the quick paths
    from kubectl_war import complete
    from kubectl_war.cli.group import war

    complete.main(war, argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; every failure becomes `error: ...` and kubectl's exit codes.

    Run as the program (no `argv`), it ends the process itself, skipping the
    interpreter's teardown (see `_exit`).
    """
    if argv is not None:
        _main(argv)
        return
    from kubectl_war import gcpause  # only when run as the program, not in-process

    gcpause.exiting_fast = True
    try:
        _main(sys.argv[1:], program=True)
    except SystemExit as exc:
        _exit(exc.code)
    _exit(0)


def _print_traceback() -> None:
    import traceback  # only with --debug: not on every start

    traceback.print_exc()


def _exit(code: object) -> NoReturn:
    """End the process now, without the interpreter's teardown.

    Python's exit frees every module and object one at a time: about 20 ms after a
    list of 1,000 WARs (the kubernetes client and urllib3 are many modules), more
    with more rows, all after the output is complete. The OS frees a process's memory
    at once. What a normal exit does that matters is done here first: the atexit
    handlers (the kubernetes client deletes temporary certificate files in one,
    logging flushes its handlers) and flushing stdout and stderr. While a non-daemon
    thread still runs, or on an interpreter without the atexit hook, exit the
    ordinary way.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        sys.stderr.write(f"{code}\n")
        status = 1
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    threading = sys.modules.get("threading")
    busy = threading is not None and any(
        t.is_alive() and not t.daemon and t is not threading.main_thread()
        for t in threading.enumerate()
    )
    if run_exitfuncs is None or busy:
        sys.exit(status)
    run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # A reader that left (`| head`) is not an error, as in _main.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def _main(argv: Sequence[str], *, program: bool = False) -> None:
    args = list(argv)
    if args and args[0] in ("__complete", "__completeNoDesc"):
        # Cobra's protocol, for kubectl_complete-war scripts that call the plugin itself.
        complete_main(args)
        return
    debug = "--debug" in args
    try:
        if quick.run(args):
            return
        if COMPLETE_VAR in os.environ:
            # The `kubectl war completion` scripts asking for candidates: no command line
            # to run, so neither the command table's modules nor click's exits.
            from kubectl_war.cli.completion import shell_complete
            from kubectl_war.cli.group import war

            shell_complete(war, os.environ[COMPLETE_VAR])
            return
        from kubectl_war.cli import group  # click: only for what quick.run leaves

        group.run(args, program=program)
    except WarError as exc:
        if debug:
            _print_traceback()
        sys.stderr.write(f"error: {exc.message}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        sys.exit(130)
    except BrokenPipeError:
        # `kubectl war list | head`: the reader left; that is not an error.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        sys.exit(0)
    except Exception as exc:
        if debug:
            _print_traceback()
        sys.stderr.write(
            f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)\n"
        )
        sys.exit(1)
