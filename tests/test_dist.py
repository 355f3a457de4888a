"""The krew release: `release/build.py dist` (what `make dist` runs), checked from outside.

The archive is built once per session into a temporary directory (wheels are cached
in build/zipapp-wheels, so only the first run on a machine downloads), then checked
the way krew and a user would meet it: krew's manifest rules, no compiled code, the
same bytes from a second build, and an install the way krew does it, run by plain
python3 interpreters in an empty environment against the fake API server.
"""

from __future__ import annotations

import configparser
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from kubectl_war import __version__
from tests import krew_rules
from tests.buildlock import one_build_at_a_time
from tests.conftest import FIXED_NOW
from tests.fakekube import FakeKube

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "release" / "zipapp-requirements.txt"

Run = Callable[..., subprocess.CompletedProcess[str]]


@dataclass(frozen=True)
class Built:
    out: Path
    tarball: Path
    zipapp: Path
    manifest_path: Path
    #: When the build ran, the time of the last commit that touched a packaged file:
    #: every timestamp in the archives.
    commit_time: int

    @property
    def manifest(self) -> Any:
        return yaml.safe_load(self.manifest_path.read_text(encoding="utf-8"))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.tarball.read_bytes()).hexdigest()


#: What the archive is built from; neither krew-manifest.yaml nor its template is here,
#: so committing the manifest leaves the archive it names as it was.
PACKAGED = (
    "kubectl_war",
    "LICENSE",
    "setup.cfg",
    "release/build.py",
    "release/zipapp_boot.py",
    "release/zipapp-requirements.txt",
)


def _commit_time(root: Path = ROOT) -> int:
    out = subprocess.run(
        ["git", "-C", str(root), "log", "-1", "--format=%ct", "--", *PACKAGED],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out)


