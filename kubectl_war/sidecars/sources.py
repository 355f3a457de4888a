"""Where sidecar sync state comes from (`--proxy-status SOURCE`).

A source answers one question, again and again if asked: which proxies does istiod
know, and how synced is each (`records.ProxySync`). The sources are istiod itself
(its `/debug/syncz` through the API server's pod proxy), `istioctl proxy-status` run as
a subprocess, or saved output in a file or on stdin. `auto` tries istiod, then
istioctl, then gives up quietly, each within a short time.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Callable

from kubectl_war.errors import WarError
from kubectl_war.jsondata import child
from kubectl_war.kube import KubeError
from kubectl_war.render import terminal_safe
from kubectl_war.sidecars import kinds
from kubectl_war.sidecars.autodetect import parse_any, parse_stream
from kubectl_war.sidecars.capped_run import run_capped
from kubectl_war.sidecars.istioctl_text import Warn
from kubectl_war.sidecars.limits import DEFAULT_MAX_SIZE, too_large
from kubectl_war.sidecars.records import UNKNOWN, ProxyStatusError, ProxySync, merge
from kubectl_war.sidecars.syncz import read_syncz

if TYPE_CHECKING:
    from kubectl_war.kube.client import Kube

ISTIOCTL = "istioctl"

DEFAULT_ISTIO_NAMESPACE = "istio-system"
# How long an explicitly chosen source may take: istioctl port-forwards to every istiod.
DEFAULT_TIMEOUT = 10.0
# How long each source may take when `auto` is only probing: an absent or slow source
# must not make `describe` feel slow.
AUTO_TIMEOUT = 2.0

# istiod (Istio 1.5+) serves its debug endpoints on the monitoring port; Pilot before
# it was labelled istio=pilot and served them on 8080.
_ISTIOD_SELECTORS = (("app=istiod", 15014), ("istio=pilot", 8080))
_SYNCZ_PATH = "debug/syncz"


class SidecarError(WarError):
    """A proxy-status source that could not answer; the message names the source."""


class _NoAnswer(SidecarError):
    """The source did not answer in time: asking it another way would not help."""


def check_spec(spec: str) -> str:
    """The source spec, stripped, or a UsageError naming the accepted forms (`kinds.KINDS`)."""
    return kinds.check(spec)


def warn_on_stderr(text: str) -> None:
    """Tell the user something the source worked around, as one `warning:` line."""
    sys.stderr.write(f"warning: {text}\n")


class SidecarSource:
    """One place to read proxy sync state from; `fetch` may be called again and again.

    What a source works around (lines skipped in saved output, an istioctl that gives
    no per-type states) goes to `warn`, each distinct text once: a source fetched again
    and again (`--watch`, rollouts) does not repeat itself.
    """

    def __init__(self, warn: Warn | None = None, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self._primed: dict[str, ProxySync] | None = None
        self._warn = warn or warn_on_stderr
        self._warned: set[str] = set()
        # The most one answer (a file, stdin, an istiod's body, istioctl's output) may be.
        self.max_size = max_size

    def warn(self, text: str) -> None:
        if text not in self._warned:
            self._warned.add(text)
            self._warn(text)

    def fetch(self) -> dict[str, ProxySync]:
        """Every proxy the source knows, by proxy ID (`<name>.<namespace>`), read now.

        Raises:
            SidecarError: the source cannot be reached or answered something unreadable.
        """
        if self._primed is not None:
            primed, self._primed = self._primed, None
            return primed
        return self._fetch(None)

    def describe(self) -> str:
        """The source in a few words, for a person: `istiod in istio-system (istiod-x)`."""
        raise NotImplementedError

    def _fetch(self, timeout: float | None) -> dict[str, ProxySync]:
        raise NotImplementedError

    def _probe(self, timeout: float) -> None:
        """Fetch once within `timeout`, keeping the answer for the next `fetch`."""
        self._primed = self._fetch(timeout)


@dataclass(frozen=True)
class IstiodInstance:
    """One istiod (or Pilot) pod that was asked for its proxies."""

    name: str
    namespace: str
    port: int


class IstiodSource(SidecarSource):
    """Every istiod replica of every revision, asked through the API server's pod proxy.

    Each replica reports only the proxies connected to it, so all of them are asked
    (at once) and their answers merged. One replica that cannot answer fails the
    fetch: the proxies connected to it would otherwise look missing.
    """

    def __init__(
        self,
        kube: Kube,
        namespace: str,
        timeout: float | None,
        warn: Warn | None = None,
        max_size: int = DEFAULT_MAX_SIZE,
    ) -> None:
        super().__init__(warn, max_size)
        self.kube = kube
        self.namespace = namespace
        self.timeout = timeout
        self.instances: list[IstiodInstance] = []

    def describe(self) -> str:
        names = ", ".join(i.name for i in self.instances) or "no pods"
        return f"istiod in {self.namespace} ({names})"

    def _fetch(self, timeout: float | None) -> dict[str, ProxySync]:
        deadline = _deadline(timeout if timeout is not None else self.timeout)
        instances = self._find(deadline)
        self.instances = instances
        if len(instances) == 1:
            return merge(self._ask(instances[0], deadline))
        with ThreadPoolExecutor(max_workers=min(len(instances), 8)) as pool:
            answers = list(pool.map(lambda i: self._ask(i, deadline), instances))
        return merge(*answers)

    def _find(self, deadline: float | None) -> list[IstiodInstance]:
        for selector, port in _ISTIOD_SELECTORS:
            try:
                pods = self.kube.pods(self.namespace, selector, timeout=_left(deadline))
            except KubeError as exc:
                raise SidecarError(f"istiod: cannot list pods in {self.namespace}: {exc}") from None
            found = [_instance(pod, self.namespace, port) for pod in pods]
            running = sorted((i for i in found if i is not None), key=lambda i: i.name)
            if running:
                return running
        raise SidecarError(
            f"istiod: no running istiod pods (label app=istiod) in namespace {self.namespace}; "
            "pass --istio-namespace if istiod runs elsewhere"
        )

    def _ask(self, instance: IstiodInstance, deadline: float | None) -> list[ProxySync]:
        where = f"istiod {instance.namespace}/{instance.name}"
        chunks = self.kube.proxy_chunks(
            instance.namespace,
            instance.name,
            instance.port,
            _SYNCZ_PATH,
            timeout=_left(deadline),
            limit=self.max_size,
        )
        try:
            # Read as it arrives: each entry becomes its record at once (syncz.read_syncz).
            return read_syncz(chunks, instance.name, self.max_size)
        except KubeError as exc:
            raise SidecarError(f"{where}: cannot read /{_SYNCZ_PATH}: {exc}") from None
        except ProxyStatusError as exc:
            raise SidecarError(f"{where}: /{_SYNCZ_PATH}: {exc}") from None
        finally:
            chunks.close()


def _instance(pod: Mapping[str, Any], namespace: str, port: int) -> IstiodInstance | None:
    meta = child(pod, "metadata")
    status = child(pod, "status")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        return None
    # A pod not yet (or no longer) running holds no connections; a pod whose phase is
    # not reported is given the benefit of the doubt.
    phase = status.get("phase")
    if phase and phase != "Running":
        return None
    return IstiodInstance(name, namespace, port)


def _deadline(limit: float | None) -> float | None:
    """When a fetch allowed `limit` seconds (None or 0: no limit) must end."""
    return time.monotonic() + limit if limit else None


def _left(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return max(deadline - time.monotonic(), 0.05)


# How to ask istioctl again when its table gives only the types each proxy subscribes
# to (1.27+): `--verbosity 1` prints a column per type (1.27+); `--output json` is real
# JSON only from 1.30 (1.27-1.29 accept the flag and print the same summary).
_DETAILED_ARGS = (("--verbosity", "1"), ("--output", "json"))


class IstioctlSource(SidecarSource):
    """`istioctl proxy-status`, run without a shell, against the same cluster.

    istioctl 1.27+ prints only which types each proxy subscribes to; then it is run
    again with `--verbosity 1`, then `--output json`, for the per-type states, and the
    way that worked is used first on the next fetch.
    """

    def __init__(
        self,
        *,
        kubeconfig: str | None,
        context: str | None,
        istio_namespace: str,
        timeout: float | None,
        binary: str | None = None,
        warn: Warn | None = None,
        max_size: int = DEFAULT_MAX_SIZE,
        unpassable: tuple[str, ...] = (),
    ) -> None:
        super().__init__(warn, max_size)
        self._detailed: tuple[str, ...] = ()
        self.unpassable = unpassable
        self.kubeconfig = kubeconfig
        self.context = context
        self.istio_namespace = istio_namespace
        self.timeout = timeout
        self.binary = binary

    def describe(self) -> str:
        return "istioctl proxy-status"

    def argv(self, binary: str) -> list[str]:
        """The command line: only the flags the user gave are passed on."""
        argv = [binary, "proxy-status"]
        if self.kubeconfig:
            argv += ["--kubeconfig", self.kubeconfig]
        if self.context:
            argv += ["--context", self.context]
        if self.istio_namespace != DEFAULT_ISTIO_NAMESPACE:
            argv += ["--istioNamespace", self.istio_namespace]
        return argv

    def _fetch(self, timeout: float | None) -> dict[str, ProxySync]:
        if self.unpassable:
            # istioctl would ask another cluster, or as another user: never mix its
            # answer with this cluster's WARs.
            raise SidecarError(
                f"istioctl: cannot be given {', '.join(self.unpassable)} (it takes only "
                "--kubeconfig and --context); use --proxy-status istiod"
            )
        binary = self.binary or shutil.which(ISTIOCTL)
        if not binary:
            raise SidecarError(
                "istioctl: not found on PATH; install istioctl or use --proxy-status istiod"
            )
        deadline = _deadline(timeout if timeout is not None else self.timeout)
        argv = self.argv(binary)
        records = self._parse(self._run([*argv, *self._detailed], deadline))
        if not _summary_only(records):
            return merge(records)
        tried = []
        for extra in _DETAILED_ARGS:
            if extra == self._detailed:
                continue
            tried.append(" ".join(extra))
            try:
                detailed = self._parse(self._run([*argv, *extra], deadline))
            except _NoAnswer:
                raise
            except SidecarError:
                continue  # an istioctl without that flag: try the next way
            if detailed and not _summary_only(detailed):
                self._detailed = extra
                return merge(detailed)
        asked = f"neither {' nor '.join(tried)} gave" if len(tried) > 1 else f"{tried[0]} gave no"
        self.warn(
            "istioctl proxy-status printed only the types each proxy subscribes to, and "
            f"{asked} per-type states: every sidecar is UNKNOWN"
        )
        return merge(records)

    def _run(self, argv: list[str], deadline: float | None) -> bytearray:
        limit = _left(deadline)
        try:
            # An argument list, never a shell: nothing in argv is ever interpreted.
            code, out, err = run_capped(argv, self.max_size, limit)
        except TimeoutError:
            shown = f"{limit:.1f}".rstrip("0").rstrip(".") if limit is not None else "?"
            raise _NoAnswer(f"istioctl proxy-status: no answer within {shown}s") from None
        except ProxyStatusError as exc:
            raise SidecarError(f"istioctl proxy-status output: {exc}") from None
        except OSError as exc:
            raise SidecarError(f"istioctl: cannot run {argv[0]}: {exc.strerror or exc}") from None
        if code != 0:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            why = terminal_safe(lines[-1].strip()) if lines else "no message"
            raise SidecarError(f"istioctl proxy-status failed (exit {code}): {why}")
        return out

    def _parse(self, output: bytes | bytearray) -> list[ProxySync]:
        where = "istioctl proxy-status output"
        try:
            return parse_any(output, lambda text: self.warn(f"{where}: {text}"))
        except ProxyStatusError as exc:
            raise SidecarError(f"{where}: {exc}") from None


def _summary_only(records: list[ProxySync]) -> bool:
    """istioctl 1.27+'s summary: which types each proxy subscribes to, no states."""
    return bool(records) and all(
        all(state == UNKNOWN for state in status.types.values()) for status in records
    )


