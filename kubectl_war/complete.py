"""Shell completion for `kubectl war`, answered in cobra's `__complete` protocol.

kubectl 1.26+ completes a plugin's arguments by running `kubectl_complete-war` from
PATH with the words after `kubectl war`, the last one being the word under the
cursor (`""` for a new word). The answer is one candidate a line (optionally
`value<TAB>description`), then `:<directive>`, a bit set of cobra's
ShellCompDirective. Cobra-style callers put `__complete` (or `__completeNoDesc`)
before the words; that is accepted too.

The click command tree, whose root the caller passes in, is read for subcommands,
flags and their choices, so new commands complete without changes here. Names that
live in the cluster (WARs, WorkloadGroups, namespaces) are looked up with the
connection flags already on the line, within a one-second budget; a slow or
unreachable cluster yields no candidates, never an error. The kubernetes client is
imported only for those.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Protocol

import click

from kubectl_war import kube
from kubectl_war.cli.connection_flags import kube_options
from kubectl_war.kube.config import Connection, entry_names
from kubectl_war.sidecars import kinds

TYPE_CHECKING = False
if TYPE_CHECKING:
    from kubectl_war.jsondata import JSON
    from kubectl_war.kube.requests import Resource

# cobra's ShellCompDirective bits.
ERROR = 1
NO_SPACE = 2
NO_FILE_COMP = 4
DEFAULT = 0

#: How long a completion may wait for the cluster, in seconds, client import included.
BUDGET = 1.0

#: `--proxy-status` sources, with what each means (from `sidecars.kinds.KINDS`).
PROXY_STATUS_SOURCES = tuple(kinds.completions())

# What a flag's or an argument's value names.
NAMESPACES = "namespaces"
CONTEXTS = "contexts"
CONTEXT_LIST = "context-list"  # comma-separated contexts
CLUSTERS = "clusters"
USERS = "users"
WARS = "wars"
WORKLOADGROUPS = "workloadgroups"
PROXY_SOURCES = "proxy-sources"
CHOICES = "choices"
FILES = "files"
NOTHING = "nothing"

#: Positional arguments whose meaning their name does not tell, by command path.
ARGUMENT_KINDS: dict[tuple[str, ...], str] = {
    ("rollout",): WORKLOADGROUPS,
    ("rollout", "status"): WORKLOADGROUPS,
    ("can-onboard",): WORKLOADGROUPS,
}

_OPTION_KINDS = {
    "--namespace": NAMESPACES,
    "--context": CONTEXTS,
    "--contexts": CONTEXT_LIST,
    "--cluster": CLUSTERS,
    "--user": USERS,
    "--group": WORKLOADGROUPS,
    "--workloadgroup": WORKLOADGROUPS,
    "--proxy-status": PROXY_SOURCES,
    "--like": WARS,
}


@dataclass
class Result:
    """What to print: candidates (value, description) and the directive."""

    candidates: list[tuple[str, str]] = field(default_factory=list)
    directive: int = NO_FILE_COMP

    def lines(self, descriptions: bool = True) -> list[str]:
        out = []
        for value, desc in self.candidates:
            desc = " ".join(desc.split())
            out.append(f"{value}\t{desc}" if desc and descriptions else value)
        out.append(f":{self.directive}")
        return out


class Cluster(Protocol):
    """Names that only the cluster knows; any failure raises."""

    def namespaces(self) -> list[str]: ...

    def wars(self) -> list[str]: ...

    def workloadgroups(self) -> list[str]: ...


@dataclass
class Line:
    """What the words before the cursor say: the command, its flags, its arguments."""

    path: list[click.Command]
    names: list[str]  # command names below the root
    ctx: click.Context
    values: JSON = field(default_factory=dict)
    given: set[str] = field(default_factory=set)  # params that appeared
    positionals: list[str] = field(default_factory=list)
    pending: click.Option | None = None  # an option still waiting for its value
    dashdash: bool = False

    @property
    def command(self) -> click.Command:
        return self.path[-1]

    def flag(self, name: str) -> Any:
        return self.values.get(name)


def _context(cmd: click.Command, name: str, parent: click.Context | None) -> click.Context:
    return click.Context(cmd, info_name=name, parent=parent, **cmd.context_settings)


def _options(ctx: click.Context) -> list[click.Option]:
    return [p for p in ctx.command.get_params(ctx) if isinstance(p, click.Option)]


def _find_option(ctx: click.Context, name: str) -> click.Option | None:
    for opt in [*_options(ctx), *_connection_options()]:
        if name in opt.opts or name in opt.secondary_opts:
            return opt
    return None


_CONNECTION: list[click.Option] = []


def _connection_options() -> list[click.Option]:
    """kubectl's connection flags, understood on any command's line (`decode -n x <TAB>`)
    so that they steer cluster lookups; offered only where the command has them."""
    if not _CONNECTION:

        @kube_options
        def command(**kwargs: Any) -> None:
            pass

        _CONNECTION.extend(
            p for p in click.command()(command).params if isinstance(p, click.Option)
        )
    return _CONNECTION


def _takes_value(opt: click.Option) -> bool:
    return not opt.is_flag and not opt.count


def _record(line: Line, opt: click.Option, value: str | bool) -> None:
    if opt.name is None:
        return
    line.given.add(opt.name)
    if opt.multiple:
        line.values.setdefault(opt.name, []).append(value)
    else:
        line.values[opt.name] = value


def parse(root: click.Command, words: Sequence[str], root_name: str = "kubectl war") -> Line:
    """Read the completed words the way the command will: subcommands, flags, arguments."""
    ctx = _context(root, root_name, None)
    line = Line([root], [], ctx)
    for word in words:
        if line.pending is not None:
            _record(line, line.pending, word)
            line.pending = None
        elif line.dashdash or word == "-" or not word.startswith("-"):
            cmd = line.command
            if isinstance(cmd, click.Group) and not line.positionals and not line.dashdash:
                sub = cmd.get_command(line.ctx, word)
                if sub is not None:
                    line.path.append(sub)
                    line.names.append(word)
                    line.ctx = _context(sub, word, line.ctx)
                    continue
            line.positionals.append(word)
        elif word == "--":
            line.dashdash = True
        elif word.startswith("--"):
            name, eq, value = word.partition("=")
            opt = _find_option(line.ctx, name)
            if opt is None:
                continue
            if not _takes_value(opt):
                _record(line, opt, name not in opt.secondary_opts)
            elif eq:
                _record(line, opt, value)
            else:
                line.pending = opt
        else:
            _short_cluster(line, word)
    return line


def _short_cluster(line: Line, word: str) -> None:
    """`-A`, `-Ay`, `-nbookinfo`, `-n=bookinfo`, `-n`: pflag's short-flag rules."""
    for i, ch in enumerate(word[1:], start=2):
        opt = _find_option(line.ctx, "-" + ch)
        if opt is None:
            return
        if not _takes_value(opt):
            _record(line, opt, True)
            continue
        rest = word[i:]
        if rest.startswith("="):
            rest = rest[1:]
        if rest:
            _record(line, opt, rest)
        else:
            line.pending = opt
        return


