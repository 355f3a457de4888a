"""What is installed beside the plugin, read from package metadata.

`importlib.metadata` is dear to import and the commands that reach a cluster do not
need it (kube/lazy.py keeps it off their path): only `kubectl war version` asks.
"""

from __future__ import annotations

from importlib.metadata import version


def client_version() -> str:
    """The installed kubernetes client's version, without importing the client."""
    try:
        return version("kubernetes")
    except Exception:
        return "unknown"
