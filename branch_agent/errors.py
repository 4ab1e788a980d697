"""Errors of the agent itself (the domain's own are in `allocator.errors`)."""

from __future__ import annotations

import grpc

from allocator import BufferEmpty, DomainError, Refused
from runtime.errors import Unavailable
from runtime.grpc_status import status_for


class HqUnreachable(Unavailable):
    """No HQ address answered (down, partitioned, or none of them leads)."""

    reason = "HQ_UNREACHABLE"


class NoNumberLeft(BufferEmpty):
    """The buffer is empty; `cause` is why the last refill failed (None: one is under way).

    A POS sees the status and the reason of the cause: UNAVAILABLE (HQ unreachable, a refill
    under way: retry shortly), RESOURCE_EXHAUSTED (quota reached, pool exhausted),
    FAILED_PRECONDITION (period not yet assigned), PERMISSION_DENIED (branch disabled).
    """

    def __init__(self, message: str, cause: DomainError | None = None) -> None:
        super().__init__(message)
        self.cause = cause
        self.reason = cause.reason if cause is not None else "REFILL_PENDING"

    @property
    def status_code(self) -> grpc.StatusCode:
        return status_for(self.cause) if self.cause is not None else grpc.StatusCode.UNAVAILABLE


class TypeNotServed(Refused):
    """A POS asked for an invoice type this agent was not started for (--types)."""

    reason = "TYPE_NOT_SERVED"


class LedgerMismatch(DomainError):
    """The data dir's ledger belongs to another branch."""

    reason = "LEDGER_MISMATCH"


class LedgerLocked(DomainError):
    """Another agent has the data dir open."""

    reason = "LEDGER_LOCKED"


class LedgerUnavailable(Unavailable):
    """A batch could not be committed: nothing of it was issued, the POS may retry."""

    reason = "LEDGER_UNAVAILABLE"