def _sources() -> str:
    """A digest of what a build reads from the checkout (to notice edits mid-test)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "kubectl_war").rglob("*.py")):
        digest.update(str(path).encode() + path.read_bytes())
    digest.update(str(_commit_time()).encode())
    return digest.hexdigest()


def build_dist(out: Path, root: Path = ROOT) -> Built:
    """`release/build.py dist` of the checkout at `root` (wheels from this one's cache)."""
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    commit_time = _commit_time(root)
    with one_build_at_a_time():
        done = subprocess.run(
            [
                sys.executable,
                str(root / "release" / "build.py"),
                "dist",
                "--out",
                str(out),
                "--manifest",
                str(out / "krew-manifest.yaml"),
                "--cache",
                str(ROOT / "build" / "zipapp-wheels"),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env=env,
        )
    assert done.returncode == 0, done.stderr
    return Built(
        out,
        out / f"kubectl-war-v{__version__}.tar.gz",
        out / "kubectl-war",
        out / "krew-manifest.yaml",
        commit_time,
    )


def build_twice(root: Path) -> tuple[Built, Built]:
    """Two builds of one unchanged checkout (retried when a commit or an edit lands
    in between, which happens only in a checkout shared with people at work)."""
    for attempt in range(3):
        before = _sources()
        first = build_dist(root / f"first-{attempt}")
        second = build_dist(root / f"second-{attempt}")
        if _sources() == before:
            return first, second
    pytest.fail("the checkout kept changing during the builds")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_dist(tmp_path_factory.mktemp("dist"))


def locked_versions() -> dict[str, str]:
    text = LOCK.read_text(encoding="utf-8")
    return {
        re.sub(r"[-_.]+", "-", name).lower(): version
        for name, version in re.findall(r"^([A-Za-z0-9][-\w.]*)==(\S+)", text, re.M)
    }


def console_scripts() -> list[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    raw = cfg.get("options.entry_points", "console_scripts")
    return [line.split("=")[0].strip() for line in raw.splitlines() if line.strip()]


# ---- python3 interpreters outside any virtualenv ------------------------------------


@dataclass(frozen=True)
class Interpreter:
    executable: str
    version: str


def _probe(candidate: str) -> Interpreter | None:
    code = (
        "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3]); "
        "print(sys.prefix == sys.base_prefix)"
    )
    try:
        out = subprocess.run(
            [candidate, "-I", "-c", code], capture_output=True, text=True, timeout=30, check=True
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    if len(out) != 3 or out[2] != "True":
        return None  # a virtualenv's python is not what a user runs the archive with
    return Interpreter(os.path.realpath(out[0]), out[1])


def _path_without_venv() -> str:
    ours = {
        os.path.realpath(p)
        for p in (os.path.dirname(sys.executable), sysconfig.get_path("scripts"))
    }
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(d for d in dirs if d and os.path.realpath(d) not in ours)


def find_interpreter(which: str) -> Interpreter | None:
    """`system`: python3 from /usr/local/bin, /usr/bin or /bin; `3.9`: the oldest
    supported; `newest`: the newest python3.N around (PATH or pyenv)."""
    if which == "system":
        exe = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
        return _probe(exe) if exe else None
    minors = [9] if which == "3.9" else list(range(20, 9, -1))
    for minor in minors:
        name = f"python3.{minor}"
        candidates = [shutil.which(name, path=_path_without_venv())]
        candidates += sorted(
            glob.glob(os.path.expanduser(f"~/.pyenv/versions/3.{minor}.*/bin/{name}"))
        )
        for candidate in filter(None, candidates):
            found = _probe(candidate)
            if found and found.version.startswith(f"3.{minor}."):
                return found
    return None


@pytest.fixture(scope="session")
def system_python() -> Interpreter:
    found = find_interpreter("system")
    if found is None or tuple(map(int, found.version.split(".")[:2])) < (3, 9):
        pytest.skip("no system python3 >= 3.9 in /usr/local/bin, /usr/bin or /bin")
    return found


# ---- what the archive holds ---------------------------------------------------------


def test_tarball_holds_the_zipapp_the_licence_and_every_console_script(built: Built) -> None:
    with tarfile.open(built.tarball) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert sorted(members) == sorted(["LICENSE", *console_scripts()])
    assert members["LICENSE"].mode == 0o644
    for script in console_scripts():
        assert members[script].isfile() and members[script].mode == 0o755
    with tarfile.open(built.tarball) as tar:
        extracted = tar.extractfile("kubectl-war")
        assert extracted is not None
        assert extracted.read() == built.zipapp.read_bytes()
        licence = tar.extractfile("LICENSE")
        assert licence is not None
        assert licence.read() == (ROOT / "LICENSE").read_bytes()
    assert built.zipapp.read_bytes().startswith(b"#!/usr/bin/env python3\n")


NATIVE_MAGIC = (
    b"\x7fELF",  # Linux shared objects
    b"\xfe\xed\xfa\xce",
    b"\xce\xfa\xed\xfe",
    b"\xfe\xed\xfa\xcf",
    b"\xcf\xfa\xed\xfe",  # Mach-O
    b"\xca\xfe\xba\xbe",  # Mach-O universal
)


def test_zipapp_holds_no_compiled_extension_module(built: Built) -> None:
    with zipfile.ZipFile(built.zipapp) as zf:
        names = zf.namelist()
        compiled = [
            n
            for n in names
            if re.search(r"\.(so|pyd|dylib|dll)$|\.(cpython|abi3|pypy)[-\w.]*$|\.pyc$", n)
        ]
        native = [n for n in names if not n.endswith("/") and zf.read(n)[:4] in NATIVE_MAGIC]
        windows = [n for n in names if not n.endswith((".py", "/")) and zf.read(n)[:2] == b"MZ"]
    assert (compiled, native, windows) == ([], [], [])
    # PyYAML in its pure-Python mode, and charset-normalizer without its mypyc build.
    assert "yaml/__init__.py" in names
    assert not [n for n in names if n.startswith(("_yaml/", "yaml/_yaml"))]
    assert not [n for n in names if "mypyc" in n]


def test_every_bundled_distribution_supports_python_3_9_and_the_newest(built: Built) -> None:
    unsupported = {}
    with zipfile.ZipFile(built.zipapp) as zf:
        metadata = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        for name in metadata:
            text = zf.read(name).decode("utf-8")
            found = re.search(r"^Requires-Python:\s*(.+)$", text, re.M)
            spec = SpecifierSet(found.group(1).strip()) if found else SpecifierSet()
            bad = [v for v in ("3.9.0", "3.14.0") if not spec.contains(v)]
            if bad:
                unsupported[name] = (str(spec), bad)
    assert len(metadata) == len(locked_versions())
    assert unsupported == {}


def test_lock_satisfies_setup_cfg_install_requires() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    required = [
        Requirement(line) for line in cfg.get("options", "install_requires").splitlines() if line
    ]
    locked = locked_versions()
    outside = {
        str(req): locked.get(req.name.lower())
        for req in required
        if locked.get(req.name.lower()) is None
        or not req.specifier.contains(locked[req.name.lower()])
    }
    assert outside == {}
    assert "aiohttp" not in locked and "pydantic" not in locked


def test_zipapp_imports_everything_from_the_archive_alone(
    built: Built, system_python: Interpreter, tmp_path: Path
) -> None:
    """With site-packages off (-S) and the environment ignored (-I), the plugin's
    modules and the client's import from the archive; YAML runs pure-Python."""
    script = f"""
import json, os, sys, sysconfig
sys.path.insert(0, {str(built.zipapp)!r})
import kubectl_war.cli, kubectl_war.kube, kubectl_war.render
import kubernetes.client.api_client, kubernetes.client.configuration
import kubernetes.client.exceptions, kubernetes.config.kube_config
import kubernetes.config.config_exception, urllib3, yaml, rich.console, click, certifi
import kubectl_war.kube.decode
page = b'{{"items":[{{"metadata":{{"managedFields":[{{"a":"b"}}],"name":"x"}}}}]}}'
rows = kubectl_war.kube.decode.loads_without_managed_fields(page)
stdlib = {{os.path.realpath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")}}
outside = sorted(
    m.__name__ for m in list(sys.modules.values())
    if getattr(m, "__file__", None)
    and not m.__file__.startswith({str(built.zipapp)!r})
    and not any(os.path.realpath(m.__file__).startswith(s) for s in stdlib)
)
print(json.dumps({{"outside": outside, "libyaml": yaml.__with_libyaml__,
                   "yaml": yaml.__file__, "ca": os.path.isfile(certifi.where()),
                   "decoder": kubectl_war.kube.decode.DECODER, "rows": rows}}))
"""
    done = subprocess.run(
        [system_python.executable, "-I", "-S", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result == {
        "outside": [],
        "libyaml": False,
        "yaml": f"{built.zipapp}/yaml/__init__.py",
        "ca": True,
        # Rows decode with the standard library: the archive carries no orjson.
        "decoder": "json",
        "rows": {"items": [{"metadata": {"name": "x"}}]},
    }


# ---- the krew manifest --------------------------------------------------------------


def test_manifest_passes_krew_rules_and_matches_the_archive(built: Built) -> None:
    manifest = built.manifest
    assert krew_rules.manifest_errors(manifest) == []
    spec = manifest["spec"]
    bins = {p["bin"] for p in spec["platforms"]}
    assert krew_rules.archive_errors(str(built.tarball), bins) == []
    assert manifest["metadata"]["name"] == "war"
    assert spec["version"] == f"v{__version__}"
    assert bins == {"kubectl-war"}
    for platform in spec["platforms"]:
        assert platform["sha256"] == built.sha256
        assert platform["uri"] == (
            f"https://github.com/kubectl-war/kubectl-war/releases/download/"
            f"v{__version__}/kubectl-war-v{__version__}.tar.gz"
        )
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert spec["homepage"] == cfg.get("metadata", "url")


# ---- the committed manifest ------------------------------------------------------------

#: What to run when krew-manifest.yaml is stale (release/build.py says the same).
REGENERATE = "make manifest && git commit -m 'Update krew-manifest.yaml' krew-manifest.yaml"


def _git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of HEAD, as CI and the release workflow check out the commit."""
    clone = tmp_path_factory.mktemp("clone") / "kubectl-war"
    _git(ROOT, "clone", "--quiet", "--no-checkout", str(ROOT), str(clone))
    _git(clone, "checkout", "--quiet", "--detach", _git(ROOT, "rev-parse", "HEAD").strip())
    if _git(clone, "rev-parse", "--is-shallow-repository").strip() == "true":
        pytest.skip("a shallow clone cannot tell when the packaged files last changed")
    return clone


def test_committed_manifest_is_the_one_a_fresh_clone_of_this_commit_builds(
    fresh_clone: Path, tmp_path: Path
) -> None:
    committed_path = fresh_clone / "krew-manifest.yaml"
    assert committed_path.is_file(), f"krew-manifest.yaml is not committed: run {REGENERATE}"
    committed = yaml.safe_load(committed_path.read_text(encoding="utf-8"))
    assert krew_rules.manifest_errors(committed) == []
    assert committed["spec"]["version"] == f"v{__version__}", (
        f"krew-manifest.yaml is {committed['spec']['version']}'s, the package is "
        f"v{__version__}'s: run {REGENERATE}"
    )
    rebuilt = build_dist(tmp_path / "dist", fresh_clone)
    assert {p["sha256"] for p in committed["spec"]["platforms"]} == {rebuilt.sha256}, (
        "krew-manifest.yaml names another archive than this commit builds (a commit or "
        f"merge changed a packaged file after it was written): run {REGENERATE}"
    )
    assert committed_path.read_text(encoding="utf-8") == rebuilt.manifest_path.read_text(
        encoding="utf-8"
    ), f".krew.yaml changed since krew-manifest.yaml was written: run {REGENERATE}"


def test_committing_the_manifest_leaves_the_archive_alone(
    fresh_clone: Path, tmp_path: Path
) -> None:
    """The archive is dated by the last commit that touched a packaged file: a commit of
    the manifest (or the changelog, or the template) changes nothing, one of the
    package changes the date."""
    work = tmp_path / "work"
    _git(fresh_clone, "worktree", "add", "--quiet", "--detach", str(work), "HEAD")
    before = build_dist(tmp_path / "before", work)

    def commit(path: str, text: str, when: int) -> None:
        target = work / path
        target.write_text(target.read_text(encoding="utf-8") + text, encoding="utf-8")
        stamp = f"@{when} +0000"
        _git(
            work,
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.com",
            "commit",
            "--quiet",
            "-m",
            f"change {path}",
            path,
            env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
        )

    later = before.commit_time + 86400
    commit("krew-manifest.yaml", "# edited\n", later)
    commit(".krew.yaml", "# edited\n", later + 10)
    commit("CHANGELOG.md", "\nedited\n", later + 20)
    unchanged = build_dist(tmp_path / "unchanged", work)
    assert unchanged.commit_time == before.commit_time
    assert unchanged.sha256 == before.sha256

    commit("kubectl_war/__init__.py", "# edited\n", later + 30)
    changed = build_dist(tmp_path / "changed", work)
    assert changed.commit_time == later + 30
    with tarfile.open(changed.tarball) as tar:
        assert {m.mtime for m in tar.getmembers()} == {later + 30}
    assert changed.sha256 != before.sha256


def test_manifest_has_one_platform_for_each_of_linux_and_darwin_on_both_arches(
    built: Built,
) -> None:
    platforms = built.manifest["spec"]["platforms"]
    for os_ in ("linux", "darwin"):
        for arch in ("amd64", "arm64"):
            labels = {"os": os_, "arch": arch}
            matching = [p for p in platforms if krew_rules.selector_matches(p["selector"], labels)]
            assert len(matching) == 1, (labels, matching)
    windows = {"os": "windows", "arch": "amd64"}
    assert not [p for p in platforms if krew_rules.selector_matches(p["selector"], windows)]


def test_manifest_texts_follow_krew_index_guidance(built: Built) -> None:
    spec = built.manifest["spec"]
    assert len(spec["shortDescription"]) <= 50
    description = spec["description"].rstrip("\n").split("\n")
    assert [line for line in description if len(line) > 80] == []
    assert [line for line in description if re.search(r"kubectl war |^\s*[-*$] ", line)] == []
    caveats = " ".join(spec["caveats"].split())
    assert "python3 >= 3.9" in caveats
    assert "Tetrate Service Bridge workload onboarding" in caveats
    assert "runtime.onboarding.tetrate.io/v1alpha1" in caveats


VALID: dict[str, Any] = {
    "apiVersion": "krew.googlecontainertools.github.com/v1alpha2",
    "kind": "Plugin",
    "metadata": {"name": "war"},
    "spec": {
        "version": "v1.2.3",
        "shortDescription": "Manage things",
        "platforms": [
            {
                "selector": {"matchLabels": {"os": "linux"}},
                "uri": "https://example.com/a.tar.gz",
                "sha256": "a" * 64,
                "bin": "kubectl-war",
            },
            {
                "selector": {"matchLabels": {"os": "darwin"}},
                "uri": "https://example.com/a.tar.gz",
                "sha256": "a" * 64,
                "bin": "kubectl-war",
            },
        ],
    },
}


def _with(path: str, value: Any) -> Any:
    manifest = json.loads(json.dumps(VALID))
    *parents, last = path.split(".")
    node = manifest
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is KeyError:
        del node[int(last) if last.isdigit() else last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return manifest


@pytest.mark.parametrize(
    ("path", "value", "error"),
    [
        ("metadata.name", "war plugin", "metadata.name 'war plugin' does not match"),
        ("spec.shortDescription", "", "spec.shortDescription is empty"),
        ("spec.shortDescription", "one\ntwo", "spans several lines"),
        ("spec.shortDescription", "x" * 51, "has 51 characters (at most 50)"),
        ("spec.version", "1.2.3", "spec.version '1.2.3' is not"),
        ("spec.version", "v1.2", "spec.version 'v1.2' is not"),
        ("spec.version", "v1.2.3.4", "spec.version 'v1.2.3.4' is not"),
        ("spec.platforms", [], "spec.platforms is empty"),
        ("spec.platforms.0.uri", "", "spec.platforms[0]: uri is empty"),
        ("spec.platforms.0.sha256", "A" * 64, "spec.platforms[0]: sha256 'AAAA"),
        ("spec.platforms.0.sha256", "a" * 63, "not 64 lower-case hex digits"),
        ("spec.platforms.0.bin", KeyError, "spec.platforms[0]: bin is empty"),
        ("spec.platforms.0.selector", None, "spec.platforms[0]: selector is missing"),
        ("spec.platforms.0.selector", {}, "spec.platforms[0]: selector is empty"),
        ("spec.platforms.0.selector", {"matchLabels": {}}, "selector is empty"),
        ("spec.platforms.0.selector", {"matchLabels": {"distro": "x"}}, "'distro' is neither"),
        ("spec.platforms.0.files", [], "files is given but empty"),
        ("spec.platforms.0.files", [{"from": "*"}], "files[0] needs both from and to"),
        (
            "spec.platforms.1.selector",
            {"matchLabels": {"os": "linux", "arch": "arm64"}},
            "spec.platforms[0] and [1] both match os=linux arch=arm64",
        ),
        (
            "spec.platforms.1.selector",
            {"matchExpressions": [{"key": "os", "operator": "In", "values": ["darwin", "linux"]}]},
            "both match os=linux",
        ),
        (
            "spec.platforms.1.selector",
            {"matchExpressions": [{"key": "os", "operator": "NotIn", "values": ["windows"]}]},
            "both match os=linux",
        ),
    ],
)
def test_krew_rules_catch_each_broken_rule(path: str, value: Any, error: str) -> None:
    errors = krew_rules.manifest_errors(_with(path, value))
    assert [e for e in errors if error in e], errors


def test_krew_rules_accept_disjoint_selectors_and_valid_versions() -> None:
    assert krew_rules.manifest_errors(VALID) == []
    for version in ("v0.1.0", "v1.2.3-rc.1", "v1.2.3+build.5"):
        assert krew_rules.manifest_errors(_with("spec.version", version)) == []
    arches = _with("spec.platforms.1.selector", {"matchLabels": {"os": "linux", "arch": "arm64"}})
    arches["spec"]["platforms"][0]["selector"]["matchLabels"]["arch"] = "amd64"
    assert krew_rules.manifest_errors(arches) == []


# ---- reproducibility ----------------------------------------------------------------


def test_two_builds_of_one_commit_are_byte_identical(tmp_path: Path) -> None:
    first, second = build_twice(tmp_path)
    assert second.sha256 == first.sha256
    assert second.zipapp.read_bytes() == first.zipapp.read_bytes()
    assert second.manifest_path.read_text() == first.manifest_path.read_text()


def test_archives_carry_no_build_time_owner_or_order(built: Built) -> None:
    raw = built.tarball.read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip header mtime
    assert not raw[3] & 0x08  # gzip FNAME flag: no file name kept
    with tarfile.open(built.tarball) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {
        (built.commit_time, 0, 0, "", "")
    }
    with zipfile.ZipFile(built.zipapp) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    stamp = time.gmtime(built.commit_time)
    # zip keeps local time without a zone in 2-second steps; the build writes UTC.
    expected = (*stamp[:5], stamp.tm_sec // 2 * 2)
    assert {i.date_time for i in infos} == {expected}


# ---- installed the way krew installs it ---------------------------------------------


@dataclass(frozen=True)
class KrewInstall:
    bin_dir: Path
    store: Path
    env: dict[str, str]
    home: Path


def krew_install(
    built: Built, root: Path, python: Interpreter, kubectl: str, kubeconfig: str
) -> KrewInstall:
    """Unpack into a store directory, link `bin` as kubectl-war into a bin directory on
    PATH (what `kubectl krew install` does), and make an environment holding nothing
    but PATH (that bin, python3, kubectl, /usr/bin:/bin), a fresh HOME and KUBECONFIG."""
    store = root / "store" / "war" / f"v{__version__}"
    store.mkdir(parents=True)
    with tarfile.open(built.tarball) as tar:
        for member in tar.getmembers():
            assert member.isfile() and "/" not in member.name and ".." not in member.name
            data = tar.extractfile(member)
            assert data is not None
            target = store / member.name
            target.write_bytes(data.read())
            target.chmod(member.mode)
    bin_dir = root / "bin"
    bin_dir.mkdir()
    platform = built.manifest["spec"]["platforms"][0]
    (bin_dir / "kubectl-war").symlink_to(store / platform["bin"])
    tools = root / "tools"
    tools.mkdir()
    (tools / "python3").symlink_to(python.executable)
    (tools / "kubectl").symlink_to(kubectl)
    home = root / "home"
    home.mkdir()
    env = {
        "PATH": os.pathsep.join([str(bin_dir), str(tools), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "KUBECONFIG": kubeconfig,
        # Ages at the fake cluster's fixed clock, so the table compares exactly.
        "KUBECTL_WAR_NOW": FIXED_NOW,
    }
    return KrewInstall(bin_dir, store, env, home)


def _run(install: KrewInstall, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", *args],
        env=install.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=install.home,
    )


@pytest.mark.parametrize("which", ["system", "3.9", "newest"])
def test_krew_style_install_runs_with_plain_python3(
    which: str,
    built: Built,
    fleet_kube: FakeKube,
    kubeconfig: str,
    kubectl_bin: str,
    run_war: Run,
    tmp_path: Path,
) -> None:
    python = find_interpreter(which)
    if python is None:
        pytest.skip(f"no {which} python3 outside a virtualenv on this machine")
    install = krew_install(built, tmp_path / "krew", python, kubectl_bin, kubeconfig)

    plugins = _run(install, "plugin", "list")
    assert (plugins.returncode, plugins.stderr) == (0, "")
    assert str(install.bin_dir / "kubectl-war") in plugins.stdout.splitlines()

    version = _run(install, "war", "version")
    assert (version.returncode, version.stderr) == (0, "")
    assert version.stdout == (
        f"kubectl-war: v{__version__}\n"
        f"Python: {python.version}\n"
        f"kubernetes client: {locked_versions()['kubernetes']}\n"
    )

    listed = _run(install, "war", "list", "-A")
    from_source = run_war("list", "-A")
    assert (listed.returncode, listed.stderr) == (0, "")
    assert from_source.returncode == 0
    assert listed.stdout == from_source.stdout
    assert listed.stdout.startswith("NAMESPACE   NAME ")

    # The second start runs from the bytecode cache the first one wrote.
    cached = list(install.home.rglob("kubectl-war/*/*/kubernetes/client/api_client.pyc"))
    assert len(cached) == 1, cached
    again = _run(install, "war", "list", "-A")
    assert (again.returncode, again.stderr, again.stdout) == (0, "", listed.stdout)


@pytest.mark.parametrize("how", ["link to the krew link", "launcher from the archive"])
def test_completion_runs_from_the_archive(
    how: str,
    built: Built,
    system_python: Interpreter,
    fleet_kube: FakeKube,
    kubeconfig: str,
    kubectl_bin: str,
    tmp_path: Path,
) -> None:
    """krew links only `bin`. The README has krew users add kubectl_complete-war as a
    link to krew's kubectl-war link (it outlives upgrades; the archive runs the
    script it is started as); a manual install puts the archive's launcher on PATH."""
    if "kubectl_complete-war" not in console_scripts():
        pytest.skip("setup.cfg declares no kubectl_complete-war yet")
    install = krew_install(built, tmp_path / "krew", system_python, kubectl_bin, kubeconfig)
    link = install.bin_dir / "kubectl_complete-war"
    if how == "link to the krew link":
        link.symlink_to("kubectl-war")
    else:
        link.symlink_to(install.store / "kubectl_complete-war")
    done = _run(install, "__complete", "war", "")
    # kubectl itself writes [Debug] lines to stderr here; the plugin adds nothing.
    assert done.returncode == 0
    noise = ("[Debug]", "Completion ended")
    assert [line for line in done.stderr.splitlines() if not line.startswith(noise)] == []
    lines = done.stdout.splitlines()
    assert lines[-1].startswith(":")
    assert {"list", "version"} <= {line.split("\t")[0] for line in lines}


def test_zipapp_runs_when_its_cache_cannot_be_written(
    built: Built, system_python: Interpreter, tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECTL_WAR_CACHE_DIR": "/dev/null/x"}
    done = subprocess.run(
        [system_python.executable, str(built.zipapp), "version", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["kubectlWar"] == f"v{__version__}"


def test_zipapp_refuses_python_older_than_3_9_plainly(built: Built, tmp_path: Path) -> None:
    old = None
    for minor in (8, 7, 6):
        for candidate in glob.glob(
            os.path.expanduser(f"~/.pyenv/versions/3.{minor}.*/bin/python3.{minor}")
        ):
            old = _probe(candidate)
            if old:
                break
        if old:
            break
    if old is None:
        pytest.skip("no python3 older than 3.9 on this machine")
    done = subprocess.run(
        [old.executable, str(built.zipapp), "version"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"error: kubectl-war needs python3 >= 3.9; {old.executable} is "
        f"{'.'.join(old.version.split('.')[:2])}\n"
    )