def complete(
    root: click.Command,
    words: Sequence[str],
    to_complete: str,
    cluster: Callable[[Line], Cluster] | None = None,
) -> Result:
    """The answer to completing `to_complete` after `words` (the words after `kubectl war`)."""
    line = parse(root, words)
    connect = cluster or connect_cluster
    if line.pending is not None:
        return _option_value(line, line.pending, to_complete, connect)
    if to_complete.startswith("-") and not line.dashdash:
        name, eq, value = to_complete.partition("=")
        if not eq:
            return _flag_names(line, to_complete)
        # `--namespace=de`, `-n=de`: the shell shows the value part only.
        flag = name if name.startswith("--") else "-" + name[-1:]
        opt = _find_option(line.ctx, flag)
        if opt is None or not _takes_value(opt):
            return Result()
        return _option_value(line, opt, value, connect)
    return _positional(line, to_complete, connect)


def _flag_names(line: Line, prefix: str) -> Result:
    out: list[tuple[str, str]] = []
    for opt in _options(line.ctx):
        if opt.hidden or (opt.name in line.given and not opt.multiple):
            continue
        help_line = (opt.help or "").strip().split("\n", 1)[0]
        names = [*opt.opts, *opt.secondary_opts]
        # pflag's order: the long form, then the short one.
        names.sort(key=lambda n: not n.startswith("--"))
        out += [(n, help_line) for n in names if n.startswith(prefix)]
    return Result(out)


