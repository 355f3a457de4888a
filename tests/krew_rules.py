"""krew's manifest rules, written as our own checks (domain.md §6).

`manifest_errors` answers every rule a manifest breaks, as readable sentences, so a
test can assert an empty list and a failure says what to fix. `selectors_overlap`
decides whether two platform selectors can both match one os/arch pair.
"""

from __future__ import annotations

import itertools
import re
import tarfile
from collections.abc import Iterable, Mapping
from typing import Any

API_VERSION = "krew.googlecontainertools.github.com/v1alpha2"
NAME = re.compile(r"^[\w-]+$")
# v + three numeric parts, optionally -prerelease and +build (semver with a v).
VERSION = re.compile(
    r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
)
SHA256 = re.compile(r"^[0-9a-f]{64}$")
SELECTOR_KEYS = {"os", "arch"}
SHORT_DESCRIPTION_MAX = 50

#: Platforms krew installs on, for the overlap check; values a selector names are added.
KNOWN_OS = ("linux", "darwin", "windows", "freebsd")
KNOWN_ARCH = ("amd64", "arm64", "386", "arm", "ppc64le", "s390x")


def manifest_errors(manifest: Any) -> list[str]:
    """Every krew validator rule `manifest` (parsed YAML) breaks; [] when valid."""
    if not isinstance(manifest, Mapping):
        return ["the manifest is not a mapping"]
    errors = []
    if manifest.get("apiVersion") != API_VERSION:
        errors.append(f"apiVersion must be {API_VERSION}, not {manifest.get('apiVersion')!r}")
    if manifest.get("kind") != "Plugin":
        errors.append(f"kind must be Plugin, not {manifest.get('kind')!r}")
    name = (manifest.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not NAME.match(name):
        errors.append(f"metadata.name {name!r} does not match {NAME.pattern}")
    spec = manifest.get("spec")
    if not isinstance(spec, Mapping):
        return [*errors, "spec is missing"]

    short = spec.get("shortDescription")
    if not isinstance(short, str) or not short.strip():
        errors.append("spec.shortDescription is empty")
    else:
        if "\n" in short.strip():
            errors.append("spec.shortDescription spans several lines")
        if len(short.strip()) > SHORT_DESCRIPTION_MAX:
            errors.append(
                f"spec.shortDescription has {len(short.strip())} characters "
                f"(at most {SHORT_DESCRIPTION_MAX})"
            )
    version = spec.get("version")
    if not isinstance(version, str) or not VERSION.match(version):
        errors.append(f"spec.version {version!r} is not v<major>.<minor>.<patch>")

    platforms = spec.get("platforms")
    if not isinstance(platforms, list) or not platforms:
        return [*errors, "spec.platforms is empty"]
    for i, platform in enumerate(platforms):
        errors += [f"spec.platforms[{i}]: {e}" for e in platform_errors(platform)]
    for (i, a), (j, b) in itertools.combinations(enumerate(platforms), 2):
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            overlap = selectors_overlap(a.get("selector"), b.get("selector"))
            if overlap:
                errors.append(
                    f"spec.platforms[{i}] and [{j}] both match os={overlap[0]} arch={overlap[1]}"
                )
    return errors


def platform_errors(platform: Any) -> list[str]:
    if not isinstance(platform, Mapping):
        return ["not a mapping"]
    errors = []
    uri = platform.get("uri")
    if not isinstance(uri, str) or not uri.strip():
        errors.append("uri is empty")
    sha = platform.get("sha256")
    if not isinstance(sha, str) or not SHA256.match(sha):
        errors.append(f"sha256 {sha!r} is not 64 lower-case hex digits")
    bin_ = platform.get("bin")
    if not isinstance(bin_, str) or not bin_.strip():
        errors.append("bin is empty")
    errors += selector_errors(platform.get("selector"))
    if "files" in platform and platform["files"] is not None:
        files = platform["files"]
        if not isinstance(files, list) or not files:
            errors.append("files is given but empty")
        else:
            for k, entry in enumerate(files):
                if not isinstance(entry, Mapping) or not entry.get("from") or not entry.get("to"):
                    errors.append(f"files[{k}] needs both from and to")
    return errors


def selector_errors(selector: Any) -> list[str]:
    if not isinstance(selector, Mapping):
        return ["selector is missing"]
    labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not labels and not expressions:
        return ["selector is empty"]
    errors = []
    keys = list(labels) + [e.get("key") for e in expressions if isinstance(e, Mapping)]
    for key in keys:
        if key not in SELECTOR_KEYS:
            errors.append(f"selector key {key!r} is neither os nor arch")
    for expr in expressions:
        if not isinstance(expr, Mapping) or expr.get("operator") not in (
            "In",
            "NotIn",
            "Exists",
            "DoesNotExist",
        ):
            errors.append(f"selector expression {expr!r} has no valid operator")
    return errors


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Kubernetes LabelSelector semantics: all matchLabels and all expressions hold."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _named_values(selectors: Iterable[Any], key: str) -> set[str]:
    named: set[str] = set()
    for sel in selectors:
        if not isinstance(sel, Mapping):
            continue
        value = (sel.get("matchLabels") or {}).get(key)
        if isinstance(value, str):
            named.add(value)
        for expr in sel.get("matchExpressions") or []:
            if isinstance(expr, Mapping) and expr.get("key") == key:
                named.update(v for v in expr.get("values") or [] if isinstance(v, str))
    return named


def selectors_overlap(a: Any, b: Any) -> tuple[str, str] | None:
    """An (os, arch) both selectors match, or None when they are disjoint."""
    if selector_errors(a) or selector_errors(b):
        return None  # reported as malformed instead
    oses = sorted(set(KNOWN_OS) | _named_values((a, b), "os"))
    arches = sorted(set(KNOWN_ARCH) | _named_values((a, b), "arch"))
    for os_, arch in itertools.product(oses, arches):
        labels = {"os": os_, "arch": arch}
        if selector_matches(a, labels) and selector_matches(b, labels):
            return (os_, arch)
    return None


def archive_errors(path: str, bins: Iterable[str]) -> list[str]:
    """krew's archive rules: a LICENSE file, and every platform's `bin` inside."""
    with tarfile.open(path, "r:gz") as tar:
        names = {m.name.lstrip("./") for m in tar.getmembers() if m.isfile()}
    errors = []
    if not any(n.rsplit("/", 1)[-1].upper().startswith("LICENSE") for n in names):
        errors.append("the archive holds no LICENSE file")
    for b in bins:
        if b.lstrip("./") not in names:
            errors.append(f"bin {b!r} is not in the archive")
    return errors
