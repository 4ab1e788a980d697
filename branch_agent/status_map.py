"""The one place where errors become gRPC status codes, and HQ's status codes become errors.

POS callers get the domain's message unchanged; HQ's replies are turned back into the domain
error they stand for, so the refill and the POS error message can say why (quota, pool...).
"""

from __future__ import annotations

import grpc

from allocator import (
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PoolExhausted,
    QuotaReached,
    Refused,
)
from branch_agent.errors import HqUnreachable, NoNumberLeft
from runtime.grpc_status import status_for

Code = grpc.StatusCode


def status_code(error: DomainError) -> grpc.StatusCode:
    """The code a POS sees; an empty buffer takes the code of the reason it is empty."""
    if isinstance(error, NoNumberLeft):
        return status_code(error.cause) if error.cause else Code.UNAVAILABLE
    return status_for(error)


def hq_error(code: grpc.StatusCode, details: str) -> DomainError:
    """The domain error an HQ reply stands for (the message is HQ's, unchanged)."""
    if code is Code.RESOURCE_EXHAUSTED:
        return PoolExhausted(details) if "pool" in details.lower() else QuotaReached(details)
    if code is Code.FAILED_PRECONDITION:
        return Refused(details)
    if code is Code.NOT_FOUND:
        return NotFound(details)
    if code is Code.INVALID_ARGUMENT:
        return InvalidInput(details)
    if code is Code.PERMISSION_DENIED:
        return PermissionDenied(details)
    return HqUnreachable(f"{code.name}: {details}")