class FileSource(SidecarSource):
    """Saved output of istioctl (text or `-o json`) or istiod (`/debug/syncz`), read anew
    on each fetch, a line at a time when it is the table."""

    def __init__(
        self, path: str, warn: Warn | None = None, max_size: int = DEFAULT_MAX_SIZE
    ) -> None:
        super().__init__(warn, max_size)
        self.path = path

    def describe(self) -> str:
        return f"file {self.path}"

    def _fetch(self, timeout: float | None) -> dict[str, ProxySync]:
        where = f"file:{self.path}"
        try:
            with open(self.path, "rb") as fh:
                info = os.fstat(fh.fileno())
                if stat.S_ISREG(info.st_mode) and info.st_size > self.max_size:
                    # Said before reading a byte of it.
                    raise SidecarError(f"--proxy-status {where}: {too_large(self.max_size)}")
                return _parse_saved(fh, where, self.warn, self.max_size)
        except OSError as exc:
            raise SidecarError(f"--proxy-status {where}: {exc.strerror or exc}") from None


class StdinSource(SidecarSource):
    """Saved output piped in; stdin can be read only once, so later fetches repeat what the
    first one read."""

    def __init__(
        self,
        stream: IO[bytes] | None = None,
        warn: Warn | None = None,
        max_size: int = DEFAULT_MAX_SIZE,
    ) -> None:
        super().__init__(warn, max_size)
        self.stream = stream
        self._read: dict[str, ProxySync] | None = None

    def describe(self) -> str:
        return "stdin"

    def _fetch(self, timeout: float | None) -> dict[str, ProxySync]:
        if self._read is None:
            stream = self.stream if self.stream is not None else sys.stdin.buffer
            self._read = _parse_saved(stream, "stdin", self.warn, self.max_size)
        return dict(self._read)


