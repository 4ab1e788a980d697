"""Errors of the agent itself (the domain's own are in `allocator.errors`)."""

from __future__ import annotations

from allocator import BufferEmpty, DomainError, Refused, Unavailable


class HqUnreachable(Unavailable):
    """No HQ address answered (down, partitioned, or none of them leads)."""


class NoNumberLeft(BufferEmpty):
    """The buffer is empty; `cause` is why the last refill failed (None: one is under way)."""

    def __init__(self, message: str, cause: DomainError | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class TypeNotServed(Refused):
    """A POS asked for an invoice type this agent was not started for (--types)."""


class LedgerMismatch(DomainError):
    """The data dir's ledger belongs to another branch."""


class LedgerLocked(DomainError):
    """Another agent has the data dir open."""


class LedgerUnavailable(Unavailable):
    """A batch could not be committed: nothing of it was issued, the POS may retry."""
