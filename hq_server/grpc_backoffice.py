"""The back office's part of AdminService: web users, alerts, history, forecast, grants.

Added so the web pages read nothing the admin API does not serve (einv-admin uses them too).
Mixed into AdminServicer: needs `self.hq`. Every change is audited under the caller.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import grpc
from sqlalchemy import Connection, select

from allocator import InvalidInput, InvoiceType, NotFound, Period
from hq_server import audit, convert, forecasting, history
from hq_server.app import Hq
from hq_server.forecasting import PeriodOutlook, WhatIf
from hq_server.queries import list_pools
from hq_server.records import skipped_by_grant, track_range
from hq_server.schema import grants
from hq_server.web import passwords, users
from notifier import alerts
from notifier.alerts import AlertView
from protos.einvoice.v1 import admin_pb2
from runtime import messages
from runtime.guard import current_principal
from runtime.principal import Role

Ctx = grpc.aio.ServicerContext
ROLE_TO_PB = {
    Role.VIEWER: admin_pb2.USER_ROLE_VIEWER,
    Role.OPERATOR: admin_pb2.USER_ROLE_OPERATOR,
    Role.ADMIN: admin_pb2.USER_ROLE_ADMIN,
}
ROLE_FROM_PB = {code: role for role, code in ROLE_TO_PB.items()}
MAX_WHAT_IF = 100


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


def acknowledge_alert(conn: Connection, now: datetime, key: str, who: str) -> AlertView:
    view = alerts.ack(conn, now, key, who)
    audit.append(conn, now, who, "ack_alert", key=key)
    return view


def grant_states(conn: Connection, ban: str, year_month: str) -> list[admin_pb2.GrantState]:
    query = select(grants).where(grants.c.branch_ban == ban)
    if year_month:
        query = query.where(grants.c.year_month == year_month)
    rows = conn.execute(query.order_by(grants.c.granted_at, grants.c.track, grants.c.begin)).all()
    skips = skipped_by_grant(conn, [r.id for r in rows])
    found = []
    for r in rows:
        blank = skips.get(r.id)
        blank_count = blank.count if blank is not None else 0
        found.append(
            admin_pb2.GrantState(
                grant_id=r.id,
                year_month=r.year_month,
                invoice_type=messages.TYPE_TO_PB[InvoiceType.parse(r.invoice_type)],
                range=messages.track_range_message(track_range(r)),
                booklets=r.booklets,
                granted_at=messages.timestamp(r.granted_at),
                next_number=r.next_number,
                issued=r.next_number - r.begin - blank_count,
                skipped=blank_count,
                final=r.final,
            )
        )
    return found


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


class BackOfficeMixin:
    """Mixed into AdminServicer: needs `self.hq`."""

    hq: Hq

    async def AddUser(self, request: admin_pb2.AddUserRequest, context: Ctx) -> Any:
        who = current_principal().actor
        role = role_of(request.role)
        digest = await asyncio.to_thread(passwords.hash_password, request.password)
        user = await self.hq.write(
            lambda conn, now: users.add_user(conn, now, who, request.name, role, digest)
        )
        return user_pb(user)

    async def SetPassword(self, request: admin_pb2.SetPasswordRequest, context: Ctx) -> Any:
        who = current_principal().actor
        digest = await asyncio.to_thread(passwords.hash_password, request.password)
        user = await self.hq.write(
            lambda conn, now: users.set_password(conn, now, who, request.name, digest)
        )
        return user_pb(user)

    async def ListUsers(self, request: admin_pb2.ListUsersRequest, context: Ctx) -> Any:
        found = await self.hq.read(users.list_users)
        return admin_pb2.ListUsersReply(users=[user_pb(u) for u in found])

    async def ListAlerts(self, request: admin_pb2.ListAlertsRequest, context: Ctx) -> Any:
        everything = request.include_resolved
        views = await self.hq.read(lambda conn: alerts.views(conn, everything))
        return admin_pb2.ListAlertsReply(alerts=[alert_pb(v) for v in views])

    async def AckAlert(self, request: admin_pb2.AckAlertRequest, context: Ctx) -> Any:
        who = current_principal().actor
        key = request.key
        view = await self.hq.write(lambda conn, now: acknowledge_alert(conn, now, key, who))
        return alert_pb(view)

    async def SendTestMail(self, request: admin_pb2.SendTestMailRequest, context: Ctx) -> Any:
        who, address = current_principal().actor, request.address
        reply = await alerts.send_test_mail(self.hq.notifier_config, address, self.hq.now())
        await self.hq.write(
            lambda conn, now: audit.append(conn, now, who, "test_mail", address=address)
        )
        return admin_pb2.SendTestMailReply(server_reply=reply)

    async def GetHistory(self, request: admin_pb2.GetHistoryRequest, context: Ctx) -> Any:
        now = self.hq.now()
        year_month = request.year_month or Period.containing(now).to_year_month()
        Period.from_year_month(year_month)
        code = messages.invoice_type(request.invoice_type).value
        ban = convert.ban(request.branch_ban).value if request.branch_ban else None

        def work(conn: Connection) -> list[admin_pb2.HistoryPoint]:
            if ban is None:
                points = [
                    admin_pb2.HistoryPoint(
                        at=messages.timestamp(r.at), issued=r.issued, held=r.granted, free=r.free
                    )
                    for r in history.pool_points(conn, year_month, code)
                ]
                views = [v for v in list_pools(conn, year_month) if v.key.type_code == code]
                parts = history.branch_parts(conn, year_month)
                if views:
                    issued = sum(p.issued for (_, t), p in parts.items() if t == code)
                    points.append(
                        admin_pb2.HistoryPoint(
                            at=messages.timestamp(now),
                            issued=issued,
                            held=views[0].granted,
                            free=views[0].free,
                        )
                    )
                return points
            points = [
                admin_pb2.HistoryPoint(at=messages.timestamp(r.at), issued=r.issued, held=r.held)
                for r in history.branch_points(conn, ban, year_month, code)
            ]
            part = history.branch_parts(conn, year_month).get((ban, code))
            if part is not None:
                points.append(
                    admin_pb2.HistoryPoint(
                        at=messages.timestamp(now), issued=part.issued, held=part.held
                    )
                )
            return points

        points = await self.hq.read(work)
        return admin_pb2.GetHistoryReply(year_month=year_month, points=points)

    async def Forecast(self, request: admin_pb2.ForecastRequest, context: Ctx) -> Any:
        now = self.hq.now()
        period = (
            Period.from_year_month(request.year_month)
            if request.year_month
            else Period.containing(now)
        )
        if len(request.quota_changes) + len(request.moves) > MAX_WHAT_IF:
            raise InvalidInput(f"a what-if tries at most {MAX_WHAT_IF} changes")
        changes = [(convert.ban(q.ban).value, q.booklets_per_period) for q in request.quota_changes]
        moves = [
            (convert.ban(m.from_ban).value, convert.ban(m.to_ban).value, m.booklets)
            for m in request.moves
        ]
        if any(giver == taker for giver, taker, _ in moves):
            raise InvalidInput("a move takes booklets from one branch for another one")

        def work(conn: Connection) -> PeriodOutlook:
            stored = {ban: q for ban, (q, _) in forecasting.quotas(conn).items()}
            what_if = WhatIf.of(changes, moves, stored)
            return forecasting.outlook(conn, now, period, what_if, not request.current_only)

        return forecast_pb(await self.hq.read(work))

    async def ListGrants(self, request: admin_pb2.ListGrantsRequest, context: Ctx) -> Any:
        ban = convert.ban(request.branch_ban).value
        if request.year_month:
            Period.from_year_month(request.year_month)

        def work(conn: Connection) -> list[admin_pb2.GrantState]:
            if forecasting.quotas(conn).get(ban) is None:
                raise NotFound(f"branch {ban} is not registered at this HQ")
            return grant_states(conn, ban, request.year_month)

        return admin_pb2.ListGrantsReply(grants=await self.hq.read(work))

    async def ListReports(self, request: admin_pb2.ListReportsRequest, context: Ctx) -> Any:
        period = Period.from_year_month(request.year_month) if request.year_month else None
        outbox = self.hq.reports.outbox(self.hq.store.write_engine)
        found = await asyncio.to_thread(lambda: outbox.documents(period=period))
        return admin_pb2.ListReportsReply(
            documents=[report_pb(d) for d in found if d.key.message.value in REPORT_KINDS]
        )


async def usage_forecast(hq: Hq, year_month: str) -> dict[str, admin_pb2.BranchUsage]:
    """For GetUsage: each branch's earliest run-out at the current burn (current period only)."""
    now = hq.now()
    period = Period.from_year_month(year_month)
    if not period.contains(now):
        return {}
    found = await hq.read(lambda conn: forecasting.outlook(conn, now, period, None, False))
    earliest: dict[str, tuple[datetime, str]] = {}
    for b in found.branches:  # a branch drawing from two pools: the one it empties first
        at = b.current.at or datetime.max.replace(tzinfo=UTC)
        if b.ban not in earliest or at < earliest[b.ban][0]:
            earliest[b.ban] = (at, b.current.reason)
    return {
        ban: admin_pb2.BranchUsage(
            runs_out_at=messages.optional_timestamp(None if at.year == 9999 else at),
            runs_out_reason=reason,
        )
        for ban, (at, reason) in earliest.items()
    }
