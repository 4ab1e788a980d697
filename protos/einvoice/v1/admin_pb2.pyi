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

class ReportKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_KIND_UNSPECIFIED: _ClassVar[ReportKind]
    REPORT_KIND_E0401: _ClassVar[ReportKind]
    REPORT_KIND_E0402: _ClassVar[ReportKind]
REPORT_KIND_UNSPECIFIED: ReportKind
REPORT_KIND_E0401: ReportKind
REPORT_KIND_E0402: ReportKind

class E0501File(_message.Message):
    __slots__ = ("name", "content")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    name: str
    content: bytes
    def __init__(self, name: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class ImportE0501Request(_message.Message):
    __slots__ = ("files", "test_data", "actor")
    FILES_FIELD_NUMBER: _ClassVar[int]
    TEST_DATA_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[E0501File]
    test_data: bool
    actor: str
    def __init__(self, files: _Optional[_Iterable[_Union[E0501File, _Mapping]]] = ..., test_data: _Optional[bool] = ..., actor: _Optional[str] = ...) -> None: ...

class ImportE0501Reply(_message.Message):
    __slots__ = ("imported", "unchanged")
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    imported: _containers.RepeatedCompositeFieldContainer[Assignment]
    unchanged: int
    def __init__(self, imported: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., unchanged: _Optional[int] = ...) -> None: ...

class BuildReportsRequest(_message.Message):
    __slots__ = ("year_month", "invoice_type", "kind", "mig_version", "correction", "actor")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    invoice_type: _common_pb2.InvoiceType
    kind: ReportKind
    mig_version: str
    correction: bool
    actor: str
    def __init__(self, year_month: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., kind: _Optional[_Union[ReportKind, str]] = ..., mig_version: _Optional[str] = ..., correction: _Optional[bool] = ..., actor: _Optional[str] = ...) -> None: ...

class BuildReportsReply(_message.Message):
    __slots__ = ("written", "unchanged", "held_branches")
    WRITTEN_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    HELD_BRANCHES_FIELD_NUMBER: _ClassVar[int]
    written: _containers.RepeatedScalarFieldContainer[str]
    unchanged: _containers.RepeatedScalarFieldContainer[str]
    held_branches: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, written: _Optional[_Iterable[str]] = ..., unchanged: _Optional[_Iterable[str]] = ..., held_branches: _Optional[_Iterable[str]] = ...) -> None: ...

class ListDeadlinesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Deadline(_message.Message):
    __slots__ = ("year_month", "branch_ban", "status", "deadline", "days_left", "error_codes", "invoice_type")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    DAYS_LEFT_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODES_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    branch_ban: str
    status: str
    deadline: _timestamp_pb2.Timestamp
    days_left: int
    error_codes: _containers.RepeatedScalarFieldContainer[str]
    invoice_type: _common_pb2.InvoiceType
    def __init__(self, year_month: _Optional[str] = ..., branch_ban: _Optional[str] = ..., status: _Optional[str] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., days_left: _Optional[int] = ..., error_codes: _Optional[_Iterable[str]] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ...) -> None: ...

class ListDeadlinesReply(_message.Message):
    __slots__ = ("deadlines",)
    DEADLINES_FIELD_NUMBER: _ClassVar[int]
    deadlines: _containers.RepeatedCompositeFieldContainer[Deadline]
    def __init__(self, deadlines: _Optional[_Iterable[_Union[Deadline, _Mapping]]] = ...) -> None: ...

