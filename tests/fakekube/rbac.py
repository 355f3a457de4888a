"""Who may do what on the fake API server: bearer tokens, users, grants and denials.

A small stand-in for the API server's authenticator and RBAC authorizer. Tokens name
users; a user with grants may do only what is granted (like Roles bound to it); a
denial refuses one verb on one resource, for one user or for everyone, whatever the
grants say. The refusal itself (the 403 ``Status``) is built by the server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Grant", "Rbac"]


def _names(value: str | Iterable[str]) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else value)


def _resource_matches(pattern: str, resource: str) -> bool:
    # RBAC's forms: "*" (everything, subresources too), "pods" (not pods/proxy),
    # "pods/proxy", "pods/*" (every subresource of pods), "*/status".
    if pattern in ("*", resource):
        return True
    base, _, sub = resource.partition("/")
    if not sub:
        return False
    p_base, _, p_sub = pattern.partition("/")
    return (p_base, p_sub) in ((base, "*"), ("*", sub))


@dataclass(frozen=True)
class Grant:
    """What a Role bound to a user allows: ``verbs`` on ``resources``.

    ``namespace`` None is a ClusterRoleBinding (every namespace and the cluster scope);
    a name is a RoleBinding in that namespace only. ``names`` (RBAC's resourceNames)
    limits the grant to requests for those objects; like RBAC, a request without a name
    (list, watch, create, deletecollection) never matches a grant with names.
    """

    verbs: frozenset[str]
    resources: frozenset[str]
    namespace: str | None = None
    names: frozenset[str] = frozenset()

    def allows(self, verb: str, resource: str, namespace: str | None, name: str | None) -> bool:
        if not ({"*", verb} & self.verbs):
            return False
        if not any(_resource_matches(p, resource) for p in self.resources):
            return False
        if self.namespace is not None and self.namespace != (namespace or None):
            return False
        return not self.names or (name is not None and name in self.names)


@dataclass(frozen=True)
class _Denial:
    user: str | None  # None: everyone
    verb: str
    resource: str
    namespace: str | None  # None: everywhere; "": the cluster scope only

    def refuses(self, user: str, verb: str, resource: str, namespace: str | None) -> bool:
        if self.user is not None and self.user != user:
            return False
        if self.verb not in ("*", verb) or not _resource_matches(self.resource, resource):
            return False
        return self.namespace is None or self.namespace == (namespace or "")


class Rbac:
    """Tokens, users and their permissions; every method is thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[str, str] = {}
        self._grants: dict[str, list[Grant]] = {}
        self._denials: list[_Denial] = []

    def add_user(self, token: str, name: str) -> None:
        with self._lock:
            self._users[token] = name

    def user_for(self, token: str | None) -> str | None:
        """The user a bearer token authenticates as, or None for a token nobody has."""
        if token is None:
            return None
        with self._lock:
            return self._users.get(token)

    def grant(
        self,
        user: str,
        verbs: str | Iterable[str],
        resources: str | Iterable[str],
        namespace: str | None = None,
        names: str | Iterable[str] = (),
    ) -> None:
        rule = Grant(_names(verbs), _names(resources), namespace or None, _names(names))
        with self._lock:
            self._grants.setdefault(user, []).append(rule)

    def deny(self, user: str | None, verb: str, resource: str, namespace: str | None) -> None:
        with self._lock:
            self._denials.append(_Denial(user, verb, resource, namespace))

    def clear(self) -> None:
        """Forget every grant and denial (users and their tokens stay)."""
        with self._lock:
            self._grants.clear()
            self._denials.clear()

    def allowed(
        self, user: str, verb: str, resource: str, namespace: str | None, name: str | None
    ) -> bool:
        with self._lock:
            if any(d.refuses(user, verb, resource, namespace) for d in self._denials):
                return False
            grants = self._grants.get(user)
        return grants is None or any(g.allows(verb, resource, namespace, name) for g in grants)
