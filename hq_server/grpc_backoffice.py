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

from allocator import InvalidInput, NotFound, Period, RangeSet
from hq_server import audit, convert, forecasting, history
from hq_server.app import Hq
from hq_server.forecasting import PeriodOutlook, WhatIf
from hq_server.queries import list_pools
from hq_server.records import grant_usage, skipped_by_grant
from hq_server.schema import grants
from hq_server.web import passwords, users
from notifier import alerts
from notifier.alerts import AlertView
from protos.einvoice.v1 import admin_pb2
from runtime import messages
from runtime.guard import current_principal

Ctx = grpc.aio.ServicerContext
MAX_WHAT_IF = 100


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
    return [convert.grant_state_pb(r, *grant_usage(r, skips.get(r.id, RangeSet()))) for r in rows]


class BackOfficeMixin:
    """Mixed into AdminServicer: needs `self.hq`."""

    hq: Hq

    async def AddUser(self, request: admin_pb2.AddUserRequest, context: Ctx) -> Any:
        who = current_principal().actor
        role = convert.role_of(request.role)
        digest = await asyncio.to_thread(passwords.hash_password, request.password)
        user = await self.hq.write(
            lambda conn, now: users.add_user(conn, now, who, request.name, role, digest)
        )
        return convert.user_pb(user)

    async def SetPassword(self, request: admin_pb2.SetPasswordRequest, context: Ctx) -> Any:
        who = current_principal().actor
        digest = await asyncio.to_thread(passwords.hash_password, request.password)
        user = await self.hq.write(
            lambda conn, now: users.set_password(conn, now, who, request.name, digest)
        )
        return convert.user_pb(user)

    async def ListUsers(self, request: admin_pb2.ListUsersRequest, context: Ctx) -> Any:
        found = await self.hq.read(users.list_users)
        return admin_pb2.ListUsersReply(users=[convert.user_pb(u) for u in found])

    async def ListAlerts(self, request: admin_pb2.ListAlertsRequest, context: Ctx) -> Any:
        everything = request.include_resolved
        views = await self.hq.read(lambda conn: alerts.views(conn, everything))
        return admin_pb2.ListAlertsReply(alerts=[convert.alert_pb(v) for v in views])

    async def AckAlert(self, request: admin_pb2.AckAlertRequest, context: Ctx) -> Any:
        who = current_principal().actor
        key = request.key
        view = await self.hq.write(lambda conn, now: acknowledge_alert(conn, now, key, who))
        return convert.alert_pb(view)

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
                    convert.history_point_pb(r.at, r.issued, r.granted, r.free)
                    for r in history.pool_points(conn, year_month, code)
                ]
                views = [v for v in list_pools(conn, year_month) if v.key.type_code == code]
                parts = history.branch_parts(conn, year_month)
                if views:
                    issued = sum(p.issued for (_, t), p in parts.items() if t == code)
                    points.append(
                        convert.history_point_pb(now, issued, views[0].granted, views[0].free)
                    )
                return points
            points = [
                convert.history_point_pb(r.at, r.issued, r.held)
                for r in history.branch_points(conn, ban, year_month, code)
            ]
            part = history.branch_parts(conn, year_month).get((ban, code))
            if part is not None:
                points.append(convert.history_point_pb(now, part.issued, part.held))
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

        return convert.forecast_pb(await self.hq.read(work))

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
            documents=[
                convert.report_pb(d) for d in found if d.key.message.value in convert.REPORT_KINDS
            ]
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
