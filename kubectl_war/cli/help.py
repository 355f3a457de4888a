"""Every command's `--help` through click, laid out as `kubectl_war.cli.helptext` says:
purpose, details, options, then examples in the program's own name."""

from __future__ import annotations

import click

from kubectl_war.cli.helptext import PLUGIN_PROG, localise, split_examples


class WarContext(click.Context):
    """A context whose help puts the `Examples:` block last, in the program's own name."""

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
        cmd.format_options(self, formatter)
        cmd.format_epilog(self, formatter)
        if examples:
            prog = self.find_root().info_name or PLUGIN_PROG
            formatter.write_paragraph()
            formatter.write_heading("Examples")
            with formatter.indentation():
                for line in examples:
                    # Written as given: an example must never be rewrapped.
                    text = localise(line, prog) if line else ""
                    formatter.write(f"{'':>{formatter.current_indent}}{text}\n" if text else "\n")
        return formatter.getvalue().rstrip("\n")


def use_war_help(cmd: click.Command) -> None:
    """Render `cmd`'s help, and its subcommands', with `WarContext`."""
    cmd.context_class = WarContext
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            use_war_help(sub)
