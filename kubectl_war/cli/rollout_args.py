"""The command lines a rollout prints for the user to run next (resume, pause, abort),
made from the flags the user gave, as click saw them (`ctx.get_parameter_source`):
a flag left at its default is left out, every flag that picks the cluster and the
identity (the connection flags, `--contexts`) is kept, and a token is never printed."""

from __future__ import annotations

import shlex
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from kubectl_war.cli.base import given as given_names
from kubectl_war.cli.connection_flags import CONNECTION_FLAGS
from kubectl_war.durations import format_timestamp, go_duration
from kubectl_war.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable
from kubectl_war.kube.config import CONNECTION_FIELDS, Connection

#: The connection flags a printed command repeats: each that picks the cluster or the
#: identity (the registry's `rerun`), but a secret one (a token).
_REPEATED = frozenset(f.field for f in CONNECTION_FLAGS if f.rerun and not f.secret)
#: Flags that pick the cluster without being connection flags.
_CLUSTER = frozenset({"contexts", "all_contexts", "ignore_unreachable"})
TOKEN_NOTE = "(pass --token again: it is not shown here)"


def given(ctx: click.Context, name: str) -> bool:
    """Whether the user set this parameter (on the command line or through its
    environment variable), not left at its default (`cli.base.given`)."""
    return name in given_names(ctx)


def words(param: click.Parameter, value: Any) -> list[str]:
    """The flag and value as a user types them again."""
    if not isinstance(param, click.Option) or not param.opts:
        return []
    flag = max(param.opts, key=len)  # --server, not -s
    if param.is_flag:
        return [flag] if value else []
    values = value if param.multiple and isinstance(value, (tuple, list)) else (value,)
    if param.multiple and "[," in (param.metavar or "") and values:
        values = (",".join(str(v) for v in values),)  # NAME[,NAME]: one flag, as typed
    out: list[str] = []
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            text = "true" if v else "false"
        elif isinstance(v, float):
            text = go_duration(v)
        elif isinstance(v, datetime):
            text = format_timestamp(v)
        elif hasattr(v, "command"):  # a --check
            text = str(v.command)
        elif hasattr(v, "text"):  # an --analysis: as the user wrote it
            text = str(v.text)
        else:
            text = str(v)
        out += [flag, text]
    return out


def connection_args(ctx: click.Context) -> list[str]:
    """The connection flags the user gave (all of them: any added later too), and the
    fleet flags that pick the cluster; never --token."""
    names = _REPEATED | _CLUSTER
    return _args(ctx, lambda name: name in names)


def own_args(ctx: click.Context, skip: Collection[str]) -> list[str]:
    """The command's own flags the user gave (not the connection's), but `skip`."""
    left = set(CONNECTION_FIELDS) | _CLUSTER | set(skip)
    return _args(ctx, lambda name: name not in left)


def _args(ctx: click.Context, wanted: Callable[[str], bool]) -> list[str]:
    out: list[str] = []
    for param in ctx.command.params:
        name = param.name or ""
        if wanted(name) and given(ctx, name):
            out += words(param, ctx.params.get(name))
    return out


def used_token(ctx: click.Context) -> bool:
    return any(given(ctx, f.field) for f in CONNECTION_FLAGS if f.secret)


def program() -> str:
    """How the root command was started (`kubectl war` as a plugin)."""
    return click.get_current_context().find_root().info_name or "kubectl war"


def command_line(ctx: click.Context, args: Iterable[str], tail: Iterable[str] = ()) -> str:
    """`kubectl war ARGS... CONNECTION-FLAGS... TAIL...`, quoted for a shell, with a note
    when the run used --token."""
    argv = [*args, *connection_args(ctx), *tail]
    line = program() + " " + " ".join(shlex.quote(a) for a in argv)
    if used_token(ctx):
        line += "\n  " + TOKEN_NOTE
    return line


def namespace_args(namespace: str | None) -> list[str]:
    return ["-A"] if namespace is None else ["-n", namespace]


def check_scope(kube: Connection, groups: tuple[str, ...], all_groups: bool) -> None:
    """The WorkloadGroups named, or --all-groups: exactly one of the two."""
    if groups and all_groups:
        raise UsageError("name WorkloadGroups or pass --all-groups, not both")
    if not groups and not all_groups:
        raise UsageError("name the WorkloadGroups to roll out, or pass --all-groups")
    if groups and kube.all_namespaces:
        raise UsageError(
            "WorkloadGroup names cannot be combined with -A: names are per namespace (-n)"
        )
