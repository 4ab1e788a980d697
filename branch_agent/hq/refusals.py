"""HQ's refusals back into the domain errors they stand for, by their ErrorInfo reason.

The refill's backoff and the POS error message depend on why HQ refused (quota, pool, period,
a disabled branch, a rate limit): that is read from the machine-readable reason HQ sends, never
from the wording of its message.
"""

from __future__ import annotations

import grpc

from allocator import (
    BlanksReported,
    BranchDisabled,
    DomainError,
    InvalidInput,
    NotFound,
    OverlappingRange,
    PeriodClosed,
    PeriodNotAssigned,
    PermissionDenied,
    PoolExhausted,
    QuotaReached,
    RangeNotEnabled,
    Refused,
)
from branch_agent.errors import HqUnreachable
from runtime.errors import Forbidden, RateLimited, Unauthenticated
from runtime.grpc_status import Refusal

Code = grpc.StatusCode
_BY_REASON: dict[str, type[DomainError]] = {
    kind.reason: kind
    for kind in (
        QuotaReached,
        PoolExhausted,
        PeriodClosed,
        BlanksReported,
        PeriodNotAssigned,
        BranchDisabled,
        OverlappingRange,
        RangeNotEnabled,
        Forbidden,
        Unauthenticated,
    )
}
_BY_CODE: dict[grpc.StatusCode, type[DomainError]] = {
    Code.RESOURCE_EXHAUSTED: QuotaReached,
    Code.FAILED_PRECONDITION: Refused,
    Code.NOT_FOUND: NotFound,
    Code.INVALID_ARGUMENT: InvalidInput,
    Code.PERMISSION_DENIED: PermissionDenied,
    Code.UNAUTHENTICATED: Unauthenticated,
}


def hq_error(seen: Refusal) -> DomainError:
    """The domain error an HQ reply stands for (the message is HQ's, unchanged)."""
    if seen.reason == RateLimited.reason:
        return RateLimited(seen.message, seen.retry_after or 1.0)
    kind = _BY_REASON.get(seen.reason) or _BY_CODE.get(seen.code)
    if kind is None:
        return HqUnreachable(f"{seen.code.name}: {seen.message}")
    error = kind(seen.message)
    error.metadata = seen.metadata  # type: ignore[attr-defined]  # what HQ said it was about
    return error
