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

class ServerRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVER_ROLE_UNSPECIFIED: _ClassVar[ServerRole]
    SERVER_ROLE_SINGLE: _ClassVar[ServerRole]
    SERVER_ROLE_LEADER: _ClassVar[ServerRole]
    SERVER_ROLE_FOLLOWER: _ClassVar[ServerRole]

class EtcdState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ETCD_STATE_UNSPECIFIED: _ClassVar[EtcdState]
    ETCD_STATE_NOT_USED: _ClassVar[EtcdState]
    ETCD_STATE_OK: _ClassVar[EtcdState]
    ETCD_STATE_NO_SESSION: _ClassVar[EtcdState]

class UserRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USER_ROLE_UNSPECIFIED: _ClassVar[UserRole]
    USER_ROLE_VIEWER: _ClassVar[UserRole]
    USER_ROLE_OPERATOR: _ClassVar[UserRole]
    USER_ROLE_ADMIN: _ClassVar[UserRole]

class ExportKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_KIND_UNSPECIFIED: _ClassVar[ExportKind]
    EXPORT_KIND_GRANTS: _ClassVar[ExportKind]
    EXPORT_KIND_USAGE: _ClassVar[ExportKind]
    EXPORT_KIND_BLANKS: _ClassVar[ExportKind]
REPORT_KIND_UNSPECIFIED: ReportKind
REPORT_KIND_E0401: ReportKind
REPORT_KIND_E0402: ReportKind
SERVER_ROLE_UNSPECIFIED: ServerRole
SERVER_ROLE_SINGLE: ServerRole
SERVER_ROLE_LEADER: ServerRole
SERVER_ROLE_FOLLOWER: ServerRole
ETCD_STATE_UNSPECIFIED: EtcdState
ETCD_STATE_NOT_USED: EtcdState
ETCD_STATE_OK: EtcdState
ETCD_STATE_NO_SESSION: EtcdState
USER_ROLE_UNSPECIFIED: UserRole
USER_ROLE_VIEWER: UserRole
USER_ROLE_OPERATOR: UserRole
USER_ROLE_ADMIN: UserRole
EXPORT_KIND_UNSPECIFIED: ExportKind
EXPORT_KIND_GRANTS: ExportKind
EXPORT_KIND_USAGE: ExportKind
EXPORT_KIND_BLANKS: ExportKind

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

class GetServerStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ServiceHealth(_message.Message):
    __slots__ = ("service", "serving")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    SERVING_FIELD_NUMBER: _ClassVar[int]
    service: str
    serving: bool
    def __init__(self, service: _Optional[str] = ..., serving: _Optional[bool] = ...) -> None: ...

