"""Messages <-> domain values, for both the POS API and the HQ client."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from allocator import (
    InvoiceNumber,
    Period,
    RefillPolicy,
    Refused,
)
from branch_agent.model import AgentConfig, GrantRecord, GrantUsageRow, HandedOut
from protos.einvoice.v1 import branch_pb2, common_pb2, pos_pb2
from runtime.messages import (
    invoice_type,
    invoice_type_code,
    refill_policy,
    timestamp,
    track_range,
)


def grant(message: branch_pb2.Grant) -> GrantRecord:
    """A grant from HQ, checked: whole booklets of a known period and type."""
    numbers = track_range(message.range)
    numbers.range.require_booklets()
    granted_at = message.granted_at.ToDatetime(tzinfo=UTC)
    return GrantRecord(
        grant_id=message.grant_id,
        period=Period.from_year_month(message.year_month),
        invoice_type=invoice_type(message.invoice_type, default=None),
        track_range=numbers,
        request_id=message.request_id,
        granted_at=granted_at,
    )


def grant_answering(
    message: branch_pb2.Grant, request: branch_pb2.RequestRangeRequest
) -> GrantRecord:
    """A grant that answers `request`: any other branch, period or type is never taken in."""
    record = grant(message)
    asked = (request.branch_ban, request.year_month, invoice_type(request.invoice_type))
    got = (
        message.branch_ban or request.branch_ban,
        message.year_month,
        record.invoice_type,
    )
    if got != asked or message.request_id not in ("", request.request_id):
        raise Refused(
            f"HQ answered request {request.request_id} ({asked[0]} {asked[1]} type "
            f"{asked[2].value}) with grant {message.grant_id} for {got[0]} {got[1]} type "
            f"{got[2].value} (request {message.request_id}): not taken"
        )
    return replace(record, request_id=request.request_id)


def config(message: branch_pb2.BranchConfig) -> AgentConfig:
    """HQ's configuration; settings HQ left at zero keep the agent's defaults."""
    policy = refill_policy(message.refill, RefillPolicy())
    quota = message.quota if message.HasField("quota") else None
    return AgentConfig(
        version=message.version,
        enabled=message.enabled,
        policy=policy,
        booklets_per_request=(quota.booklets_per_request or None) if quota else None,
        booklets_per_period=quota.booklets_per_period if quota else None,
        disabled=tuple(track_range(item) for item in message.disabled_ranges),
    )


def usage_report(
    report_id: str, branch_ban: str, rows: Sequence[GrantUsageRow], now: datetime
) -> branch_pb2.UsageReport:
    grants = [
        branch_pb2.GrantUsage(
            grant_id=row.grant_id,
            next_number=row.next_number,
            skipped=[common_pb2.Span(begin=b, end=e) for b, e in row.skipped],
            final=row.final,
        )
        for row in rows
    ]
    return branch_pb2.UsageReport(
        report_id=report_id,
        branch_ban=branch_ban,
        grants=grants,
        agent_time=timestamp(now),
    )


def issued_numbers(handed: HandedOut) -> list[pos_pb2.IssuedNumber]:
    year_month = handed.period.to_year_month()
    code = invoice_type_code(handed.invoice_type)
    return [_issued(number, year_month, code) for number in handed.numbers]


def _issued(number: InvoiceNumber, year_month: str, code: int) -> pos_pb2.IssuedNumber:
    return pos_pb2.IssuedNumber(
        invoice_number=str(number),
        track=number.track.code,
        number=number.number,
        year_month=year_month,
        invoice_type=code,
    )
