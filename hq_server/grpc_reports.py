"""The MOF-document part of AdminService: E0501 import, E0401/E0402 hand-off, deadlines."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from allocator import Ban, InvalidInput
from hq_server import admin_ops, convert, handover, reports
from hq_server.app import Hq
from mof_sync import DEFAULT_VERSION, MessageType, MigVersion
from protos.einvoice.v1 import admin_pb2
from runtime.guard import current_principal

Ctx = grpc.aio.ServicerContext
MAX_IMPORT_FILES = 100
KINDS = {
    admin_pb2.REPORT_KIND_E0401: MessageType.E0401,
    admin_pb2.REPORT_KIND_E0402: MessageType.E0402,
}


def mig_version(text: str) -> MigVersion:
    try:
        return MigVersion.parse(text) if text else DEFAULT_VERSION
    except ValueError as error:
        raise InvalidInput(str(error)) from error


class ReportsMixin:
    """Mixed into AdminServicer: needs `self.hq`."""

    hq: Hq

    async def ImportE0501(self, request: admin_pb2.ImportE0501Request, context: Ctx) -> Any:
        if not request.files or len(request.files) > MAX_IMPORT_FILES:
            raise InvalidInput(f"an import takes 1..{MAX_IMPORT_FILES} files")
        files = [(f.name or f"file {i + 1}", f.content) for i, f in enumerate(request.files)]
        head = Ban(self.hq.head_ban)
        who = current_principal().actor
        # Parse and validate outside the write path: other branches' writes go on meanwhile.
        items = await asyncio.to_thread(reports.parse_e0501, head, files, request.test_data)
        added, unchanged = await self.hq.write(
            lambda conn, now: admin_ops.add_assignments(conn, now, who, items)
        )
        if added:
            await self.hq.config_changed()
        return admin_pb2.ImportE0501Reply(
            imported=[convert.assignment_pb(a, 0, a.track_range.range.count) for a in added],
            unchanged=unchanged,
        )

    async def BuildReports(self, request: admin_pb2.BuildReportsRequest, context: Ctx) -> Any:
        kind = KINDS.get(request.kind)
        if kind is None:
            raise InvalidInput(f"report kind {request.kind} must be E0401 (1) or E0402 (2)")
        version = mig_version(request.mig_version)
        pool = convert.pool_key(request.year_month, request.invoice_type)
        who = current_principal().actor
        done = await handover.hand_over(self.hq, kind, pool, version, request.correction, who)
        return admin_pb2.BuildReportsReply(
            written=done.written, unchanged=done.unchanged, held_branches=done.held
        )

    async def ResendReport(self, request: admin_pb2.ResendReportRequest, context: Ctx) -> Any:
        who = current_principal().actor
        return convert.report_pb(await handover.resend(self.hq, request.name, who))

    async def ListDeadlines(self, request: admin_pb2.ListDeadlinesRequest, context: Ctx) -> Any:
        due = await handover.deadlines(self.hq)
        return admin_pb2.ListDeadlinesReply(deadlines=[convert.deadline_pb(d) for d in due])
