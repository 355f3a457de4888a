"""The shape every command takes: its flags bound into one typed options object, which
completes, validates and runs (kubectl's `XOptions` with `Complete`, `Validate`, `Run`).

A command module declares a dataclass with one field per flag (a flag group of
`cli/options.py` or `cli/connection_flags.py`, such as the connection flags, is one
field holding the group's own value) and a click function that only binds the flags
into it:

    @click.command("status")
    @cf.kube_options
    ...
    def status_cmd(**flags: Any) -> None:
        \"\"\"The --help text.\"\"\"
        execute(StatusOptions(**flags))

`execute` then calls, in order:

- `complete()`: fill what the flags leave open from the other flags (a default that
  depends on `-o`, the time ages are counted from). What the kubeconfig and the
  cluster decide (the namespace, the client) is resolved when `run` connects,
  per context: with `--contexts` each context has its own.
- `validate()`: refuse a combination of flags with a `UsageError` (one `error:`
  line, exit 1) before any request is sent.
- `run()`: the work, through the domain packages; exit statuses by `sys.exit`.

`given` tells which flags the user gave (click's parameter source), for lines that
repeat a command line (a resume hint) or notes that differ when a flag was defaulted.
"""

from __future__ import annotations

import click
from click.core import ParameterSource

__all__ = ["Options", "execute", "given", "spelling"]


class Options:
    """A command's flags as one value; subclasses are dataclasses whose fields are the
    click parameters' names (and the flag groups' values)."""

    def complete(self) -> None:
        """Fill what the flags leave open from the other flags; never fails."""

    def validate(self) -> None:
        """Refuse combinations of flags that make no sense, with a `UsageError`."""

    def run(self) -> None:
        """Do the command's work."""
        raise NotImplementedError


def execute(options: Options) -> None:
    """Run a command's options object: complete, validate, run."""
    options.complete()
    options.validate()
    options.run()


_FROM_USER = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT, ParameterSource.PROMPT)


def given(ctx: click.Context | None = None) -> frozenset[str]:
    """The names of the parameters (as click names them, e.g. `older_than`) that the user
    gave on the command line, not left to their defaults; of the current command by
    default. Flags of a group (`kube_options`, ...) are named one by one."""
    ctx = ctx if ctx is not None else click.get_current_context()
    return frozenset(name for name in ctx.params if ctx.get_parameter_source(name) in _FROM_USER)


def spelling(ctx: click.Context, name: str) -> str:
    """How a user spells the parameter `name`: its longest option (`--older-than`), or
    the name itself for an argument."""
    for param in ctx.command.params:
        if param.name == name:
            opts = [o for o in param.opts if o.startswith("-")]
            return max(opts, key=len) if opts else name
    raise KeyError(name)
