"""Connection settings, and where kubeconfig files are found.

kubectl's rules: `--kubeconfig`, else each file of `KUBECONFIG` (joined by the path
separator; missing files skipped), else `~/.kube/config`; when files are merged the
first definition of a name wins, and so does the first `current-context`;
`--context`, `--cluster` and `--user` then override the selection (`kube.clientconfig`
resolves the merged files with the kubernetes client).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from kubectl_war.kube.errors import KubeError

# kubectl's --chunk-size default: list in pages of this many objects.
DEFAULT_CHUNK_SIZE = 500
# kubectl's own wording when no configuration can be found at all.
NO_CONFIG = (
    "no configuration has been provided, try setting KUBECONFIG or --kubeconfig, or pass --server"
)


@dataclass(frozen=True)
class Connection:
    """How to reach one cluster: kubectl's connection flags, as the user gave them.

    One value per invocation (`cli.connection_flags.kube_options` builds it); the fleet runner
    makes one per context with `dataclasses.replace(conn, context=name)`, and
    `kube.Kube(conn)` connects.
    """

    kubeconfig: str | None = None
    context: str | None = None
    cluster: str | None = None
    user: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    as_user: str | None = None
    as_groups: tuple[str, ...] = ()
    as_uid: str | None = None
    as_user_extra: tuple[str, ...] = ()
    request_timeout: float | None = None
    server: str | None = None
    proxy_url: str | None = None
    token: str | None = None
    certificate_authority: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    tls_server_name: str | None = None
    insecure_skip_tls_verify: bool = False
    disable_compression: bool = False
    chunk_size: int = DEFAULT_CHUNK_SIZE
    debug: bool = False

    @classmethod
    def from_flags(cls, values: Mapping[str, Any]) -> Connection:
        """The connection named by `values` (flag name → value); names that are no
        connection setting, and values of None, are left out (the default holds)."""
        given = {f.name: values.get(f.name) for f in fields(cls)}
        kwargs = {name: value for name, value in given.items() if value is not None}
        for name in ("as_groups", "as_user_extra"):
            if name in kwargs:
                kwargs[name] = tuple(kwargs[name])
        return cls(**kwargs)


#: The connection settings' names: exactly the flags `kube_options` adds.
CONNECTION_FIELDS = tuple(f.name for f in fields(Connection))


def kubeconfig_paths(explicit: str | None) -> list[str]:
    """The kubeconfig files kubectl would read: --kubeconfig, else each file of
    KUBECONFIG, else ~/.kube/config."""
    if explicit:
        return [os.path.expanduser(explicit)]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [os.path.expanduser(p) for p in env.split(os.pathsep) if p]
    return [os.path.join(os.path.expanduser("~"), ".kube", "config")]


def entry_names(kubeconfig: str | None, section: str, *, strict: bool = False) -> list[str]:
    """The names of one section (`contexts`, `clusters`, `users`) across the files, in
    file then entry order, each once where it first appears (the definition kubectl's
    merge keeps). Files that do not exist are skipped.

    Args:
        strict: a missing --kubeconfig, or a file that cannot be read or parsed, is a
            KubeError; otherwise such a file adds nothing.
    """
    import yaml  # PyYAML only where YAML is read or written

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    paths = kubeconfig_paths(kubeconfig)
    if strict and kubeconfig and not os.path.exists(paths[0]):
        raise KubeError(f"stat {kubeconfig}: no such file or directory")
    names: list[str] = []
    for path in paths:
        if not os.path.exists(path):
            continue
        try:
            with open(path, encoding="utf-8") as f:
                data = yaml.load(f, Loader=loader)
        except OSError as exc:
            if not strict:
                continue
            raise KubeError(f"cannot read kubeconfig {path}: {exc.strerror or exc}") from None
        except (ValueError, yaml.YAMLError) as exc:
            if not strict:
                continue
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise KubeError(f"invalid kubeconfig {path}: {first}") from None
        entries = data.get(section) if isinstance(data, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            name = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str) and name and name not in names:
                names.append(name)
    return names


def context_names(kubeconfig: str | None) -> list[str]:
    """Every context in the kubeconfig (for --all-contexts), in the order the files and
    their entries list them.

    Raises:
        KubeError: --kubeconfig does not exist, a file cannot be read or parsed, or
            no file holds any context.
    """
    names = entry_names(kubeconfig, "contexts", strict=True)
    if not names:
        paths = kubeconfig_paths(kubeconfig)
        raise KubeError(f"no contexts in the kubeconfig ({os.pathsep.join(paths)})")
    return names
