"""Objects as the API server sends them: decoded JSON, every field checked where it is read.

Any field of an object may be missing or of an unexpected type (an object with no
status yet, a hand-edited one): readers take what they need through `child` and the
type checks of the module that reads them, so one odd object never breaks a command.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    #: One JSON object as decoded: a Kubernetes object, a part of one, an event.
    JSON = dict[str, Any]


def child(obj: Mapping[str, Any], key: str) -> JSON:
    """`obj[key]` when it is an object; else an empty one (the field is missing or odd)."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}
