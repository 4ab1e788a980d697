"""AdminService: the thin gRPC shell over the admin use cases and queries."""

from __future__ import annotations

from datetime import timedelta

import grpc

from allocator import InvalidInput, Period, check_schedule
from hq_server import admin_ops, convert, enrolment, export, health, queries
from hq_server.app import Hq
from hq_server.audit import chain_ok
from hq_server.enrolment import DEFAULT_TOKEN_TTL
from hq_server.grpc_backoffice import BackOfficeMixin, usage_forecast
from hq_server.grpc_reports import ReportsMixin
from hq_server.records import load_branch
from protos.einvoice.v1 import admin_pb2, admin_pb2_grpc
from runtime import messages
from runtime.guard import current_principal
from runtime.version import package_version

Ctx = grpc.aio.ServicerContext
MAX_AUDIT_PAGE = 1000
BRANCH_PAGE = 500  # x (200-character name + 20 e-mail addresses) stays far below 4 MiB
MAX_AUDIT_SEQ = 2**62  # the database stores 64-bit integers


def actor() -> str:
    """Who the audit log names: the authenticated caller, never a request field."""
    return current_principal().actor


class AdminServicer(ReportsMixin, BackOfficeMixin, admin_pb2_grpc.AdminServiceServicer):
    def __init__(self, hq: Hq) -> None:
        self.hq = hq

    async def GetServerStatus(self, request: admin_pb2.GetServerStatusRequest, context: Ctx):
        now = await health.readiness(self.hq)
        return convert.server_status_pb(now, self.hq.head_ban, package_version())

    async def AddAssignment(self, request: admin_pb2.AddAssignmentRequest, context: Ctx):
        who = actor()
        pool = convert.pool_key(request.year_month, request.invoice_type)
        new = messages.track_range(request.range)
        item = admin_ops.NewAssignment(pool, new, "manual")
        (row,), _ = await self.hq.write(
            lambda conn, now: admin_ops.add_assignments(conn, now, who, [item])
        )
        await self.hq.config_changed()
        return convert.assignment_pb(row, 0, new.range.count)

    async def ListPools(self, request: admin_pb2.ListPoolsRequest, context: Ctx):
        if request.year_month:
            Period.from_year_month(request.year_month)
        views = await self.hq.read(lambda conn: queries.list_pools(conn, request.year_month))
        return admin_pb2.ListPoolsReply(pools=[convert.pool_pb(v) for v in views])

    async def AddBranch(self, request: admin_pb2.AddBranchRequest, context: Ctx):
        who = actor()
        ban = convert.ban(request.ban)
        if not request.name.strip():
            raise InvalidInput(f"branch {ban} needs a name")
        settings = admin_ops.BranchSettings(
            name=request.name.strip(),
            quota=convert.quota(request.quota),
            refill=messages.refill_policy(request.refill, self.hq.default_refill),
            emails=tuple(request.emails),
        )
        row = await self.hq.write(
            lambda conn, now: admin_ops.add_branch(conn, now, who, ban, settings)
        )
        return convert.branch_pb(row)

    async def ListBranches(self, request: admin_pb2.ListBranchesRequest, context: Ctx):
        size = min(request.page_size or BRANCH_PAGE, BRANCH_PAGE)
        after = convert.ban(request.page_token).value if request.page_token else ""
        rows = await self.hq.read(lambda conn: queries.list_branches(conn, after, size + 1))
        page, more = rows[:size], len(rows) > size
        return admin_pb2.ListBranchesReply(
            branches=[convert.branch_pb(r) for r in page],
            next_page_token=page[-1].ban.value if more else "",
        )

    async def DisableBranch(self, request: admin_pb2.DisableBranchRequest, context: Ctx):
        who = actor()
        ban = convert.ban(request.ban)
        row = await self.hq.write(lambda conn, now: admin_ops.disable_branch(conn, now, who, ban))
        await self.hq.config_changed([ban.value])
        return convert.branch_pb(row)

    async def EnableBranch(self, request: admin_pb2.EnableBranchRequest, context: Ctx):
        ban = convert.ban(request.ban)
        who = actor()
        row = await self.hq.write(lambda conn, now: admin_ops.enable_branch(conn, now, who, ban))
        await self.hq.config_changed([ban.value])
        return convert.branch_pb(row)

    async def CreateEnrollToken(self, request: admin_pb2.CreateEnrollTokenRequest, context: Ctx):
        ban = convert.ban(request.ban)
        ttl = timedelta(seconds=request.ttl_seconds) if request.ttl_seconds else DEFAULT_TOKEN_TTL
        who = actor()
        issued = await self.hq.write(
            lambda conn, now: enrolment.create_token(conn, now, who, ban, ttl, self.hq.signer)
        )
        return convert.enroll_token_pb(issued)

    async def ListCertificates(self, request: admin_pb2.ListCertificatesRequest, context: Ctx):
        ban = convert.ban(request.branch_ban).value if request.branch_ban else None
        certs, tokens = await self.hq.read(lambda conn: enrolment.certificates_of(conn, ban))
        return admin_pb2.ListCertificatesReply(
            certificates=[convert.certificate_pb(c) for c in certs],
            tokens=[convert.token_state_pb(t) for t in tokens],
        )

    async def SetQuota(self, request: admin_pb2.SetQuotaRequest, context: Ctx):
        who = actor()
        ban = convert.ban(request.ban)
        quota = convert.quota(request.quota)
        effective = messages.from_timestamp(
            request.effective_from,
            request.HasField("effective_from"),
            "SetQuotaRequest.effective_from",
        )
        if effective is not None:
            check_schedule(effective, self.hq.now())

        def work(conn, now):  # type: ignore[no-untyped-def]
            refill = None
            if request.HasField("refill"):
                refill = messages.refill_policy(request.refill, load_branch(conn, ban).refill)
            return admin_ops.set_quota(conn, now, who, ban, quota, refill, effective)

        row = await self.hq.write(work)
        await self.hq.config_changed([ban.value])
        return convert.branch_pb(row)

    async def SetRangeStatus(self, request: admin_pb2.SetRangeStatusRequest, context: Ctx):
        who = actor()
        status = convert.range_status(request.status)
        row = await self.hq.write(
            lambda conn, now: admin_ops.set_range_status(
                conn, now, who, request.assignment_id, status
            )
        )
        await self.hq.config_changed()
        return convert.assignment_pb(row)

    async def GetUsage(self, request: admin_pb2.GetUsageRequest, context: Ctx):
        year_month = request.year_month or Period.containing(self.hq.now()).to_year_month()
        Period.from_year_month(year_month)
        branch = convert.ban(request.branch_ban).value if request.branch_ban else None
        views = await self.hq.read(lambda conn: queries.usage(conn, year_month, branch))
        runs = await usage_forecast(self.hq, year_month)
        reply = admin_pb2.GetUsageReply(
            year_month=year_month,
            branches=[convert.branch_usage_pb(v) for v in views],
        )
        for usage in reply.branches:  # the forecast column (allocator.forecast)
            if usage.branch_ban in runs:
                usage.MergeFrom(runs[usage.branch_ban])
        return reply

    async def ClosePeriod(self, request: admin_pb2.ClosePeriodRequest, context: Ctx):
        who = actor()
        pool = convert.pool_key(request.year_month, request.invoice_type)
        result = await self.hq.write(lambda conn, now: admin_ops.close_period(conn, now, who, pool))
        return admin_pb2.ClosePeriodReply(
            assigned=result.assigned,
            issued=result.issued,
            blank=result.blank,
            branches_not_final=result.not_final,
        )

    async def Reconcile(self, request: admin_pb2.ReconcileRequest, context: Ctx):
        if request.year_month:
            Period.from_year_month(request.year_month)
        rows = await self.hq.read(lambda conn: queries.reconcile(conn, request.year_month))
        tracks = [convert.track_accounting_pb(t) for t in rows]
        return admin_pb2.ReconcileReply(tracks=tracks, ok=all(not t.violations for t in rows))

    async def ListAudit(self, request: admin_pb2.ListAuditRequest, context: Ctx):
        limit = min(request.limit or 100, MAX_AUDIT_PAGE)
        if request.after_seq > MAX_AUDIT_SEQ:
            raise InvalidInput(f"after_seq {request.after_seq} is beyond any entry (at most 2^62)")

        def work(conn):  # type: ignore[no-untyped-def]
            after = request.after_seq
            if request.newest:
                after = max(0, queries.last_audit_seq(conn) - limit)
            rows = queries.audit_entries(conn, after, limit)
            before = queries.previous_audit(conn, after)
            return rows, before

        rows, before = await self.hq.read(work)
        chain = ([before] if before is not None else []) + rows
        return admin_pb2.ListAuditReply(
            entries=[convert.audit_entry_pb(r) for r in rows],
            chain_ok=chain_ok(chain),
        )

    # ---- ERP export (hq_server/export.py; rows built in convert.py) ----
    async def ExportData(self, request: admin_pb2.ExportDataRequest, context: Ctx):
        wanted = convert.export_request(request)
        async for page in export.export(self.hq, wanted, actor()):
            for reply in convert.export_replies(page):
                yield reply