class ServerStatus(_message.Message):
    __slots__ = ("role", "leader", "fencing_token", "stored_token", "stored_holder", "version", "database_ok", "database_error", "schema_revision", "schema_head", "etcd", "services", "healthy", "problems", "head_ban")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    FENCING_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STORED_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STORED_HOLDER_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DATABASE_OK_FIELD_NUMBER: _ClassVar[int]
    DATABASE_ERROR_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_REVISION_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_HEAD_FIELD_NUMBER: _ClassVar[int]
    ETCD_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    HEAD_BAN_FIELD_NUMBER: _ClassVar[int]
    role: ServerRole
    leader: str
    fencing_token: int
    stored_token: int
    stored_holder: str
    version: str
    database_ok: bool
    database_error: str
    schema_revision: str
    schema_head: str
    etcd: EtcdState
    services: _containers.RepeatedCompositeFieldContainer[ServiceHealth]
    healthy: bool
    problems: _containers.RepeatedScalarFieldContainer[str]
    head_ban: str
    def __init__(self, role: _Optional[_Union[ServerRole, str]] = ..., leader: _Optional[str] = ..., fencing_token: _Optional[int] = ..., stored_token: _Optional[int] = ..., stored_holder: _Optional[str] = ..., version: _Optional[str] = ..., database_ok: _Optional[bool] = ..., database_error: _Optional[str] = ..., schema_revision: _Optional[str] = ..., schema_head: _Optional[str] = ..., etcd: _Optional[_Union[EtcdState, str]] = ..., services: _Optional[_Iterable[_Union[ServiceHealth, _Mapping]]] = ..., healthy: _Optional[bool] = ..., problems: _Optional[_Iterable[str]] = ..., head_ban: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("branch_ban", "granted", "issued", "skipped", "held", "burn_per_hour", "last_report", "booklets_granted", "final", "runs_out_at", "runs_out_reason")
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    ISSUED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    BURN_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    LAST_REPORT_FIELD_NUMBER: _ClassVar[int]
    BOOKLETS_GRANTED_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    RUNS_OUT_AT_FIELD_NUMBER: _ClassVar[int]
    RUNS_OUT_REASON_FIELD_NUMBER: _ClassVar[int]
    branch_ban: str
    granted: int
    issued: int
    skipped: int
    held: int
    burn_per_hour: float
    last_report: _timestamp_pb2.Timestamp
    booklets_granted: int
    final: bool
    runs_out_at: _timestamp_pb2.Timestamp
    runs_out_reason: str
    def __init__(self, branch_ban: _Optional[str] = ..., granted: _Optional[int] = ..., issued: _Optional[int] = ..., skipped: _Optional[int] = ..., held: _Optional[int] = ..., burn_per_hour: _Optional[float] = ..., last_report: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., booklets_granted: _Optional[int] = ..., final: _Optional[bool] = ..., runs_out_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., runs_out_reason: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("after_seq", "limit", "newest")
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    NEWEST_FIELD_NUMBER: _ClassVar[int]
    after_seq: int
    limit: int
    newest: bool
    def __init__(self, after_seq: _Optional[int] = ..., limit: _Optional[int] = ..., newest: _Optional[bool] = ...) -> None: ...

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

class AddUserRequest(_message.Message):
    __slots__ = ("name", "role", "password")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: UserRole
    password: str
    def __init__(self, name: _Optional[str] = ..., role: _Optional[_Union[UserRole, str]] = ..., password: _Optional[str] = ...) -> None: ...

class SetPasswordRequest(_message.Message):
    __slots__ = ("name", "password")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    name: str
    password: str
    def __init__(self, name: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class WebUser(_message.Message):
    __slots__ = ("name", "role", "created_at", "password_changed_at", "failed_attempts", "locked_until")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    FAILED_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LOCKED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: UserRole
    created_at: _timestamp_pb2.Timestamp
    password_changed_at: _timestamp_pb2.Timestamp
    failed_attempts: int
    locked_until: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., role: _Optional[_Union[UserRole, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., password_changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failed_attempts: _Optional[int] = ..., locked_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListUsersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListUsersReply(_message.Message):
    __slots__ = ("users",)
    USERS_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[WebUser]
    def __init__(self, users: _Optional[_Iterable[_Union[WebUser, _Mapping]]] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("include_resolved",)
    INCLUDE_RESOLVED_FIELD_NUMBER: _ClassVar[int]
    include_resolved: bool
    def __init__(self, include_resolved: _Optional[bool] = ...) -> None: ...

class AlertInfo(_message.Message):
    __slots__ = ("key", "kind", "state", "about", "first_seen", "last_seen", "resolved_at", "reminders_sent", "acknowledged_by", "acknowledged_at", "last_error", "mails_sent", "mails_waiting", "mails_failed")
    KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ABOUT_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    REMINDERS_SENT_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_BY_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    MAILS_SENT_FIELD_NUMBER: _ClassVar[int]
    MAILS_WAITING_FIELD_NUMBER: _ClassVar[int]
    MAILS_FAILED_FIELD_NUMBER: _ClassVar[int]
    key: str
    kind: str
    state: str
    about: str
    first_seen: _timestamp_pb2.Timestamp
    last_seen: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    reminders_sent: int
    acknowledged_by: str
    acknowledged_at: _timestamp_pb2.Timestamp
    last_error: str
    mails_sent: int
    mails_waiting: int
    mails_failed: int
    def __init__(self, key: _Optional[str] = ..., kind: _Optional[str] = ..., state: _Optional[str] = ..., about: _Optional[str] = ..., first_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reminders_sent: _Optional[int] = ..., acknowledged_by: _Optional[str] = ..., acknowledged_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., mails_sent: _Optional[int] = ..., mails_waiting: _Optional[int] = ..., mails_failed: _Optional[int] = ...) -> None: ...

class ListAlertsReply(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[AlertInfo]
    def __init__(self, alerts: _Optional[_Iterable[_Union[AlertInfo, _Mapping]]] = ...) -> None: ...

class AckAlertRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class SendTestMailRequest(_message.Message):
    __slots__ = ("address",)
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    address: str
    def __init__(self, address: _Optional[str] = ...) -> None: ...

class SendTestMailReply(_message.Message):
    __slots__ = ("server_reply",)
    SERVER_REPLY_FIELD_NUMBER: _ClassVar[int]
    server_reply: str
    def __init__(self, server_reply: _Optional[str] = ...) -> None: ...

class GetHistoryRequest(_message.Message):
    __slots__ = ("year_month", "invoice_type", "branch_ban")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    invoice_type: _common_pb2.InvoiceType
    branch_ban: str
    def __init__(self, year_month: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., branch_ban: _Optional[str] = ...) -> None: ...

class HistoryPoint(_message.Message):
    __slots__ = ("at", "issued", "held", "free")
    AT_FIELD_NUMBER: _ClassVar[int]
    ISSUED_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    FREE_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    issued: int
    held: int
    free: int
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., issued: _Optional[int] = ..., held: _Optional[int] = ..., free: _Optional[int] = ...) -> None: ...

class GetHistoryReply(_message.Message):
    __slots__ = ("year_month", "points")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    points: _containers.RepeatedCompositeFieldContainer[HistoryPoint]
    def __init__(self, year_month: _Optional[str] = ..., points: _Optional[_Iterable[_Union[HistoryPoint, _Mapping]]] = ...) -> None: ...

class QuotaChange(_message.Message):
    __slots__ = ("ban", "booklets_per_period")
    BAN_FIELD_NUMBER: _ClassVar[int]
    BOOKLETS_PER_PERIOD_FIELD_NUMBER: _ClassVar[int]
    ban: str
    booklets_per_period: int
    def __init__(self, ban: _Optional[str] = ..., booklets_per_period: _Optional[int] = ...) -> None: ...

class BookletMove(_message.Message):
    __slots__ = ("from_ban", "to_ban", "booklets")
    FROM_BAN_FIELD_NUMBER: _ClassVar[int]
    TO_BAN_FIELD_NUMBER: _ClassVar[int]
    BOOKLETS_FIELD_NUMBER: _ClassVar[int]
    from_ban: str
    to_ban: str
    booklets: int
    def __init__(self, from_ban: _Optional[str] = ..., to_ban: _Optional[str] = ..., booklets: _Optional[int] = ...) -> None: ...

class ForecastRequest(_message.Message):
    __slots__ = ("year_month", "quota_changes", "moves", "current_only")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    QUOTA_CHANGES_FIELD_NUMBER: _ClassVar[int]
    MOVES_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ONLY_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    quota_changes: _containers.RepeatedCompositeFieldContainer[QuotaChange]
    moves: _containers.RepeatedCompositeFieldContainer[BookletMove]
    current_only: bool
    def __init__(self, year_month: _Optional[str] = ..., quota_changes: _Optional[_Iterable[_Union[QuotaChange, _Mapping]]] = ..., moves: _Optional[_Iterable[_Union[BookletMove, _Mapping]]] = ..., current_only: _Optional[bool] = ...) -> None: ...

class RunOut(_message.Message):
    __slots__ = ("at", "lasts_period", "ask_mof_by", "late", "reason")
    AT_FIELD_NUMBER: _ClassVar[int]
    LASTS_PERIOD_FIELD_NUMBER: _ClassVar[int]
    ASK_MOF_BY_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    lasts_period: bool
    ask_mof_by: _timestamp_pb2.Timestamp
    late: bool
    reason: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lasts_period: _Optional[bool] = ..., ask_mof_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., late: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class PoolForecast(_message.Message):
    __slots__ = ("year_month", "invoice_type", "free", "burn_per_hour", "current", "seasonal", "mof_cutoff", "seasonal_known")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    FREE_FIELD_NUMBER: _ClassVar[int]
    BURN_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    SEASONAL_FIELD_NUMBER: _ClassVar[int]
    MOF_CUTOFF_FIELD_NUMBER: _ClassVar[int]
    SEASONAL_KNOWN_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    invoice_type: _common_pb2.InvoiceType
    free: int
    burn_per_hour: float
    current: RunOut
    seasonal: RunOut
    mof_cutoff: _timestamp_pb2.Timestamp
    seasonal_known: bool
    def __init__(self, year_month: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., free: _Optional[int] = ..., burn_per_hour: _Optional[float] = ..., current: _Optional[_Union[RunOut, _Mapping]] = ..., seasonal: _Optional[_Union[RunOut, _Mapping]] = ..., mof_cutoff: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., seasonal_known: _Optional[bool] = ...) -> None: ...

class BranchForecast(_message.Message):
    __slots__ = ("branch_ban", "invoice_type", "held", "quota_left", "burn_per_hour", "seasonal_per_hour", "current", "seasonal", "booklets_per_period", "changed", "booklets_granted")
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    QUOTA_LEFT_FIELD_NUMBER: _ClassVar[int]
    BURN_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    SEASONAL_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    SEASONAL_FIELD_NUMBER: _ClassVar[int]
    BOOKLETS_PER_PERIOD_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    BOOKLETS_GRANTED_FIELD_NUMBER: _ClassVar[int]
    branch_ban: str
    invoice_type: _common_pb2.InvoiceType
    held: int
    quota_left: int
    burn_per_hour: float
    seasonal_per_hour: float
    current: RunOut
    seasonal: RunOut
    booklets_per_period: int
    changed: bool
    booklets_granted: int
    def __init__(self, branch_ban: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., held: _Optional[int] = ..., quota_left: _Optional[int] = ..., burn_per_hour: _Optional[float] = ..., seasonal_per_hour: _Optional[float] = ..., current: _Optional[_Union[RunOut, _Mapping]] = ..., seasonal: _Optional[_Union[RunOut, _Mapping]] = ..., booklets_per_period: _Optional[int] = ..., changed: _Optional[bool] = ..., booklets_granted: _Optional[int] = ...) -> None: ...

class ForecastReply(_message.Message):
    __slots__ = ("year_month", "now", "pools", "branches")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    BRANCHES_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    now: _timestamp_pb2.Timestamp
    pools: _containers.RepeatedCompositeFieldContainer[PoolForecast]
    branches: _containers.RepeatedCompositeFieldContainer[BranchForecast]
    def __init__(self, year_month: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pools: _Optional[_Iterable[_Union[PoolForecast, _Mapping]]] = ..., branches: _Optional[_Iterable[_Union[BranchForecast, _Mapping]]] = ...) -> None: ...

class ListGrantsRequest(_message.Message):
    __slots__ = ("branch_ban", "year_month")
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    branch_ban: str
    year_month: str
    def __init__(self, branch_ban: _Optional[str] = ..., year_month: _Optional[str] = ...) -> None: ...

class GrantState(_message.Message):
    __slots__ = ("grant_id", "year_month", "invoice_type", "range", "booklets", "granted_at", "next_number", "issued", "skipped", "final")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    BOOKLETS_FIELD_NUMBER: _ClassVar[int]
    GRANTED_AT_FIELD_NUMBER: _ClassVar[int]
    NEXT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ISSUED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    year_month: str
    invoice_type: _common_pb2.InvoiceType
    range: _common_pb2.TrackRange
    booklets: int
    granted_at: _timestamp_pb2.Timestamp
    next_number: int
    issued: int
    skipped: int
    final: bool
    def __init__(self, grant_id: _Optional[str] = ..., year_month: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., range: _Optional[_Union[_common_pb2.TrackRange, _Mapping]] = ..., booklets: _Optional[int] = ..., granted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_number: _Optional[int] = ..., issued: _Optional[int] = ..., skipped: _Optional[int] = ..., final: _Optional[bool] = ...) -> None: ...

class ListGrantsReply(_message.Message):
    __slots__ = ("grants",)
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    grants: _containers.RepeatedCompositeFieldContainer[GrantState]
    def __init__(self, grants: _Optional[_Iterable[_Union[GrantState, _Mapping]]] = ...) -> None: ...

class ListReportsRequest(_message.Message):
    __slots__ = ("year_month",)
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    def __init__(self, year_month: _Optional[str] = ...) -> None: ...

class ReportDocument(_message.Message):
    __slots__ = ("name", "kind", "year_month", "invoice_type", "branch_ban", "track", "state", "attempts", "error_code", "written_at", "updated_at", "revision")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    TRACK_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    WRITTEN_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: ReportKind
    year_month: str
    invoice_type: _common_pb2.InvoiceType
    branch_ban: str
    track: str
    state: str
    attempts: int
    error_code: str
    written_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    revision: int
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[ReportKind, str]] = ..., year_month: _Optional[str] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ..., branch_ban: _Optional[str] = ..., track: _Optional[str] = ..., state: _Optional[str] = ..., attempts: _Optional[int] = ..., error_code: _Optional[str] = ..., written_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revision: _Optional[int] = ...) -> None: ...

class ListReportsReply(_message.Message):
    __slots__ = ("documents",)
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedCompositeFieldContainer[ReportDocument]
    def __init__(self, documents: _Optional[_Iterable[_Union[ReportDocument, _Mapping]]] = ...) -> None: ...

class ResendReportRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ExportDataRequest(_message.Message):
    __slots__ = ("year_month", "what", "invoice_type")
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    WHAT_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    year_month: str
    what: ExportKind
    invoice_type: _common_pb2.InvoiceType
    def __init__(self, year_month: _Optional[str] = ..., what: _Optional[_Union[ExportKind, str]] = ..., invoice_type: _Optional[_Union[_common_pb2.InvoiceType, str]] = ...) -> None: ...

class ExportDataReply(_message.Message):
    __slots__ = ("grants", "usage", "blanks", "held_branches")
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    BLANKS_FIELD_NUMBER: _ClassVar[int]
    HELD_BRANCHES_FIELD_NUMBER: _ClassVar[int]
    grants: _containers.RepeatedCompositeFieldContainer[GrantExportRow]
    usage: _containers.RepeatedCompositeFieldContainer[UsageExportRow]
    blanks: _containers.RepeatedCompositeFieldContainer[BlankExportRow]
    held_branches: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, grants: _Optional[_Iterable[_Union[GrantExportRow, _Mapping]]] = ..., usage: _Optional[_Iterable[_Union[UsageExportRow, _Mapping]]] = ..., blanks: _Optional[_Iterable[_Union[BlankExportRow, _Mapping]]] = ..., held_branches: _Optional[_Iterable[str]] = ...) -> None: ...

class GrantExportRow(_message.Message):
    __slots__ = ("ban", "branch_name", "year_month", "invoice_type", "track", "begin_number", "end_number", "booklets", "granted_at", "status", "grant_id")
    BAN_FIELD_NUMBER: _ClassVar[int]
    BRANCH_NAME_FIELD_NUMBER: _ClassVar[int]
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    TRACK_FIELD_NUMBER: _ClassVar[int]
    BEGIN_NUMBER_FIELD_NUMBER: _ClassVar[int]
    END_NUMBER_FIELD_NUMBER: _ClassVar[int]
    BOOKLETS_FIELD_NUMBER: _ClassVar[int]
    GRANTED_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    ban: str
    branch_name: str
    year_month: str
    invoice_type: str
    track: str
    begin_number: str
    end_number: str
    booklets: int
    granted_at: _timestamp_pb2.Timestamp
    status: str
    grant_id: str
    def __init__(self, ban: _Optional[str] = ..., branch_name: _Optional[str] = ..., year_month: _Optional[str] = ..., invoice_type: _Optional[str] = ..., track: _Optional[str] = ..., begin_number: _Optional[str] = ..., end_number: _Optional[str] = ..., booklets: _Optional[int] = ..., granted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[str] = ..., grant_id: _Optional[str] = ...) -> None: ...

class UsageExportRow(_message.Message):
    __slots__ = ("ban", "branch_name", "year_month", "invoice_type", "granted", "issued", "blank", "remaining", "last_report")
    BAN_FIELD_NUMBER: _ClassVar[int]
    BRANCH_NAME_FIELD_NUMBER: _ClassVar[int]
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    ISSUED_FIELD_NUMBER: _ClassVar[int]
    BLANK_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    LAST_REPORT_FIELD_NUMBER: _ClassVar[int]
    ban: str
    branch_name: str
    year_month: str
    invoice_type: str
    granted: int
    issued: int
    blank: int
    remaining: int
    last_report: _timestamp_pb2.Timestamp
    def __init__(self, ban: _Optional[str] = ..., branch_name: _Optional[str] = ..., year_month: _Optional[str] = ..., invoice_type: _Optional[str] = ..., granted: _Optional[int] = ..., issued: _Optional[int] = ..., blank: _Optional[int] = ..., remaining: _Optional[int] = ..., last_report: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BlankExportRow(_message.Message):
    __slots__ = ("head_ban", "branch_ban", "year_month", "invoice_type", "track", "begin_number", "end_number", "numbers")
    HEAD_BAN_FIELD_NUMBER: _ClassVar[int]
    BRANCH_BAN_FIELD_NUMBER: _ClassVar[int]
    YEAR_MONTH_FIELD_NUMBER: _ClassVar[int]
    INVOICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    TRACK_FIELD_NUMBER: _ClassVar[int]
    BEGIN_NUMBER_FIELD_NUMBER: _ClassVar[int]
    END_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NUMBERS_FIELD_NUMBER: _ClassVar[int]
    head_ban: str
    branch_ban: str
    year_month: str
    invoice_type: str
    track: str
    begin_number: str
    end_number: str
    numbers: int
    def __init__(self, head_ban: _Optional[str] = ..., branch_ban: _Optional[str] = ..., year_month: _Optional[str] = ..., invoice_type: _Optional[str] = ..., track: _Optional[str] = ..., begin_number: _Optional[str] = ..., end_number: _Optional[str] = ..., numbers: _Optional[int] = ...) -> None: ...
