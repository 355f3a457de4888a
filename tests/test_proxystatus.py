"""Sidecar sync status from istioctl proxy-status (every era), istiod syncz and CSDS JSON."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_war.errors import WarError
from kubectl_war.sidecars.autodetect import parse_any
from kubectl_war.sidecars.csds import parse_csds
from kubectl_war.sidecars.istioctl_text import parse_text
from kubectl_war.sidecars.records import (
    ERROR,
    IGNORED,
    MISSING,
    NOT_SENT,
    STALE,
    STALE_NEVER_ACKNOWLEDGED,
    SYNCED,
    UNKNOWN,
    ProxyStatusError,
    ProxySync,
    SyncState,
    merge,
    short_type,
)
from kubectl_war.sidecars.syncz import parse_syncz

# Every state istiod can report (MISSING is the join's word for a proxy none reports).
STATES = tuple(state for state in SyncState if state is not MISSING)

FIXTURES = Path(__file__).parent / "fixtures" / "proxystatus"

EC2 = "ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0.bookinfo"
ECS_TASK = "3a151358f03a4e32bf8cd401c1c74653"
ECS = f"ratings-aws-aws-123456789012-us-east-1a-ecs-bookinfo-{ECS_TASK}.bookinfo"
JWT = "ratings-jwt-my-corp--vm007-datacenter1-us-east.internal.corp.bookinfo"
NA = STALE_NEVER_ACKNOWLEDGED


def tabwrite(rows: list[list[str]]) -> str:
    """What Go's text/tabwriter prints for tab-separated lines with istioctl's settings.

    istioctl uses Init(w, minwidth 0, tabwidth 8, padding 5, ' ', flags 0): every cell but
    a line's last is left-aligned and padded to the widest cell of its column plus 5.
    """
    widths = [max(len(row[i]) for row in rows) + 5 for i in range(len(rows[0]) - 1)]
    lines = ("".join(c.ljust(w) for c, w in zip(row, widths)) + row[-1] for row in rows)
    return "".join(line + "\n" for line in lines)


def sync(
    proxy: str,
    cluster: str | None,
    istiod: str | None,
    version: str | None,
    *,
    mismatch: bool = False,
    details: dict[str, str] | None = None,
    **types: str,
) -> ProxySync:
    return ProxySync(proxy, cluster, istiod, version, types, mismatch, details or {})


# --- fixtures: the cells istioctl put in each table, and what must come out ----------------

PILOT_10 = "istio-pilot-75bdf98789-n2kqh"
PILOT_12A, PILOT_12B = "istio-pilot-6d4b9c7d8f-2xkqz", "istio-pilot-6d4b9c7d8f-9wmfj"
ISTIOD_15 = "istiod-6cf7d5d9f-xkq9z"
ISTIOD_19A, ISTIOD_19B = "istiod-6449df9b98-prvqd", "istiod-6449df9b98-gq5tn"
ISTIOD_114A, ISTIOD_114B = "istiod-7d4c9b6f5b-2m9zr", "istiod-7d4c9b6f5b-tx4kd"
ISTIOD_124A, ISTIOD_124B = "istiod-5c4d8bd8c5-8tmvq", "istiod-5c4d8bd8c5-j2p6w"
ISTIOD_127 = "istiod-7b69f4c9d5-6wz2m"
V19 = "1.9.8-15bc6e5e32"

# Cell spellings, short so each row fits on a line.
S, NS, ST, SNA, IG = "SYNCED", "NOT SENT", "STALE", "STALE (Never Acknowledged)", "IGNORED"
U = UNKNOWN

# fmt: off

# Istio 1.0: PROXY header, EDS carries the endpoint percentage, a bare STALE, and VERSION
# is the proxy version (empty when the proxy did not report one).
DETAILS_10 = "details-v1-6865b9b99d-mnxbt.bookinfo"
EGRESS_10 = "istio-egressgateway-5c8d8c6b5c-9xg2k.istio-system"
PRODUCTPAGE_10 = "productpage-v1-f8c8fb8-wkzsn.bookinfo"
CELLS_10 = [
    ["PROXY", "CDS", "LDS", "EDS", "RDS", "PILOT", "VERSION"],
    [DETAILS_10, S, S, "SYNCED (100%)", S, PILOT_10, "1.0.2"],
    [EGRESS_10, S, S, "SYNCED (100%)", NS, PILOT_10, "1.0.2"],
    [PRODUCTPAGE_10, ST, S, "SYNCED (50%)", S, PILOT_10, "1.0.2"],
    [JWT, S, NS, "NOT SENT (0%)", NS, PILOT_10, ""],
]
EXPECTED_10 = [
    sync(DETAILS_10, None, PILOT_10, "1.0.2", details={"EDS": "100%"},
         CDS=S, LDS=S, EDS=S, RDS=S),
    sync(EGRESS_10, None, PILOT_10, "1.0.2", details={"EDS": "100%"},
         CDS=S, LDS=S, EDS=S, RDS=NOT_SENT),
    sync(PRODUCTPAGE_10, None, PILOT_10, "1.0.2", details={"EDS": "50%"},
         CDS=STALE, LDS=S, EDS=S, RDS=S),
    sync(JWT, None, PILOT_10, None, details={"EDS": "0%"},
         CDS=S, LDS=NOT_SENT, EDS=NOT_SENT, RDS=NOT_SENT),
]

# Istio 1.2: NAME header; STALE shows the lag between sent and acknowledged nonces; `*`
# marks a proxy (here a 1.1 one) that reported no Istio version.
DETAILS_12 = "details-v1-5544dc4896-5fgqk.bookinfo"
INGRESS_12 = "istio-ingressgateway-6b7f8c5d9c-k4xv7.istio-system"
PRODUCTPAGE_12 = "productpage-v1-7f9d9c8b5d-mzv6q.bookinfo"
CELLS_12 = [
    ["NAME", "CDS", "LDS", "EDS", "RDS", "PILOT", "VERSION"],
    [DETAILS_12, S, S, "SYNCED (100%)", S, PILOT_12A, "1.2.2"],
    [INGRESS_12, S, S, "SYNCED (100%)", NS, PILOT_12B, "1.2.2"],
    [PRODUCTPAGE_12, "STALE (1m2.034s)", S, "SYNCED (100%)", SNA, PILOT_12A, "1.2.2"],
    [EC2, S, S, "STALE (Never Acknowledged) (50%)", S, PILOT_12B, "1.1.3*"],
]
EXPECTED_12 = [
    sync(DETAILS_12, None, PILOT_12A, "1.2.2", details={"EDS": "100%"},
         CDS=S, LDS=S, EDS=S, RDS=S),
    sync(INGRESS_12, None, PILOT_12B, "1.2.2", details={"EDS": "100%"},
         CDS=S, LDS=S, EDS=S, RDS=NOT_SENT),
    sync(PRODUCTPAGE_12, None, PILOT_12A, "1.2.2", details={"CDS": "1m2.034s", "EDS": "100%"},
         CDS=STALE, LDS=S, EDS=S, RDS=NA),
    sync(EC2, None, PILOT_12B, "1.1.3", mismatch=True, details={"EDS": "50%"},
         CDS=S, LDS=S, EDS=NA, RDS=S),
]

# Istio 1.5: istiod, still under a PILOT header; a lone `*` when the proxy reported no
# version at all (1.5 no longer passes the proxy version on).
DETAILS_15 = "details-v1-78d78fbddf-tj56d.bookinfo"
INGRESS_15 = "istio-ingressgateway-85d8fdc8cd-7l6gm.istio-system"
CELLS_15 = [
    ["NAME", "CDS", "LDS", "EDS", "RDS", "PILOT", "VERSION"],
    [DETAILS_15, S, S, S, S, ISTIOD_15, "1.5.0"],
    [INGRESS_15, S, S, S, NS, ISTIOD_15, "1.5.0"],
    [ECS, S, S, S, SNA, ISTIOD_15, "*"],
    [JWT, NS, NS, NS, NS, ISTIOD_15, "1.5.0"],
]
EXPECTED_15 = [
    sync(DETAILS_15, None, ISTIOD_15, "1.5.0", CDS=S, LDS=S, EDS=S, RDS=S),
    sync(INGRESS_15, None, ISTIOD_15, "1.5.0", CDS=S, LDS=S, EDS=S, RDS=NOT_SENT),
    sync(ECS, None, ISTIOD_15, None, mismatch=True, CDS=S, LDS=S, EDS=S, RDS=NA),
    sync(JWT, None, ISTIOD_15, "1.5.0", CDS=NOT_SENT, LDS=NOT_SENT, EDS=NOT_SENT, RDS=NOT_SENT),
]

# The TSB guide's own example (Istio 1.9), verbatim.
CELLS_19_SEED = [
    ["NAME", "CDS", "LDS", "EDS", "RDS", "ISTIOD", "VERSION"],
    [EC2, S, S, S, S, ISTIOD_19A, V19],
]
EXPECTED_19_SEED = [sync(EC2, None, ISTIOD_19A, V19, CDS=S, LDS=S, EDS=S, RDS=S)]

# Istio 1.9 with more going on: two istiods, every state syncz can produce.
DETAILS_19 = "details-v1-79f774bdb9-hh4mq.bookinfo"
EGRESS_19 = "istio-egressgateway-7b8c9d6f5d-4lq2w.istio-system"
CELLS_19 = [
    ["NAME", "CDS", "LDS", "EDS", "RDS", "ISTIOD", "VERSION"],
    [DETAILS_19, S, S, S, S, ISTIOD_19A, V19],
    [EGRESS_19, S, S, S, NS, ISTIOD_19B, V19],
    [EC2, S, S, S, S, ISTIOD_19A, V19],
    [ECS, ST, S, S, S, ISTIOD_19B, "*"],
    [JWT, S, S, SNA, S, ISTIOD_19A, V19],
]
EXPECTED_19 = [
    sync(DETAILS_19, None, ISTIOD_19A, V19, CDS=S, LDS=S, EDS=S, RDS=S),
    sync(EGRESS_19, None, ISTIOD_19B, V19, CDS=S, LDS=S, EDS=S, RDS=NOT_SENT),
    sync(EC2, None, ISTIOD_19A, V19, CDS=S, LDS=S, EDS=S, RDS=S),
    sync(ECS, None, ISTIOD_19B, None, mismatch=True, CDS=STALE, LDS=S, EDS=S, RDS=S),
    sync(JWT, None, ISTIOD_19A, V19, CDS=S, LDS=S, EDS=NA, RDS=S),
]

# Istio 1.14: CLUSTER and ECDS columns, rows sorted by cluster then name, so the VMs with
# no cluster ID come first; ECDS reads NOT SENT for every proxy without extension configs.
DETAILS_114 = "details-v1-7d88846999-p6mbn.bookinfo"
INGRESS_114 = "istio-ingressgateway-6bb8fb6549-x7ltw.istio-system"
PRODUCTPAGE_114 = "productpage-v1-66756cddfd-zr9ds.bookinfo"
REVIEWS_114 = "reviews-v2-6f8b9c5d7f-4n6xq.bookinfo"
K8S = "Kubernetes"
CELLS_114 = [
    ["NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ECDS", "ISTIOD", "VERSION"],
    [EC2, "", S, S, S, S, NS, ISTIOD_114A, "1.14.3"],
    [JWT, "", S, S, SNA, S, NS, ISTIOD_114B, "*"],
    [DETAILS_114, K8S, S, S, S, S, NS, ISTIOD_114A, "1.14.3"],
    [INGRESS_114, K8S, S, S, S, NS, NS, ISTIOD_114B, "1.14.3"],
    [PRODUCTPAGE_114, K8S, ST, S, S, S, NS, ISTIOD_114A, "1.14.3"],
    [REVIEWS_114, K8S, NS, NS, NS, NS, NS, ISTIOD_114B, "1.14.3"],
]
EXPECTED_114 = [
    sync(EC2, None, ISTIOD_114A, "1.14.3", CDS=S, LDS=S, EDS=S, RDS=S, ECDS=NS),
    sync(JWT, None, ISTIOD_114B, None, mismatch=True, CDS=S, LDS=S, EDS=NA, RDS=S, ECDS=NS),
    sync(DETAILS_114, K8S, ISTIOD_114A, "1.14.3", CDS=S, LDS=S, EDS=S, RDS=S, ECDS=NS),
    sync(INGRESS_114, K8S, ISTIOD_114B, "1.14.3", CDS=S, LDS=S, EDS=S, RDS=NS, ECDS=NS),
    sync(PRODUCTPAGE_114, K8S, ISTIOD_114A, "1.14.3", CDS=ST, LDS=S, EDS=S, RDS=S, ECDS=NS),
    sync(REVIEWS_114, K8S, ISTIOD_114B, "1.14.3", CDS=NS, LDS=NS, EDS=NS, RDS=NS, ECDS=NS),
]

# Istio 1.24: built from CSDS; types a proxy does not watch read IGNORED, and every sent
# state carries the time since istiod last pushed it. VERSION may be empty.
DETAILS_124 = "details-v1-65cfcf56f9-zq9vs.bookinfo"
INGRESS_124 = "istio-ingressgateway-7f8878d8b7-2lq7x.istio-system"
PRODUCTPAGE_124 = "productpage-v1-d5789fdfb-7bl9t.bookinfo"
ZTUNNEL_124 = "ztunnel-4xqk2.istio-system"
S3M8, S2D3H = "SYNCED (3m8s)", "SYNCED (2d3h)"
CELLS_124 = [
    ["NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ECDS", "ISTIOD", "VERSION"],
    [DETAILS_124, K8S, S3M8, S3M8, "SYNCED (3m7s)", S3M8, IG, ISTIOD_124A, "1.24.1"],
    [INGRESS_124, K8S, "SYNCED (47h)", "SYNCED (47h)", "SYNCED (12m)", NS, IG, ISTIOD_124B,
     "1.24.1"],
    [PRODUCTPAGE_124, K8S, S3M8, "ERROR (41s)", S3M8, S3M8, S3M8, ISTIOD_124A, "1.24.1"],
    [EC2, "", S2D3H, S2D3H, "STALE (8s)", S2D3H, IG, ISTIOD_124B, "1.23.4"],
    [JWT, "", "STALE (5m12s)", NS, IG, IG, IG, ISTIOD_124A, ""],
    [ZTUNNEL_124, K8S, IG, IG, IG, IG, IG, ISTIOD_124B, "1.24.1"],
]
EXPECTED_124 = [
    sync(DETAILS_124, K8S, ISTIOD_124A, "1.24.1",
         details={"CDS": "3m8s", "LDS": "3m8s", "EDS": "3m7s", "RDS": "3m8s"},
         CDS=S, LDS=S, EDS=S, RDS=S, ECDS=IG),
    sync(INGRESS_124, K8S, ISTIOD_124B, "1.24.1",
         details={"CDS": "47h", "LDS": "47h", "EDS": "12m"},
         CDS=S, LDS=S, EDS=S, RDS=NS, ECDS=IG),
    sync(PRODUCTPAGE_124, K8S, ISTIOD_124A, "1.24.1",
         details={"CDS": "3m8s", "LDS": "41s", "EDS": "3m8s", "RDS": "3m8s", "ECDS": "3m8s"},
         CDS=S, LDS=ERROR, EDS=S, RDS=S, ECDS=S),
    sync(EC2, None, ISTIOD_124B, "1.23.4",
         details={"CDS": "2d3h", "LDS": "2d3h", "EDS": "8s", "RDS": "2d3h"},
         CDS=S, LDS=S, EDS=ST, RDS=S, ECDS=IG),
    sync(JWT, None, ISTIOD_124A, None, details={"CDS": "5m12s"},
         CDS=ST, LDS=NS, EDS=IG, RDS=IG, ECDS=IG),
    sync(ZTUNNEL_124, K8S, ISTIOD_124B, "1.24.1", CDS=IG, LDS=IG, EDS=IG, RDS=IG, ECDS=IG),
]

# Istio 1.27: the default table names the subscribed types only (CDS, LDS, EDS, RDS first,
# then the rest by type URL), not their states.
DETAILS_127 = "details-v1-77b775f46-fwz6c.bookinfo"
PRODUCTPAGE_127 = "productpage-v1-54bb874995-h2jtm.bookinfo"
REVIEWS_127 = "reviews-v1-5c4d6d447-8pmxd.bookinfo"
ZTUNNEL_127 = "ztunnel-8x7kp.istio-system"
CELLS_127 = [
    ["NAME", "CLUSTER", "ISTIOD", "VERSION", "SUBSCRIBED TYPES"],
    [DETAILS_127, K8S, ISTIOD_127, "1.27.1", "4 (CDS,LDS,EDS,RDS)"],
    [PRODUCTPAGE_127, K8S, ISTIOD_127, "1.27.1", "5 (CDS,LDS,EDS,RDS,ECDS)"],
    [EC2, "", ISTIOD_127, "1.26.3", "4 (CDS,LDS,EDS,RDS)"],
    [JWT, "", ISTIOD_127, "", "2 (CDS,LDS)"],
    [REVIEWS_127, K8S, ISTIOD_127, "1.27.1", "0"],
    [ZTUNNEL_127, K8S, ISTIOD_127, "1.27.1", "2 (WADS,WDS)"],
]
EXPECTED_127 = [
    sync(DETAILS_127, K8S, ISTIOD_127, "1.27.1", CDS=U, LDS=U, EDS=U, RDS=U),
    sync(PRODUCTPAGE_127, K8S, ISTIOD_127, "1.27.1", CDS=U, LDS=U, EDS=U, RDS=U, ECDS=U),
    sync(EC2, None, ISTIOD_127, "1.26.3", CDS=U, LDS=U, EDS=U, RDS=U),
    sync(JWT, None, ISTIOD_127, None, CDS=U, LDS=U),
    sync(REVIEWS_127, K8S, ISTIOD_127, "1.27.1"),
    sync(ZTUNNEL_127, K8S, ISTIOD_127, "1.27.1", WADS=U, WDS=U),
]

# Istio 1.27 with --verbosity 1: a column per type, ordered by type URL (so ECDS sits
# between CDS and EDS), IGNORED for types a proxy does not watch.
S6M = "SYNCED (6m1s)"
S20H = "SYNCED (20h)"
CELLS_127_VERBOSE = [
    ["NAME", "CLUSTER", "CDS", "ECDS", "EDS", "LDS", "RDS", "WADS", "WDS", "ISTIOD", "VERSION"],
    [DETAILS_127, K8S, S6M, IG, S6M, S6M, S6M, IG, IG, ISTIOD_127, "1.27.1"],
    [PRODUCTPAGE_127, K8S, S6M, "STALE (2s)", S6M, S6M, S6M, IG, IG, ISTIOD_127, "1.27.1"],
    [EC2, "", S20H, IG, S20H, S20H, S20H, IG, IG, ISTIOD_127, "1.26.3"],
    [JWT, "", "SYNCED (9s)", IG, IG, NS, IG, IG, IG, ISTIOD_127, ""],
    [ZTUNNEL_127, K8S, IG, IG, IG, IG, IG, "SYNCED (5m)", "SYNCED (5m)", ISTIOD_127, "1.27.1"],
]
ALL_IGNORED = {t: IG for t in ("CDS", "ECDS", "EDS", "LDS", "RDS", "WADS", "WDS")}
SIDECAR_127 = {**ALL_IGNORED, "CDS": S, "EDS": S, "LDS": S, "RDS": S}
EXPECTED_127_VERBOSE = [
    sync(DETAILS_127, K8S, ISTIOD_127, "1.27.1",
         details={"CDS": "6m1s", "EDS": "6m1s", "LDS": "6m1s", "RDS": "6m1s"}, **SIDECAR_127),
    sync(PRODUCTPAGE_127, K8S, ISTIOD_127, "1.27.1",
         details={"CDS": "6m1s", "ECDS": "2s", "EDS": "6m1s", "LDS": "6m1s", "RDS": "6m1s"},
         **{**SIDECAR_127, "ECDS": ST}),
    sync(EC2, None, ISTIOD_127, "1.26.3",
         details={"CDS": "20h", "EDS": "20h", "LDS": "20h", "RDS": "20h"}, **SIDECAR_127),
    sync(JWT, None, ISTIOD_127, None, details={"CDS": "9s"},
         **{**ALL_IGNORED, "CDS": S, "LDS": NS}),
    sync(ZTUNNEL_127, K8S, ISTIOD_127, "1.27.1", details={"WADS": "5m", "WDS": "5m"},
         **{**ALL_IGNORED, "WADS": S, "WDS": S}),
]

# fmt: on

TEXT_FIXTURES = {
    "istio-1.0.txt": (CELLS_10, EXPECTED_10),
    "istio-1.2.txt": (CELLS_12, EXPECTED_12),
    "istio-1.5.txt": (CELLS_15, EXPECTED_15),
    "istio-1.9-seed.txt": (CELLS_19_SEED, EXPECTED_19_SEED),
    "istio-1.9.txt": (CELLS_19, EXPECTED_19),
    "istio-1.14.txt": (CELLS_114, EXPECTED_114),
    "istio-1.24.txt": (CELLS_124, EXPECTED_124),
    "istio-1.27.txt": (CELLS_127, EXPECTED_127),
    "istio-1.27-verbose.txt": (CELLS_127_VERBOSE, EXPECTED_127_VERBOSE),
}


def read_fixture(name: str) -> str:
    # newline="" keeps the bytes as they are, so the fixtures stay byte-exact.
    with open(FIXTURES / name, encoding="utf-8", newline="") as handle:
        return handle.read()


@pytest.mark.parametrize("name", sorted(TEXT_FIXTURES))
def test_fixture_is_byte_for_byte_what_istioctl_prints(name: str) -> None:
    cells, _ = TEXT_FIXTURES[name]
    assert read_fixture(name) == tabwrite(cells)


@pytest.mark.parametrize("name", sorted(TEXT_FIXTURES))
def test_parse_text_reads_every_era(name: str) -> None:
    _, expected = TEXT_FIXTURES[name]
    assert parse_text(read_fixture(name)) == expected


@pytest.mark.parametrize("name", sorted(TEXT_FIXTURES))
def test_parse_any_detects_the_table(name: str) -> None:
    _, expected = TEXT_FIXTURES[name]
    assert parse_any(read_fixture(name)) == expected


def test_seed_example_line_is_the_guides_verbatim() -> None:
    assert read_fixture("istio-1.9-seed.txt").splitlines()[1] == (
        "ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0.bookinfo     SYNCED"
        "     SYNCED     SYNCED     SYNCED     istiod-6449df9b98-prvqd     1.9.8-15bc6e5e32"
    )


@pytest.mark.parametrize(
    ("name", "overall"),
    [
        ("istio-1.0.txt", [SYNCED, SYNCED, STALE, NOT_SENT]),
        ("istio-1.2.txt", [SYNCED, SYNCED, STALE, STALE]),
        ("istio-1.5.txt", [SYNCED, SYNCED, STALE, NOT_SENT]),
        ("istio-1.9.txt", [SYNCED, SYNCED, SYNCED, STALE, STALE]),
        ("istio-1.14.txt", [SYNCED, STALE, SYNCED, SYNCED, STALE, NOT_SENT]),
        ("istio-1.24.txt", [SYNCED, SYNCED, ERROR, STALE, STALE, UNKNOWN]),
        ("istio-1.27.txt", [UNKNOWN] * 6),
        ("istio-1.27-verbose.txt", [SYNCED, STALE, SYNCED, NOT_SENT, SYNCED]),
    ],
)
def test_overall_state_of_each_fixture_row(name: str, overall: list[str]) -> None:
    assert [p.overall for p in parse_text(read_fixture(name))] == overall


# --- text robustness -------------------------------------------------------------------------


def test_windows_line_endings_trailing_spaces_and_blank_lines_are_fine() -> None:
    text = read_fixture("istio-1.14.txt")
    messy = "\r\n\r\n" + "\r\n".join(line + "   " for line in text.split("\n")) + "\r\n\r\n"
    assert parse_text(messy) == EXPECTED_114


def test_byte_order_mark_and_bytes_input_are_read() -> None:
    text = read_fixture("istio-1.9.txt")
    assert parse_text("\ufeff" + text) == EXPECTED_19
    assert parse_any(("\ufeff" + text).encode("utf-8")) == EXPECTED_19


def test_empty_output_and_header_alone_are_no_proxies() -> None:
    assert parse_text("") == []
    assert parse_text("\n  \n") == []
    assert parse_any("") == []
    header = "NAME     CLUSTER     CDS     LDS     EDS     RDS     ECDS     ISTIOD     VERSION\n"
    assert parse_text(header) == []
    assert parse_text("NAME     CLUSTER     ISTIOD     VERSION     SUBSCRIBED TYPES\n") == []


def test_value_longer_than_its_header_widens_the_whole_column() -> None:
    # "STALE (Never Acknowledged)" and "1.20.0*" are wider than CDS and VERSION.
    cells = [
        ["NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ECDS", "ISTIOD", "VERSION"],
        ["a.b", "c", SNA, NS, S, S, S, "i", "1.20.0*"],
    ]
    assert parse_text(tabwrite(cells)) == [
        sync("a.b", "c", "i", "1.20.0", mismatch=True, CDS=NA, LDS=NS, EDS=S, RDS=S, ECDS=S),
    ]


def test_first_istio_1_0_snapshots_had_no_version_column() -> None:
    cells = [
        ["PROXY", "CDS", "LDS", "EDS", "RDS", "PILOT"],
        [DETAILS_10, S, S, "SYNCED (100%)", S, PILOT_10],
    ]
    assert parse_text(tabwrite(cells)) == [
        sync(DETAILS_10, None, PILOT_10, None, details={"EDS": "100%"}, CDS=S, LDS=S, EDS=S, RDS=S),
    ]


def test_experimental_ps_of_1_14_to_1_21_spells_enum_names_and_leaves_blanks() -> None:
    # `istioctl x ps` printed CSDS enum names as they are, and nothing for a type istiod
    # did not report (an older istiod without ECDS).
    cells = [
        ["NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ECDS", "ISTIOD", "VERSION"],
        ["a.ns", "Kubernetes", "SYNCED", "NOT_SENT", "UNKNOWN", "STALE", "", "istiod-1", "1.16.0"],
    ]  # fmt: skip
    (status,) = parse_text(tabwrite(cells))
    assert status.types == {"CDS": SYNCED, "LDS": NOT_SENT, "EDS": UNKNOWN, "RDS": STALE,
                            "ECDS": IGNORED}  # fmt: skip


def test_verbose_header_names_unknown_types_by_url() -> None:
    url = "type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap"
    cells = [
        ["NAME", "CLUSTER", "CDS", url, "ISTIOD", "VERSION"],
        ["a.ns", "k", "SYNCED", "ERROR (1s)", "istiod-1", "1.28.0"],
    ]
    (status,) = parse_text(tabwrite(cells))
    assert status.types == {"CDS": SYNCED, "envoy.config.bootstrap.v3.Bootstrap": ERROR}
    summary = [
        ["NAME", "CLUSTER", "ISTIOD", "VERSION", "SUBSCRIBED TYPES"],
        ["a.ns", "k", "istiod-1", "1.28.0", f"2 (CDS,{url})"],
    ]
    assert parse_text(tabwrite(summary))[0].types == {
        "CDS": UNKNOWN,
        "envoy.config.bootstrap.v3.Bootstrap": UNKNOWN,
    }


def test_outputs_pasted_one_after_another_each_keep_their_own_columns() -> None:
    text = read_fixture("istio-1.9.txt") + "\n" + read_fixture("istio-1.27.txt")
    assert parse_text(text) == EXPECTED_19 + EXPECTED_127


@pytest.mark.parametrize(
    ("cell", "state", "detail"),
    [
        ("SYNCED", SYNCED, None),
        ("SYNCED (100%)", SYNCED, "100%"),
        ("NOT SENT", NOT_SENT, None),
        ("NOT_SENT", NOT_SENT, None),
        ("NOT SENT (0%)", NOT_SENT, "0%"),
        ("STALE", STALE, None),
        ("STALE (350ms)", STALE, "350ms"),
        ("STALE (Never Acknowledged)", NA, None),
        ("STALE (Never Acknowledged) (50%)", NA, "50%"),
        ("STALE (1m2.5s) (100%)", STALE, "1m2.5s, 100%"),
        ("ERROR", ERROR, None),
        ("ERROR (<invalid>)", ERROR, "<invalid>"),
        ("UNKNOWN", UNKNOWN, None),
        ("IGNORED", IGNORED, None),
        ("", IGNORED, None),
    ],
)
def test_every_cell_spelling_istioctl_has_used(cell: str, state: str, detail: str | None) -> None:
    cells = [["NAME", "CDS", "ISTIOD", "VERSION"], ["a.ns", cell, "istiod-1", "1.0"]]
    (status,) = parse_text(tabwrite(cells))
    assert status.types == {"CDS": state}
    assert status.details == ({} if detail is None else {"CDS": detail})


# --- text garbage ------------------------------------------------------------------------------

HEADER_19 = tabwrite(CELLS_19).splitlines()[0]
ROW_19 = tabwrite(CELLS_19).splitlines()[1]


@pytest.mark.parametrize(
    ("text", "line_number", "problem"),
    [
        ("hello world\n", 1, "not an istioctl proxy-status header"),
        ('\n\nError: no running Istio pods in "istio-system"\n', 3, "not an istioctl"),
        ("NAME CDS LDS EDS RDS ISTIOD VERSION\n", 1, "not an istioctl"),  # not tabwriter output
        ("NAME     CDS     ISTIOD     ISTIOD\n", 1, "not an istioctl"),
        ("NAME     STATUS     SENT     ACKNOWLEDGED     PILOT\n", 1, "not an istioctl"),
        ("NAME     CDS     SUBSCRIBED TYPES     ISTIOD\n", 1, "not an istioctl"),
        (HEADER_19 + "\n" + ROW_19[:40] + "\n", 2, "cut short"),
        (HEADER_19 + "\n" + ROW_19 + "\n" + ROW_19[:60] + "\n", 3, "cut short"),
        (HEADER_19 + "\n" + " " + ROW_19 + "\n", 2, "does not line up"),
        (HEADER_19 + "\n" + ROW_19[1:] + "\n", 2, "does not line up"),
        (HEADER_19 + "\n" + ROW_19.replace("SYNCED", "SYNCING", 1) + "\n", 2, "does not line up"),
        (HEADER_19 + "\n" + ROW_19.replace("SYNCED ", "BROKEN ", 1) + "\n", 2, "unknown CDS state"),
        (HEADER_19 + "\n" + ROW_19.replace(V19, "1.9 8") + "\n", 2, "contains a space"),
        (HEADER_19 + "\nsome text\n", 2, "contains a space"),
        (HEADER_19 + "\n\x00\x01\x02binary\n", 2, "control characters"),
        ("NAME     ISTIOD     SUBSCRIBED TYPES\na.b      istiod     3 (CDS)\n", 2, "SUBSCRIBED"),
        ("NAME     ISTIOD     SUBSCRIBED TYPES\na.b      istiod     many\n", 2, "SUBSCRIBED"),
    ],
)
def test_garbage_text_names_the_line(text: str, line_number: int, problem: str) -> None:
    with pytest.raises(ProxyStatusError) as caught:
        parse_text(text)
    assert caught.value.line_number == line_number
    assert caught.value.message.startswith(f"line {line_number}: ")
    assert problem in caught.value.message
    assert isinstance(caught.value, WarError)


def test_error_message_quotes_the_line_truncated() -> None:
    row = ROW_19[: ROW_19.index(ISTIOD_19A)].rstrip()
    with pytest.raises(ProxyStatusError) as caught:
        parse_text(HEADER_19 + "\n" + row + "\n")
    assert caught.value.line == row
    assert caught.value.message == (
        "line 2: row is cut short (no ISTIOD/PILOT value): "
        "'details-v1-79f774bdb9-hh4mq.bookinfo  SYNCED  SYNCED  SYN...'"
    )


def test_binary_input_names_the_line() -> None:
    with pytest.raises(ProxyStatusError, match=r"^line 2: not UTF-8"):
        parse_any(b"NAME\n\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ProxyStatusError, match=r"^line 1: not text"):
        parse_any(b"\x7fELF\x02\x01\x01\x00")


# --- syncz --------------------------------------------------------------------------------------

SYNCZ_19 = [
    sync("details-v1-79f774bdb9-hh4mq.bookinfo", None, "istiod-a", "1.9.8",
         CDS=SYNCED, LDS=SYNCED, EDS=SYNCED, RDS=SYNCED),
    sync("istio-egressgateway-7b8c9d6f5d-4lq2w.istio-system", None, "istiod-a", "1.9.8",
         CDS=SYNCED, LDS=SYNCED, EDS=SYNCED, RDS=NOT_SENT),
    sync(EC2, None, "istiod-a", None, mismatch=True, CDS=STALE, LDS=SYNCED, EDS=SYNCED, RDS=SYNCED),
    sync(JWT, None, "istiod-a", "1.9.8", CDS=SYNCED, LDS=SYNCED, EDS=NA, RDS=SYNCED),
]  # fmt: skip

SYNCZ_124 = [
    sync("details-v1-65cfcf56f9-zq9vs.bookinfo", "Kubernetes", None, "1.24.1",
         CDS=SYNCED, LDS=SYNCED, EDS=SYNCED, RDS=SYNCED, ECDS=IGNORED),
    sync("productpage-v1-d5789fdfb-7bl9t.bookinfo", "Kubernetes", None, "1.24.1",
         details={"LDS": "Proto constraint validation failed (ListenerValidationError.Name: "
                         "value length must be at least 1 characters): name: \"\""},
         CDS=SYNCED, LDS=ERROR, EDS=SYNCED, RDS=SYNCED, ECDS=SYNCED),
    sync(EC2, None, None, "1.23.4",
         CDS=SYNCED, LDS=SYNCED, EDS=STALE, RDS=SYNCED, ECDS=IGNORED),
    sync(JWT, None, None, None, mismatch=True,
         CDS=NA, LDS=NOT_SENT, EDS=IGNORED, RDS=IGNORED, ECDS=IGNORED),
    sync("ztunnel-4xqk2.istio-system", "Kubernetes", None, "1.24.1",
         CDS=IGNORED, LDS=IGNORED, EDS=IGNORED, RDS=IGNORED, ECDS=IGNORED,
         WADS=SYNCED, WDS=SYNCED),
]  # fmt: skip


def test_syncz_of_istio_1_9_flat_nonce_pairs() -> None:
    data = json.loads(read_fixture("syncz-1.9.json"))
    assert parse_syncz(data, istiod="istiod-a") == SYNCZ_19
    assert [p.overall for p in SYNCZ_19] == [SYNCED, SYNCED, STALE, STALE]


def test_syncz_of_istio_1_24_resources_map() -> None:
    data = json.loads(read_fixture("syncz-1.24.json"))
    assert parse_syncz(data) == SYNCZ_124
    assert [p.overall for p in SYNCZ_124] == [SYNCED, ERROR, STALE, STALE, SYNCED]


def test_parse_any_reads_syncz() -> None:
    assert parse_any(read_fixture("syncz-1.24.json")) == SYNCZ_124
    assert parse_any(read_fixture("syncz-1.9.json")) == [
        dataclasses.replace(p, istiod=None) for p in SYNCZ_19
    ]


def test_syncz_of_istio_1_0_keeps_endpoint_percent_and_proxy_version() -> None:
    data = [
        {
            "proxy": "details-v1-6865b9b99d-mnxbt.default",
            "proxy_version": "1.0.2",
            "cluster_sent": "2018-08-01 10:00:00.1 +0000 UTC m=+12.3",
            "cluster_acked": "2018-08-01 10:00:00.1 +0000 UTC m=+12.3",
            "listener_sent": "2018-08-01 10:00:00.2 +0000 UTC m=+12.4",
            "listener_acked": "2018-08-01 10:00:00.2 +0000 UTC m=+12.4",
            "endpoint_sent": "2018-08-01 10:00:00.3 +0000 UTC m=+12.5",
            "endpoint_acked": "2018-08-01 10:00:00.3 +0000 UTC m=+12.5",
            "endpoint_percent": 100,
        }
    ]
    assert parse_syncz(data, istiod=PILOT_10) == [
        sync("details-v1-6865b9b99d-mnxbt.default", None, PILOT_10, "1.0.2", mismatch=True,
             details={"EDS": "100%"}, CDS=SYNCED, LDS=SYNCED, EDS=SYNCED, RDS=NOT_SENT),
    ]  # fmt: skip


def test_syncz_ztunnel_without_resources_ignores_unsent_types() -> None:
    data = [{"proxy": "ztunnel-x.istio-system", "proxy_type": "ztunnel", "istio_version": "1.20.0",
             "extensionconfig_sent": "", "cluster_id": "Kubernetes"}]  # fmt: skip
    assert parse_syncz(data)[0].types == {
        "CDS": IGNORED, "LDS": IGNORED, "EDS": IGNORED, "RDS": IGNORED, "ECDS": IGNORED,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"proxy": "a.b"}, "syncz: expected a list, got an object"),
        (None, "syncz: expected a list, got null"),
        (["a.b"], "syncz[0]: expected an object, got a string"),
        ([{"proxy": 5}], "syncz[0].proxy: expected a string, got a number"),
        ([{"cluster_sent": "x"}], "syncz[0].proxy: missing"),
        ([{"proxy": "a.b", "cluster_sent": ["x"]}], "syncz[0].cluster_sent: expected a string"),
        ([{"proxy": "a.b", "resources": []}], "syncz[0].resources: expected an object, got a list"),
        ([{"proxy": "a.b", "resources": {"u": 1}}], "syncz[0].resources['u']: expected an object"),
        ([{"proxy": "a.b", "resources": {"u": {"lastError": 1}}}], "lastError: expected a string"),
        ([{"proxy": "a.b", "endpoint_percent": "100"}], "endpoint_percent: expected a number"),
        ([{"proxy": "a.b", "endpoint_percent": True}], "endpoint_percent: expected a number"),
    ],
)
def test_syncz_of_the_wrong_shape_names_the_path(data: object, message: str) -> None:
    with pytest.raises(ProxyStatusError) as caught:
        parse_syncz(data)
    assert message in caught.value.message
    assert caught.value.line_number is None


# --- CSDS ---------------------------------------------------------------------------------------

CSDS_130 = [
    sync("details-v1-5f7bc6b7c8-xw2zp.bookinfo", "Kubernetes", "istiod-6d9f8d6b5c-4kq8w", "1.30.0",
         CDS=SYNCED, LDS=SYNCED, EDS=SYNCED, RDS=SYNCED),
    sync(EC2, None, "istiod-6d9f8d6b5c-4kq8w", "1.29.2",
         details={"LDS": "Error adding/updating listener(s) virtualInbound: "
                         "envoy.filters.http.wasm: unable to create Wasm HTTP filter"},
         CDS=SYNCED, ECDS=SYNCED, EDS=SYNCED, LDS=ERROR, RDS=SYNCED),
    sync(JWT, None, "istiod-6d9f8d6b5c-tbz7m", None, CDS=STALE, LDS=NOT_SENT),
    sync("ztunnel-lq4vx.istio-system", "Kubernetes", "istiod-6d9f8d6b5c-tbz7m", "1.30.0",
         WADS=SYNCED, WDS=SYNCED),
]  # fmt: skip


def test_csds_as_istioctl_1_30_prints_it_one_document_per_istiod() -> None:
    text = read_fixture("csds-1.30.json")
    assert parse_any(text) == CSDS_130
    assert [p.overall for p in CSDS_130] == [SYNCED, ERROR, STALE, SYNCED]


def test_parse_csds_takes_each_shape_of_the_same_data() -> None:
    decoder = json.JSONDecoder()
    text = read_fixture("csds-1.30.json")
    first, end = decoder.raw_decode(text)
    second, _ = decoder.raw_decode(text[end:].lstrip())
    assert parse_csds([first, second]) == CSDS_130
    configs = first["resources"] + second["resources"]
    assert parse_csds({"config": configs}, istiod="x") == [
        dataclasses.replace(p, istiod="x") for p in CSDS_130
    ]
    assert parse_csds(configs) == [dataclasses.replace(p, istiod=None) for p in CSDS_130]
    assert parse_csds(configs[0], istiod="y") == [dataclasses.replace(CSDS_130[0], istiod="y")]


def test_csds_unknown_or_missing_config_status_is_ignored() -> None:
    config = {
        "node": {"id": "ztunnel-a.istio-system", "metadata": {"CLUSTER_ID": "Kubernetes"}},
        "genericXdsConfigs": [
            {"typeUrl": "type.googleapis.com/envoy.config.cluster.v3.Cluster"},
            {"typeUrl": "type.googleapis.com/envoy.config.listener.v3.Listener",
             "configStatus": "UNKNOWN"},
            {"typeUrl": "type.googleapis.com/istio.workload.Address", "configStatus": 1},
            {"typeUrl": "type.googleapis.com/istio.workload.Workload", "configStatus": "STALE"},
        ],
    }  # fmt: skip
    (status,) = parse_csds(config)
    # Address and Workload share the short name WDS; the worse state stands for both.
    assert status.types == {"CDS": IGNORED, "LDS": IGNORED, "WDS": STALE}
    assert status.overall == STALE


def test_csds_of_istio_1_9_uses_the_deprecated_xds_config_list() -> None:
    config = {
        "node": {"id": EC2},
        "xdsConfig": [
            {"status": "SYNCED", "listenerConfig": {}},
            {"status": "STALE", "routeConfig": {}},
            {"status": "NOT_SENT", "endpointConfig": {}},
            {"status": "SYNCED", "clusterConfig": {}},
            {"status": "SYNCED", "scopedRouteConfig": {}},
        ],
    }
    assert parse_csds(config, istiod="istiod-a") == [
        sync(EC2, None, "istiod-a", None, LDS=SYNCED, RDS=STALE, EDS=NOT_SENT, CDS=SYNCED),
    ]


def test_csds_control_plane_identifier_that_is_not_json_falls_back() -> None:
    response = {"resources": [], "controlPlane": {"identifier": "istiod-7"}}
    assert parse_csds(response) == []
    response = {
        "resources": [{"node": {"id": "a.b"}}],
        "controlPlane": {"identifier": "not json"},
    }
    assert parse_csds(response, istiod="fallback")[0].istiod == "fallback"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (5, "csds: expected an object, got a number"),
        ({"foo": 1}, "csds: neither a CSDS ClientConfig"),
        ({"resources": {}}, "csds.resources: expected a list, got an object"),
        ({"resources": [{"@type": "type.googleapis.com/envoy.admin.v3.ConfigDump"}]},
         "csds.resources[0]: a type.googleapis.com/envoy.admin.v3.ConfigDump, not a CSDS"),
        ({"node": None}, "csds.node: expected an object, got null"),
        ({"node": {}}, "csds.node.id: missing"),
        ({"node": {"id": "a.b", "metadata": []}}, "csds.node.metadata: expected an object"),
        ({"node": {"id": "a.b", "metadata": {"CLUSTER_ID": 3}}}, "CLUSTER_ID: expected a string"),
        ({"node": {"id": "a.b"}, "genericXdsConfigs": {}}, "genericXdsConfigs: expected a list"),
        ({"node": {"id": "a.b"}, "genericXdsConfigs": [{}]}, "[0].typeUrl: missing"),
        ({"node": {"id": "a.b"}, "genericXdsConfigs": [{"typeUrl": "u", "configStatus": "OK"}]},
         "genericXdsConfigs[0].configStatus: unknown config status 'OK'"),
        ({"node": {"id": "a.b"}, "genericXdsConfigs": [{"typeUrl": "u", "configStatus": 9}]},
         "unknown config status 9"),
        ({"node": {"id": "a.b"}, "xdsConfig": [3]}, "csds.xdsConfig[0]: expected an object"),
        ([{"node": {"id": "a.b"}}, []], "csds[1]: expected an object, got a list"),
    ],
)  # fmt: skip
def test_csds_of_the_wrong_shape_names_the_path(data: object, message: str) -> None:
    with pytest.raises(ProxyStatusError) as caught:
        parse_csds(data)
    assert message in caught.value.message


# --- JSON garbage through parse_any --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[\n  {"proxy": "a.b",\n   "cluster_sent": }\n]', "line 3: invalid JSON"),
        ('{"resources": []}\n{"resources": [}', "line 2: invalid JSON"),
        ("[" * 100_000, "line 1: "),
        ('{"foo": 1}', "csds: neither"),
        ('[{"node": {"id": "a.b"}}]\n{"bar": 2}', "csds(document 2): neither"),
        ('[{"proxy": "a.b"}, 7]', "syncz[1]: expected an object, got a number"),
        ("[1, 2]", "csds[0]: expected an object, got a number"),
        ('"just a string"', "not an istioctl proxy-status header"),
    ],
)
def test_parse_any_json_garbage_is_a_proxy_status_error(text: str, message: str) -> None:
    with pytest.raises(ProxyStatusError) as caught:
        parse_any(text)
    assert message in caught.value.message


def test_parse_any_empty_json_list_is_no_proxies() -> None:
    assert parse_any("[]\n") == []
    assert parse_any('{"resources": [], "typeUrl": "x"}') == []


# --- ProxySync ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxy", "name", "namespace"),
    [
        (EC2, "ratings-aws-aws-123456789012-us-east-2b-ec2-i-1234567890abcdef0", "bookinfo"),
        (JWT, "ratings-jwt-my-corp--vm007-datacenter1-us-east.internal.corp", "bookinfo"),
        ("details-v1-79f774bdb9-hh4mq.bookinfo", "details-v1-79f774bdb9-hh4mq", "bookinfo"),
        ("proxy1", "proxy1", None),
    ],
)
def test_namespace_is_what_follows_the_last_dot(
    proxy: str, name: str, namespace: str | None
) -> None:
    status = sync(proxy, None, None, None)
    assert (status.name, status.namespace) == (name, namespace)


@pytest.mark.parametrize(
    ("types", "overall"),
    [
        ({}, UNKNOWN),
        ({"CDS": IGNORED, "LDS": IGNORED}, UNKNOWN),
        ({"CDS": SYNCED, "LDS": SYNCED, "EDS": SYNCED, "RDS": SYNCED}, SYNCED),
        ({"CDS": SYNCED, "LDS": SYNCED, "RDS": NOT_SENT, "ECDS": NOT_SENT}, SYNCED),
        ({"CDS": SYNCED, "LDS": SYNCED, "EDS": IGNORED}, SYNCED),
        ({"CDS": SYNCED, "LDS": NOT_SENT}, NOT_SENT),
        ({"CDS": NOT_SENT, "LDS": SYNCED}, NOT_SENT),
        ({"EDS": NOT_SENT, "RDS": NOT_SENT}, NOT_SENT),
        ({"CDS": SYNCED, "LDS": SYNCED, "EDS": NA}, STALE),
        ({"CDS": STALE, "LDS": NOT_SENT}, STALE),
        ({"CDS": STALE, "LDS": ERROR}, ERROR),
        ({"CDS": UNKNOWN, "LDS": SYNCED}, UNKNOWN),
        ({"CDS": UNKNOWN, "LDS": STALE}, STALE),
        ({"WADS": SYNCED, "WDS": SYNCED, "CDS": IGNORED}, SYNCED),
    ],
)
def test_overall_rule(types: dict[str, str], overall: str) -> None:
    assert sync("a.b", None, None, None, **types).overall == overall


def test_proxy_sync_is_hashable_and_keeps_its_own_copy_of_types() -> None:
    types = {"CDS": SYNCED}
    status = ProxySync("a.b", None, None, None, types)
    types["CDS"] = ERROR
    assert status.types == {"CDS": SYNCED}
    assert hash(status) == hash(ProxySync("a.b", None, None, None, {"CDS": SYNCED}))
    assert dataclasses.asdict(status)["types"] == {"CDS": SYNCED}


def test_short_type_names() -> None:
    assert short_type("type.googleapis.com/envoy.config.cluster.v3.Cluster") == "CDS"
    assert short_type("type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig") == "ECDS"
    assert short_type("type.googleapis.com/envoy.api.v2.ClusterLoadAssignment") == "EDS"
    assert short_type("type.googleapis.com/istio.workload.Address") == "WDS"
    assert short_type("type.googleapis.com/istio.security.Authorization") == "WADS"
    assert short_type("istio.io/debug") == "debug"
    assert short_type("CDS") == "CDS"


# --- merge ----------------------------------------------------------------------------------------


def test_merge_joins_replicas_that_each_report_their_own_proxies() -> None:
    first, second = EXPECTED_19[:2], EXPECTED_19[2:]
    merged = merge(first, second)
    assert list(merged) == [p.proxy for p in EXPECTED_19]
    assert list(merged.values()) == EXPECTED_19


def test_merge_prefers_the_record_that_knows_states() -> None:
    summary = sync(EC2, None, "istiod-a", "1.27.1", CDS=UNKNOWN, LDS=UNKNOWN)
    detailed = sync(EC2, None, "istiod-a", "1.27.1", CDS=SYNCED, LDS=STALE)
    assert merge([summary], [detailed])[EC2] is detailed
    assert merge([detailed], [summary])[EC2] is detailed


def test_merge_keeps_the_worse_of_two_connections() -> None:
    old = sync(EC2, None, "istiod-a", "1.9.8", CDS=STALE, LDS=SYNCED)
    new = sync(EC2, None, "istiod-b", "1.9.8", CDS=SYNCED, LDS=SYNCED)
    assert merge([old], [new])[EC2] is old
    assert merge([new, old])[EC2] is old


def test_merge_of_equals_keeps_the_first() -> None:
    a = sync(EC2, None, "istiod-a", "1.9.8", CDS=SYNCED)
    b = sync(EC2, None, "istiod-b", "1.9.8", CDS=SYNCED)
    assert merge([a], [b])[EC2] is a
    assert merge() == {}


# --- properties -----------------------------------------------------------------------------------

HEADERS = [cells[0] for cells, _ in TEXT_FIXTURES.values()]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_is_a_list_or_a_proxy_status_error(text: str) -> None:
    for parse in (parse_text, parse_any):
        try:
            result = parse(text)
        except ProxyStatusError:
            continue
        assert isinstance(result, list)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(HEADERS), st.lists(st.text(alphabet=" abcSYNCEDNOT()*.\r\n-1", max_size=80)))
def test_any_rows_under_a_real_header_are_a_list_or_an_error(
    header: list[str], rows: list[str]
) -> None:
    text = "     ".join(header) + "\n" + "\n".join(rows)
    try:
        result = parse_text(text)
    except ProxyStatusError as error:
        assert error.line_number is not None and error.line_number >= 2
        return
    assert all(isinstance(p, ProxySync) for p in result)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["proxy", "node", "id", "resources", "config", "genericXdsConfigs",
                         "typeUrl", "configStatus", "cluster_sent", "metadata", "xdsConfig",
                         "status", "listenerConfig", "controlPlane", "identifier", "x"]),
        children,
        max_size=4,
    ),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_is_a_list_or_a_proxy_status_error(value: object) -> None:
    for parse in (parse_syncz, parse_csds, lambda v: parse_any(json.dumps(v))):
        try:
            result = parse(value)
        except ProxyStatusError:
            continue
        assert isinstance(result, list)


proxy_ids = st.from_regex(r"[a-z][a-z0-9-]{0,30}(\.[a-z0-9-]{1,10}){1,3}", fullmatch=True)
cell_states = st.sampled_from(
    ["SYNCED", "NOT SENT", "STALE", "STALE (Never Acknowledged)", "ERROR", "IGNORED", "UNKNOWN"]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            proxy_ids,
            st.sampled_from(["", "Kubernetes", "cluster-2"]),
            st.lists(cell_states, min_size=5, max_size=5),
            st.sampled_from(["istiod-6449df9b98-prvqd", "i"]),
            st.sampled_from(["", "*", "1.14.3", "1.9.8-15bc6e5e32*"]),
        ),
        max_size=8,
    )
)
def test_any_table_tabwriter_prints_reads_back(rows: list[tuple]) -> None:
    header = ["NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ECDS", "ISTIOD", "VERSION"]
    cells = [header] + [[p, c, *states, i, v] for p, c, states, i, v in rows]
    expected = [
        ProxySync(p, c or None, i, v.rstrip("*") or None,
                  dict(zip(header[2:7], states)), v.endswith("*"))
        for p, c, states, i, v in rows
    ]  # fmt: skip
    assert parse_text(tabwrite(cells)) == expected
    for status in expected:
        assert status.overall in STATES


# --- one fixture per istioctl release line: dotted JWT names, several clusters ---------------

JWT_DC2 = "reviews-jwt-my-corp--vm012.rack4.datacenter2.eu-west.internal.corp.bookinfo"
EAST, WEST = "cp-us-east-1", "cp-eu-west-1"
PILOT_R10, PILOT_R14 = "istio-pilot-5d8f7c9b6d-q2w7x", "istio-pilot-7c9d8b5f4c-m3n8k"
ISTIOD_R111 = "istiod-84b6f9d7c5-v9t2k"
EAST_113, WEST_113 = "istiod-6b5c8d7f9c-e4r5t", "istiod-6b5c8d7f9c-w2q8z"
EAST_119, WEST_119 = "istiod-7f8d9c6b5d-h6j3k", "istiod-7f8d9c6b5d-p9l2m"
EAST_126, WEST_126 = "istiod-5b7c9d8f6c-a1s2d", "istiod-5b7c9d8f6c-z8x7c"
EAST_128, WEST_128 = "istiod-6c8d9f7b5d-r4t5y", "istiod-6c8d9f7b5d-u7i8o"
EAST_130, WEST_130 = "istiod-7d9f8c6b5c-k3l4m", "istiod-7d9f8c6b5c-n5b6v"
ZTUNNEL_WEST = "ztunnel-9kq2w.istio-system"
PRODUCTPAGE_WEST = "productpage-v1-6b746f74dc-9stvs.bookinfo"

# fmt: off

CELLS_R10 = [
    ["PROXY", "CDS", "LDS", "EDS", "RDS", "PILOT", "VERSION"],
    [JWT, S, S, "SYNCED (100%)", S, PILOT_R10, "1.0.6"],
    [JWT_DC2, ST, S, "NOT SENT (0%)", NS, PILOT_R10, "1.0.6"],
]
EXPECTED_R10 = [
    sync(JWT, None, PILOT_R10, "1.0.6", details={"EDS": "100%"}, CDS=S, LDS=S, EDS=S, RDS=S),
    sync(JWT_DC2, None, PILOT_R10, "1.0.6", details={"EDS": "0%"},
         CDS=STALE, LDS=S, EDS=NOT_SENT, RDS=NOT_SENT),
]

# 1.1-1.6: NAME and PILOT; from 1.3 no EDS percentage, from 1.4 a bare STALE, and a
# VERSION istiod did not know is the proxy's own, marked `*`.
CELLS_R14 = [
    ["NAME", "CDS", "LDS", "EDS", "RDS", "PILOT", "VERSION"],
    [EC2, ST, S, S, NS, PILOT_R14, "1.4.3"],
    [JWT, S, S, S, S, PILOT_R14, "1.4.3"],
    [JWT_DC2, S, S, SNA, S, PILOT_R14, "1.3.5*"],
]
EXPECTED_R14 = [
    sync(EC2, None, PILOT_R14, "1.4.3", CDS=STALE, LDS=S, EDS=S, RDS=NOT_SENT),
    sync(JWT, None, PILOT_R14, "1.4.3", CDS=S, LDS=S, EDS=S, RDS=S),
    sync(JWT_DC2, None, PILOT_R14, "1.3.5", mismatch=True, CDS=S, LDS=S, EDS=NA, RDS=S),
]

# 1.7-1.12: ISTIOD.
CELLS_R111 = [
    ["NAME", "CDS", "LDS", "EDS", "RDS", "ISTIOD", "VERSION"],
    [JWT, S, S, S, S, ISTIOD_R111, "1.11.4"],
    [JWT_DC2, NS, NS, NS, NS, ISTIOD_R111, "1.10.6*"],
]
EXPECTED_R111 = [
    sync(JWT, None, ISTIOD_R111, "1.11.4", CDS=S, LDS=S, EDS=S, RDS=S),
    sync(JWT_DC2, None, ISTIOD_R111, "1.10.6", mismatch=True,
         CDS=NOT_SENT, LDS=NOT_SENT, EDS=NOT_SENT, RDS=NOT_SENT),
]

# 1.13: CLUSTER (empty for a VM registered without one), no ECDS yet.
CELLS_R113 = [
    ["NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ISTIOD", "VERSION"],
    [EC2, "", S, S, SNA, S, WEST_113, "1.12.9*"],
    [JWT, EAST, S, S, S, S, EAST_113, "1.13.4"],
    [JWT_DC2, WEST, S, ST, S, S, WEST_113, "1.13.4"],
]
EXPECTED_R113 = [
    sync(EC2, None, WEST_113, "1.12.9", mismatch=True, CDS=S, LDS=S, EDS=NA, RDS=S),
    sync(JWT, EAST, EAST_113, "1.13.4", CDS=S, LDS=S, EDS=S, RDS=S),
    sync(JWT_DC2, WEST, WEST_113, "1.13.4", CDS=S, LDS=STALE, EDS=S, RDS=S),
]

# 1.14-1.22: ECDS, NOT SENT for nearly every sidecar.
CELLS_R119 = [
    ["NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ECDS", "ISTIOD", "VERSION"],
    [JWT, EAST, S, S, S, S, NS, EAST_119, "1.19.3"],
    [JWT_DC2, WEST, S, S, S, S, NS, WEST_119, "1.19.0*"],
    [PRODUCTPAGE_WEST, WEST, ST, S, S, S, NS, WEST_119, "1.19.3"],
]
EXPECTED_R119 = [
    sync(JWT, EAST, EAST_119, "1.19.3", CDS=S, LDS=S, EDS=S, RDS=S, ECDS=NOT_SENT),
    sync(JWT_DC2, WEST, WEST_119, "1.19.0", mismatch=True,
         CDS=S, LDS=S, EDS=S, RDS=S, ECDS=NOT_SENT),
    sync(PRODUCTPAGE_WEST, WEST, WEST_119, "1.19.3",
         CDS=STALE, LDS=S, EDS=S, RDS=S, ECDS=NOT_SENT),
]

# 1.23-1.26: IGNORED for types not subscribed, the time since the last push.
CELLS_R126 = [
    ["NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ECDS", "ISTIOD", "VERSION"],
    [JWT, EAST, "SYNCED (2d4h)", "SYNCED (2d4h)", "SYNCED (2d4h)", "SYNCED (2d4h)", IG,
     EAST_126, "1.26.2"],
    [JWT_DC2, WEST, "SYNCED (11m)", "ERROR (40s)", "SYNCED (11m)", "SYNCED (11m)", IG,
     WEST_126, "1.25.4"],
    [ZTUNNEL_WEST, WEST, IG, IG, IG, IG, IG, WEST_126, "1.26.2"],
]
EXPECTED_R126 = [
    sync(JWT, EAST, EAST_126, "1.26.2",
         details={"CDS": "2d4h", "LDS": "2d4h", "EDS": "2d4h", "RDS": "2d4h"},
         CDS=S, LDS=S, EDS=S, RDS=S, ECDS=IGNORED),
    sync(JWT_DC2, WEST, WEST_126, "1.25.4",
         details={"CDS": "11m", "LDS": "40s", "EDS": "11m", "RDS": "11m"},
         CDS=S, LDS=ERROR, EDS=S, RDS=S, ECDS=IGNORED),
    sync(ZTUNNEL_WEST, WEST, WEST_126, "1.26.2",
         CDS=IGNORED, LDS=IGNORED, EDS=IGNORED, RDS=IGNORED, ECDS=IGNORED),
]

# 1.27-1.29 by default: which types each proxy subscribes to, no states.
CELLS_R128 = [
    ["NAME", "CLUSTER", "ISTIOD", "VERSION", "SUBSCRIBED TYPES"],
    [JWT, EAST, EAST_128, "1.28.1", "4 (CDS,LDS,EDS,RDS)"],
    [JWT_DC2, WEST, WEST_128, "1.28.1", "5 (CDS,LDS,EDS,RDS,ECDS)"],
    [ZTUNNEL_WEST, WEST, WEST_128, "1.28.1", "2 (WADS,WDS)"],
]
EXPECTED_R128 = [
    sync(JWT, EAST, EAST_128, "1.28.1", CDS=U, LDS=U, EDS=U, RDS=U),
    sync(JWT_DC2, WEST, WEST_128, "1.28.1", CDS=U, LDS=U, EDS=U, RDS=U, ECDS=U),
    sync(ZTUNNEL_WEST, WEST, WEST_128, "1.28.1", WADS=U, WDS=U),
]

# 1.27-1.29 with --verbosity 1: a column per type, by type URL.
CELLS_R128_VERBOSE = [
    ["NAME", "CLUSTER", "CDS", "ECDS", "EDS", "LDS", "RDS", "WADS", "WDS", "ISTIOD", "VERSION"],
    [JWT, EAST, "SYNCED (3h2m)", IG, "SYNCED (3h2m)", "SYNCED (3h2m)", "SYNCED (3h2m)", IG, IG,
     EAST_128, "1.28.1"],
    [JWT_DC2, WEST, "SYNCED (5m)", "STALE (4s)", "SYNCED (5m)", "SYNCED (5m)", NS, IG, IG,
     WEST_128, "1.28.1"],
    [ZTUNNEL_WEST, WEST, IG, IG, IG, IG, IG, "SYNCED (47m)", "SYNCED (47m)", WEST_128, "1.28.1"],
]
_IGNORED_R128 = {t: IGNORED for t in ("CDS", "ECDS", "EDS", "LDS", "RDS", "WADS", "WDS")}
EXPECTED_R128_VERBOSE = [
    sync(JWT, EAST, EAST_128, "1.28.1",
         details={"CDS": "3h2m", "EDS": "3h2m", "LDS": "3h2m", "RDS": "3h2m"},
         **{**_IGNORED_R128, "CDS": S, "EDS": S, "LDS": S, "RDS": S}),
    sync(JWT_DC2, WEST, WEST_128, "1.28.1",
         details={"CDS": "5m", "ECDS": "4s", "EDS": "5m", "LDS": "5m"},
         **{**_IGNORED_R128, "CDS": S, "ECDS": ST, "EDS": S, "LDS": S, "RDS": NOT_SENT}),
    sync(ZTUNNEL_WEST, WEST, WEST_128, "1.28.1", details={"WADS": "47m", "WDS": "47m"},
         **{**_IGNORED_R128, "WADS": S, "WDS": S}),
]

# 1.30+ -o json / -o yaml: CSDS, one DiscoveryResponse per istiod.
EXPECTED_R130 = [
    sync(JWT, EAST, EAST_130, "1.30.1", CDS=S, EDS=S, LDS=S, RDS=S),
    sync(JWT_DC2, WEST, WEST_130, "1.30.1", CDS=S, ECDS=ST, EDS=S, LDS=S, RDS=NOT_SENT),
    sync(ZTUNNEL_WEST, WEST, WEST_130, "1.30.1", WADS=S, WDS=S),
]

# fmt: on

RELEASE_FIXTURES = {
    "istio-1.0-jwt.txt": (CELLS_R10, EXPECTED_R10),
    "istio-1.4-jwt.txt": (CELLS_R14, EXPECTED_R14),
    "istio-1.11-jwt.txt": (CELLS_R111, EXPECTED_R111),
    "istio-1.13-multicluster.txt": (CELLS_R113, EXPECTED_R113),
    "istio-1.19-multicluster.txt": (CELLS_R119, EXPECTED_R119),
    "istio-1.26-multicluster.txt": (CELLS_R126, EXPECTED_R126),
    "istio-1.28-multicluster.txt": (CELLS_R128, EXPECTED_R128),
    "istio-1.28-multicluster-verbose.txt": (CELLS_R128_VERBOSE, EXPECTED_R128_VERBOSE),
}


@pytest.mark.parametrize("name", sorted(RELEASE_FIXTURES))
def test_release_line_fixture_is_what_istioctl_prints_and_reads_back(name: str) -> None:
    cells, expected = RELEASE_FIXTURES[name]
    assert read_fixture(name) == tabwrite(cells)
    warnings: list[str] = []
    assert parse_text(read_fixture(name), warnings.append) == expected
    assert parse_any(read_fixture(name), warnings.append) == expected
    assert warnings == []


@pytest.mark.parametrize("name", ["istio-1.30-multicluster.json", "istio-1.30-multicluster.yaml"])
def test_istioctl_1_30_json_and_yaml_read_alike(name: str) -> None:
    assert parse_any(read_fixture(name)) == EXPECTED_R130


def test_yaml_documents_follow_each_other_with_nothing_between() -> None:
    # istioctl prints each istiod's YAML and a newline; a repeated top-level key is the
    # next document, so the first istiod's proxies are not lost.
    text = read_fixture("istio-1.30-multicluster.yaml")
    assert text.count("controlPlane:") == 2 and "---" not in text
    assert [p.istiod for p in parse_any(text)] == [EAST_130, WEST_130, WEST_130]
    assert parse_any("---\n" + text.replace("\ncontrolPlane:", "\n---\ncontrolPlane:")) == (
        EXPECTED_R130
    )


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(ProxyStatusError, match=r"^line 2: invalid YAML \(mapping values"):
        parse_any("controlPlane: a\n  b: c\n")


# --- output as people save it ------------------------------------------------------------


def _saved(name: str) -> tuple[list[ProxySync], list[str]]:
    warnings: list[str] = []
    return parse_any(read_fixture(name), warnings.append), warnings


def test_saved_output_skips_what_precedes_the_header_and_names_it() -> None:
    records, warnings = _saved("saved-preamble.txt")
    assert records == EXPECTED_R126
    assert warnings == [
        "skipped 3 lines before the header: line 1 '$ istioctl proxy-status --context east', "
        "line 2 'W1129 10:00:00.123456  4242 warnings.go:70] unable to ret...', "
        "line 3 'Warning: 1 of 2 istiod replicas is not ready; proxies con...'"
    ]


def test_saved_output_stops_at_a_trailing_error_block() -> None:
    records, warnings = _saved("saved-trailing-error.txt")
    assert records == EXPECTED_R119
    assert warnings == [
        "stopped at line 5, not a row: line 5 'Error: failed to read istiod-7f8d9c6b5d-p9l2m: "
        "context de...' and 1 more"
    ]


def test_saved_output_with_tabs_between_cells_keeps_the_empty_cluster() -> None:
    assert read_fixture("saved-tabs.txt").splitlines()[1].startswith(f"{EC2}\t\tSYNCED\t")
    assert _saved("saved-tabs.txt") == (EXPECTED_R113, [])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("saved-collapsed-1.0.txt", EXPECTED_R10),
        ("saved-collapsed-1.4.txt", EXPECTED_R14),
        ("saved-collapsed-1.28.txt", EXPECTED_R128),
        ("saved-collapsed-1.28-verbose.txt", EXPECTED_R128_VERBOSE),
    ],
)
def test_saved_output_with_single_spaces_splits_the_known_two_word_cells(
    name: str, expected: list[ProxySync]
) -> None:
    # `NOT SENT`, `SYNCED (100%)`, `STALE (Never Acknowledged)`, `4 (CDS,LDS,EDS,RDS)`.
    assert "  " not in read_fixture(name)
    assert _saved(name) == (expected, [])


def test_single_spaced_row_with_no_version_still_splits() -> None:
    text = "NAME CDS LDS EDS RDS ISTIOD VERSION\na.ns SYNCED NOT SENT SYNCED SYNCED istiod-1\n"
    assert parse_text(text) == [
        sync("a.ns", None, "istiod-1", None, CDS=S, LDS=NOT_SENT, EDS=S, RDS=S)
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # An empty CLUSTER leaves one cell too few: which one is empty cannot be told.
        ("NAME CLUSTER CDS ISTIOD VERSION\na.ns c SYNCED i 1.0\nb.ns SYNCED i 1.0\n", 3),
        ("NAME\tCDS\tISTIOD\tVERSION\na.ns\tSYNCED\tSYNCED\ti\t1.0\n", 2),
    ],
)
def test_rows_that_do_not_split_into_the_headers_cells_name_the_line(
    text: str, problem: int
) -> None:
    with pytest.raises(ProxyStatusError, match=rf"^line {problem}: row does not split into"):
        parse_text(text)


def test_a_prompt_between_two_pasted_outputs_is_skipped_with_a_warning() -> None:
    text = (
        "$ istioctl ps --context east\n"
        + read_fixture("istio-1.13-multicluster.txt")
        + "$ istioctl ps --context west -v 1\n"
        + read_fixture("istio-1.28-multicluster-verbose.txt")
    )
    warnings: list[str] = []
    assert parse_text(text, warnings.append) == EXPECTED_R113 + EXPECTED_R128_VERBOSE
    assert warnings == [
        "skipped 1 line before the header: line 1 '$ istioctl ps --context east'",
        "skipped line 6, a shell prompt: '$ istioctl ps --context west -v 1'",
    ]


def test_without_any_header_the_first_line_is_the_error_even_after_a_preamble() -> None:
    with pytest.raises(ProxyStatusError, match=r"^line 1: not an istioctl proxy-status header"):
        parse_text("Warning: istiod is not ready\nNAME     CDS\n")


# --- syncz from istiod 1.14-1.22: empty fields left out -------------------------------------


def test_syncz_without_ecds_fields_is_ecds_not_sent_from_istiod_1_14() -> None:
    entry = {"proxy": "a.ns", "istio_version": "1.20.8", "cluster_sent": "n", "cluster_acked": "n"}
    (status,) = parse_syncz([entry])
    assert status.types == {"CDS": S, "LDS": NOT_SENT, "EDS": NOT_SENT, "RDS": NOT_SENT,
                            "ECDS": NOT_SENT}  # fmt: skip


def test_syncz_without_ecds_anywhere_from_istiod_before_1_14_has_no_ecds() -> None:
    entry = {"proxy": "a.ns", "istio_version": "1.9.8", "cluster_sent": "n", "cluster_acked": "n"}
    (status,) = parse_syncz([entry])
    assert "ECDS" not in status.types


def test_syncz_ecds_of_one_entry_tells_the_istiod_reports_ecds_for_all() -> None:
    # An older proxy (no istio_version) on a 1.16 istiod that sent another proxy ECDS.
    entries = [
        {"proxy": "a.ns", "proxy_version": "abc"},
        {"proxy": "b.ns", "istio_version": "1.16.1",
         "extensionconfig_sent": "n", "extensionconfig_acked": "n"},
    ]  # fmt: skip
    first, second = parse_syncz(entries)
    assert (first.types["ECDS"], second.types["ECDS"]) == (NOT_SENT, SYNCED)
