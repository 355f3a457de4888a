#!/usr/bin/env python3
"""Build the krew release: a pure-Python zipapp, its tarball and the krew manifest.

    python release/build.py dist      # dist/kubectl-war-vX.Y.Z.tar.gz, dist/kubectl-war,
                                      # dist/krew-manifest.yaml
    python release/build.py manifest  # krew-manifest.yaml, the committed one (make manifest)
    python release/build.py check     # fail unless krew-manifest.yaml is this commit's
    python release/build.py check-lock
                                      # the lock covers setup.cfg and its hashes hold
    python release/build.py lock --python python3.9
                                      # re-resolve release/zipapp-requirements.txt
    python release/build.py deps      # the zipapp's dependencies unpacked, for PYTHONPATH

The zipapp must run with any python3 >= 3.9 on Linux and macOS, amd64 and arm64, so
it carries only pure-Python code: every dependency comes from a `py3-none-any` wheel
pinned by hash in release/zipapp-requirements.txt, except PyYAML, which has no such
wheel and is taken from one platform wheel with its C extension left out (yaml/
falls back to its pure-Python parser and emitter when `yaml._yaml` is missing).
Any other compiled file stops the build.

Output is reproducible: entries are sorted, every timestamp is SOURCE_DATE_EPOCH
(default: the time of the last commit that touched PACKAGED_PATHS, so committing
krew-manifest.yaml does not change the archive it names), owners are 0, gzip's
mtime is 0. The manifest comes from .krew.yaml, the template krew-release-bot fills
for krew-index, so both name the same archive the same way. Needs only the standard
library and pip; downloaded wheels are cached (build/zipapp-wheels).
"""

from __future__ import annotations

import argparse
import configparser
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "release"
PACKAGE = "kubectl_war"
PRIMARY_SCRIPT = "kubectl-war"
LOCK = RELEASE / "zipapp-requirements.txt"
LOCK_INPUT = RELEASE / "zipapp-requirements.in"
MANIFEST_TEMPLATE = ROOT / ".krew.yaml"
#: The committed manifest: the krew manifest of the version in kubectl_war/__init__.py.
MANIFEST = ROOT / "krew-manifest.yaml"
#: Everything the archive's bytes depend on. The last commit touching one of these
#: dates every file in the archive; the manifest and its template are not among them.
PACKAGED_PATHS = (
    PACKAGE,
    "LICENSE",
    "setup.cfg",
    "release/build.py",
    "release/zipapp_boot.py",
    "release/zipapp-requirements.txt",
)
#: What to run when the committed manifest is stale (said by `check` and the tests).
REGENERATE = "make manifest && git commit -m 'Update krew-manifest.yaml' krew-manifest.yaml"
DEFAULT_CACHE = ROOT / "build" / "zipapp-wheels"

#: The oldest Python the zipapp supports; dependencies are resolved for it.
MIN_PYTHON = "3.9"

#: pip flags that select wheels any CPython >= MIN_PYTHON on any OS can import.
PURE_WHEEL_FLAGS = (
    "--only-binary=:all:",
    "--platform=any",
    "--implementation=py",
    "--abi=none",
    f"--python-version={MIN_PYTHON}",
)

#: Distributions published without a pure wheel whose Python code works without their
#: extension: the zipapp takes the .py files from this one platform wheel.
PURE_PART_OF = {
    "pyyaml": (
        "--only-binary=:all:",
        "--platform=manylinux2014_x86_64",
        "--implementation=cp",
        "--abi=cp39",
        f"--python-version={MIN_PYTHON}",
    ),
}

#: Top-level paths of those wheels that exist only for the extension: PyYAML's `_yaml`
#: is a shim re-exporting `yaml._yaml`.
EXTENSION_ONLY_PATHS = {"pyyaml": ("_yaml/",)}

COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll", ".a", ".lib", ".o")
_COMPILED_TAG = re.compile(r"\.(cpython|cp\d+|abi3|pypy)[-.\w]*\.(so|pyd)$")

#: 1980-01-01, the earliest time a zip entry can hold.
ZIP_EPOCH = 315532800
SHEBANG = b"#!/usr/bin/env python3\n"


class BuildError(Exception):
    """A build cannot go on; the message says what to fix."""


# ---- project facts ------------------------------------------------------------------


def package_version(root: Path = ROOT) -> str:
    """`__version__` from kubectl_war/__init__.py, read without importing the package."""
    text = (root / PACKAGE / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.M)
    if not match:
        raise BuildError(f"no __version__ in {PACKAGE}/__init__.py")
    return match.group(1)


