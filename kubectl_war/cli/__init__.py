"""The `kubectl war` command group and the process entry points (`kubectl-war`,
`kubectl_complete-war`).

Only click and the pure modules are imported here: commands that reach a cluster
import the kubernetes client when they run, so `--help` and `decode` start fast.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from kubectl_war.cli.completion import COMPLETE_VAR
from kubectl_war.cli.help import WarContext, prog_name, use_war_help
from kubectl_war.errors import WarError

#: Every command: its name, where it lives, and its purpose (the first line of its help,
#: as `kubectl war --help` lists it). A command's module is imported only when that
#: command runs or its help is asked for, so `kubectl war decode` does not pay for
#: `rollout`; tests/test_help.py checks each purpose against the command's own help.
COMMANDS: dict[str, tuple[str, str]] = {
    "list": (
        "kubectl_war.cli.list_wars:list_cmd",
        "List onboarded workloads (WorkloadAutoRegistrations).",
    ),
    "status": (
        "kubectl_war.cli.status:status_cmd",
        "Summarise the health of onboarded workloads, per WorkloadGroup.",
    ),
    "describe": (
        "kubectl_war.cli.describe:describe_cmd",
        "Show one or more onboarded workloads in detail.",
    ),
    "delete": (
        "kubectl_war.cli.delete:delete_cmd",
        "Delete onboarded workloads' WARs so their agents onboard again.",
    ),
    "rollout": (
        "kubectl_war.cli.rollout:rollout_cmd",
        "Re-onboard outdated workloads of WorkloadGroups, a few at a time.",
    ),
    "proxy-status": (
        "kubectl_war.cli.proxy_status:proxy_status_cmd",
        "Show the sidecar of every onboarded workload as istiod sees it.",
    ),
    "decode": (
        "kubectl_war.cli.decode:decode_cmd",
        "Decode WAR names into their WorkloadGroup and workload identity, offline.",
    ),
    "version": (
        "kubectl_war.cli.version:version_cmd",
        "Print the plugin, Python and kubernetes client versions.",
    ),
    "completion": (
        "kubectl_war.cli.completion:completion_cmd",
        "Print a completion script for running kubectl-war by its own name.",
    ),
}


def _shorten(text: str, limit: int) -> str:
    """Click's own shortening of a command's purpose for the command list."""
    return click.Command("_", help=text).get_short_help_str(limit)


class WarGroup(click.Group):
    """Lists commands in the order of `COMMANDS` (most used first), not alphabetically,
    and imports each command's module only when it is needed.

    Every command, at any depth, renders its help with `WarContext`: examples last,
    in the name the program was started as.
    """

    context_class = WarContext

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            import importlib

            module, _, attr = COMMANDS[cmd_name][0].partition(":")
            cmd: click.Command = getattr(importlib.import_module(module), attr)
            use_war_help(cmd)
            self.commands[cmd_name] = cmd
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `--help`, from `COMMANDS` alone: no command is imported."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, _shorten(purpose, limit)) for name, (_, purpose) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=WarGroup, context_settings={"help_option_names": ["-h", "--help"]})
def war() -> None:
    """Manage TSB WorkloadAutoRegistrations, the workloads onboarded into the mesh.

    Each VM, ECS task or on-premise machine that joins a WorkloadGroup is a
    WorkloadAutoRegistration (WAR). These commands list, explain and delete WARs
    and roll WorkloadGroup changes out to them, in kubectl's own style.

    \b
    Examples:
      kubectl war list -A
      kubectl war list -n bookinfo --group ratings -o wide
      kubectl war version
    """


def complete_main(argv: Sequence[str] | None = None) -> None:
    """`kubectl_complete-war`: the candidates for completing a `kubectl war` line."""
    from kubectl_war import complete

    complete.main(war, argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; every failure becomes `error: ...` and kubectl's exit codes.

    Run as the program (no `argv`), it ends the process itself, skipping the
    interpreter's teardown (see `_exit`).
    """
    if argv is not None:
        _main(argv)
        return
    from kubectl_war import gcpause

    gcpause.exiting_fast = True
    try:
        _main(sys.argv[1:])
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


def _main(argv: Sequence[str]) -> None:
    args = list(argv)
    if args and args[0] in ("__complete", "__completeNoDesc"):
        # Cobra's protocol, for kubectl_complete-war scripts that call the plugin itself.
        complete_main(args)
        return
    debug = "--debug" in args
    try:
        if COMPLETE_VAR in os.environ:
            # The `kubectl war completion` scripts asking for candidates.
            from kubectl_war.cli.completion import shell_complete

            shell_complete(war, os.environ[COMPLETE_VAR])
            return
        war.main(args=args, prog_name=prog_name(), standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.stderr.write("\n")
        sys.exit(130)
    except click.UsageError as exc:
        cmd = exc.ctx.command_path if exc.ctx else prog_name()
        sys.stderr.write(f"error: {exc.format_message()}\nSee '{cmd} --help' for usage.\n")
        sys.exit(2)
    except click.ClickException as exc:
        sys.stderr.write(f"error: {exc.format_message()}\n")
        sys.exit(exc.exit_code)
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