class Unanswered(SidecarSource):
    """What `auto` leaves when no source answered and the output still shows a sync
    column: it is there, every cell `<none>` (`fetch` gives no records at all)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__()
        self.reasons = list(reasons)

    def describe(self) -> str:
        return "none (no proxy-status source answered)"

    def fetch(self) -> dict[str, ProxySync] | None:  # type: ignore[override]
        return None


def _parse_saved(stream: IO[bytes], where: str, warn: Warn, limit: int) -> dict[str, ProxySync]:
    try:
        return merge(
            parse_stream(stream, limit, lambda text: warn(f"--proxy-status {where}: {text}"))
        )
    except ProxyStatusError as exc:
        raise SidecarError(f"--proxy-status {where}: {exc}") from None


@dataclass(frozen=True)
class Opening:
    """What opening a source may use: the flags and where the source reports (see
    `open_source`)."""

    kube: Kube
    istio_namespace: str
    kubeconfig: str | None
    context: str | None
    timeout: float | None
    stdin: IO[bytes] | None
    notice: Callable[[str], None] | None
    warn: Warn | None
    max_size: int
    unpassable: tuple[str, ...] = ()


def open_istiod(value: str, how: Opening) -> SidecarSource:
    return IstiodSource(how.kube, how.istio_namespace, how.timeout, how.warn, how.max_size)


def open_istioctl(value: str, how: Opening) -> SidecarSource:
    return IstioctlSource(
        kubeconfig=how.kubeconfig,
        context=how.context,
        istio_namespace=how.istio_namespace,
        timeout=how.timeout,
        warn=how.warn,
        max_size=how.max_size,
        unpassable=how.unpassable,
    )


def open_file(value: str, how: Opening) -> SidecarSource:
    return FileSource(os.path.expanduser(value), how.warn, how.max_size)


def open_stdin(value: str, how: Opening) -> SidecarSource:
    return StdinSource(how.stdin, how.warn, how.max_size)


def open_auto(value: str, how: Opening) -> SidecarSource | None:
    """The first kind `auto` probes (`kinds.SourceKind.probed`) that answers within
    `AUTO_TIMEOUT`, having fetched once; None when none does."""
    budget = min(how.timeout, AUTO_TIMEOUT) if how.timeout else AUTO_TIMEOUT
    for kind in kinds.KINDS:
        if not kind.probed:
            continue
        candidate = _opener(kind)("", how)
        assert candidate is not None
        try:
            candidate._probe(budget)
        except SidecarError as exc:
            if how.notice is not None:
                how.notice(exc.message)
            continue
        return candidate
    return None


def _opener(kind: kinds.SourceKind) -> Callable[[str, Opening], SidecarSource | None]:
    opener: Callable[[str, Opening], SidecarSource | None] = globals()[str(kind.opener)]
    return opener


def open_source(
    kube: Kube,
    spec: str,
    *,
    istio_namespace: str = DEFAULT_ISTIO_NAMESPACE,
    kubeconfig: str | None = None,
    context: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    stdin: IO[bytes] | None = None,
    notice: Callable[[str], None] | None = None,
    warn: Warn | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
    unpassable: tuple[str, ...] = (),
) -> SidecarSource | None:
    """The source a `--proxy-status` value names, ready to `fetch`.

    Args:
        kube: a `kube.Kube` (the istiod source reads through it).
        spec: `auto`, `istiod`, `istioctl`, `file:PATH`, `-` (stdin) or `none`.
        istio_namespace: where istiod runs.
        kubeconfig, context: what the user passed, handed on to istioctl.
        unpassable: connection flags the user gave that istioctl cannot take (it then
            refuses to run rather than ask another cluster).
        timeout: seconds one fetch of an explicitly named source may take (None: no limit).
        stdin: the stream `-` reads (default: the process's stdin).
        notice: told, in one line each, why `auto` passed over a source.
        warn: told, in one line each, what the source worked around (default: a
            `warning: ...` line on stderr).
        max_size: the most bytes one answer may be (`--proxy-status-max-size`): a file,
            stdin, one istiod's body or istioctl's output.

    Returns:
        None for `none`, and for `auto` when neither istiod nor istioctl answered within
        `AUTO_TIMEOUT` each. `auto` has already fetched once from the source it returns:
        the first `fetch` gives that answer without asking again.

    Raises:
        UsageError: the spec is not one of the above.
    """
    spec = check_spec(spec)
    kind = kinds.kind_of(spec)
    if kind is None or kind.opener is None:
        return None
    how = Opening(
        kube,
        istio_namespace,
        kubeconfig,
        context,
        timeout,
        stdin,
        notice,
        warn,
        max_size,
        unpassable,
    )
    return _opener(kind)(spec[len(kind.name) :] if kind.takes_value else spec, how)
