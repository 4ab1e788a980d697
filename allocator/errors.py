"""Domain errors: one type per kind of bad input or refused request.

Every message names the offending value and the rule it broke, so the gRPC layer can pass it
through unchanged to a store's IT person or an HQ admin.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule the allocator enforces."""


class InvalidInput(DomainError):
    """The value itself is malformed (maps to INVALID_ARGUMENT)."""


class InvalidBan(InvalidInput):
    """A 統一編號 that is not 8 digits or fails the MOF check digit."""


class InvalidTrack(InvalidInput):
    """A 字軌 that is not two capital letters."""


class InvalidInvoiceType(InvalidInput):
    """An invoice type other than 07 or 08."""


class InvalidPeriod(InvalidInput):
    """A YearMonth that is not ROC year + even month, or a period out of range."""


class InvalidInvoiceNumber(InvalidInput):
    """An invoice number that is not track + 8 digits."""


class InvalidRange(InvalidInput):
    """A number range with bounds outside 00000000..99999999 or begin > end."""


class MisalignedRange(InvalidInput):
    """A range that does not start at xx00/xx50 and end at xx49/xx99 (whole booklets)."""


class InvalidQuota(InvalidInput):
    """A quota with a negative or zero count where a positive one is needed."""


class Refused(DomainError):
    """The input is well formed but the state forbids it (maps to FAILED_PRECONDITION)."""


class OverlappingRange(Refused):
    """A range that overlaps one already assigned or granted."""


class RangeNotEnabled(Refused):
    """A range that is paused or disabled and so cannot be granted from."""


class QuotaReached(Refused):
    """A branch has no booklets left in its quota for the period (maps to RESOURCE_EXHAUSTED)."""


class PoolExhausted(Refused):
    """No free booklet is left in an enabled range of the pool (maps to RESOURCE_EXHAUSTED)."""


class PeriodClosed(Refused):
    """A number or grant asked for a period that has already ended."""


class BufferEmpty(Refused):
    """A branch agent has no number left for the current period and invoice type."""


class NotFound(DomainError):
    """A branch, range or grant that does not exist (maps to NOT_FOUND)."""


class AlreadyExists(DomainError):
    """A branch or range that is already registered (maps to ALREADY_EXISTS)."""


class PermissionDenied(DomainError):
    """A caller acting for another branch's identity (maps to PERMISSION_DENIED)."""


class Unavailable(DomainError):
    """A peer or a store cannot be reached right now; the caller may retry (UNAVAILABLE)."""


class NotLeader(Unavailable):
    """This HQ replica does not lead (or no longer does): writes go to the leader (UNAVAILABLE)."""

    def __init__(self, message: str, leader: str | None = None) -> None:
        super().__init__(message)
        self.leader = leader