def _positional(line: Line, prefix: str, connect: Callable[[Line], Cluster]) -> Result:
    cmd = line.command
    out: list[tuple[str, str]] = []
    directive = NO_FILE_COMP
    if isinstance(cmd, click.Group) and not line.positionals and not line.dashdash:
        for name in cmd.list_commands(line.ctx):
            sub = cmd.get_command(line.ctx, name)
            if sub is None or sub.hidden or not name.startswith(prefix):
                continue
            out.append((name, sub.get_short_help_str(limit=200)))
    arg = _argument_at(cmd, len(line.positionals))
    kind = ARGUMENT_KINDS.get(tuple(line.names))
    if kind is None and arg is not None:
        kind = _argument_kind(arg)
    if kind is not None:
        more = _values(line, kind, arg, prefix, connect)
        taken = set(line.positionals) if arg is not None and arg.nargs == -1 else set()
        out += [c for c in more.candidates if c[0] not in taken]
        directive = more.directive
    return Result(out, directive)


def _argument_at(cmd: click.Command, index: int) -> click.Argument | None:
    position = 0
    for param in cmd.params:
        if not isinstance(param, click.Argument):
            continue
        if param.nargs < 0:
            return param
        position += param.nargs
        if index < position:
            return param
    return None


def _argument_kind(arg: click.Argument) -> str:
    name = (arg.name or "").lower()
    label = f"{arg.metavar or ''} {name}".upper()
    if isinstance(arg.type, click.Choice):
        return CHOICES
    if "WORKLOADGROUP" in label or name in ("group", "groups"):
        return WORKLOADGROUPS
    if name in ("name", "names", "war", "wars"):
        return WARS
    if isinstance(arg.type, (click.Path, click.File)):
        return FILES
    return NOTHING


def _option_kind(opt: click.Option) -> str:
    for name in (*opt.opts, *opt.secondary_opts):
        if name in _OPTION_KINDS:
            return _OPTION_KINDS[name]
    if isinstance(opt.type, click.Choice):
        return CHOICES
    if isinstance(opt.type, (click.Path, click.File)):
        return FILES
    metavar = (opt.metavar or "").upper()
    if metavar in ("PATH", "FILE", "DIR"):
        return FILES
    if metavar in ("NS", "NAMESPACE"):  # --istio-namespace and the like
        return NAMESPACES
    if metavar == "WORKLOADGROUP":
        return WORKLOADGROUPS
    return NOTHING


def _option_value(
    line: Line, opt: click.Option, prefix: str, connect: Callable[[Line], Cluster]
) -> Result:
    return _values(line, _option_kind(opt), opt, prefix, connect)


def _values(
    line: Line,
    kind: str,
    param: click.Parameter | None,
    prefix: str,
    connect: Callable[[Line], Cluster],
) -> Result:
    if kind == FILES:
        return Result([], DEFAULT)
    if kind == CHOICES and param is not None and isinstance(param.type, click.Choice):
        choices = [str(c) for c in param.type.choices]
        # `-o jsonpath=`, `custom-columns-file=`...: a template or a file name follows.
        if "=" in prefix and any(c.endswith("=") for c in choices):
            name = prefix.partition("=")[0]
            return Result([], DEFAULT if name.endswith("-file") else NO_FILE_COMP)
        found = _matching(choices, prefix)
        spaced = NO_SPACE if found and all(v.endswith("=") for v, _ in found) else 0
        return Result(found, NO_FILE_COMP | spaced)
    if kind == PROXY_SOURCES:
        if any(k.takes_value and prefix.startswith(k.name) for k in kinds.KINDS):
            return Result([], DEFAULT)  # a path follows; the shell completes files
        found = [(v, d) for v, d in PROXY_STATUS_SOURCES if v.startswith(prefix)]
        spaced = NO_SPACE if found and all(v.endswith(":") for v, _ in found) else 0
        return Result(found, NO_FILE_COMP | spaced)
    if kind in (CONTEXTS, CLUSTERS, USERS):
        section = {CONTEXTS: "contexts", CLUSTERS: "clusters", USERS: "users"}[kind]
        return Result(_matching(_kubeconfig_names(line, section), prefix))
    if kind == CONTEXT_LIST:
        head, comma, last = prefix.rpartition(",")
        done = set(head.split(",")) if comma else set()
        names = [n for n in _kubeconfig_names(line, "contexts") if n not in done]
        return Result([(head + comma + n, "") for n, _ in _matching(names, last)])
    if kind in (NAMESPACES, WARS, WORKLOADGROUPS):
        names = _from_cluster(line, kind, connect)
        return Result(_matching(names, prefix))
    return Result()


