"""The pure domain core: periods, identities, ranges, the allocation policy, blanks.

No I/O, no clock reads, no threads: time is always passed in. Every other package (the HQ
server, the branch agent, MOF sync, the notifier) takes its rules from here.
"""

from __future__ import annotations

from allocator.buffer import (
    Holding,
    Issued,
    NotYourNumber,
    RefillPolicy,
    require_handed_to,
    rewind_on_give_back,
    skipped_at_close,
    take,
    usable,
)
from allocator.errors import (
    AlreadyExists,
    BlanksReported,
    BranchDisabled,
    BufferEmpty,
    DomainError,
    InvalidBan,
    InvalidInput,
    InvalidInvoiceNumber,
    InvalidInvoiceType,
    InvalidPeriod,
    InvalidQuota,
    InvalidRange,
    InvalidTrack,
    MisalignedRange,
    NotFound,
    OverlappingRange,
    PeriodClosed,
    PeriodNotAssigned,
    PeriodNotEnded,
    PermissionDenied,
    PoolExhausted,
    QuotaReached,
    RangeNotEnabled,
    Refused,
    branch_disabled,
)
from allocator.identity import (
    Ban,
    BanRule,
    InvoiceNumber,
    InvoiceType,
    Track,
    ban_check_passes,
    parse_digits,
)
from allocator.period import Period
from allocator.pool import (
    AssignedRange,
    PoolKey,
    Quota,
    RangeStatus,
    TrackRange,
    booklets_allowed,
    by_track,
    check_new_assignment,
    check_schedule,
    first_overlap,
    free_runs,
    plan_grant,
    require_enabled,
)
from allocator.ranges import BOOKLET_SIZE, NumberRange, RangeSet
from allocator.usage import (
    Accounting,
    BranchUsage,
    Merged,
    UsageState,
    account,
    blank_ranges,
    merge_report,
)

__all__ = [
    "BOOKLET_SIZE",
    "TAIPEI",
    "Accounting",
    "AlreadyExists",
    "AssignedRange",
    "Ban",
    "BanRule",
    "BlanksReported",
    "BranchDisabled",
    "BranchUsage",
    "BufferEmpty",
    "DomainError",
    "Holding",
    "InvalidBan",
    "InvalidInput",
    "InvalidInvoiceNumber",
    "InvalidInvoiceType",
    "InvalidPeriod",
    "InvalidQuota",
    "InvalidRange",
    "InvalidTrack",
    "InvoiceNumber",
    "InvoiceType",
    "Issued",
    "Merged",
    "MisalignedRange",
    "NotFound",
    "NotYourNumber",
    "NumberRange",
    "OverlappingRange",
    "Period",
    "PeriodClosed",
    "PeriodNotAssigned",
    "PeriodNotEnded",
    "PermissionDenied",
    "PoolExhausted",
    "PoolKey",
    "Quota",
    "QuotaReached",
    "RangeNotEnabled",
    "RangeSet",
    "RangeStatus",
    "RefillPolicy",
    "Refused",
    "Track",
    "TrackRange",
    "UsageState",
    "account",
    "ban_check_passes",
    "blank_ranges",
    "booklets_allowed",
    "branch_disabled",
    "by_track",
    "check_new_assignment",
    "check_schedule",
    "first_overlap",
    "free_runs",
    "merge_report",
    "parse_digits",
    "plan_grant",
    "require_enabled",
    "require_handed_to",
    "rewind_on_give_back",
    "skipped_at_close",
    "take",
    "usable",
]


def __getattr__(name: str) -> object:
    """`TAIPEI` is resolved on first use, so that importing the package reads no tzdata file."""
    if name == "TAIPEI":
        from allocator import period

        return period.TAIPEI
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
