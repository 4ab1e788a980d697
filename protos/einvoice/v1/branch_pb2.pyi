import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from protos.einvoice.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EnrollRequest(_message.Message):
    __slots__ = ("csr_pem",)
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    csr_pem: bytes
    def __init__(self, csr_pem: _Optional[bytes] = ...) -> None: ...

class RenewCertificateRequest(_message.Message):
    __slots__ = ("csr_pem",)
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    csr_pem: bytes
    def __init__(self, csr_pem: _Optional[bytes] = ...) -> None: ...

class BranchCertificate(_message.Message):
    __slots__ = ("certificate_pem", "ca_pem", "branch_ban", "not_after")
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    CA_PEM_FIELD_NUMBER: _ClassVar[int]
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    NOT_AFTER_FIELD_NUMBER: _ClassVar[int]
    certificate_pem: bytes
    ca_pem: bytes
    branch_ban: str
    not_after: _timestamp_pb2.Timestamp
    def __init__(self, certificate_pem: _Optional[bytes] = ..., ca_pem: _Optional[bytes] = ..., branch_ban: _Optional[str] = ..., not_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RequestRangeRequest(_message.Message):
    __slots__ = ("request_id", "branch_ban", "year_month", "invoice_type", "booklets")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    BOOKLETS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    branch_ban: str
    year_month: str
    invoice_type: _common_pb2.InvoiceType
    booklets: int
    def __init__(self, request_id: _Optional[str] = ..., branch_ban: _Optional[str] = ..., year_month: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., booklets: _Optional[int] = ...) -> None: ...

class Grant(_message.Message):
    __slots__ = ("grant_id", "branch_ban", "year_month", "invoice_type", "range", "booklets", "granted_at", "request_id")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    BOOKLETS_FIELD_NUMBER: _ClassVar[int]
    GRANTED_AT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    branch_ban: str
    year_month: str
    invoice_type: _common_pb2.InvoiceType
    range: _common_pb2.TrackRange
    booklets: int
    granted_at: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, grant_id: _Optional[str] = ..., branch_ban: _Optional[str] = ..., year_month: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., range: _Optional[_Union[_common_pb2.TrackRange, _Mapping]] = ..., booklets: _Optional[int] = ..., granted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GrantUsage(_message.Message):
    __slots__ = ("grant_id", "next_number", "skipped", "final")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    NEXT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    next_number: int
    skipped: _containers.RepeatedCompositeFieldContainer[_common_pb2.Span]
    final: bool
    def __init__(self, grant_id: _Optional[str] = ..., next_number: _Optional[int] = ..., skipped: _Optional[_Iterable[_Union[_common_pb2.Span, _Mapping]]] = ..., final: _Optional[bool] = ...) -> None: ...

class UsageReport(_message.Message):
    __slots__ = ("report_id", "branch_ban", "grants", "agent_time")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    AGENT_TIME_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    branch_ban: str
    grants: _containers.RepeatedCompositeFieldContainer[GrantUsage]
    agent_time: _timestamp_pb2.Timestamp
    def __init__(self, report_id: _Optional[str] = ..., branch_ban: _Optional[str] = ..., grants: _Optional[_Iterable[_Union[GrantUsage, _Mapping]]] = ..., agent_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UsageAck(_message.Message):
    __slots__ = ("grants_updated",)
    GRANTS_UPDATED_FIELD_NUMBER: _ClassVar[int]
    grants_updated: int
    def __init__(self, grants_updated: _Optional[int] = ...) -> None: ...

class WatchConfigRequest(_message.Message):
    __slots__ = ("branch_ban",)
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    branch_ban: str
    def __init__(self, branch_ban: _Optional[str] = ...) -> None: ...

class BranchConfig(_message.Message):
    __slots__ = ("branch_ban", "enabled", "quota", "refill", "disabled_ranges", "version")
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    REFILL_FIELD_NUMBER: _ClassVar[int]
    DISABLED_RANGES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    branch_ban: str
    enabled: bool
    quota: _common_pb2.Quota
    refill: _common_pb2.RefillSettings
    disabled_ranges: _containers.RepeatedCompositeFieldContainer[_common_pb2.TrackRange]
    version: int
    def __init__(self, branch_ban: _Optional[str] = ..., enabled: _Optional[bool] = ..., quota: _Optional[_Union[_common_pb2.Quota, _Mapping]] = ..., refill: _Optional[_Union[_common_pb2.RefillSettings, _Mapping]] = ..., disabled_ranges: _Optional[_Iterable[_Union[_common_pb2.TrackRange, _Mapping]]] = ..., version: _Optional[int] = ...) -> None: ...
