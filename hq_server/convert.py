"""Protobuf messages to domain values and rows back to messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from allocator import (
    Ban,
    InvalidInput,
    InvoiceType,
    NumberRange,
    Period,
    PoolKey,
    Quota,
    RangeStatus,
)
from hq_server.records import quota_of, refill_of
from protos.einvoice.v1 import admin_pb2, branch_pb2, common_pb2
from runtime.messages import (
    STATUS_TO_PB,
    TYPE_TO_PB,
    invoice_type,
    optional_timestamp,
    refill_settings,
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


def grant_pb(row: Row[Any]) -> branch_pb2.Grant:
    return branch_pb2.Grant(
        grant_id=row.id,
        branch_ban=row.branch_ban,
        year_month=row.year_month,
        invoice_type=TYPE_TO_PB[InvoiceType.parse(row.invoice_type)],
        range=common_pb2.TrackRange(track=row.track, begin=row.begin, end=row.end),
        booklets=row.booklets,
        granted_at=optional_timestamp(row.granted_at),
        request_id=row.request_id,
    )


def quota_pb(value: Quota) -> common_pb2.Quota:
    return common_pb2.Quota(
        booklets_per_request=value.booklets_per_request,
        booklets_per_period=value.booklets_per_period,
    )


def assignment_pb(row: Row[Any], granted: int = 0, free: int = 0) -> admin_pb2.Assignment:
    return admin_pb2.Assignment(
        assignment_id=row.id,
        year_month=row.year_month,
        invoice_type=TYPE_TO_PB[InvoiceType.parse(row.invoice_type)],
        range=common_pb2.TrackRange(track=row.track, begin=row.begin, end=row.end),
        booklets=NumberRange(row.begin, row.end).booklets,
        status=STATUS_TO_PB[RangeStatus(row.status)],
        granted=granted,
        free=free,
    )


def branch_pb(row: Row[Any], emails: list[str]) -> admin_pb2.Branch:
    return admin_pb2.Branch(
        ban=row.ban,
        name=row.name,
        enabled=row.enabled,
        quota=quota_pb(quota_of(row)),
        refill=refill_settings(refill_of(row)),
        last_report=optional_timestamp(row.last_report_at),
        emails=emails,
    )
