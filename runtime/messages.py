"""Protobuf values that both servers translate the same way: invoice types, track ranges, times."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from allocator import (
    InvalidInput,
    InvalidInvoiceType,
    InvoiceType,
    NumberRange,
    RangeStatus,
    RefillPolicy,
    Track,
    TrackRange,
)
from protos.einvoice.v1 import common_pb2

MIN_SECONDS = 0  # 1970-01-01: nothing in this service happened before
MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z, protobuf's own upper bound
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


def refill_policy(message: common_pb2.RefillSettings, base: RefillPolicy) -> RefillPolicy:
    """Refill settings from a message; the fields left at zero (unset) keep `base`'s."""
    return RefillPolicy(
        low_water_count=message.low_water_count or base.low_water_count,
        low_water_minutes=message.low_water_minutes or base.low_water_minutes,
        min_booklets=message.min_booklets or base.min_booklets,
        max_booklets=message.max_booklets or base.max_booklets,
    )


def refill_settings(value: RefillPolicy) -> common_pb2.RefillSettings:
    return common_pb2.RefillSettings(
        low_water_count=value.low_water_count,
        low_water_minutes=value.low_water_minutes,
        min_booklets=value.min_booklets,
        max_booklets=value.max_booklets,
    )


def timestamp(instant: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(instant.astimezone(UTC))
    return stamp


def optional_timestamp(instant: datetime | None) -> Timestamp | None:
    return None if instant is None else timestamp(instant)


def from_timestamp(stamp: Timestamp, present: bool, field: str = "timestamp") -> datetime | None:
    """An aware UTC instant, or None when unset; out-of-range values are refused by name."""
    if not present:
        return None
    if not (MIN_SECONDS <= stamp.seconds <= MAX_SECONDS and 0 <= stamp.nanos <= 999_999_999):
        raise InvalidInput(
            f"{field} (seconds {stamp.seconds}, nanos {stamp.nanos}) is not a time between "
            "the years 1970 and 9999"
        )
    return stamp.ToDatetime(tzinfo=UTC)
