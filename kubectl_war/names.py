"""Kubernetes object names: which ones may reach a request URL.

An object's name is the last segment of its URL. An empty name turns
`.../workloadautoregistrations/NAME` into the collection URL, where GET lists and
DELETE is `deletecollection`; `/`, `.` and `..` change the path too. So every name a
user types is checked here before any request, and the request builders refuse the
same names again as a last line of defence.
"""

from __future__ import annotations

import re

from kubectl_war.errors import UsageError, quote_input

# apimachinery's IsDNS1123Subdomain: what WAR and WorkloadGroup names must be.
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_MAX_LENGTH = 253


def path_segment_problem(name: str) -> str | None:
    """Why `name` cannot be an object's URL segment (apimachinery's
    IsValidPathSegmentName, plus emptiness), or None when it can."""
    if name == "":
        return "resource name may not be empty"
    if name in (".", ".."):
        return f"resource name may not be {quote_input(name)}"
    for bad in ("/", "%"):
        if bad in name:
            return f"resource name may not contain '{bad}'"
    return None


def check_object_name(name: str, what: str) -> str:
    """`name` when it can name an object of kind `what`, else a UsageError (exit 1).

    kubectl's own wording for an empty name; apimachinery's for a name that is no
    lowercase RFC 1123 subdomain (no server would hold such an object).
    """
    problem = path_segment_problem(name)
    shown = quote_input(name)
    if problem is not None:
        raise UsageError(problem if name == "" else f"invalid {what} name {shown}: {problem}")
    if len(name) > _MAX_LENGTH:
        raise UsageError(f"invalid {what} name {shown}: must be no more than 253 characters")
    if not _DNS1123_SUBDOMAIN.fullmatch(name):
        raise UsageError(
            f"invalid {what} name {shown}: a lowercase RFC 1123 subdomain must "
            "consist of lower case alphanumeric characters, '-' or '.', and must start and "
            "end with an alphanumeric character"
        )
    return name
