"""A loopback Kubernetes API server for tests and demos: ``FakeKube``."""

from __future__ import annotations

from .clock import Clock, format_time, human_duration, parse_time
from .fleet import build_fleet, build_large_fleet
from .server import FakeKube, RecordedRequest
from .store import ApiError

__all__ = [
    "ApiError",
    "Clock",
    "FakeKube",
    "RecordedRequest",
    "build_fleet",
    "build_large_fleet",
    "format_time",
    "human_duration",
    "parse_time",
]
