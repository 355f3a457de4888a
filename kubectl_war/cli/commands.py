"""The table of `kubectl war`'s commands and the group's own help text, without click.

Both are plain data so that `kubectl war --help` can be answered without importing
click (see `kubectl_war.cli.quick`), and so the click group and the help agree.
"""

from __future__ import annotations

#: Every command: its name, where it lives, and its purpose (the first line of its help,
#: as `kubectl war --help` lists it). A command's module is imported only when that
#: command runs or its help is asked for, so `kubectl war decode` does not pay for
#: `rollout`; tests/test_help.py checks each purpose against the command's own help.
COMMANDS: dict[str, tuple[str, str]] = {
    "list": (
        "kubectl_war.cli.list_wars:list_cmd",
        "List onboarded workloads (WorkloadAutoRegistrations).",
    ),
    "status": (
        "kubectl_war.cli.status:status_cmd",
        "Summarise the health of onboarded workloads, per WorkloadGroup.",
    ),
    "describe": (
        "kubectl_war.cli.describe:describe_cmd",
        "Show one or more onboarded workloads in detail.",
    ),
    "delete": (
        "kubectl_war.cli.delete:delete_cmd",
        "Delete onboarded workloads' WARs so their agents onboard again.",
    ),
    "rollout": (
        "kubectl_war.cli.rollout:rollout_cmd",
        "Re-onboard outdated workloads of WorkloadGroups, a few at a time.",
    ),
    "can-onboard": (
        "kubectl_war.cli.can_onboard:can_onboard_cmd",
        "Check whether the OnboardingPolicies admit a workload into a WorkloadGroup.",
    ),
    "proxy-status": (
        "kubectl_war.cli.proxy_status:proxy_status_cmd",
        "Show the sidecar of every onboarded workload as istiod sees it.",
    ),
    "decode": (
        "kubectl_war.cli.decode:decode_cmd",
        "Decode WAR names into their WorkloadGroup and workload identity, offline.",
    ),
    "version": (
        "kubectl_war.cli.version:version_cmd",
        "Print the plugin, Python and kubernetes client versions.",
    ),
    "completion": (
        "kubectl_war.cli.completion:completion_cmd",
        "Print a completion script for running kubectl-war by its own name.",
    ),
    "options": (
        "kubectl_war.cli.options_cmd:options_cmd",
        "Print the global flags: the connection flags every cluster command takes.",
    ),
}

#: The help of `kubectl war` itself (the click group's help, in a docstring's form).
GROUP_HELP = """Manage TSB WorkloadAutoRegistrations, the workloads onboarded into the mesh.

Each VM, ECS task or on-premise machine that joins a WorkloadGroup is a
WorkloadAutoRegistration (WAR). These commands list, explain and delete WARs
and roll WorkloadGroup changes out to them, in kubectl's own style.

\b
Examples:
  kubectl war list -A
  kubectl war list -n bookinfo --group ratings -o wide
  kubectl war version
"""

#: The options `kubectl war` takes itself (click adds `--help` from these names).
HELP_OPTIONS = ("-h", "--help")