def _setup_cfg(root: Path) -> configparser.ConfigParser:
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg", encoding="utf-8")
    return cfg


def console_scripts(root: Path = ROOT) -> dict[str, str]:
    """setup.cfg's console scripts, name → `module:function`, in file order."""
    raw = _setup_cfg(root).get("options.entry_points", "console_scripts", fallback="")
    scripts: dict[str, str] = {}
    for line in raw.splitlines():
        if line.strip() and not line.strip().startswith("#"):
            name, _, target = line.partition("=")
            scripts[name.strip()] = target.strip()
    if PRIMARY_SCRIPT not in scripts:
        raise BuildError(f"setup.cfg declares no {PRIMARY_SCRIPT} console script")
    return scripts


def homepage(root: Path = ROOT) -> str:
    return _setup_cfg(root).get("metadata", "url").rstrip("/")


def _git(root: Path, *args: str) -> str | None:
    """git's output in `root`, or None outside a git checkout (an unpacked sdist)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout


def packaged_commit(root: Path = ROOT) -> tuple[str, int] | None:
    """The last commit that touched PACKAGED_PATHS and its committer time; None
    outside a git checkout. A shallow clone cannot tell when its oldest commit is
    the answer (git then sees every file as added there), so it is refused."""
    out = _git(root, "log", "-1", "--format=%H %ct", "--", *PACKAGED_PATHS)
    if not out or not out.strip():
        return None
    sha, ct = out.split()
    shallow = _git(root, "rev-parse", "--git-path", "shallow")
    if shallow:
        path = Path(shallow.strip())
        path = path if path.is_absolute() else root / path
        if path.is_file() and sha in path.read_text(encoding="utf-8").split():
            raise BuildError(
                "this is a shallow clone, so the last commit that touched the packaged files "
                "is unknown: run `git fetch --unshallow` (CI: actions/checkout with "
                "fetch-depth: 0), or set SOURCE_DATE_EPOCH"
            )
    return sha, int(ct)


def source_date_epoch(root: Path = ROOT) -> int:
    """SOURCE_DATE_EPOCH if set, else the time of the last commit that touched
    PACKAGED_PATHS, else 1980-01-01."""
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env:
        return int(env)
    found = packaged_commit(root)
    return found[1] if found else ZIP_EPOCH


# ---- the lock -----------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    sha256: str

    @property
    def key(self) -> str:
        return normalize(self.name)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path = LOCK) -> list[Pin]:
    """Pins from a pip requirements file of `name==version --hash=sha256:...` lines."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    pins = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][-\w.]*)==(\S+)\s+--hash=sha256:([0-9a-f]{64})", line)
        if not match:
            raise BuildError(f"{path}: not `name==version --hash=sha256:HEX`: {line}")
        pins.append(Pin(*match.groups()))
    return pins


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _wheel_key(filename: str) -> tuple[str, str]:
    dist, version = filename.split("-")[:2]
    return normalize(dist), version


def _cached(pin: Pin, cache: Path) -> Path | None:
    if not cache.is_dir():
        return None
    for path in cache.glob("*.whl"):
        if _wheel_key(path.name) == (pin.key, pin.version) and sha256_file(path) == pin.sha256:
            return path
    return None


