"""Sidecar sync state: read `istioctl proxy-status`, istiod's syncz and CSDS output into
one record per proxy (`records`), from the source `--proxy-status` names (`sources`),
and join those records with the WARs (`join`).

Modules: `records` (record, states, shared rules), `istioctl_text`, `syncz`, `csds`
(one reader per format), `json_shape` (shape checks for the JSON readers), `autodetect`
(any format), `limits` (size and line caps), `sources`, `join`. Nothing is imported
here: importing the package stays free for commands that never read sidecars.
"""
