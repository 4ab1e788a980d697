"""Domain errors to gRPC status codes: the one table every server uses."""

from __future__ import annotations

import grpc

from allocator import (
    AlreadyExists,
    BufferEmpty,
    DomainError,
    InvalidInput,
    NotFound,
    NotLeader,
    PermissionDenied,
    PoolExhausted,
    QuotaReached,
    Unavailable,
)

# Checked in order: the first matching class decides (subclasses before their bases).
STATUS_BY_ERROR: tuple[tuple[type[DomainError], grpc.StatusCode], ...] = (
    (InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (QuotaReached, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (PoolExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (BufferEmpty, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
    (DomainError, grpc.StatusCode.FAILED_PRECONDITION),
)


def status_for(error: DomainError) -> grpc.StatusCode:
    for kind, code in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.FAILED_PRECONDITION


def message_for(error: DomainError) -> str:
    if isinstance(error, NotLeader) and error.leader:
        return f"{error} (leader: {error.leader})"
    return str(error)
