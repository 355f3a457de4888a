"""Start-up of the kubectl-war zipapp: a bytecode cache for the code inside it.

Python imports modules from a zip archive by compiling their source on every start
(zipimport never writes .pyc files), which costs well over a second for the kubernetes
client. This finder serves the archive's modules from compiled code cached per
archive build and Python version (in ~/.cache/kubectl-war, or KUBECTL_WAR_CACHE_DIR),
and leaves everything else (resources, sources for tracebacks, metadata) to zipimport.
Any failure to read or write the cache only means compiling again.

Copied into the zipapp as `_kubectl_war_zipapp.py` by release/build.py.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import marshal
import os
import shutil
import sys
import time
import warnings
import zipfile
import zipimport
from collections.abc import Sequence
from types import CodeType, ModuleType
from typing import Any

#: Cached builds not touched for this long are removed when a new build first runs.
PRUNE_AFTER_SECONDS = 7 * 24 * 3600


def cache_root() -> str | None:
    """Where compiled code is kept: KUBECTL_WAR_CACHE_DIR, else the platform's cache."""
    explicit = os.environ.get("KUBECTL_WAR_CACHE_DIR")
    if explicit:
        return explicit
    home = os.path.expanduser("~")
    if not os.path.isabs(home):
        return None
    if sys.platform == "darwin":
        base = os.path.join(home, "Library", "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    return os.path.join(base, "kubectl-war")


class _CachedLoader:
    """Runs one module of the archive from cached code; zipimport does the rest."""

    def __init__(self, finder: ArchiveFinder, inner: str, zipimporter: Any) -> None:
        self._finder = finder
        self._inner = inner
        self._zip = zipimporter

    def __getattr__(self, name: str) -> Any:
        # get_source (tracebacks), get_data, get_resource_reader, is_package, ...
        return getattr(self._zip, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        exec(self.get_code(module.__name__), module.__dict__)

    def get_code(self, fullname: str) -> CodeType:
        return self._finder.code(self._inner, self._zip)


class ArchiveFinder:
    """Finds the archive's modules and compiles each at most once per build and Python."""

    def __init__(self, archive: str, names: Sequence[str], cache_dir: str | None) -> None:
        self.archive = archive
        self.names = frozenset(names)
        self.cache_dir = cache_dir
        self._importers: dict[str, Any] = {}

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        rel = fullname.replace(".", "/")
        if rel + "/__init__.py" in self.names:
            inner, package = rel + "/__init__.py", True
        elif rel + ".py" in self.names:
            inner, package = rel + ".py", False
        else:
            return None
        parent = rel.rpartition("/")[0]
        importer = self._importers.get(parent)
        if importer is None:
            where = os.path.join(self.archive, *parent.split("/")) if parent else self.archive
            importer = self._importers[parent] = zipimport.zipimporter(where)
        loader = _CachedLoader(self, inner, importer)
        spec = importlib.machinery.ModuleSpec(
            fullname, loader, origin=os.path.join(self.archive, inner), is_package=package
        )
        if package:
            spec.submodule_search_locations = [os.path.join(self.archive, *rel.split("/"))]
        spec.has_location = True
        return spec

    def invalidate_caches(self) -> None:
        pass

    def code(self, inner: str, importer: Any) -> CodeType:
        cached = os.path.join(self.cache_dir, inner + "c") if self.cache_dir else None
        if cached:
            try:
                with open(cached, "rb") as f:
                    data = f.read()
                if data[:4] == importlib.util.MAGIC_NUMBER:
                    code = marshal.loads(memoryview(data)[16:])
                    if isinstance(code, CodeType):
                        return code
            except (OSError, ValueError, EOFError, TypeError):
                pass
        origin = os.path.join(self.archive, inner)
        source = importer.get_data(origin)
        with warnings.catch_warnings():
            # Old escapes in dependencies warn at compile time on new Pythons; the
            # user cannot act on that.
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            code = compile(source, origin, "exec", dont_inherit=True)
        if cached and not sys.dont_write_bytecode:
            self._store(cached, code)
        return code

    def _store(self, path: str, code: CodeType) -> None:
        header = importlib.util.MAGIC_NUMBER + bytes(12)
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(header + marshal.dumps(code))
            os.replace(tmp, path)
        except OSError:
            self.cache_dir = None  # unwritable: stop trying for this run
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _prune(root: str, keep: str) -> None:
    """Remove other builds' caches that nothing has used for a while."""
    try:
        entries = os.listdir(root)
    except OSError:
        return
    now = time.time()
    for entry in entries:
        path = os.path.join(root, entry)
        try:
            stale = now - os.stat(path).st_mtime > PRUNE_AFTER_SECONDS
        except OSError:
            continue
        if entry != keep and stale:
            shutil.rmtree(path, ignore_errors=True)


def install(archive: str, build_id: str) -> None:
    """Put the caching finder in front of the path-based finders."""
    # Started through links (~/.krew/bin/kubectl-war, kubectl_complete-war) or not,
    # compiled code names the archive's real path.
    archive = os.path.realpath(archive)
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return  # not run from an archive: plain imports work
    root = cache_root()
    cache_dir = None
    if root:
        build_dir = os.path.join(root, build_id)
        cache_dir = os.path.join(build_dir, sys.implementation.cache_tag or "python")
        if not os.path.isdir(build_dir):
            _prune(root, build_id)
    finder = ArchiveFinder(archive, names, cache_dir)
    position = len(sys.meta_path)
    for i, entry in enumerate(sys.meta_path):
        if entry is importlib.machinery.PathFinder:
            position = i
            break
    sys.meta_path.insert(position, finder)


def run(archive: str, build_id: str, scripts: dict[str, str], name: str) -> None:
    """Run console script `name` (`module:function`) of the archive."""
    install(archive, build_id)
    module_name, _, func = scripts[name].partition(":")
    module = importlib.import_module(module_name)
    sys.exit(getattr(module, func)())


def main(archive: str, invoked_as: str) -> None:
    """Run the console script `invoked_as` (kubectl-war when it names none)."""
    # Apple's /usr/bin/python3 links LibreSSL, which urllib3 2 warns about on every
    # start although TLS to an API server works; the warning would precede all output.
    warnings.filterwarnings("ignore", message="urllib3 v2 only supports OpenSSL")
    from _kubectl_war_build import BUILD_ID, PRIMARY, SCRIPTS  # type: ignore[import-not-found]

    run(archive, BUILD_ID, SCRIPTS, invoked_as if invoked_as in SCRIPTS else PRIMARY)