class AddAssignmentRequest(_message.Message):
    __slots__ = ("year_month", "invoice_type", "range", "actor")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    invoice_type: _common_pb2.InvoiceType
    range: _common_pb2.TrackRange
    actor: str
    def __init__(self, year_month: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., range: _Optional[_Union[_common_pb2.TrackRange, _Mapping]] = ..., actor: _Optional[str] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("assignment_id", "year_month", "invoice_type", "range", "booklets", "status", "granted", "free")
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    BOOKLETS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    FREE_FIELD_NUMBER: _ClassVar[int]
    assignment_id: int
    year_month: str
    invoice_type: _common_pb2.InvoiceType
    range: _common_pb2.TrackRange
    booklets: int
    status: _common_pb2.RangeStatus
    granted: int
    free: int
    def __init__(self, assignment_id: _Optional[int] = ..., year_month: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., range: _Optional[_Union[_common_pb2.TrackRange, _Mapping]] = ..., booklets: _Optional[int] = ..., status: _Optional[_Union[_common_pb2.RangeStatus, str]] = ..., granted: _Optional[int] = ..., free: _Optional[int] = ...) -> None: ...

class ListPoolsRequest(_message.Message):
    __slots__ = ("year_month",)
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    def __init__(self, year_month: _Optional[str] = ...) -> None: ...

class Pool(_message.Message):
    __slots__ = ("year_month", "invoice_type", "assignments", "assigned", "granted", "free", "closed")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    FREE_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    invoice_type: _common_pb2.InvoiceType
    assignments: _containers.RepeatedCompositeFieldContainer[Assignment]
    assigned: int
    granted: int
    free: int
    closed: bool
    def __init__(self, year_month: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., assignments: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., assigned: _Optional[int] = ..., granted: _Optional[int] = ..., free: _Optional[int] = ..., closed: _Optional[bool] = ...) -> None: ...

class ListPoolsReply(_message.Message):
    __slots__ = ("pools",)
    POOLS_FIELD_NUMBER: _ClassVar[int]
    pools: _containers.RepeatedCompositeFieldContainer[Pool]
    def __init__(self, pools: _Optional[_Iterable[_Union[Pool, _Mapping]]] = ...) -> None: ...

class AddBranchRequest(_message.Message):
    __slots__ = ("ban", "name", "quota", "refill", "actor", "emails")
    BAN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    REFILL_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    EMAILS_FIELD_NUMBER: _ClassVar[int]
    ban: str
    name: str
    quota: _common_pb2.Quota
    refill: _common_pb2.RefillSettings
    actor: str
    emails: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ban: _Optional[str] = ..., name: _Optional[str] = ..., quota: _Optional[_Union[_common_pb2.Quota, _Mapping]] = ..., refill: _Optional[_Union[_common_pb2.RefillSettings, _Mapping]] = ..., actor: _Optional[str] = ..., emails: _Optional[_Iterable[str]] = ...) -> None: ...

class Branch(_message.Message):
    __slots__ = ("ban", "name", "enabled", "quota", "refill", "last_report", "pending_quota", "pending_from", "emails")
    BAN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    REFILL_FIELD_NUMBER: _ClassVar[int]
    LAST_REPORT_FIELD_NUMBER: _ClassVar[int]
    PENDING_QUOTA_FIELD_NUMBER: _ClassVar[int]
    PENDING_FROM_FIELD_NUMBER: _ClassVar[int]
    EMAILS_FIELD_NUMBER: _ClassVar[int]
    ban: str
    name: str
    enabled: bool
    quota: _common_pb2.Quota
    refill: _common_pb2.RefillSettings
    last_report: _timestamp_pb2.Timestamp
    pending_quota: _common_pb2.Quota
    pending_from: _timestamp_pb2.Timestamp
    emails: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ban: _Optional[str] = ..., name: _Optional[str] = ..., enabled: _Optional[bool] = ..., quota: _Optional[_Union[_common_pb2.Quota, _Mapping]] = ..., refill: _Optional[_Union[_common_pb2.RefillSettings, _Mapping]] = ..., last_report: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pending_quota: _Optional[_Union[_common_pb2.Quota, _Mapping]] = ..., pending_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., emails: _Optional[_Iterable[str]] = ...) -> None: ...

class EnableBranchRequest(_message.Message):
    __slots__ = ("ban",)
    BAN_FIELD_NUMBER: _ClassVar[int]
    ban: str
    def __init__(self, ban: _Optional[str] = ...) -> None: ...

