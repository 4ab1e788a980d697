"""Errors to gRPC statuses and back: the one table every server and client uses.

A refused call carries, besides its code and its message, a `google.rpc.ErrorInfo` with the
error's machine-readable `reason` (and a `google.rpc.RetryInfo` when the caller should wait),
in the standard `grpc-status-details-bin` trailer. Clients decide on the reason, never on the
wording of a message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc import error_details_pb2, status_pb2

from allocator import (
    AlreadyExists,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PoolExhausted,
    QuotaReached,
)
from runtime.errors import NotLeader, RateLimited, Unauthenticated, Unavailable

ERROR_DOMAIN = "einvoice.v1"
DETAILS_KEY = "grpc-status-details-bin"
PUSHBACK_KEY = "grpc-retry-pushback-ms"  # gRPC retries: a negative value means "do not retry"
# gRPC carries the message in a trailer; metadata is limited (8 KiB by default), so an error that
# echoes a huge value would itself fail. Messages are cut well below that.
MAX_MESSAGE = 1000

# Checked in order: the first matching class decides (subclasses before their bases).
STATUS_BY_ERROR: tuple[tuple[type[DomainError], grpc.StatusCode], ...] = (
    (InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (QuotaReached, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (PoolExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (RateLimited, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
    (DomainError, grpc.StatusCode.FAILED_PRECONDITION),
)


def status_for(error: DomainError) -> grpc.StatusCode:
    code = getattr(error, "status_code", None)  # an error may name its own (see NoNumberLeft)
    if isinstance(code, grpc.StatusCode):
        return code
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return grpc.StatusCode.FAILED_PRECONDITION


def message_for(error: DomainError) -> str:
    text = str(error)
    if isinstance(error, NotLeader) and error.leader:
        text = f"{text} (leader: {error.leader})"
    return clip(text)


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reason_for(error: DomainError) -> str:
    return str(getattr(error, "reason", "") or type(error).reason)


def details_for(error: DomainError) -> status_pb2.Status:
    """The google.rpc.Status of a refused call: code, message, ErrorInfo, RetryInfo if any."""
    status = status_pb2.Status(code=status_for(error).value[0], message=message_for(error))
    metadata = {"error": type(error).__name__}
    metadata |= {k: clip(str(v), 200) for k, v in getattr(error, "metadata", {}).items()}
    if isinstance(error, NotLeader) and error.leader:
        metadata["leader"] = clip(error.leader, 200)
    info = error_details_pb2.ErrorInfo(
        reason=reason_for(error), domain=ERROR_DOMAIN, metadata=metadata
    )
    status.details.add().Pack(info)
    if isinstance(error, RateLimited):
        delay = Duration()
        delay.FromMilliseconds(max(1, round(error.retry_after * 1000)))
        status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    return status


def trailers_for(error: DomainError) -> tuple[tuple[str, bytes | str], ...]:
    details: tuple[tuple[str, bytes | str], ...] = (
        (DETAILS_KEY, details_for(error).SerializeToString()),
    )
    if isinstance(error, NotLeader) and error.leader:
        # A follower that knows the leader tells gRPC's retry policy not to try it again: the
        # client goes to the leader instead (runtime.replicas). Without a leader known (an
        # election under way), the policy's own backoff retries.
        return (*details, (PUSHBACK_KEY, "-1"))
    return details


async def abort(context: grpc.aio.ServicerContext, error: DomainError) -> None:
    """End the call with the error's status, message and details (raises, as abort does)."""
    await context.abort(status_for(error), message_for(error), trailers_for(error))


@dataclass(frozen=True, slots=True)
class Refusal:
    """What a client learns from a failed call: the code, the message, the reason, a delay."""

    code: grpc.StatusCode
    message: str
    reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None


def refusal(error: grpc.RpcError) -> Refusal:
    """Read a failed call (sync or asyncio) into a Refusal, details included when present."""
    code = error.code()  # type: ignore[attr-defined]
    message = error.details() or ""  # type: ignore[attr-defined]
    trailing = error.trailing_metadata() or ()  # type: ignore[attr-defined]
    raw = _details_bytes(trailing)
    if raw is None:
        return Refusal(code, message)
    status = status_pb2.Status.FromString(raw)
    reason, metadata, delay = "", {}, None
    for item in status.details:
        info = error_details_pb2.ErrorInfo()
        retry = error_details_pb2.RetryInfo()
        if item.Unpack(info):
            reason, metadata = info.reason, dict(info.metadata)
        elif item.Unpack(retry):
            delay = retry.retry_delay.ToMilliseconds() / 1000
    return Refusal(code, message, reason, metadata, delay)


def _details_bytes(trailing: Iterable[tuple[str, str | bytes]]) -> bytes | None:
    for key, value in trailing:
        if key == DETAILS_KEY:
            return value if isinstance(value, bytes) else value.encode()
    return None
