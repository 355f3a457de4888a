"""The release steps: .krew.yaml rendered as krew-release-bot renders it, CHANGELOG.md,
and `make release` (release/release.py) run in a clone."""

from __future__ import annotations

import configparser
import datetime
import importlib.util
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml

from kubectl_war import __version__
from tests import krew_rules
from tests.buildlock import one_build_at_a_time

ROOT = Path(__file__).resolve().parent.parent
SHA = "ab" * 32
REPO = "https://github.com/kubectl-war/kubectl-war"


def _load(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


release = _load("kubectl_war_release", ROOT / "release" / "release.py")
build = release.build  # release/build.py, as release.py loads it


# ---- .krew.yaml ---------------------------------------------------------------------


def test_krew_template_renders_to_a_valid_manifest_of_the_version() -> None:
    template = (ROOT / ".krew.yaml").read_text(encoding="utf-8")
    text = build.render_manifest(template, "1.2.3", SHA)
    manifest = yaml.safe_load(text)
    assert krew_rules.manifest_errors(manifest) == []
    assert manifest["spec"]["version"] == "v1.2.3"
    uri = f"{REPO}/releases/download/v1.2.3/kubectl-war-v1.2.3.tar.gz"
    assert [(p["uri"], p["sha256"], p["bin"]) for p in manifest["spec"]["platforms"]] == [
        (uri, SHA, "kubectl-war"),
        (uri, SHA, "kubectl-war"),
    ]
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert manifest["spec"]["homepage"] == cfg.get("metadata", "url")
    # krew-release-bot writes addURIAndSha's two lines with a four-space sha256.
    assert f"    uri: {uri}\n    sha256: {SHA}\n    bin: kubectl-war\n" in text
    assert text.startswith("apiVersion: ")  # the {{- /* ... */ -}} comment is gone


def test_krew_template_on_another_host_and_what_it_refuses() -> None:
    template = (ROOT / ".krew.yaml").read_text(encoding="utf-8")
    other = yaml.safe_load(build.render_manifest(template, "1.2.3", SHA, "https://x.test/r/"))
    assert {p["uri"] for p in other["spec"]["platforms"]} == {
        "https://x.test/r/kubectl-war-v1.2.3.tar.gz"
    }
    with pytest.raises(build.BuildError, match=r"not understood: version: \{\{ \.Version \}\}"):
        build.render_manifest(template.replace("{{ .TagName }}", "{{ .Version }}", 1), "1", SHA)
    renamed = template.replace("kubectl-war-{{ .TagName }}.tar.gz", "war.tar.gz")
    refused = r"names \S+/war\.tar\.gz, not kubectl-war-v1\.tar\.gz"
    with pytest.raises(build.BuildError, match=refused):
        build.render_manifest(renamed, "1", SHA)


# ---- CHANGELOG.md -------------------------------------------------------------------

LOG = """# Changelog

Intro.

## [Unreleased]

### Fixed

- a fix

## [0.1.0] - 2026-12-01

### Added

- the start

[Unreleased]: https://example.test/compare/v0.1.0...HEAD
[0.1.0]: https://example.test/releases/tag/v0.1.0
"""


def test_release_moves_unreleased_entries_under_the_dated_version() -> None:
    done = release.release_changelog(LOG, "0.2.0", datetime.date(2026, 12, 24), REPO)
    assert done == (
        "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n## [0.2.0] - 2026-12-24\n\n"
        "### Fixed\n\n- a fix\n\n## [0.1.0] - 2026-12-01\n\n### Added\n\n- the start\n\n"
        f"[Unreleased]: {REPO}/compare/v0.2.0...HEAD\n"
        f"[0.2.0]: {REPO}/compare/v0.1.0...v0.2.0\n"
        f"[0.1.0]: {REPO}/releases/tag/v0.1.0\n"
    )
    assert release.notes("0.2.0", done) == "### Fixed\n\n- a fix\n"


def test_release_dates_a_version_written_ahead_and_refuses_one_without_entries() -> None:
    ahead = LOG.replace("### Fixed\n\n- a fix\n\n", "").replace(" - 2026-12-01", "")
    done = release.release_changelog(ahead, "0.1.0", datetime.date(2026, 12, 24), REPO)
    assert "## [Unreleased]\n\n## [0.1.0] - 2026-12-24\n\n### Added\n\n- the start\n\n" in done
    assert done.count("## [0.1.0]") == 1
    with pytest.raises(release.ReleaseError, match=r"say what 0\.2\.0 changes"):
        release.release_changelog(ahead, "0.2.0", datetime.date(2026, 12, 24), REPO)
    with pytest.raises(release.ReleaseError, match=re.escape("no entries under '## [0.3.0]'")):
        release.notes("0.3.0", LOG)


def test_changelog_holds_the_current_version_and_an_unreleased_section() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    names = list(release.sections(text))
    assert names[0] == "Unreleased"
    assert __version__ in names
    assert release.notes(__version__, text).startswith("### Added\n")


# ---- make release, in a clone --------------------------------------------------------


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_release_bumps_dates_and_commits_a_matching_manifest(tmp_path: Path) -> None:
    clone = tmp_path / "kubectl-war"
    _git(ROOT, "clone", "--quiet", str(ROOT), str(clone))
    _git(clone, "checkout", "--quiet", "--detach", _git(ROOT, "rev-parse", "HEAD").strip())
    if _git(clone, "rev-parse", "--is-shallow-repository").strip() == "true":
        pytest.skip("a shallow clone cannot tell when the packaged files last changed")
    # This checkout's wheel cache, so that nothing is downloaded again.
    cache = ROOT / "build" / "zipapp-wheels"
    cache.mkdir(parents=True, exist_ok=True)
    (clone / "build").mkdir()
    (clone / "build" / "zipapp-wheels").symlink_to(cache)
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com")
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        with one_build_at_a_time():  # a release builds, through this checkout's cache
            return subprocess.run(
                [sys.executable, str(clone / "release" / "release.py"), *args],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
                cwd=clone,
                env=env,
            )

    major, minor, _ = (int(x) for x in __version__.split("."))
    new = f"{major}.{minor + 1}.0"
    changelog = clone / "CHANGELOG.md"
    # Whatever the checkout has under Unreleased, start this clone with nothing there.
    text = changelog.read_text(encoding="utf-8")
    head, _, rest = text.partition("## [Unreleased]\n")
    changelog.write_text(
        head + "## [Unreleased]\n\n" + rest[rest.index("## [") :], encoding="utf-8"
    )
    _git(clone, "commit", "--quiet", "-m", "nothing unreleased", "CHANGELOG.md")
    refused = run(new)  # nothing under Unreleased yet
    assert (refused.returncode, refused.stderr) == (
        1,
        f"error: CHANGELOG.md: say what {new} changes under '## [Unreleased]' first\n",
    )

    changelog.write_text(
        changelog.read_text(encoding="utf-8").replace(
            "## [Unreleased]\n", "## [Unreleased]\n\n### Fixed\n\n- a fix\n", 1
        ),
        encoding="utf-8",
    )
    dirty = run(new)
    assert dirty.returncode == 1
    assert "uncommitted changes" in dirty.stderr
    _git(clone, "commit", "--quiet", "-m", "a fix", "CHANGELOG.md")

    done = run(new)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(
        "  make test\n  git push origin HEAD\n"
        f"  git tag -a v{new} -m v{new} && git push origin v{new}\n"
    )
    assert _git(clone, "log", "-2", "--format=%s").splitlines() == [
        f"krew-manifest.yaml for v{new}",
        f"Release {new}",
    ]
    assert _git(clone, "status", "--porcelain") == ""
    init = (clone / "kubectl_war" / "__init__.py").read_text(encoding="utf-8")
    assert f'__version__ = "{new}"\n' in init
    today = datetime.date.today().isoformat()
    text = changelog.read_text(encoding="utf-8")
    assert f"## [Unreleased]\n\n## [{new}] - {today}\n\n### Fixed\n\n- a fix\n" in text
    manifest = yaml.safe_load((clone / "krew-manifest.yaml").read_text(encoding="utf-8"))
    assert manifest["spec"]["version"] == f"v{new}"
    with one_build_at_a_time():
        check = subprocess.run(
            [sys.executable, str(clone / "release" / "build.py"), "check"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=clone,
            env=env,
        )
    assert (check.returncode, check.stderr) == (0, "")
    assert check.stdout.startswith(f"krew-manifest.yaml is v{new}'s, sha256 ")
