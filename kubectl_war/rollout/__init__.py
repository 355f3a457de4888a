"""Re-onboarding outdated workloads batch by batch: `plan` (pure), `executor` (deletes,
then waits for WARs to be back, with `wait`), `progressive` (canary, checks, approval
between batches), `progress` and `states` (what it reports), `journal` (what is in
flight, and where a rollout paused), `signals` (SIGINT and SIGTERM), `status` (what is up
to date), `synced` (sidecar state, read no more often than istiod can bear), `view`
(what is shown).

This module holds only the flag defaults, written as a user types them, so that the
click options and the code that compares against them read one definition; it imports
nothing, because every command's `--help` loads it.
"""

#: `--max-unavailable`: a count, or a percentage of a group's connected WARs.
DEFAULT_MAX_UNAVAILABLE = "10%"
#: `rollout --timeout`: how long each batch may take to come back.
DEFAULT_TIMEOUT = "5m"
#: `rollout --pause`: how long to wait between batches.
DEFAULT_PAUSE = "0s"
#: `rollout status --timeout`: with --watch, never give up.
DEFAULT_STATUS_TIMEOUT = "0s"
#: `rollout --lease-duration`: how long the rollout's lock outlives its holder's last renewal.
DEFAULT_LEASE_DURATION = "30s"
