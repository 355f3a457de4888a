"""`kubectl war status -o prometheus`: the fleet's health in Prometheus' text exposition
format, end to end through real kubectl, checked by Prometheus' own `promtool check
metrics` and against the exact text."""

from __future__ import annotations

import subprocess

from tests import factories as f
from tests.factories import Run
from tests.multicluster import FORBIDDEN, Fleet
from tests.prom import promtool_binary

# The counts of STATUS_ALL (tests/test_cli_status.py) as metrics: contexts east and west
# read, down and locked not; west also has inventory/legacy, which has no WARs and which no
# OnboardingPolicy selects.
METRICS = """\
# HELP kubectl_war_cluster_up Whether the cluster (kubeconfig context) could be read.
# TYPE kubectl_war_cluster_up gauge
kubectl_war_cluster_up{cluster="east"} 1
kubectl_war_cluster_up{cluster="down"} 0
kubectl_war_cluster_up{cluster="west"} 1
kubectl_war_cluster_up{cluster="locked"} 0
# HELP kubectl_war_wars WorkloadAutoRegistrations.
# TYPE kubectl_war_wars gauge
kubectl_war_wars{cluster="east",namespace="bookinfo",workloadgroup="ratings"} 3
kubectl_war_wars{cluster="east",namespace="payments",workloadgroup="ledger"} 1
kubectl_war_wars{cluster="west",namespace="bookinfo",workloadgroup="ratings"} 2
kubectl_war_wars{cluster="west",namespace="bookinfo",workloadgroup="reviews"} 1
# HELP kubectl_war_wars_connected WARs whose agent is connected.
# TYPE kubectl_war_wars_connected gauge
kubectl_war_wars_connected{cluster="east",namespace="bookinfo",workloadgroup="ratings"} 2
kubectl_war_wars_connected{cluster="east",namespace="payments",workloadgroup="ledger"} 1
kubectl_war_wars_connected{cluster="west",namespace="bookinfo",workloadgroup="ratings"} 2
kubectl_war_wars_connected{cluster="west",namespace="bookinfo",workloadgroup="reviews"} 0
# HELP kubectl_war_wars_disconnected WARs whose agent is disconnected.
# TYPE kubectl_war_wars_disconnected gauge
kubectl_war_wars_disconnected{cluster="east",namespace="bookinfo",workloadgroup="ratings"} 1
kubectl_war_wars_disconnected{cluster="east",namespace="payments",workloadgroup="ledger"} 0
kubectl_war_wars_disconnected{cluster="west",namespace="bookinfo",workloadgroup="ratings"} 0
kubectl_war_wars_disconnected{cluster="west",namespace="bookinfo",workloadgroup="reviews"} 0
# HELP kubectl_war_wars_outdated WARs older than their WorkloadGroup's latest spec change.
# TYPE kubectl_war_wars_outdated gauge
kubectl_war_wars_outdated{cluster="east",namespace="bookinfo",workloadgroup="ratings"} 1
kubectl_war_wars_outdated{cluster="east",namespace="payments",workloadgroup="ledger"} 0
kubectl_war_wars_outdated{cluster="west",namespace="bookinfo",workloadgroup="ratings"} 0
kubectl_war_wars_outdated{cluster="west",namespace="bookinfo",workloadgroup="reviews"} 0
# HELP kubectl_war_wars_not_synced WARs whose sidecar is not SYNCED.
# TYPE kubectl_war_wars_not_synced gauge
kubectl_war_wars_not_synced{cluster="east",namespace="bookinfo",workloadgroup="ratings"} 1
kubectl_war_wars_not_synced{cluster="east",namespace="payments",workloadgroup="ledger"} 0
# HELP kubectl_war_wars_agent_unknown WARs with no agent connection status yet.
# TYPE kubectl_war_wars_agent_unknown gauge
kubectl_war_wars_agent_unknown{cluster="east",namespace="bookinfo",workloadgroup="ratings"} 0
kubectl_war_wars_agent_unknown{cluster="east",namespace="payments",workloadgroup="ledger"} 0
kubectl_war_wars_agent_unknown{cluster="west",namespace="bookinfo",workloadgroup="ratings"} 0
kubectl_war_wars_agent_unknown{cluster="west",namespace="bookinfo",workloadgroup="reviews"} 1
# HELP kubectl_war_removal_seconds Seconds until the earliest automatic removal of a disconnected WAR.
# TYPE kubectl_war_removal_seconds gauge
kubectl_war_removal_seconds{cluster="east",namespace="bookinfo",workloadgroup="ratings"} 100
# HELP kubectl_war_agent_version_info An agent version that WARs of the group report.
# TYPE kubectl_war_agent_version_info gauge
kubectl_war_agent_version_info{cluster="east",namespace="bookinfo",workloadgroup="ratings",version="v1.4.0"} 1
kubectl_war_agent_version_info{cluster="east",namespace="bookinfo",workloadgroup="ratings",version="v1.5.0"} 1
kubectl_war_agent_version_info{cluster="east",namespace="payments",workloadgroup="ledger",version="v1.4.0"} 1
kubectl_war_agent_version_info{cluster="west",namespace="bookinfo",workloadgroup="ratings",version="v1.4.0"} 1
kubectl_war_agent_version_info{cluster="west",namespace="bookinfo",workloadgroup="reviews",version="v1.4.0"} 1
# HELP kubectl_war_istio_version_info An Istio version that WARs of the group report.
# TYPE kubectl_war_istio_version_info gauge
kubectl_war_istio_version_info{cluster="east",namespace="bookinfo",workloadgroup="ratings",version="1.9.8-15bc6e5e32"} 1
kubectl_war_istio_version_info{cluster="east",namespace="payments",workloadgroup="ledger",version="1.9.8-15bc6e5e32"} 1
kubectl_war_istio_version_info{cluster="west",namespace="bookinfo",workloadgroup="ratings",version="1.10.3"} 1
kubectl_war_istio_version_info{cluster="west",namespace="bookinfo",workloadgroup="ratings",version="1.9.8-15bc6e5e32"} 1
kubectl_war_istio_version_info{cluster="west",namespace="bookinfo",workloadgroup="reviews",version="1.9.8-15bc6e5e32"} 1
# HELP kubectl_war_workloadgroup_no_policy 1 when no OnboardingPolicy of its namespace selects the WorkloadGroup: new machines cannot join it.
# TYPE kubectl_war_workloadgroup_no_policy gauge
kubectl_war_workloadgroup_no_policy{cluster="east",namespace="bookinfo",workloadgroup="ratings"} 0
kubectl_war_workloadgroup_no_policy{cluster="east",namespace="payments",workloadgroup="ledger"} 0
kubectl_war_workloadgroup_no_policy{cluster="west",namespace="bookinfo",workloadgroup="ratings"} 0
kubectl_war_workloadgroup_no_policy{cluster="west",namespace="bookinfo",workloadgroup="reviews"} 0
kubectl_war_workloadgroup_no_policy{cluster="west",namespace="inventory",workloadgroup="legacy"} 1
"""  # noqa: E501


def test_status_as_prometheus_metrics_passes_promtool_and_says_the_counts(
    fleet: Fleet, run_war: Run
) -> None:
    promtool = promtool_binary()
    fleet.west.add(f.workload_group("legacy", "inventory"))
    r = run_war("status", "-A", "--all-contexts", "-o", "prometheus", env=fleet.env)
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=r.stdout, capture_output=True, text=True
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
    assert r.stdout == METRICS
    # As for every output format: the contexts not read are named, and the exit code says
    # whether everything is healthy. West has no istiod: NOT SYNCED is not read there.
    lines = r.stderr.splitlines()
    assert lines[0].startswith("warning: NOT SYNCED is <none>: no proxy-status source answered")
    assert lines[1:] == [
        f'warning: context "down": {fleet.refused}',
        f'warning: context "locked": {FORBIDDEN}',
    ]
    assert r.returncode == 1