def _pip_download(pins: list[Pin], flags: tuple[str, ...], dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text(
            "".join(f"{p.name}=={p.version} --hash=sha256:{p.sha256}\n" for p in pins),
            encoding="utf-8",
        )
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        cmd += ["--require-hashes", *flags, "--dest", str(dest), "--requirement", str(reqs)]
        done = subprocess.run(cmd, check=False)
        if done.returncode:
            raise BuildError(f"pip download failed ({done.returncode}): {' '.join(cmd)}")


def fetch_wheels(pins: list[Pin], cache: Path = DEFAULT_CACHE) -> dict[str, Path]:
    """Every pinned wheel, from the cache or pip, checked against its hash."""
    missing = [p for p in pins if _cached(p, cache) is None]
    if missing:
        cache.mkdir(parents=True, exist_ok=True)
        pure = [p for p in missing if p.key not in PURE_PART_OF]
        if pure:
            _pip_download(pure, PURE_WHEEL_FLAGS, cache)
        for pin in missing:
            if pin.key in PURE_PART_OF:
                _pip_download([pin], PURE_PART_OF[pin.key], cache)
    wheels = {}
    for pin in pins:
        path = _cached(pin, cache)
        if path is None:
            raise BuildError(f"no wheel of {pin.name}=={pin.version} with the locked hash")
        wheels[pin.key] = path
    return wheels


def lock(python: str, req_in: Path = LOCK_INPUT, out: Path = LOCK) -> None:
    """Resolve req_in with `python` (the oldest supported) and pin one file per project."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
        cmd += ["--report", str(report), "--requirement", str(req_in)]
        subprocess.run(cmd, check=True)
        resolved = [
            (item["metadata"]["name"], item["metadata"]["version"])
            for item in json.loads(report.read_text(encoding="utf-8"))["install"]
        ]
        pins = []
        for name, version in sorted(resolved, key=lambda nv: normalize(nv[0])):
            flags = PURE_PART_OF.get(normalize(name), PURE_WHEEL_FLAGS)
            dest = Path(tmp) / normalize(name)
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *flags]
            cmd += ["--dest", str(dest), f"{name}=={version}"]
            if subprocess.run(cmd, check=False).returncode:
                raise BuildError(
                    f"{name}=={version} has no pure-Python wheel: pin another version in "
                    f"{req_in.name}, or add it to PURE_PART_OF if its code runs without "
                    "its extension"
                )
            (wheel,) = dest.glob("*.whl")
            pins.append(Pin(name, version, sha256_file(wheel)))
    lines = [
        "# The zipapp's dependencies: generated by `python release/build.py lock` from",
        "# zipapp-requirements.in, resolved for the oldest supported Python. Each hash is",
        "# a py3-none-any wheel's, except where release/build.py says PURE_PART_OF.",
    ]
    lines += [f"{p.name}=={p.version} \\\n    --hash=sha256:{p.sha256}" for p in pins]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---- the zipapp ---------------------------------------------------------------------


def is_compiled(name: str) -> bool:
    """Whether a path names a compiled extension or native library."""
    base = name.rsplit("/", 1)[-1].lower()
    return base.endswith(COMPILED_SUFFIXES) or bool(_COMPILED_TAG.search(base))


def wheel_entries(key: str, wheel: Path) -> dict[str, bytes]:
    """The files a wheel puts in site-packages, minus RECORD and (for PURE_PART_OF)
    the extension. Raises on compiled files elsewhere."""
    entries = {}
    dropped = EXTENSION_ONLY_PATHS.get(key, ())
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            name = info.filename
            if info.is_dir() or name.endswith((".dist-info/RECORD", ".pyc")):
                continue
            top = name.split("/", 1)[0]
            if top.endswith(".data"):
                raise BuildError(f"{wheel.name} installs outside site-packages: {name}")
            if name.startswith(dropped):
                continue
            if is_compiled(name):
                if key in PURE_PART_OF:
                    continue
                raise BuildError(f"{wheel.name} holds a compiled module: {name}")
            entries[name] = zf.read(info)
    return entries


def package_entries(root: Path = ROOT) -> dict[str, bytes]:
    """The plugin's own package as it is in the working tree."""
    entries = {}
    for path in sorted((root / PACKAGE).rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_dir() or "__pycache__" in rel.split("/") or rel.endswith((".pyc", ".pyo")):
            continue
        if is_compiled(rel):
            raise BuildError(f"compiled file in the source tree: {rel}")
        entries[rel] = path.read_bytes()
    return entries


#: Module names the build adds at the top of the zipapp.
BOOT_MODULE = "_kubectl_war_zipapp"  # release/zipapp_boot.py
BUILD_MODULE = "_kubectl_war_build"  # generated: what this build holds

# __main__.py and the launchers stop on an old python3 before importing anything
# newer syntax might break, so they use only syntax every python3 parses.
_START = """\
import os
import sys

if sys.version_info < (3, 9):
    sys.stderr.write(
        "error: %s needs python3 >= 3.9; %s is %d.%d\\n"
        % ({name!r}, sys.executable, sys.version_info[0], sys.version_info[1])
    )
    sys.exit(1)
"""


def main_source() -> str:
    """The zipapp's __main__.py: runs the console script it is started as (a link
    or copy named `kubectl_complete-war` runs that one), kubectl-war otherwise."""
    return (
        '"""Entry of the kubectl-war zipapp (generated by release/build.py)."""\n\n'
        + _START.format(name=PRIMARY_SCRIPT)
        + f"""
from {BOOT_MODULE} import main

main(os.path.dirname(os.path.abspath(__file__)), os.path.basename(sys.argv[0]))
"""
    )


def launcher_source(name: str) -> str:
    """Console script `name` other than kubectl-war: a small script that runs it from
    the zipapp beside it (or beside what it is a link to)."""
    return (
        SHEBANG.decode()
        + f'"""{name}: runs from the {PRIMARY_SCRIPT} zipapp beside it."""\n\n'
        + _START.format(name=name)
        + f"""
_archive = os.path.join(os.path.dirname(os.path.realpath(__file__)), {PRIMARY_SCRIPT!r})
sys.path.insert(0, _archive)
from {BOOT_MODULE} import main

main(_archive, {name!r})
"""
    )


def build_id(entries: dict[str, bytes], version: str) -> str:
    """Names a build by its content: the bytecode cache of one build is never used
    with another."""
    digest = hashlib.sha256()
    for name in sorted(entries):
        digest.update(name.encode() + b"\0" + hashlib.sha256(entries[name]).digest())
    return f"{version}-{digest.hexdigest()[:16]}"


def build_module_source(entries: dict[str, bytes], version: str, root: Path) -> str:
    scripts = console_scripts(root)
    return (
        '"""What this kubectl-war zipapp holds (generated by release/build.py)."""\n\n'
        f"BUILD_ID = {build_id(entries, version)!r}\n"
        f"PRIMARY = {PRIMARY_SCRIPT!r}\n"
        f"SCRIPTS = {scripts!r}\n"
    )


def zipapp_entries(wheels: dict[str, Path], root: Path = ROOT) -> dict[str, bytes]:
    """Every file of the zipapp: dependencies, the package, the start-up code."""
    entries: dict[str, bytes] = {}
    sources = [(key, wheel_entries(key, path)) for key, path in sorted(wheels.items())]
    sources.append((PACKAGE, package_entries(root)))
    boot = (root / "release" / "zipapp_boot.py").read_bytes()
    sources.append(("start-up", {"__main__.py": main_source().encode(), f"{BOOT_MODULE}.py": boot}))
    for origin, files in sources:
        for name, data in files.items():
            if name in entries:
                raise BuildError(f"{name} comes from two sources (the second: {origin})")
            entries[name] = data
    info = build_module_source(entries, package_version(root), root)
    entries[f"{BUILD_MODULE}.py"] = info.encode()
    return entries


def _zip_time(epoch: int) -> tuple[int, int, int, int, int, int]:
    t = time.gmtime(max(epoch, ZIP_EPOCH))
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def write_zipapp(path: Path, entries: dict[str, bytes], epoch: int) -> None:
    """A zip of `entries` behind a python3 shebang: sorted, one timestamp, fixed modes."""
    stamp = _zip_time(epoch)
    dirs = {name[: i + 1] for name in entries for i, c in enumerate(name) if c == "/"}
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(SHEBANG)
        with zipfile.ZipFile(f, "w") as zf:
            for name in sorted(dirs | set(entries)):
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.create_system = 3  # unix, so the modes below are read
                if name in dirs:
                    info.external_attr = (0o40755 << 16) | 0x10
                    zf.writestr(info, b"")
                else:
                    info.external_attr = 0o100644 << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    zf.writestr(info, entries[name], compresslevel=9)
    tmp.chmod(0o755)
    tmp.replace(path)


def write_tarball(path: Path, files: dict[str, tuple[bytes, int]], epoch: int) -> None:
    """A .tar.gz of name → (data, mode) with no trace of the build machine or time."""
    tmp = path.with_name(path.name + ".tmp")
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            data, mode = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            info.mtime = epoch
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    with open(tmp, "wb") as raw:
        # No file name and mtime 0 in the gzip header.
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9)
        gz.write(tar_bytes.getvalue())
        gz.close()
    tmp.replace(path)


def unpack_deps(out: Path, cache: Path = DEFAULT_CACHE) -> None:
    """The zipapp's dependencies as a directory for PYTHONPATH, to run the test suite
    against the versions the release carries (older than the development venv's)."""
    if out.exists():
        shutil.rmtree(out)
    for key, wheel in sorted(fetch_wheels(read_lock(), cache).items()):
        for name, data in wheel_entries(key, wheel).items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


# ---- the manifest -------------------------------------------------------------------


def archive_name(version: str) -> str:
    return f"{PRIMARY_SCRIPT}-v{version}.tar.gz"


# The part of Go's text/template that .krew.yaml uses, as krew-release-bot runs it:
# a leading {{- /* comment */ -}}, {{ .TagName }}, and {{ addURIAndSha "URL" .TagName }},
# which the bot replaces with `uri: URL` and `    sha256: HEX` (the URL's own
# {{ .TagName }} filled in).
_TEMPLATE_COMMENT = re.compile(r"\A\{\{-\s*/\*.*?\*/\s*-\}\}\s*", re.S)
_URI_AND_SHA = re.compile(r'\{\{-?\s*addURIAndSha\s+"([^"]*)"\s+\.TagName\s*-?\}\}')
_TAG_NAME = re.compile(r"\{\{\s*\.TagName\s*\}\}")


def render_manifest(template: str, version: str, sha256: str, uri_base: str | None = None) -> str:
    """The krew manifest of `version` whose platforms name an archive with `sha256`,
    rendered from .krew.yaml as krew-release-bot renders it (uri_base: another host)."""
    tag = f"v{version}"
    text = _TEMPLATE_COMMENT.sub("", template, count=1)

    def uri_and_sha(match: re.Match[str]) -> str:
        uri = _TAG_NAME.sub(tag, match.group(1))
        if uri.rsplit("/", 1)[-1] != archive_name(version):
            raise BuildError(f"{MANIFEST_TEMPLATE.name} names {uri}, not {archive_name(version)}")
        if uri_base:
            uri = f"{uri_base.rstrip('/')}/{archive_name(version)}"
        return f"uri: {uri}\n    sha256: {sha256}"

    text = _TAG_NAME.sub(tag, _URI_AND_SHA.sub(uri_and_sha, text))
    for line in text.splitlines():
        if "{{" in line or "}}" in line:
            raise BuildError(f"{MANIFEST_TEMPLATE.name}: not understood: {line.strip()}")
    return text


# ---- dist ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Dist:
    tarball: Path
    zipapp: Path
    manifest: Path
    sha256: str
    version: str


def uncommitted(root: Path = ROOT) -> list[str]:
    """Changed or new files the archive is built from, per git (none without git)."""
    out = _git(root, "status", "--porcelain", "--", *PACKAGED_PATHS)
    return [line[3:] for line in (out or "").splitlines() if line.strip()]


def build(
    out: Path,
    manifest: Path,
    *,
    cache: Path = DEFAULT_CACHE,
    root: Path = ROOT,
    uri_base: str | None = None,
) -> Dist:
    version = package_version(root)
    epoch = source_date_epoch(root)
    out.mkdir(parents=True, exist_ok=True)

    wheels = fetch_wheels(read_lock(root / "release" / LOCK.name), cache)
    zipapp = out / PRIMARY_SCRIPT
    write_zipapp(zipapp, zipapp_entries(wheels, root), epoch)

    files = {
        PRIMARY_SCRIPT: (zipapp.read_bytes(), 0o755),
        "LICENSE": ((root / "LICENSE").read_bytes(), 0o644),
    }
    for name in console_scripts(root):
        if name != PRIMARY_SCRIPT:
            files[name] = (launcher_source(name).encode(), 0o755)
    tarball = out / archive_name(version)
    write_tarball(tarball, files, epoch)
    digest = sha256_file(tarball)

    template = (root / MANIFEST_TEMPLATE.name).read_text(encoding="utf-8")
    text = render_manifest(template, version, digest, uri_base)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(text, encoding="utf-8")
    return Dist(tarball, zipapp, manifest, digest, version)


def stale_manifest(built: Path, committed: Path = MANIFEST, root: Path = ROOT) -> str | None:
    """Why `committed` is not the manifest of this commit (`built` is), or None."""
    want = built.read_text(encoding="utf-8")
    try:
        have = committed.read_text(encoding="utf-8")
    except FileNotFoundError:
        have = None
    if have == want:
        return None
    dirty = uncommitted(root)
    if dirty:
        return (
            f"{committed.name} cannot match uncommitted packaged files ({', '.join(dirty)}): "
            f"commit them, then run: {REGENERATE}"
        )
    what = "is missing" if have is None else "is not the manifest of the archive this commit builds"
    return f"{committed.name} {what}: run: {REGENERATE}"


# ---- the lock, checked ----------------------------------------------------------------


def lock_errors(root: Path = ROOT, cache: Path = DEFAULT_CACHE) -> list[str]:
    """Why the lock cannot make a release: a requirement of setup.cfg or of
    zipapp-requirements.in it does not satisfy, or a pin whose wheel's hash fails."""
    from packaging.requirements import Requirement  # pip's own dependency: always there

    pins = {p.key: p for p in read_lock(root / "release" / LOCK.name)}
    raw = _setup_cfg(root).get("options", "install_requires", fallback="").splitlines()
    lock_in = (root / "release" / LOCK_INPUT.name).read_text(encoding="utf-8").splitlines()
    wanted = [line.split("#", 1)[0].strip() for line in raw + lock_in]
    errors = []
    for line in filter(None, wanted):
        req = Requirement(line)
        pin = pins.get(normalize(req.name))
        if pin is None:
            errors.append(f"{req} is not pinned in {LOCK.name}")
        elif not req.specifier.contains(pin.version, prereleases=True):
            errors.append(f"{req} is not satisfied by the pinned {pin.name}=={pin.version}")
    try:
        fetch_wheels(list(pins.values()), cache)
    except BuildError as exc:
        errors.append(str(exc))
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    dist = sub.add_parser("dist", help="build the zipapp, the tarball and the krew manifest")
    dist.add_argument("--out", type=Path, default=ROOT / "dist", help="output directory")
    dist.add_argument(
        "--manifest",
        type=Path,
        help="manifest path (default: krew-manifest.yaml in the output directory)",
    )
    dist.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="wheel cache")
    dist.add_argument(
        "--uri-base",
        help="URL the tarball is published under (default: the GitHub release of the tag)",
    )
    for name, text in (
        ("manifest", f"write {MANIFEST.name}: the manifest of the archive this commit builds"),
        ("check", f"fail unless {MANIFEST.name} is the manifest of the archive this commit builds"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="wheel cache")
    check_lock = sub.add_parser(
        "check-lock", help=f"{LOCK.name} satisfies setup.cfg and its wheels' hashes hold"
    )
    check_lock.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="wheel cache")
    deps = sub.add_parser("deps", help="unpack the zipapp's dependencies into a directory")
    deps.add_argument("--out", type=Path, default=ROOT / "build" / "zipapp-deps")
    deps.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="wheel cache")
    relock = sub.add_parser("lock", help=f"re-resolve {LOCK.name} from {LOCK_INPUT.name}")
    relock.add_argument(
        "--python", default=f"python{MIN_PYTHON}", help="an interpreter of the oldest version"
    )
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def _run(args: argparse.Namespace) -> int:
    if args.command == "lock":
        if not shutil.which(args.python) and not Path(args.python).exists():
            raise BuildError(f"{args.python} not found: pass --python PATH")
        lock(args.python)
        print(f"wrote {LOCK.relative_to(ROOT)}")
        return 0
    if args.command == "deps":
        unpack_deps(args.out, args.cache)
        print(args.out)
        return 0
    if args.command == "check-lock":
        errors = lock_errors(cache=args.cache)
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        if not errors:
            print(f"{LOCK.relative_to(ROOT)}: every requirement pinned, every hash holds")
        return 1 if errors else 0
    if args.command in ("manifest", "check"):
        dirty = uncommitted()
        if dirty and args.command == "manifest":
            raise BuildError(
                f"commit the packaged files first ({', '.join(dirty)}): the archive is dated "
                "by the last commit that touched them"
            )
        with tempfile.TemporaryDirectory() as tmp:
            done = build(Path(tmp), Path(tmp) / MANIFEST.name, cache=args.cache)
            stale = stale_manifest(done.manifest)
            if args.command == "check":
                if stale:
                    raise BuildError(stale)
                print(f"{MANIFEST.name} is v{done.version}'s, sha256 {done.sha256}")
                return 0
            if stale:
                shutil.copyfile(done.manifest, MANIFEST)
        print(f"{'wrote' if stale else 'unchanged:'} {MANIFEST.name} (v{done.version})")
        print(f"sha256 {done.sha256}")
        return 0
    manifest = args.manifest or args.out / MANIFEST.name
    done = build(args.out, manifest, cache=args.cache, uri_base=args.uri_base)
    dirty = uncommitted()
    if dirty:
        print(
            f"warning: built with uncommitted changes (not for a release): {', '.join(dirty)}",
            file=sys.stderr,
        )
    for path in (done.tarball, done.zipapp, done.manifest):
        print(_shown(path))
    print(f"sha256 {done.sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
