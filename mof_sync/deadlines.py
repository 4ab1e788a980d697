"""Which blank reports (E0402) are still due, and how long is left.

The deadline is the end of the 10th day of the next period (`Period.blank_report_deadline`).
A (period, branch) is done only when the latest revision of every one of its E0402 keys is
confirmed by the platform; time is passed in.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from allocator.identity import Ban, InvoiceType, Track
from allocator.period import Period
from allocator.ranges import RangeSet
from mof_sync.documents import DocumentKey
from mof_sync.mig import MessageType
from mof_sync.tracking import DocState, TrackedDocument

_DAY = timedelta(days=1)


class ReportStatus(enum.Enum):
    """Worst first: a failure needs a human, a missing report needs sending."""

    FAILED = "failed"
    NOT_SENT = "not_sent"
    IN_FLIGHT = "in_flight"
    CONFIRMED = "confirmed"


_SEVERITY = list(ReportStatus)


@dataclass(frozen=True, slots=True)
class BlankReportDue:
    """A (period, invoice type, branch) whose E0402s are not all confirmed yet."""

    period: Period
    invoice_type: InvoiceType
    branch_ban: Ban
    status: ReportStatus
    pending: tuple[DocumentKey, ...]
    error_codes: tuple[str, ...]
    deadline: datetime
    remaining: timedelta

    @property
    def days_left(self) -> int:
        """Whole days left (0: less than a day; negative: overdue by that many days)."""
        return self.remaining // _DAY

    @property
    def overdue(self) -> bool:
        return self.remaining <= timedelta(0)


def expected_e0402_keys(
    head_ban: Ban,
    invoice_type: InvoiceType,
    period: Period,
    blanks: Mapping[tuple[Ban, Track], RangeSet],
) -> list[DocumentKey]:
    """The E0402 keys a period needs, from `allocator.usage.blank_ranges` output."""
    return [
        DocumentKey(MessageType.E0402, head_ban, branch, invoice_type, period, track)
        for (branch, track), ranges in sorted(blanks.items())
        if ranges
    ]


def key_status(documents: Sequence[TrackedDocument]) -> ReportStatus:
    """The status of one key from its tracked documents: its latest revision decides."""
    if not documents:
        return ReportStatus.NOT_SENT
    latest = max(document.revision for document in documents)
    parts = [document for document in documents if document.revision == latest]
    if any(document.state is DocState.FAILED for document in parts):
        return ReportStatus.FAILED
    complete = len(parts) == parts[0].parts
    if complete and all(document.state is DocState.CONFIRMED for document in parts):
        return ReportStatus.CONFIRMED
    return ReportStatus.IN_FLIGHT


def worst_status(documents: Iterable[TrackedDocument]) -> ReportStatus:
    """The status of a set of documents (a pool's E0402s): its worst key's."""
    by_key: dict[DocumentKey, list[TrackedDocument]] = {}
    for document in documents:
        by_key.setdefault(document.key, []).append(document)
    statuses = [key_status(items) for items in by_key.values()] or [ReportStatus.NOT_SENT]
    return min(statuses, key=_SEVERITY.index)


def blank_reports_due(
    expected: Iterable[DocumentKey], documents: Iterable[TrackedDocument], now: datetime
) -> list[BlankReportDue]:
    """Every (period, type, branch) with an E0402 not confirmed, soonest deadline first.

    The two invoice types are reported apart: a type whose documents are all confirmed is
    done, whatever the other type's state."""
    by_key: dict[DocumentKey, list[TrackedDocument]] = {}
    for document in documents:
        if document.key.message is MessageType.E0402:
            by_key.setdefault(document.key, []).append(document)
    groups: dict[tuple[Period, InvoiceType, Ban], list[tuple[DocumentKey, ReportStatus]]] = {}
    for key in set(expected):
        status = key_status(by_key.get(key, []))
        where = (key.period, key.invoice_type, key.branch_ban)
        groups.setdefault(where, []).append((key, status))
    due = [_due(where, statuses, by_key, now) for where, statuses in groups.items()]
    return sorted(
        (item for item in due if item.status is not ReportStatus.CONFIRMED),
        key=lambda item: (
            item.deadline,
            _SEVERITY.index(item.status),
            item.invoice_type.value,
            item.branch_ban,
        ),
    )


def _due(
    where: tuple[Period, InvoiceType, Ban],
    statuses: list[tuple[DocumentKey, ReportStatus]],
    by_key: Mapping[DocumentKey, list[TrackedDocument]],
    now: datetime,
) -> BlankReportDue:
    worst = min((status for _, status in statuses), key=_SEVERITY.index)
    pending = tuple(
        sorted(
            (key for key, status in statuses if status is not ReportStatus.CONFIRMED),
            key=DocumentKey.label,
        )
    )
    codes = sorted(
        {
            document.error_code
            for key in pending
            for document in by_key.get(key, [])
            if document.state is DocState.FAILED and document.error_code
        }
    )
    period, invoice_type, branch = where
    deadline = period.blank_report_deadline()
    return BlankReportDue(
        period, invoice_type, branch, worst, pending, tuple(codes), deadline, deadline - now
    )
