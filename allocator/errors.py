"""Domain errors: one type per kind of bad input or refused request.

Every message names the offending value and the rule it broke, so the gRPC layer can pass it
through unchanged to a store's IT person or an HQ admin.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """Base of every rule the allocator enforces."""

    reason: ClassVar[str] = "DOMAIN_RULE"


class InvalidInput(DomainError):
    """The value itself is malformed (maps to INVALID_ARGUMENT)."""

    reason: ClassVar[str] = "INVALID_INPUT"


class InvalidBan(InvalidInput):
    """A 統一編號 that is not 8 digits or fails the MOF check digit."""

    reason: ClassVar[str] = "INVALID_BAN"


class InvalidTrack(InvalidInput):
    """A 字軌 that is not two capital letters."""

    reason: ClassVar[str] = "INVALID_TRACK"


class InvalidInvoiceType(InvalidInput):
    """An invoice type other than 07 or 08."""

    reason: ClassVar[str] = "INVALID_INVOICE_TYPE"


class InvalidPeriod(InvalidInput):
    """A YearMonth that is not ROC year + even month, or a period out of range."""

    reason: ClassVar[str] = "INVALID_PERIOD"


class InvalidInvoiceNumber(InvalidInput):
    """An invoice number that is not track + 8 digits."""

    reason: ClassVar[str] = "INVALID_INVOICE_NUMBER"


class InvalidRange(InvalidInput):
    """A number range with bounds outside 00000000..99999999 or begin > end."""

    reason: ClassVar[str] = "INVALID_RANGE"


class MisalignedRange(InvalidInput):
    """A range that does not start at xx00/xx50 and end at xx49/xx99 (whole booklets)."""

    reason: ClassVar[str] = "MISALIGNED_RANGE"


class InvalidQuota(InvalidInput):
    """A quota with a negative or zero count where a positive one is needed."""

    reason: ClassVar[str] = "INVALID_QUOTA"


class Refused(DomainError):
    """The input is well formed but the state forbids it (maps to FAILED_PRECONDITION)."""

    reason: ClassVar[str] = "REFUSED"


class OverlappingRange(Refused):
    """A range that overlaps one already assigned or granted."""

    reason: ClassVar[str] = "OVERLAPPING_RANGE"


class RangeNotEnabled(Refused):
    """A range that is paused or disabled and so cannot be granted from."""

    reason: ClassVar[str] = "RANGE_NOT_ENABLED"


class QuotaReached(Refused):
    """A branch has no booklets left in its quota for the period (maps to RESOURCE_EXHAUSTED)."""

    reason: ClassVar[str] = "QUOTA_REACHED"


class PoolExhausted(Refused):
    """No free booklet is left in an enabled range of the pool (maps to RESOURCE_EXHAUSTED)."""

    reason: ClassVar[str] = "POOL_EXHAUSTED"


class PeriodClosed(Refused):
    """A number or grant asked for a period that has already ended."""

    reason: ClassVar[str] = "PERIOD_CLOSED"


class PeriodNotEnded(Refused):
    """Something that waits for a period's end (closing it, its E0402) was asked for early."""

    reason: ClassVar[str] = "PERIOD_NOT_ENDED"


class BufferEmpty(Refused):
    """A branch agent has no number left for the current period and invoice type."""

    reason: ClassVar[str] = "BUFFER_EMPTY"


class PeriodNotAssigned(Refused):
    """No MOF range is known for the period and type a branch asked for."""

    reason: ClassVar[str] = "PERIOD_NOT_ASSIGNED"


class NotFound(DomainError):
    """A branch, range or grant that does not exist (maps to NOT_FOUND)."""

    reason: ClassVar[str] = "NOT_FOUND"


class AlreadyExists(DomainError):
    """A branch or range that is already registered (maps to ALREADY_EXISTS)."""

    reason: ClassVar[str] = "ALREADY_EXISTS"


class PermissionDenied(DomainError):
    """A caller acting for another branch's identity (maps to PERMISSION_DENIED)."""

    reason: ClassVar[str] = "PERMISSION_DENIED"


class BranchDisabled(PermissionDenied):
    """An admin disabled the branch: it gets no more ranges and its certificate is refused."""

    reason: ClassVar[str] = "BRANCH_DISABLED"


def branch_disabled(ban: object) -> BranchDisabled:
    return BranchDisabled(
        f"branch {ban} is disabled: HQ grants it nothing and refuses its certificate until an "
        "operator enables it again"
    )


class BlanksReported(Refused):
    """A usage change to a grant whose period's E0402 was already handed to the MOF: the blank
    ranges sent cannot change by themselves (a corrected E0402 is an operator's decision)."""

    reason: ClassVar[str] = "E0402_HANDED_OVER"

    def __init__(self, message: str, grant_id: str = "") -> None:
        super().__init__(message)
        self.metadata = {"grant_id": grant_id}
