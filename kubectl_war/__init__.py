"""kubectl-war: a kubectl plugin for TSB WorkloadAutoRegistrations."""

__version__ = "0.1.0"
