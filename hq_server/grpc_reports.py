"""The MOF-document part of AdminService: E0501 import, E0401/E0402 hand-off, deadlines."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from allocator import Ban, InvalidInput
from hq_server import admin_ops, convert, reports
from hq_server.app import Hq
from hq_server.audit import append
from hq_server.queries import list_branches, pool_keys
from mof_sync import DEFAULT_VERSION, MigVersion
from notifier import raise_held_back, resolve_held_back
from protos.einvoice.v1 import admin_pb2
from runtime import messages
from runtime.guard import current_principal

Ctx = grpc.aio.ServicerContext
MAX_IMPORT_FILES = 100
KINDS = {admin_pb2.REPORT_KIND_E0401: "E0401", admin_pb2.REPORT_KIND_E0402: "E0402"}


def mig_version(text: str) -> MigVersion:
    try:
        return MigVersion.parse(text) if text else DEFAULT_VERSION
    except ValueError as error:
        raise InvalidInput(str(error)) from error


def hold_back(conn: Any, now: Any, pool: Any, held: list[str]) -> None:
    """Tell the admins (notifier) about each branch held back; resolve the ones now sent."""
    for row in list_branches(conn):
        if row.ban in held:
            raise_held_back(conn, now, row.ban, row.name, pool, "its final usage report is missing")
        else:
            resolve_held_back(conn, now, row.ban, pool)


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
            lambda conn, now, _t: admin_ops.add_assignments(conn, now, who, items)
        )
        if added:
            await self.hq.config_changed()
        return admin_pb2.ImportE0501Reply(
            imported=[convert.assignment_pb(r, 0, r.end - r.begin + 1) for r in added],
            unchanged=unchanged,
        )

    async def BuildReports(self, request: admin_pb2.BuildReportsRequest, context: Ctx) -> Any:
        kind = KINDS.get(request.kind)
        if kind is None:
            raise InvalidInput(f"report kind {request.kind} must be E0401 (1) or E0402 (2)")
        version = mig_version(request.mig_version)
        pool = convert.pool_key(request.year_month, request.invoice_type)
        settings = self.hq.reports
        outbox = settings.outbox(self.hq.store.write_engine)
        head = Ban(self.hq.head_ban)
        who = current_principal().actor
        if kind == "E0402":
            inputs = await self.hq.write(
                lambda conn, now, _t: reports.close_for_blanks(conn, now, who, head, pool)
            )
            held = inputs.held
            await self.hq.write(lambda conn, now, _t: hold_back(conn, now, pool, held))
        else:
            inputs = await self.hq.read(lambda conn: reports.e0401_inputs(conn, pool))
            held = []
        self.hq.coordinator.token()  # only the leader hands documents over
        documents = reports.build_documents(
            kind, head, pool, inputs, version, 0, settings.test_data
        )
        if request.correction:
            revision = reports.next_revision(outbox, documents)
            documents = reports.build_documents(
                kind, head, pool, inputs, version, revision, settings.test_data
            )
        submitted = await asyncio.to_thread(outbox.submit, documents, self.hq.now())
        submitted.raise_if_refused()
        await self.hq.write(
            lambda conn, now, _t: append(
                conn,
                now,
                who,
                f"handoff_{kind.lower()}",
                year_month=pool.year_month,
                invoice_type=pool.type_code,
                written=list(submitted.written),
                held=held,
                correction=request.correction,
            )
        )
        return admin_pb2.BuildReportsReply(
            written=submitted.written, unchanged=submitted.skipped, held_branches=held
        )

    async def ListDeadlines(self, request: admin_pb2.ListDeadlinesRequest, context: Ctx) -> Any:
        outbox = self.hq.reports.outbox(self.hq.store.write_engine)
        head = Ban(self.hq.head_ban)
        now = self.hq.now()

        def ended_sets(conn):  # type: ignore[no-untyped-def]
            return [
                (k, reports.blank_set(conn, head, k))
                for k in pool_keys(conn, None)
                if k.period.has_ended(now)
            ]

        sets = await self.hq.read(ended_sets)
        due = await asyncio.to_thread(reports.deadlines, outbox, head, sets, now)
        items = [
            admin_pb2.Deadline(
                year_month=d.period.to_year_month(),
                invoice_type=messages.invoice_type_code(d.invoice_type),
                branch_ban=d.branch_ban.value,
                status=d.status.value,
                deadline=messages.optional_timestamp(d.deadline),
                days_left=d.days_left,
                error_codes=list(d.error_codes),
            )
            for d in due
        ]
        for pool, blank in sets:
            deadline = pool.period.blank_report_deadline()
            items.extend(
                admin_pb2.Deadline(
                    year_month=pool.year_month,
                    invoice_type=messages.invoice_type_code(pool.invoice_type),
                    branch_ban=ban,
                    status="held",
                    deadline=messages.optional_timestamp(deadline),
                    days_left=(deadline - now).days,
                )
                for ban in blank.held
            )
        items.sort(key=lambda d: (d.deadline.seconds, d.invoice_type, d.branch_ban))
        return admin_pb2.ListDeadlinesReply(deadlines=items)