class CreateEnrollTokenRequest(_message.Message):
    __slots__ = ("ban", "ttl_seconds")
    BAN_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ban: str
    ttl_seconds: int
    def __init__(self, ban: _Optional[str] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class EnrollToken(_message.Message):
    __slots__ = ("token", "token_id", "branch_ban", "expires_at")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    token: str
    token_id: str
    branch_ban: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, token: _Optional[str] = ..., token_id: _Optional[str] = ..., branch_ban: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListCertificatesRequest(_message.Message):
    __slots__ = ("branch_ban",)
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    branch_ban: str
    def __init__(self, branch_ban: _Optional[str] = ...) -> None: ...

class IssuedCertificate(_message.Message):
    __slots__ = ("serial", "branch_ban", "issued_at", "not_after", "how")
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    NOT_AFTER_FIELD_NUMBER: _ClassVar[int]
    HOW_FIELD_NUMBER: _ClassVar[int]
    serial: str
    branch_ban: str
    issued_at: _timestamp_pb2.Timestamp
    not_after: _timestamp_pb2.Timestamp
    how: str
    def __init__(self, serial: _Optional[str] = ..., branch_ban: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., not_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., how: _Optional[str] = ...) -> None: ...

class TokenState(_message.Message):
    __slots__ = ("token_id", "branch_ban", "expires_at", "used_at", "created_by")
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    USED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    branch_ban: str
    expires_at: _timestamp_pb2.Timestamp
    used_at: _timestamp_pb2.Timestamp
    created_by: str
    def __init__(self, token_id: _Optional[str] = ..., branch_ban: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ...) -> None: ...

class ListCertificatesReply(_message.Message):
    __slots__ = ("certificates", "tokens")
    CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    certificates: _containers.RepeatedCompositeFieldContainer[IssuedCertificate]
    tokens: _containers.RepeatedCompositeFieldContainer[TokenState]
    def __init__(self, certificates: _Optional[_Iterable[_Union[IssuedCertificate, _Mapping]]] = ..., tokens: _Optional[_Iterable[_Union[TokenState, _Mapping]]] = ...) -> None: ...

class ListBranchesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBranchesReply(_message.Message):
    __slots__ = ("branches", "next_page_token")
    BRANCHES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    branches: _containers.RepeatedCompositeFieldContainer[Branch]
    next_page_token: str
    def __init__(self, branches: _Optional[_Iterable[_Union[Branch, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DisableBranchRequest(_message.Message):
    __slots__ = ("ban", "actor")
    BAN_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ban: str
    actor: str
    def __init__(self, ban: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class SetQuotaRequest(_message.Message):
    __slots__ = ("ban", "quota", "refill", "effective_from", "actor")
    BAN_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    REFILL_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ban: str
    quota: _common_pb2.Quota
    refill: _common_pb2.RefillSettings
    effective_from: _timestamp_pb2.Timestamp
    actor: str
    def __init__(self, ban: _Optional[str] = ..., quota: _Optional[_Union[_common_pb2.Quota, _Mapping]] = ..., refill: _Optional[_Union[_common_pb2.RefillSettings, _Mapping]] = ..., effective_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ...) -> None: ...

class SetRangeStatusRequest(_message.Message):
    __slots__ = ("assignment_id", "status", "actor")
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    assignment_id: int
    status: _common_pb2.RangeStatus
    actor: str
    def __init__(self, assignment_id: _Optional[int] = ..., status: _Optional[_Union[_common_pb2.RangeStatus, str]] = ..., actor: _Optional[str] = ...) -> None: ...

class GetUsageRequest(_message.Message):
    __slots__ = ("year_month", "branch_ban")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    branch_ban: str
    def __init__(self, year_month: _Optional[str] = ..., branch_ban: _Optional[str] = ...) -> None: ...

class BranchUsage(_message.Message):
    __slots__ = ("branch_ban", "granted", "issued", "skipped", "held", "burn_per_hour", "last_report", "booklets_granted", "final")
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    ISSUED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    BURN_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    LAST_REPORT_FIELD_NUMBER: _ClassVar[int]
    BOOKLETS_GRANTED_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    branch_ban: str
    granted: int
    issued: int
    skipped: int
    held: int
    burn_per_hour: float
    last_report: _timestamp_pb2.Timestamp
    booklets_granted: int
    final: bool
    def __init__(self, branch_ban: _Optional[str] = ..., granted: _Optional[int] = ..., issued: _Optional[int] = ..., skipped: _Optional[int] = ..., held: _Optional[int] = ..., burn_per_hour: _Optional[float] = ..., last_report: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., booklets_granted: _Optional[int] = ..., final: _Optional[bool] = ...) -> None: ...

class GetUsageReply(_message.Message):
    __slots__ = ("year_month", "branches")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    BRANCHES_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    branches: _containers.RepeatedCompositeFieldContainer[BranchUsage]
    def __init__(self, year_month: _Optional[str] = ..., branches: _Optional[_Iterable[_Union[BranchUsage, _Mapping]]] = ...) -> None: ...

class ClosePeriodRequest(_message.Message):
    __slots__ = ("year_month", "invoice_type", "actor")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    invoice_type: _common_pb2.InvoiceType
    actor: str
    def __init__(self, year_month: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., actor: _Optional[str] = ...) -> None: ...

class ClosePeriodReply(_message.Message):
    __slots__ = ("assigned", "issued", "blank", "branches_not_final")
    ASSIGNED_FIELD_NUMBER: _ClassVar[int]
    ISSUED_FIELD_NUMBER: _ClassVar[int]
    BLANK_FIELD_NUMBER: _ClassVar[int]
    BRANCHES_NOT_FINAL_FIELD_NUMBER: _ClassVar[int]
    assigned: int
    issued: int
    blank: int
    branches_not_final: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, assigned: _Optional[int] = ..., issued: _Optional[int] = ..., blank: _Optional[int] = ..., branches_not_final: _Optional[_Iterable[str]] = ...) -> None: ...

class ReconcileRequest(_message.Message):
    __slots__ = ("year_month",)
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    def __init__(self, year_month: _Optional[str] = ...) -> None: ...

class TrackAccounting(_message.Message):
    __slots__ = ("year_month", "invoice_type", "track", "assigned", "issued", "blank", "held", "violations")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    TRACK_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_FIELD_NUMBER: _ClassVar[int]
    ISSUED_FIELD_NUMBER: _ClassVar[int]
    BLANK_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    invoice_type: _common_pb2.InvoiceType
    track: str
    assigned: int
    issued: int
    blank: int
    held: int
    violations: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, year_month: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., track: _Optional[str] = ..., assigned: _Optional[int] = ..., issued: _Optional[int] = ..., blank: _Optional[int] = ..., held: _Optional[int] = ..., violations: _Optional[_Iterable[str]] = ...) -> None: ...

class ReconcileReply(_message.Message):
    __slots__ = ("tracks", "ok")
    TRACKS_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    tracks: _containers.RepeatedCompositeFieldContainer[TrackAccounting]
    ok: bool
    def __init__(self, tracks: _Optional[_Iterable[_Union[TrackAccounting, _Mapping]]] = ..., ok: _Optional[bool] = ...) -> None: ...

class ListAuditRequest(_message.Message):
    __slots__ = ("after_seq", "limit")
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    after_seq: int
    limit: int
    def __init__(self, after_seq: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("seq", "at", "actor", "action", "details_json", "hash", "prev_hash")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    DETAILS_JSON_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    seq: int
    at: _timestamp_pb2.Timestamp
    actor: str
    action: str
    details_json: str
    hash: str
    prev_hash: str
    def __init__(self, seq: _Optional[int] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., action: _Optional[str] = ..., details_json: _Optional[str] = ..., hash: _Optional[str] = ..., prev_hash: _Optional[str] = ...) -> None: ...

class ListAuditReply(_message.Message):
    __slots__ = ("entries", "chain_ok")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    CHAIN_OK_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    chain_ok: bool
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ..., chain_ok: _Optional[bool] = ...) -> None: ...