def _matching(values: Iterable[str], prefix: str) -> list[tuple[str, str]]:
    return [(v, "") for v in values if v.startswith(prefix)]


def _kubeconfig_names(line: Line, section: str) -> list[str]:
    """Entry names of one kubeconfig section across every file, sorted; unreadable files
    add nothing. Read directly: the client is slow to import."""
    return sorted(entry_names(line.flag("kubeconfig"), section))


# ---- the cluster -------------------------------------------------------------------


class LookupTimeout(Exception):
    """The cluster did not answer within the budget."""


#: Set when a lookup thread was left running past its budget (see `main`).
_abandoned = threading.Event()


def _from_cluster(line: Line, kind: str, connect: Callable[[Line], Cluster]) -> list[str]:
    """Names from the cluster, or none when it fails or is slow (`--debug` tells why)."""

    def lookup() -> list[str]:
        cluster = connect(line)
        found: list[str] = getattr(cluster, kind)()
        return sorted(set(found))

    try:
        return _within(BUDGET, lookup)
    except Exception as exc:
        if line.flag("debug"):
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            sys.stderr.write(f"completion: no {kind} from the cluster: {message}\n")
        return []


def _within(budget: float, fn: Callable[[], list[str]]) -> list[str]:
    box: JSON = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=run, name="completion-lookup", daemon=True)
    worker.start()
    worker.join(budget)
    if worker.is_alive():
        _abandoned.set()
        raise LookupTimeout(f"no answer within {budget:g}s")
    if "error" in box:
        raise box["error"]
    return list(box["value"])


class KubeCluster:
    """Cluster lookups through `kube.Kube`, with the line's connection flags."""

    def __init__(self, line: Line, timeout: float = BUDGET) -> None:
        self.all_namespaces = bool(line.flag("all_namespaces"))
        # Completion never logs requests: --debug on the line is not this lookup's.
        # `kube.Kube` loads the client's modules now: not for completions that ask no cluster.
        self.kube = kube.Kube(
            replace(Connection.from_flags(line.values), request_timeout=timeout, debug=False),
            log=lambda text: None,
        )

    def _namespace(self) -> str | None:
        return None if self.all_namespaces else self.kube.namespace

    def _names(self, res: Resource, namespace: str | None) -> list[str]:
        items = self.kube.list(res, namespace).items
        return [str(o["metadata"]["name"]) for o in items if o.get("metadata", {}).get("name")]

    def namespaces(self) -> list[str]:
        return self._names(kube.NAMESPACES, None)

    def wars(self) -> list[str]:
        return self._names(self.kube.war_resource(), self._namespace())

    def workloadgroups(self) -> list[str]:
        res = self.kube.workloadgroup_resource()
        return self._names(res, self._namespace()) if res is not None else []


def connect_cluster(line: Line) -> Cluster:
    return KubeCluster(line)


# ---- entry point --------------------------------------------------------------------


def answer(root: click.Command, words: Sequence[str]) -> list[str]:
    """The output lines for one request: `[__complete|__completeNoDesc] WORD... TO_COMPLETE`
    on the command tree under `root`."""
    args = list(words)
    descriptions = True
    if args and args[0] in ("__complete", "__completeNoDesc"):
        descriptions = args.pop(0) == "__complete"
    *before, to_complete = args or [""]
    try:
        result = complete(root, before, to_complete)
    except Exception:
        # A completion must never print a traceback into the user's prompt.
        result = Result()
    return result.lines(descriptions)


def main(root: click.Command, argv: Sequence[str] | None = None) -> None:
    """`kubectl_complete-war`: print candidates, then the directive."""
    lines = answer(root, sys.argv[1:] if argv is None else argv)
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    if _abandoned.is_set():
        # A lookup is still waiting on the network: do not wait for it at exit.
        os._exit(0)
