"""Every command's `--help` through click, laid out as `kubectl_war.cli.helptext` says:
purpose, details, the command's own options, examples in the program's own name, then
kubectl's pointer to `kubectl war options`, which lists the global (connection) flags.

Which flags are global is read from `connection_flags.kube_options` itself, so a connection flag
added there moves out of every command's help and into `kubectl war options` with
nothing else to change; completion still offers them (they are not hidden).
"""

from __future__ import annotations

import click

from kubectl_war.cli.globalflags import global_names
from kubectl_war.cli.helptext import PLUGIN_PROG, footer, localise, split_examples


class WarContext(click.Context):
    """A context whose help puts the `Examples:` block after the command's own options, in
    the program's own name, and ends with kubectl's pointer to the global options."""

    def get_help(self) -> str:
        cmd = self.command
        formatter = self.make_formatter()
        body, examples = split_examples(cmd.help)
        cmd.format_usage(self, formatter)
        if cmd.deprecated:
            body = f"{body} (Deprecated)" if body else "(Deprecated)"
        if body:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(body)
        format_arguments = getattr(cmd, "format_arguments", None)  # click 8.3+
        if format_arguments is not None:
            format_arguments(self, formatter)
        own_options(cmd, self, formatter)
        cmd.format_epilog(self, formatter)
        prog = self.find_root().info_name or PLUGIN_PROG
        if examples:
            formatter.write_paragraph()
            formatter.write_heading("Examples")
            with formatter.indentation():
                for line in examples:
                    # Written as given: an example must never be rewrapped.
                    text = localise(line, prog) if line else ""
                    formatter.write(f"{'':>{formatter.current_indent}}{text}\n" if text else "\n")
        formatter.write_paragraph()
        for line in footer(prog, group=self.parent is None and isinstance(cmd, click.Group)):
            formatter.write(f"{line}\n")
        return formatter.getvalue().rstrip("\n")


def own_options(cmd: click.Command, ctx: click.Context, formatter: click.HelpFormatter) -> None:
    """click's `format_options` without the global flags (and, for a group, its commands)."""
    hidden = global_names() if any(p.name in global_names() for p in cmd.params) else frozenset()
    rows = []
    for param in cmd.get_params(ctx):
        if param.name in hidden:
            continue
        record = param.get_help_record(ctx)
        if record is not None:
            rows.append(record)
    if rows:
        with formatter.section("Options"):
            formatter.write_dl(rows)
    if isinstance(cmd, click.Group):
        cmd.format_commands(ctx, formatter)


def _attach_context(cmd: click.Command) -> None:
    """Make every usage error raised while `cmd` parses its arguments name `cmd`: click
    raises some (a flag without its value) without a context, which would point the
    user at the group's help instead of the command's."""
    parse = cmd.parse_args
    bools = _optional_bools(cmd)

    def parse_args(ctx: click.Context, args: list[str]) -> list[str]:
        if bools:
            args = _bare_bools_true(args, bools)
        try:
            return parse(ctx, args)
        except click.UsageError as exc:
            if exc.ctx is None:
                exc.ctx = ctx
                # click sets `cmd` from `ctx` only in __init__ (and types it Final).
                exc.cmd = cmd  # type: ignore[misc]
            raise

    cmd.parse_args = parse_args  # type: ignore[method-assign]


def _optional_bools(cmd: click.Command) -> frozenset[str]:
    """The long names of `cmd`'s boolean flags that also take `=VALUE`, as pflag's do
    (`--allow-missing-template-keys[=false]`)."""
    return frozenset(
        opt
        for p in cmd.params
        if isinstance(p, click.Option)
        and not p.is_flag
        and isinstance(p.type, click.types.BoolParamType)
        and getattr(p, "_flag_needs_value", False)
        for opt in p.opts
        if opt.startswith("--")
    )


def _bare_bools_true(args: list[str], names: frozenset[str]) -> list[str]:
    """pflag reads a boolean flag's value only after `=`: `--flag false` is the flag, set
    true, then an argument `false`, as `kubectl get war --allow-missing-template-keys
    false` looks up a WAR named "false". click would take the next word as the value."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        out.append(f"{arg}=true" if arg in names else arg)
    return out


def use_war_help(cmd: click.Command) -> None:
    """Render `cmd`'s help, and its subcommands', with `WarContext`; usage errors while
    parsing name the command."""
    cmd.context_class = WarContext
    if not getattr(cmd, "_war_usage", False):
        _attach_context(cmd)
        cmd._war_usage = True  # type: ignore[attr-defined]
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            use_war_help(sub)
