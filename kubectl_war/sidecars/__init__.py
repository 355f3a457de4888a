"""Sidecar sync state: read `istioctl proxy-status`, istiod's syncz and CSDS output into
one record per proxy (`records`), from the source `--proxy-status` names (`sources`),
and join those records with the WARs (`join`).

Modules: `records` (record, states, shared rules), `istioctl_text`, `syncz`, `csds`
(one reader per format), `json_shape` (shape checks for the JSON readers), `autodetect`
(any format), `limits` (size and line caps), `sources`, `join`. Importing the package
stays free for commands that never read sidecars: the names below load `sources` (and
with it every reader) when one of them is first asked for, as `list` does only when a
`--proxy-status` source is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubectl_war.onuse import names_loaded_on_use

if TYPE_CHECKING:
    from kubectl_war.sidecars.sources import SidecarError, Unanswered, open_source

__all__ = ["SidecarError", "Unanswered", "open_source"]


__getattr__ = names_loaded_on_use(__name__, globals(), dict.fromkeys(__all__, "sources"))
