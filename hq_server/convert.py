"""Protobuf messages to domain values and rows back to messages."""

from __future__ import annotations

from allocator import (
    Ban,
    InvalidInput,
    InvoiceType,
    Period,
    PoolKey,
    Quota,
    RangeStatus,
)
from hq_server.grant_batch import GrantRecord
from hq_server.records import Assignment, Branch
from protos.einvoice.v1 import admin_pb2, branch_pb2, common_pb2
from runtime.messages import (
    STATUS_TO_PB,
    TYPE_TO_PB,
    invoice_type,
    optional_timestamp,
    refill_settings,
    track_range_message,
)


def range_status(value: int) -> RangeStatus:
    for domain, pb in STATUS_TO_PB.items():
        if pb == value:
            return domain
    raise InvalidInput(f"range status {value} must be enabled (1), paused (2) or disabled (3)")


def pool_key(year_month: str, type_value: int) -> PoolKey:
    return PoolKey(Period.from_year_month(year_month), invoice_type(type_value))


def quota(msg: common_pb2.Quota) -> Quota:
    return Quota(msg.booklets_per_request, msg.booklets_per_period)


def ban(value: str) -> Ban:
    return Ban.parse(value)


def grant_pb(grant: GrantRecord) -> branch_pb2.Grant:
    return branch_pb2.Grant(
        grant_id=grant.id,
        branch_ban=grant.branch_ban,
        year_month=grant.year_month,
        invoice_type=TYPE_TO_PB[InvoiceType.parse(grant.invoice_type)],
        range=common_pb2.TrackRange(track=grant.track, begin=grant.begin, end=grant.end),
        booklets=grant.booklets,
        granted_at=optional_timestamp(grant.granted_at),
        request_id=grant.request_id,
    )


def quota_pb(value: Quota) -> common_pb2.Quota:
    return common_pb2.Quota(
        booklets_per_request=value.booklets_per_request,
        booklets_per_period=value.booklets_per_period,
    )


def assignment_pb(item: Assignment, granted: int = 0, free: int = 0) -> admin_pb2.Assignment:
    return admin_pb2.Assignment(
        assignment_id=item.id,
        year_month=item.pool.year_month,
        invoice_type=TYPE_TO_PB[item.pool.invoice_type],
        range=track_range_message(item.track_range),
        booklets=item.track_range.range.booklets,
        status=STATUS_TO_PB[item.status],
        granted=granted,
        free=free,
    )


def branch_pb(branch: Branch) -> admin_pb2.Branch:
    return admin_pb2.Branch(
        ban=branch.ban.value,
        name=branch.name,
        enabled=branch.enabled,
        quota=quota_pb(branch.quota),
        refill=refill_settings(branch.refill),
        last_report=optional_timestamp(branch.last_report_at),
        emails=list(branch.emails),
    )
