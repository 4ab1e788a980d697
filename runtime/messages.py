"""Protobuf values that both servers translate the same way: invoice types, track ranges, times."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from allocator import InvalidInvoiceType, InvoiceType, NumberRange, RangeStatus, Track, TrackRange
from protos.einvoice.v1 import common_pb2

TYPE_TO_PB = {
    InvoiceType.GENERAL: common_pb2.INVOICE_TYPE_GENERAL,
    InvoiceType.SPECIAL: common_pb2.INVOICE_TYPE_SPECIAL,
}
_TYPE_FROM_PB = {code: value for value, code in TYPE_TO_PB.items()}
STATUS_TO_PB = {
    RangeStatus.ENABLED: common_pb2.RANGE_STATUS_ENABLED,
    RangeStatus.PAUSED: common_pb2.RANGE_STATUS_PAUSED,
    RangeStatus.DISABLED: common_pb2.RANGE_STATUS_DISABLED,
}


def invoice_type(code: int, default: InvoiceType | None = InvoiceType.GENERAL) -> InvoiceType:
    """The enum value of a message; unspecified means `default` where one makes sense."""
    if code == common_pb2.INVOICE_TYPE_UNSPECIFIED and default is not None:
        return default
    if code not in _TYPE_FROM_PB:
        raise InvalidInvoiceType(f"invoice type {code} must be 07 (general) or 08 (special)")
    return _TYPE_FROM_PB[code]


def invoice_type_code(value: InvoiceType) -> int:
    return TYPE_TO_PB[value]


def track_range(message: common_pb2.TrackRange) -> TrackRange:
    return TrackRange(Track(message.track), NumberRange(message.begin, message.end))


def track_range_message(value: TrackRange) -> common_pb2.TrackRange:
    return common_pb2.TrackRange(
        track=value.track.code, begin=value.range.begin, end=value.range.end
    )


def timestamp(instant: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(instant.astimezone(UTC))
    return stamp


def optional_timestamp(instant: datetime | None) -> Timestamp | None:
    return None if instant is None else timestamp(instant)


def from_timestamp(stamp: Timestamp, present: bool) -> datetime | None:
    return stamp.ToDatetime(tzinfo=UTC) if present else None
