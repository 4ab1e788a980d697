import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from protos.einvoice.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NextNumbersRequest(_message.Message):
    __slots__ = ("count", "invoice_type", "terminal_id", "request_id")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    TERMINAL_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    count: int
    invoice_type: _common_pb2.InvoiceType
    terminal_id: str
    request_id: str
    def __init__(self, count: _Optional[int] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., terminal_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class IssuedNumber(_message.Message):
    __slots__ = ("invoice_number", "track", "number", "year_month", "invoice_type")
    INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TRACK_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    invoice_number: str
    track: str
    number: int
    year_month: str
    invoice_type: _common_pb2.InvoiceType
    def __init__(self, invoice_number: _Optional[str] = ..., track: _Optional[str] = ..., number: _Optional[int] = ..., year_month: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ...) -> None: ...

class NextNumbersReply(_message.Message):
    __slots__ = ("numbers",)
    NUMBERS_FIELD_NUMBER: _ClassVar[int]
    numbers: _containers.RepeatedCompositeFieldContainer[IssuedNumber]
    def __init__(self, numbers: _Optional[_Iterable[_Union[IssuedNumber, _Mapping]]] = ...) -> None: ...

class GiveBackRequest(_message.Message):
    __slots__ = ("invoice_number", "terminal_id")
    INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TERMINAL_ID_FIELD_NUMBER: _ClassVar[int]
    invoice_number: str
    terminal_id: str
    def __init__(self, invoice_number: _Optional[str] = ..., terminal_id: _Optional[str] = ...) -> None: ...

class GiveBackReply(_message.Message):
    __slots__ = ("outcome",)
    class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTCOME_UNSPECIFIED: _ClassVar[GiveBackReply.Outcome]
        OUTCOME_REUSED: _ClassVar[GiveBackReply.Outcome]
        OUTCOME_SKIPPED: _ClassVar[GiveBackReply.Outcome]
    OUTCOME_UNSPECIFIED: GiveBackReply.Outcome
    OUTCOME_REUSED: GiveBackReply.Outcome
    OUTCOME_SKIPPED: GiveBackReply.Outcome
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: GiveBackReply.Outcome
    def __init__(self, outcome: _Optional[_Union[GiveBackReply.Outcome, str]] = ...) -> None: ...

class StatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AgentStatus(_message.Message):
    __slots__ = ("branch_ban", "year_month", "remaining", "current_range", "next_ranges", "hq_reachable", "hq_unreachable_since", "burn_per_minute", "issued_total", "reports_pending", "last_refill_error")
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    CURRENT_RANGE_FIELD_NUMBER: _ClassVar[int]
    NEXT_RANGES_FIELD_NUMBER: _ClassVar[int]
    HQ_REACHABLE_FIELD_NUMBER: _ClassVar[int]
    HQ_UNREACHABLE_SINCE_FIELD_NUMBER: _ClassVar[int]
    BURN_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    REPORTS_PENDING_FIELD_NUMBER: _ClassVar[int]
    LAST_REFILL_ERROR_FIELD_NUMBER: _ClassVar[int]
    branch_ban: str
    year_month: str
    remaining: int
    current_range: _common_pb2.TrackRange
    next_ranges: _containers.RepeatedCompositeFieldContainer[_common_pb2.TrackRange]
    hq_reachable: bool
    hq_unreachable_since: _timestamp_pb2.Timestamp
    burn_per_minute: float
    issued_total: int
    reports_pending: int
    last_refill_error: str
    def __init__(self, branch_ban: _Optional[str] = ..., year_month: _Optional[str] = ..., remaining: _Optional[int] = ..., current_range: _Optional[_Union[_common_pb2.TrackRange, _Mapping]] = ..., next_ranges: _Optional[_Iterable[_Union[_common_pb2.TrackRange, _Mapping]]] = ..., hq_reachable: _Optional[bool] = ..., hq_unreachable_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., burn_per_minute: _Optional[float] = ..., issued_total: _Optional[int] = ..., reports_pending: _Optional[int] = ..., last_refill_error: _Optional[str] = ...) -> None: ...
