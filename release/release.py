#!/usr/bin/env python3
"""The local steps of a release, so that releasing is one command and a tag.

    python release/release.py X.Y.Z   # what `make release VERSION=X.Y.Z` runs
    python release/release.py notes X.Y.Z
                                      # CHANGELOG.md's section of X.Y.Z (the release text)

`X.Y.Z` in a clean checkout: checks the lock (every requirement pinned, every wheel's
hash), moves CHANGELOG.md's Unreleased entries under `[X.Y.Z] - today` (they, or an
existing `[X.Y.Z]` section, must say something), sets `__version__`, commits, then
writes krew-manifest.yaml for the new commit and commits it. Pushing and tagging are
left to the person releasing; the tag's workflow does the rest (.github/workflows/release.yml).
"""

from __future__ import annotations

import datetime
import importlib.util
import re
import subprocess
import sys
import tempfile
import types
from pathlib import Path


def _load_build() -> types.ModuleType:
    """release/build.py, under a name that cannot shadow PyPA's `build`."""
    spec = importlib.util.spec_from_file_location(
        "kubectl_war_release_build", Path(__file__).resolve().parent / "build.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


build = _load_build()
ROOT = build.ROOT
CHANGELOG = ROOT / "CHANGELOG.md"
INIT = ROOT / build.PACKAGE / "__init__.py"
VERSION = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_HEADING = re.compile(r"^## \[([^\]]+)\][^\n]*$", re.M)


class ReleaseError(Exception):
    """The release cannot go on; the message says what to do."""


# ---- CHANGELOG.md (Keep a Changelog) --------------------------------------------------


def sections(text: str) -> dict[str, tuple[int, int]]:
    """Each `## [NAME]` section's span in `text`, heading included, up to the next `## `
    heading or the link references at the end."""
    heads = list(_HEADING.finditer(text))
    tail = re.search(r"^\[[^\]]+\]: ", text, re.M)
    spans = {}
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else (tail.start() if tail else len(text))
        spans[head.group(1)] = (head.start(), end)
    return spans


def body(text: str, name: str) -> str:
    """A section's entries without its heading ('' when it has none or is missing)."""
    span = sections(text).get(name)
    if span is None:
        return ""
    return text[span[0] : span[1]].partition("\n")[2].strip()


def release_changelog(text: str, version: str, today: datetime.date, repo_url: str) -> str:
    """CHANGELOG.md with the Unreleased entries released as `version` on `today`."""
    spans = sections(text)
    if "Unreleased" not in spans:
        raise ReleaseError(f"{CHANGELOG.name} has no '## [Unreleased]' section")
    pending = body(text, "Unreleased")
    written = body(text, version)
    if not pending and not written:
        raise ReleaseError(
            f"{CHANGELOG.name}: say what {version} changes under '## [Unreleased]' first"
        )
    heading = f"## [{version}] - {today.isoformat()}"
    merged = "\n\n".join(part for part in (pending, written) if part)
    start, end = spans["Unreleased"]
    released = f"## [Unreleased]\n\n{heading}\n\n{merged}\n\n"
    if version in spans:
        # Unreleased comes first; the version's own section follows somewhere below it.
        v_start, v_end = spans[version]
        text = text[:start] + released + text[end:v_start] + text[v_end:]
    else:
        text = text[:start] + released + text[end:]
    return _links(text, repo_url)


def _links(text: str, repo_url: str) -> str:
    """The link references at the end: Unreleased compares with the newest version,
    each version points at its release (the first) or its comparison with the one before."""
    names = [n for n in sections(text) if n != "Unreleased"]
    text = re.sub(r"(\n\[[^\]]+\]: \S+)+\n*\Z", "\n", text).rstrip("\n") + "\n\n"
    refs = []
    if names:
        refs.append(f"[Unreleased]: {repo_url}/compare/v{names[0]}...HEAD")
    for newer, older in zip(names, [*names[1:], None]):
        if older is None:
            refs.append(f"[{newer}]: {repo_url}/releases/tag/v{newer}")
        else:
            refs.append(f"[{newer}]: {repo_url}/compare/v{older}...v{newer}")
    return text + "\n".join(refs) + "\n"


def notes(version: str, text: str | None = None) -> str:
    """What the GitHub release of `version` says: its CHANGELOG.md section."""
    text = CHANGELOG.read_text(encoding="utf-8") if text is None else text
    found = body(text, version)
    if not found:
        raise ReleaseError(f"{CHANGELOG.name} has no entries under '## [{version}]'")
    return found + "\n"


# ---- the steps --------------------------------------------------------------------------


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout


def set_version(text: str, version: str) -> str:
    new, count = re.subn(
        r'^__version__\s*=\s*["\'][^"\']+["\']', f'__version__ = "{version}"', text, flags=re.M
    )
    if count != 1:
        raise ReleaseError(f"no single __version__ line in {INIT.relative_to(ROOT)}")
    return new


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def release(version: str, today: datetime.date) -> list[str]:
    """Every local step; answers the commands that remain."""
    if not VERSION.match(version):
        raise ReleaseError(f"VERSION={version!r}: give X.Y.Z, e.g. make release VERSION=0.2.0")
    current = build.package_version()
    if VERSION.match(current) and _key(version) < _key(current):
        raise ReleaseError(f"{version} is older than the current version {current}")
    if git("tag", "--list", f"v{version}").strip():
        raise ReleaseError(f"tag v{version} exists already")
    if git("status", "--porcelain").strip():
        raise ReleaseError("the checkout has uncommitted changes: commit or stash them first")

    errors = build.lock_errors()
    if errors:
        raise ReleaseError("the lock cannot make a release:\n  " + "\n  ".join(errors))

    CHANGELOG.write_text(
        release_changelog(CHANGELOG.read_text(encoding="utf-8"), version, today, build.homepage()),
        encoding="utf-8",
    )
    INIT.write_text(set_version(INIT.read_text(encoding="utf-8"), version), encoding="utf-8")
    paths = [str(CHANGELOG.relative_to(ROOT)), str(INIT.relative_to(ROOT))]
    git("add", "--", *paths)
    git("commit", "--quiet", "-m", f"Release {version}", "--", *paths)
    print(f"committed: Release {version}")

    # The manifest names the archive the commit above builds (dated by that commit).
    with tempfile.TemporaryDirectory() as tmp:
        done = build.build(Path(tmp), Path(tmp) / build.MANIFEST.name)
        if build.stale_manifest(done.manifest):
            build.MANIFEST.write_bytes(done.manifest.read_bytes())
            git("add", "--", build.MANIFEST.name)
            git("commit", "--quiet", "-m", f"krew-manifest.yaml for v{version}")
            print(f"committed: krew-manifest.yaml for v{version} (sha256 {done.sha256})")
    return [
        "make test",
        "git push origin HEAD",
        f"git tag -a v{version} -m v{version} && git push origin v{version}",
    ]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if len(args) == 2 and args[0] == "notes":
            sys.stdout.write(notes(args[1]))
            return 0
        if len(args) != 1 or not args[0]:
            print(__doc__, file=sys.stderr)
            return 2
        remaining = release(args[0], datetime.date.today())
    except (ReleaseError, build.BuildError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"error: {' '.join(exc.cmd)}: {exc.stderr.strip()}", file=sys.stderr)
        return 1
    print("Left to do (the tag's workflow tests, builds and publishes):")
    for command in remaining:
        print(f"  {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
