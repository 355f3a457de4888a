"""The variable the `kubectl war completion` scripts set to ask `kubectl-war` for
candidates (click's shell integration): read at start-up (`kubectl_war.cli`), before
click is imported, and answered by `cli.completion`."""

from __future__ import annotations

COMPLETE_VAR = "_KUBECTL_WAR_COMPLETE"
