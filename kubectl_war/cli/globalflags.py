"""Which flags are global: kubectl's connection flags as `connection_flags.kube_options` declares
them, less the two each command keeps in its own help. `kubectl war options` lists them
(`options_cmd`); every command's help leaves them out (`help`)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import click

from kubectl_war.cli.connection_flags import kube_options

if TYPE_CHECKING:
    from collections.abc import Callable

#: Connection flags a command's help keeps as its own, as kubectl's do (`kubectl get -A`,
#: `kubectl get --chunk-size`): they shape what one command reads, not which cluster.
COMMAND_FLAGS = frozenset({"all_namespaces", "chunk_size"})


@functools.cache
def global_options() -> tuple[click.Option, ...]:
    """The flags `kubectl war options` lists, as `connection_flags.kube_options` declares them."""
    probe: Callable[..., None] = kube_options(lambda **kwargs: None)
    params = reversed(getattr(probe, "__click_params__", []))
    return tuple(
        p
        for p in params
        if isinstance(p, click.Option) and not p.hidden and p.name not in COMMAND_FLAGS
    )


def global_names() -> frozenset[str]:
    return frozenset(str(p.name) for p in global_options())
