"""The `kubectl war` click group, and running a command line through it.

`kubectl_war.cli.main` comes here for every command line `kubectl_war.cli.quick` does
not answer itself; click's own exceptions become kubectl's messages and exit codes here.
"""

from __future__ import annotations

import importlib
import signal
import sys
from collections.abc import Sequence

import click

from kubectl_war.cli.commands import COMMANDS, GROUP_HELP, HELP_OPTIONS
from kubectl_war.cli.help import WarContext, use_war_help
from kubectl_war.cli.helptext import group_help, prog_name
from kubectl_war.cli.usage import UnknownCommand, kubectl_message, suggestions


class GroupContext(WarContext):
    """The group's help is `helptext.group_help`, the same text `kubectl war --help`
    prints without click, at the width click chose."""

    def get_help(self) -> str:
        return group_help(self.command_path, self.make_formatter().width)


class WarGroup(click.Group):
    """Lists commands in the order of `COMMANDS` (most used first), not alphabetically,
    and imports each command's module only when it is needed.

    Every command, at any depth, renders its help with `WarContext`: examples last,
    in the name the program was started as.
    """

    context_class = GroupContext

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """A name that is no command is cobra's `unknown command` error, with the commands
        it could have meant (`usage.UnknownCommand`)."""
        name = args[0]
        if (
            not ctx.resilient_parsing
            and not name.startswith("-")
            and self.get_command(ctx, name) is None
        ):
            raise UnknownCommand(name, ctx.command_path, suggestions(name, self.list_commands(ctx)))
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, _, attr = COMMANDS[cmd_name][0].partition(":")
            cmd: click.Command = getattr(importlib.import_module(module), attr)
            use_war_help(cmd)
            self.commands[cmd_name] = cmd
        return self.commands.get(cmd_name)


def _alone() -> None:
    """`kubectl war` with no command prints its help and succeeds, as kubectl and every
    cobra command group do (click 8.2+ would make it a usage error)."""
    ctx = click.get_current_context()
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


war = WarGroup(
    "war",
    help=GROUP_HELP,
    callback=_alone,
    invoke_without_command=True,
    no_args_is_help=False,
    subcommand_metavar="COMMAND [ARGS]...",
    context_settings={"help_option_names": list(HELP_OPTIONS)},
)


def run(args: Sequence[str], *, program: bool = False) -> None:
    """Run one command line through click; raises `SystemExit` with kubectl's exit code
    for click's own outcomes (help shown, usage errors, Ctrl-C at a prompt).

    `program`: this run is the process (not a call from other Python code), so it may
    set the process's signal handling."""
    if program:
        _interruptible()
    try:
        war.main(args=list(args), prog_name=prog_name(), standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort as exc:
        # Ctrl-C while a command runs: click has ended the line already (and says so by
        # raising from the KeyboardInterrupt); at a prompt it has not.
        if not isinstance(exc.__cause__, (KeyboardInterrupt, EOFError)):
            sys.stderr.write("\n")
        sys.exit(130)
    except UnknownCommand as exc:
        sys.stderr.write(f"error: {exc.format_message()}")
        sys.exit(1)
    except click.UsageError as exc:
        # kubectl's words and exit code (1) for a usage error, pointing at the help of
        # the command that was being parsed (`help.use_war_help` sees that each error
        # knows it).
        cmd = exc.ctx.command_path if exc.ctx else prog_name()
        sys.stderr.write(f"error: {kubectl_message(exc)}\nSee '{cmd} --help' for usage.\n")
        sys.exit(1)
    except click.ClickException as exc:
        sys.stderr.write(f"error: {exc.format_message()}\n")
        sys.exit(exc.exit_code)


def _interruptible() -> None:
    """SIGINT stops a command even when it was started with SIGINT ignored.

    A shell starts a background job (`kubectl war list -w > log &`) with SIGINT ignored,
    and Python then never raises KeyboardInterrupt: `kill -INT` would be lost on a watch.
    kubectl's watches stop on SIGINT however they were started (Go's `signal.Notify`
    installs a handler over an ignored signal); so do these.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
