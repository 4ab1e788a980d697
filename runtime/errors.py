"""Errors of the shells, not of the domain: peers away, leadership, identity, rate limits.

They subclass `allocator.DomainError` so the one status table (`runtime.grpc_status`) and the
one interceptor translate them like the domain's own; each carries a machine-readable reason.
"""

from __future__ import annotations

from typing import ClassVar

from allocator import DomainError, PermissionDenied


class Unavailable(DomainError):
    """A peer or a store cannot be reached right now; the caller may retry (UNAVAILABLE)."""

    reason: ClassVar[str] = "UNAVAILABLE"


class NotLeader(Unavailable):
    """This HQ replica does not lead (or no longer does): writes go to the leader (UNAVAILABLE)."""

    reason: ClassVar[str] = "NOT_LEADER"

    def __init__(self, message: str, leader: str | None = None) -> None:
        super().__init__(message)
        self.leader = leader


class Fenced(NotLeader):
    """A write found another fencing token stored: another HQ took office meanwhile."""

    reason: ClassVar[str] = "FENCED"


class Unauthenticated(DomainError):
    """The caller presented no identity this server accepts (UNAUTHENTICATED)."""

    reason: ClassVar[str] = "UNAUTHENTICATED"


class Forbidden(PermissionDenied):
    """An authenticated caller asked for something its identity or role does not allow."""

    reason: ClassVar[str] = "FORBIDDEN"


class RateLimited(DomainError):
    """Too many calls from one identity: retry after `retry_after` seconds (RESOURCE_EXHAUSTED)."""

    reason: ClassVar[str] = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
