"""What a command went on without: one `warning: ...` line on stderr per distinct text.

A piece that is decoration, not the answer (UP-TO-DATE, events, sidecar state), may be
unreadable where the user lacks a permission; the command shows the rest and says here,
once, what is missing and which permission would fill it in.
"""

from __future__ import annotations

import sys
import threading

_said: set[str] = set()
_lock = threading.Lock()


def warn(text: str) -> None:
    """Write `warning: text` on stderr, unless this process already did."""
    with _lock:
        if text in _said:
            return
        _said.add(text)
    sys.stderr.write(f"warning: {text}\n")


# How a refusal by RBAC reads in a source's reason (kube.client's wording for a 403).
_REFUSED = "forbidden: cannot "


def sources_refused(reasons: list[str]) -> None:
    """When `--proxy-status auto` found no source and a permission is why (pods in the
    istio namespace cannot be listed, or their pods/proxy read), warn once with every
    reason; a cluster without istiod or istioctl stays quiet, as before."""
    if any(_REFUSED in reason for reason in reasons):
        warn("sidecar sync state not read: no proxy-status source answered: " + "; ".join(reasons))


def sidecars_unread(reasons: list[str], istio_namespace: str, what: str = "SIDECAR") -> None:
    """When `--proxy-status auto` found no source for a command that shows sync state
    (`list -o wide`, `list --sync`, `status`): the output goes on with `what` as
    `<none>`; say once why, and what would fill it in."""
    why = "; ".join(reasons) if reasons else "neither istiod nor istioctl answered"
    warn(
        f"{what} is <none>: no proxy-status source answered ({why}); to fill it in, let "
        f'istiod be read (list pods and get pods/proxy in namespace "{istio_namespace}"), '
        "put istioctl on PATH, or pass --proxy-status file:PATH with saved "
        "istioctl proxy-status output"
    )
