"""The private parts of the kubernetes client that kube/ uses are all there.

kube/private.py names each one; a client release that drops or renames one fails here,
naming it, rather than in a user's cluster.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kubectl_war.kube import private
from tests import factories as f


def test_the_installed_client_has_every_private_part_the_kube_package_uses(
    tmp_path: Path,
) -> None:
    kc = f.kubeconfig_file(tmp_path / "kc", "https://127.0.0.1:6443")
    lacking = private.missing(kc)
    assert lacking == [], (
        f"kubernetes {_version()} lacks private parts kubectl-war uses "
        f"(kubectl_war/kube/private.py): {', '.join(lacking)}"
    )


def test_a_part_the_client_lacks_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kc = f.kubeconfig_file(tmp_path / "kc", "https://127.0.0.1:6443")
    gone = ("kubernetes.config.kube_config", "KubeConfigLoader._gone")
    monkeypatch.setattr(private, "CLASS_PARTS", (*private.CLASS_PARTS, gone))
    monkeypatch.setattr(private, "INSTANCE_PARTS", (*private.INSTANCE_PARTS, ("ApiClient", "_x")))
    assert private.missing(kc) == [
        "kubernetes.config.kube_config: KubeConfigLoader._gone",
        "kubernetes.client.api_client: ApiClient instance ._x",
    ]


def _version() -> str:
    from kubectl_war.kube.installed import client_version

    return client_version()


def test_the_oldest_client_setup_cfg_allows_is_the_one_make_test_checks() -> None:
    """`make test` runs the client layer against the zipapp's pinned client (and the
    whole suite against the venv's newest): setup.cfg may allow nothing older."""
    import configparser
    import re

    root = Path(__file__).resolve().parent.parent
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg")
    requires = cfg["options"]["install_requires"]
    floor = re.search(r"^\s*kubernetes>=([\d.]+)", requires, re.M)
    pin = re.search(
        r"^kubernetes==([\d.]+)", (root / "release" / "zipapp-requirements.in").read_text(), re.M
    )
    assert floor and pin
    assert tuple(map(int, floor.group(1).split("."))) == tuple(
        map(int, pin.group(1).split(".")[: len(floor.group(1).split("."))])
    )
