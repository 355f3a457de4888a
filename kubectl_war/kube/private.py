"""Every private part of the kubernetes client (and urllib3) that the kube package leans on.

The client has no public way to refresh credentials the way kubectl does, to merge
KUBECONFIG files by kubectl's rules, or to send a request without its model layer, so
kube/auth.py, kube/config.py, kube/client.py and kube/lazy.py use a few of its
private parts. Each is named here once; `missing()` says which ones an installed client
lacks, and tests/test_client_private.py fails with that list, so a new client release
that drops one is caught by the test suite rather than by a user.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kubectl_war.kube.lazy import load

if TYPE_CHECKING:
    from urllib3._collections import HTTPHeaderDict

#: (module, attribute path on the module) of each private or undocumented part used.
CLASS_PARTS: tuple[tuple[str, str], ...] = (
    # kube/auth.py: the loader's own steps, overridden to get credentials as kubectl does.
    ("kubernetes.config.kube_config", "KubeConfigLoader._load_authentication"),
    ("kubernetes.config.kube_config", "KubeConfigLoader._load_user_token"),
    ("kubernetes.config.kube_config", "KubeConfigLoader._load_from_exec_plugin"),
    ("kubernetes.config.kube_config", "KubeConfigLoader._load_oid_token"),
    ("kubernetes.config.kube_config", "KubeConfigLoader.load_and_set"),
    ("kubernetes.config.kube_config", "FileOrData"),
    ("kubernetes.config.kube_config", "KubeConfigMerger"),
    ("kubernetes.config.dateutil", "parse_rfc3339"),
    # kube/client.py: a request put on the client's pool with its credentials.
    ("kubernetes.client.api_client", "ApiClient.update_params_for_auth"),
    ("kubernetes.client.exceptions", "ApiException"),
)

#: Attributes that exist only on instances: (what, attribute) checked by `missing()` on
#: objects it builds from a one-context kubeconfig.
INSTANCE_PARTS: tuple[tuple[str, str], ...] = (
    # kube/config.py: the configuration's refresh hook and cluster settings.
    ("Configuration", "refresh_api_key_hook"),
    ("Configuration", "tls_server_name"),
    ("KubeConfigLoader", "_user"),
    ("KubeConfigLoader", "_cluster"),
    ("KubeConfigLoader", "_current_context"),
    ("KubeConfigLoader", "_temp_file_path"),
    ("KubeConfigLoader", "_config_persister"),
    ("KubeConfigMerger", "paths"),
    ("KubeConfigMerger", "config"),
    ("KubeConfigMerger", "config_files"),
    ("KubeConfigMerger", "config_saved"),
    ("ApiClient", "rest_client"),
    ("ApiClient", "default_headers"),
    ("ApiClient", "cookie"),
    ("RESTClientObject", "pool_manager"),
)


def header_dict() -> type[HTTPHeaderDict]:
    """urllib3's HTTPHeaderDict (a header name may repeat): public in urllib3 2, in a
    private module before."""
    import urllib3  # the kubernetes client loads on first use

    public: type[HTTPHeaderDict] | None = getattr(urllib3, "HTTPHeaderDict", None)
    if public is not None:
        return public
    from urllib3._collections import HTTPHeaderDict  # urllib3 1.26

    return HTTPHeaderDict


def missing(kubeconfig_path: str) -> list[str]:
    """The private parts the installed client lacks, each as `module: attribute`.

    Args:
        kubeconfig_path: a kubeconfig file with one context, to build instances from.
    """
    load()
    absent: list[str] = []
    for module_name, path in CLASS_PARTS:
        try:
            obj: Any = importlib.import_module(module_name)
            for part in path.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError):
            absent.append(f"{module_name}: {path}")
    absent += _missing_on_instances(kubeconfig_path)
    return absent


def _missing_on_instances(kubeconfig_path: str) -> list[str]:
    # the kubernetes client loads on first use
    from kubernetes.client.api_client import ApiClient
    from kubernetes.client.configuration import Configuration
    from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

    merger = KubeConfigMerger(kubeconfig_path)
    loader = KubeConfigLoader(config_dict=merger.config, config_base_path=None)
    loader.set_active_context(None)
    client = ApiClient(Configuration())
    objects = {
        "Configuration": Configuration(),
        "KubeConfigLoader": loader,
        "KubeConfigMerger": merger,
        "ApiClient": client,
        "RESTClientObject": client.rest_client,
    }
    return [
        f"{type(objects[what]).__module__}: {what} instance .{attr}"
        for what, attr in INSTANCE_PARTS
        if not hasattr(objects[what], attr)
    ]
