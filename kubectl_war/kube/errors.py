"""What went wrong talking to the cluster: one class per kind of answer, made in one place.

Every failure leaves the kube package as a `KubeError` with one line for the user.
Callers catch the class that means what they handle (`NotFound`, `Conflict`, `Gone`...)
and never compare HTTP status numbers: `error_class` is the one place that reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubectl_war.errors import WarError

# Answers worth sending the same request again for: throttling and passing server trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


# The class of each HTTP status that has one (filled in as the classes are defined).
_BY_STATUS: dict[int, type[KubeError]] = {}


class KubeError(WarError):
    """Anything that went wrong talking to the cluster, with a one-line message.

    A subclass for one HTTP status names it in its bases (`class NotFound(KubeError,
    code=404)`), which also makes it the class `error_class` answers for that status.

    Attributes:
        status: the HTTP status when the server answered, else None.
        reason: the Status reason (`NotFound`, `Conflict`, ...) when there is one.
        body: the Status object the server answered with (empty when there was none).
        retryable: whether sending the same request again may succeed.
        retry_after: how long the server asked us to wait first (seconds), if it did.
        retried: whether this answer came to a request sent more than once.
        needs: for a refusal (403), the permission that would allow the request, in RBAC's
            words (`RBAC needs verb "list" on resource "workloadgroups" in API group ...`).
    """

    #: The HTTP status of the class's answers (None: no one status).
    code: ClassVar[int | None] = None

    def __init_subclass__(cls, code: int | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
            _BY_STATUS[code] = cls

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status if status is not None else self.code
        self.reason = reason
        self.body = dict(body or {})
        self.retryable = self.status in RETRY_STATUSES
        self.retry_after: float | None = None
        self.retried = False
        self.needs: str | None = None


class Unauthorized(KubeError, code=401):
    """The credentials were rejected."""


class Forbidden(KubeError, code=403):
    """RBAC does not allow the request."""


class NotFound(KubeError, code=404):
    """No such object, or the API is not served."""


class Conflict(KubeError, code=409):
    """A precondition failed (the object changed or was re-created)."""


class Gone(KubeError, code=410):
    """Expired: the server no longer has the resourceVersion or continue token."""


class TooManyRequests(KubeError, code=429):
    """The server throttled the request."""


class ServerError(KubeError):
    """5xx: trouble on the server's side."""


class Unreachable(KubeError):
    """No answer: the connection was refused, reset, timed out or failed TLS."""


def error_class(status: int) -> type[KubeError]:
    """The class for an answer with this HTTP status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 500 <= status < 600:
        return ServerError
    return KubeError


def api_error(
    status: int, message: str, *, reason: str | None = None, body: Mapping[str, Any] | None = None
) -> KubeError:
    """The error of the right class for an answer with `status`."""
    return error_class(status)(message, status=status, reason=reason, body=body)


def one_line(exc: object) -> str:
    """An exception's text on one line (its type's name when it has none)."""
    text = str(exc).strip().replace("\n", " ")
    return text or type(exc).__name__
