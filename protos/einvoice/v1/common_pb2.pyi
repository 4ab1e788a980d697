from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class InvoiceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVOICE_TYPE_UNSPECIFIED: _ClassVar[InvoiceType]
    INVOICE_TYPE_GENERAL: _ClassVar[InvoiceType]
    INVOICE_TYPE_SPECIAL: _ClassVar[InvoiceType]

class RangeStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RANGE_STATUS_UNSPECIFIED: _ClassVar[RangeStatus]
    RANGE_STATUS_ENABLED: _ClassVar[RangeStatus]
    RANGE_STATUS_PAUSED: _ClassVar[RangeStatus]
    RANGE_STATUS_DISABLED: _ClassVar[RangeStatus]
INVOICE_TYPE_UNSPECIFIED: InvoiceType
INVOICE_TYPE_GENERAL: InvoiceType
INVOICE_TYPE_SPECIAL: InvoiceType
RANGE_STATUS_UNSPECIFIED: RangeStatus
RANGE_STATUS_ENABLED: RangeStatus
RANGE_STATUS_PAUSED: RangeStatus
RANGE_STATUS_DISABLED: RangeStatus

class TrackRange(_message.Message):
    __slots__ = ("track", "begin", "end")
    TRACK_FIELD_NUMBER: _ClassVar[int]
    BEGIN_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    track: str
    begin: int
    end: int
    def __init__(self, track: _Optional[str] = ..., begin: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class Span(_message.Message):
    __slots__ = ("begin", "end")
    BEGIN_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    begin: int
    end: int
    def __init__(self, begin: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class Quota(_message.Message):
    __slots__ = ("booklets_per_request", "booklets_per_period")
    BOOKLETS_PER_REQUEST_FIELD_NUMBER: _ClassVar[int]
    BOOKLETS_PER_PERIOD_FIELD_NUMBER: _ClassVar[int]
    booklets_per_request: int
    booklets_per_period: int
    def __init__(self, booklets_per_request: _Optional[int] = ..., booklets_per_period: _Optional[int] = ...) -> None: ...

class RefillSettings(_message.Message):
    __slots__ = ("low_water_count", "low_water_minutes", "min_booklets", "max_booklets")
    LOW_WATER_COUNT_FIELD_NUMBER: _ClassVar[int]
    LOW_WATER_MINUTES_FIELD_NUMBER: _ClassVar[int]
    MIN_BOOKLETS_FIELD_NUMBER: _ClassVar[int]
    MAX_BOOKLETS_FIELD_NUMBER: _ClassVar[int]
    low_water_count: int
    low_water_minutes: float
    min_booklets: int
    max_booklets: int
    def __init__(self, low_water_count: _Optional[int] = ..., low_water_minutes: _Optional[float] = ..., min_booklets: _Optional[int] = ..., max_booklets: _Optional[int] = ...) -> None: ...
