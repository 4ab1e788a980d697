"""The HQ's one translation between protobuf messages and domain values (and its records):
every servicer of the admin and branch APIs translates through here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from cryptography import x509

from allocator import (
    Ban,
    InvalidInput,
    InvalidPeriod,
    InvoiceType,
    Period,
    PoolKey,
    Quota,
    RangeSet,
    RangeStatus,
)
from hq_server import forecasting
from hq_server.enrolment import IssuedToken
from hq_server.export import BlankLine, ExportKind, ExportRequest, GrantLine, Page, UsageLine
from hq_server.forecasting import PeriodOutlook
from hq_server.grant_batch import GrantRecord
from hq_server.handover import Due
from hq_server.health import Readiness, ServerRole
from hq_server.queries import ConfigView, PoolView, TrackAccount, UsageView
from hq_server.records import Assignment, Branch, track_range
from hq_server.web import users
from notifier.alerts import AlertView
from protos.einvoice.v1 import admin_pb2, branch_pb2, common_pb2
from runtime import messages, pki
from runtime.messages import (
    STATUS_TO_PB,
    TYPE_TO_PB,
    invoice_type,
    optional_timestamp,
    refill_settings,
    track_range_message,
)
from runtime.principal import Role


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


_ROLES = {
    ServerRole.SINGLE: admin_pb2.SERVER_ROLE_SINGLE,
    ServerRole.LEADER: admin_pb2.SERVER_ROLE_LEADER,
    ServerRole.FOLLOWER: admin_pb2.SERVER_ROLE_FOLLOWER,
}
_ETCD = {
    None: admin_pb2.ETCD_STATE_NOT_USED,
    True: admin_pb2.ETCD_STATE_OK,
    False: admin_pb2.ETCD_STATE_NO_SESSION,
}


def server_status_pb(now: Readiness, head_ban: str, version: str) -> admin_pb2.ServerStatus:
    stored = now.stored
    return admin_pb2.ServerStatus(
        role=_ROLES[now.role],
        leader=now.leader or "",
        fencing_token=now.token or 0,
        stored_token=(stored.token or 0) if stored else 0,
        stored_holder=(stored.holder or "") if stored else "",
        version=version,
        database_ok=now.reads,
        database_error=now.db_error,
        schema_revision=(stored.revision or "") if stored else "",
        schema_head=now.head,
        etcd=_ETCD[now.etcd_ok],
        services=[
            admin_pb2.ServiceHealth(service=name, serving=ok) for name, ok in now.serving().items()
        ],
        healthy=now.healthy,
        problems=now.problems(),
        head_ban=head_ban,
    )


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


ROLE_TO_PB = {
    Role.VIEWER: admin_pb2.USER_ROLE_VIEWER,
    Role.OPERATOR: admin_pb2.USER_ROLE_OPERATOR,
    Role.ADMIN: admin_pb2.USER_ROLE_ADMIN,
}


ROLE_FROM_PB = {code: role for role, code in ROLE_TO_PB.items()}


def role_of(code: int) -> Role:
    if code not in ROLE_FROM_PB:
        raise InvalidInput(f"user role {code} must be viewer (1), operator (2) or admin (3)")
    return ROLE_FROM_PB[code]


def user_pb(user: users.User) -> admin_pb2.WebUser:
    return admin_pb2.WebUser(
        name=user.name,
        role=ROLE_TO_PB[user.role],
        created_at=messages.timestamp(user.created_at),
        password_changed_at=messages.timestamp(user.password_changed_at),
        failed_attempts=user.failed_attempts,
        locked_until=messages.optional_timestamp(user.locked_until),
    )


def alert_pb(v: AlertView) -> admin_pb2.AlertInfo:
    return admin_pb2.AlertInfo(
        key=v.key,
        kind=v.kind,
        state=v.state,
        about=v.about,
        first_seen=messages.timestamp(v.first_seen),
        last_seen=messages.timestamp(v.last_seen),
        resolved_at=messages.optional_timestamp(v.resolved_at),
        reminders_sent=v.reminders_sent,
        acknowledged_by=v.acknowledged_by or "",
        acknowledged_at=messages.optional_timestamp(v.acknowledged_at),
        last_error=v.last_error or "",
        mails_sent=v.mails_sent,
        mails_waiting=v.mails_waiting,
        mails_failed=v.mails_failed,
    )


def run_out_pb(verdict: Any, reason: str) -> admin_pb2.RunOut:
    return admin_pb2.RunOut(
        at=messages.optional_timestamp(verdict.runs_out_at),
        lasts_period=verdict.lasts_period,
        ask_mof_by=messages.optional_timestamp(verdict.ask_by),
        late=verdict.late,
        reason=reason,
    )


def forecast_pb(found: PeriodOutlook) -> admin_pb2.ForecastReply:
    code = {p.type_code: messages.TYPE_TO_PB[InvoiceType.parse(p.type_code)] for p in found.pools}
    return admin_pb2.ForecastReply(
        year_month=found.period.to_year_month(),
        now=messages.timestamp(found.now),
        pools=[
            admin_pb2.PoolForecast(
                year_month=found.period.to_year_month(),
                invoice_type=code[p.type_code],
                free=p.free,
                burn_per_hour=p.rate,
                current=run_out_pb(p.current, p.current_reason),
                seasonal=run_out_pb(p.seasonal, "pool" if p.seasonal.runs_out_at else "never"),
                mof_cutoff=messages.timestamp(p.cutoff),
                seasonal_known=p.seasonal_known,
            )
            for p in found.pools
        ],
        branches=[branch_forecast_pb(found, b, code[b.type_code]) for b in found.branches],
    )


def branch_forecast_pb(
    found: PeriodOutlook, b: forecasting.BranchOutlook, invoice_type: int
) -> admin_pb2.BranchForecast:
    current = run_out_pb(found.verdict(b.current), b.current.reason)
    same = b.seasonal is b.current  # no seasonal scenario asked for: the same run-out
    return admin_pb2.BranchForecast(
        branch_ban=b.ban,
        invoice_type=invoice_type,
        held=b.held,
        quota_left=b.quota_left,
        burn_per_hour=b.rate,
        seasonal_per_hour=b.seasonal_rate,
        current=current,
        seasonal=current if same else run_out_pb(found.verdict(b.seasonal), b.seasonal.reason),
        booklets_per_period=b.per_period,
        changed=b.changed,
        booklets_granted=b.booklets,
    )


def report_pb(d: Any) -> admin_pb2.ReportDocument:
    return admin_pb2.ReportDocument(
        name=d.name,
        kind=REPORT_KINDS.get(d.key.message.value, admin_pb2.REPORT_KIND_UNSPECIFIED),
        year_month=d.key.period.to_year_month(),
        invoice_type=messages.TYPE_TO_PB[d.key.invoice_type],
        branch_ban=d.key.branch_ban.value,
        track=str(d.key.track),
        state=d.state.value,
        attempts=d.attempts,
        error_code=d.error_code or "",
        written_at=messages.timestamp(d.written_at),
        updated_at=messages.timestamp(d.updated_at),
        revision=d.revision,
    )


REPORT_KINDS = {"E0401": admin_pb2.REPORT_KIND_E0401, "E0402": admin_pb2.REPORT_KIND_E0402}


def deadline_pb(due: Due) -> admin_pb2.Deadline:
    return admin_pb2.Deadline(
        year_month=due.period.to_year_month(),
        invoice_type=messages.invoice_type_code(due.invoice_type),
        branch_ban=due.branch_ban,
        status=due.status,
        deadline=messages.optional_timestamp(due.deadline),
        days_left=due.days_left,
        error_codes=list(due.error_codes),
    )


# ---- ERP export (ExportData, hq_server/export.py) ----
# 1,000 rows a reply: a grant row is at most about 1 KB (a 200-character name in 4-byte UTF-8
# is 800 bytes), so a reply stays under 1 MiB, a quarter of the 4 MiB message limit.
EXPORT_ROWS_PER_REPLY = 1000
EXPORT_KINDS = {
    admin_pb2.EXPORT_KIND_GRANTS: ExportKind.GRANTS,
    admin_pb2.EXPORT_KIND_USAGE: ExportKind.USAGE,
    admin_pb2.EXPORT_KIND_BLANKS: ExportKind.BLANKS,
}


def export_request(msg: admin_pb2.ExportDataRequest) -> ExportRequest:
    if not msg.year_month:
        raise InvalidPeriod(
            "ExportDataRequest.year_month is required: the period, a MIG YearMonth such as 11512"
        )
    try:
        period = Period.from_year_month(msg.year_month)
    except InvalidPeriod as error:
        raise InvalidPeriod(f"ExportDataRequest.year_month: {error}") from None
    kind = EXPORT_KINDS.get(msg.what)
    if kind is None:
        raise InvalidInput(
            f"ExportDataRequest.what {msg.what} must be grants (1), usage (2) or blanks (3)"
        )
    if msg.invoice_type == common_pb2.INVOICE_TYPE_UNSPECIFIED:
        return ExportRequest(period, kind)
    try:
        return ExportRequest(period, kind, invoice_type(msg.invoice_type))
    except InvalidInput as error:
        raise InvalidInput(f"ExportDataRequest.invoice_type: {error}") from None


def _number(value: int) -> str:
    return f"{value:08d}"


def grant_export_row(line: GrantLine) -> admin_pb2.GrantExportRow:
    g = line.grant
    return admin_pb2.GrantExportRow(
        ban=g.branch_ban.value,
        branch_name=line.branch.name,
        year_month=g.pool.year_month,
        invoice_type=g.pool.type_code,
        track=g.track_range.track.code,
        begin_number=_number(g.track_range.range.begin),
        end_number=_number(g.track_range.range.end),
        booklets=g.booklets,
        granted_at=messages.timestamp(g.granted_at),
        status=line.status,
        grant_id=g.id,
    )


def usage_export_row(line: UsageLine) -> admin_pb2.UsageExportRow:
    return admin_pb2.UsageExportRow(
        ban=line.branch.ban.value,
        branch_name=line.branch.name,
        year_month=line.pool.year_month,
        invoice_type=line.pool.type_code,
        granted=line.granted,
        issued=line.issued,
        blank=line.blank,
        remaining=line.remaining,
        last_report=optional_timestamp(line.branch.last_report_at),
    )


def blank_export_row(line: BlankLine) -> admin_pb2.BlankExportRow:
    return admin_pb2.BlankExportRow(
        head_ban=line.head_ban.value,
        branch_ban=line.branch_ban.value,
        year_month=line.pool.year_month,
        invoice_type=line.pool.type_code,
        track=line.track.code,
        begin_number=_number(line.numbers.begin),
        end_number=_number(line.numbers.end),
        numbers=line.numbers.count,
    )


def export_replies(page: Page) -> Iterator[admin_pb2.ExportDataReply]:
    """A page of lines as replies of at most EXPORT_ROWS_PER_REPLY rows each."""
    held = list(page.held)
    lines = page.lines
    for start in range(0, max(len(lines), 1 if held else 0), EXPORT_ROWS_PER_REPLY):
        reply = admin_pb2.ExportDataReply(held_branches=held)
        held = []
        for line in lines[start : start + EXPORT_ROWS_PER_REPLY]:
            if isinstance(line, GrantLine):
                reply.grants.append(grant_export_row(line))
            elif isinstance(line, UsageLine):
                reply.usage.append(usage_export_row(line))
            else:
                reply.blanks.append(blank_export_row(line))
        yield reply


# ---- replies' elements (the servicers only assemble replies from these) ----


def pool_pb(view: PoolView) -> admin_pb2.Pool:
    return admin_pb2.Pool(
        year_month=view.key.year_month,
        invoice_type=messages.TYPE_TO_PB[view.key.invoice_type],
        assignments=[assignment_pb(a.assignment, a.granted, a.free) for a in view.assignments],
        assigned=view.assigned,
        granted=view.granted,
        free=view.free,
        closed=view.closed,
    )


def enroll_token_pb(issued: IssuedToken) -> admin_pb2.EnrollToken:
    return admin_pb2.EnrollToken(
        token=issued.token,
        token_id=issued.token_id,
        branch_ban=issued.branch_ban,
        expires_at=messages.timestamp(issued.expires_at),
    )


def certificate_pb(c: Any) -> admin_pb2.IssuedCertificate:
    """A row of `certificates` (enrolment.certificates_of)."""
    return admin_pb2.IssuedCertificate(
        serial=c.serial,
        branch_ban=c.branch_ban,
        issued_at=messages.timestamp(c.issued_at),
        not_after=messages.timestamp(c.not_after),
        how=c.how,
    )


def token_state_pb(t: Any) -> admin_pb2.TokenState:
    """A row of `enroll_tokens` (enrolment.certificates_of): never the token itself."""
    return admin_pb2.TokenState(
        token_id=t.id,
        branch_ban=t.branch_ban,
        expires_at=messages.timestamp(t.expires_at),
        used_at=messages.optional_timestamp(t.used_at),
        created_by=t.created_by,
    )


def branch_usage_pb(v: UsageView) -> admin_pb2.BranchUsage:
    return admin_pb2.BranchUsage(
        branch_ban=v.ban,
        granted=v.granted,
        issued=v.issued,
        skipped=v.skipped,
        held=v.held,
        burn_per_hour=v.burn_per_hour,
        last_report=messages.optional_timestamp(v.last_report),
        booklets_granted=v.booklets,
        final=v.final,
    )


def track_accounting_pb(t: TrackAccount) -> admin_pb2.TrackAccounting:
    return admin_pb2.TrackAccounting(
        year_month=t.key.year_month,
        invoice_type=messages.TYPE_TO_PB[t.key.invoice_type],
        track=t.track.code,
        assigned=t.assigned,
        issued=t.issued,
        blank=t.blank,
        held=t.held,
        violations=t.violations,
    )


def audit_entry_pb(r: Any) -> admin_pb2.AuditEntry:
    """A row of the audit log (queries.audit_entries)."""
    return admin_pb2.AuditEntry(
        seq=r.seq,
        at=messages.optional_timestamp(r.at),
        actor=r.actor,
        action=r.action,
        details_json=r.details_json,
        hash=r.hash,
        prev_hash=r.prev_hash,
    )


def history_point_pb(at: datetime, issued: int, held: int, free: int = 0) -> admin_pb2.HistoryPoint:
    return admin_pb2.HistoryPoint(at=messages.timestamp(at), issued=issued, held=held, free=free)


def branch_certificate_pb(
    cert: x509.Certificate, ca: x509.Certificate, ban: str
) -> branch_pb2.BranchCertificate:
    return branch_pb2.BranchCertificate(
        certificate_pem=pki.cert_pem(cert),
        ca_pem=pki.cert_pem(ca),
        branch_ban=ban,
        not_after=messages.timestamp(cert.not_valid_after_utc),
    )


def config_pb(branch: Ban, view: ConfigView) -> branch_pb2.BranchConfig:
    return branch_pb2.BranchConfig(
        branch_ban=branch.value,
        enabled=view.branch.enabled,
        quota=quota_pb(view.branch.quota),
        refill=messages.refill_settings(view.branch.refill),
        disabled_ranges=[messages.track_range_message(r) for r in view.disabled_ranges],
        version=view.branch.config_version,
    )


def grant_state_pb(row: Any, issued: RangeSet, skipped: RangeSet) -> admin_pb2.GrantState:
    """A row of `grants` with its usage (records.grant_usage)."""
    return admin_pb2.GrantState(
        grant_id=row.id,
        year_month=row.year_month,
        invoice_type=messages.TYPE_TO_PB[InvoiceType.parse(row.invoice_type)],
        range=messages.track_range_message(track_range(row)),
        booklets=row.booklets,
        granted_at=messages.timestamp(row.granted_at),
        next_number=row.next_number,
        issued=issued.count,
        skipped=skipped.count,
        final=row.final,
    )
