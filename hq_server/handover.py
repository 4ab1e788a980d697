"""Use cases of the MOF hand-off: build a period's E0401s or E0402s and hand them to Turnkey,
resend a failed document, and what is still due to the MOF (deadlines).

Each is a few transactions of the HQ (`Hq.write` / `Hq.read`) around the document rules of
hq_server.reports and mof_sync; the admin API's servicer only translates.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from allocator import Ban, InvoiceType, Period, PoolKey
from hq_server import reports
from hq_server.app import Hq
from hq_server.audit import append
from hq_server.queries import is_closed, list_branches, pool_keys
from mof_sync import MessageType, MigVersion, store
from mof_sync.deadlines import ReportStatus as DueStatus
from mof_sync.deadlines import worst_status
from mof_sync.tracking import TrackedDocument
from notifier import raise_held_back, resolve_held_back
from notifier.model import ReportState, ReportStatus
from runtime.errors import NotLeader
from runtime.logs import Repeating

log = logging.getLogger("einv.hq.turnkey")


@dataclass(frozen=True, slots=True)
class HandOver:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    held: tuple[str, ...]  # branches whose final usage report is missing (E0402 only)


@dataclass(frozen=True, slots=True)
class Due:
    """A (period, type, branch) whose E0402 is not confirmed yet, or a branch held back."""

    period: Period
    invoice_type: InvoiceType
    branch_ban: str
    status: str
    deadline: datetime
    days_left: int
    error_codes: tuple[str, ...] = ()


async def hand_over(
    hq: Hq, kind: MessageType, pool: PoolKey, version: MigVersion, correction: bool, actor: str
) -> HandOver:
    """E0402: close the ended period first (what is not issued is blank), hold back the
    branches without a final report (and tell the admins); then write the documents."""
    settings = hq.reports
    outbox = settings.outbox(hq.store.write_engine)
    head = Ban(hq.head_ban)
    held: list[str] = []
    if kind is MessageType.E0402:
        inputs: Any = await hq.write(
            lambda conn, now: reports.close_for_blanks(conn, now, actor, head, pool)
        )
        held = inputs.held
        await hq.write(lambda conn, now: _tell_held_back(conn, now, pool, held))
    else:
        inputs = await hq.read(lambda conn: reports.e0401_inputs(conn, pool))
    hq.coordinator.token()  # only the leader hands documents over
    revision = 0
    if correction:
        drafts = reports.build_documents(kind, head, pool, inputs, version, 0, settings.test_data)
        revision = reports.next_revision(outbox, drafts)
    documents = reports.build_documents(
        kind, head, pool, inputs, version, revision, settings.test_data
    )
    submitted = await asyncio.to_thread(outbox.submit, documents, hq.now())
    submitted.raise_if_refused()
    details = {
        "year_month": pool.year_month,
        "invoice_type": pool.type_code,
        "written": list(submitted.written),
        "held": held,
        "correction": correction,
    }
    action = f"handoff_{kind.value.lower()}"
    await hq.write(lambda conn, now: append(conn, now, actor, action, **details))
    return HandOver(submitted.written, submitted.skipped, tuple(held))


async def resend(hq: Hq, name: str, actor: str) -> TrackedDocument:
    """A person's retry of a document Turnkey failed for good (after fixing Turnkey's setup);
    a changed content is a correction instead (hand_over with `correction`)."""
    outbox = hq.reports.outbox(hq.store.write_engine)
    hq.coordinator.token()  # only the leader hands documents over
    await asyncio.to_thread(outbox.resend, name, hq.now())
    await hq.write(lambda conn, now: append(conn, now, actor, "resend_report", name=name))
    (document,) = [d for d in outbox.documents() if d.name == name]
    return document


async def deadlines(hq: Hq) -> list[Due]:
    """Every ended period's E0402 not confirmed yet, per type and branch, soonest first."""
    outbox = hq.reports.outbox(hq.store.write_engine)
    head = Ban(hq.head_ban)
    now = hq.now()

    def ended_sets(conn: Any) -> list[tuple[PoolKey, reports.BlankSet]]:
        ended = [k for k in pool_keys(conn, None) if k.period.has_ended(now)]
        return [(k, reports.blank_set(conn, head, k)) for k in ended]

    sets = await hq.read(ended_sets)
    due = await asyncio.to_thread(reports.deadlines, outbox, head, sets, now)
    found = [
        Due(
            d.period,
            d.invoice_type,
            d.branch_ban.value,
            d.status.value,
            d.deadline,
            d.days_left,
            tuple(d.error_codes),
        )
        for d in due
    ]
    for pool, blank in sets:
        deadline = pool.period.blank_report_deadline()
        days_left = (deadline - now).days
        found.extend(
            Due(pool.period, pool.invoice_type, ban, "held", deadline, days_left)
            for ban in blank.held
        )
    return sorted(found, key=lambda d: (d.deadline, d.invoice_type.value, d.branch_ban))


async def run_turnkey_poll(hq: Hq) -> None:
    """Follow the documents handed to Turnkey (picked up, confirmed, failed; retries), as the
    leader, every `ReportSettings.poll_seconds`; a replica that does not lead waits."""
    outbox = hq.reports.outbox(hq.store.write_engine)
    failing = Repeating(log, "Turnkey poll")  # a Turnkey folder away: logged once, tried again
    while True:
        await asyncio.sleep(hq.reports.poll_seconds)
        try:
            hq.coordinator.token()
        except NotLeader:
            continue
        try:
            report = await asyncio.to_thread(outbox.poll, hq.now())
        except Exception as error:
            failing.failed(error, note="trying again")
            continue
        failing.recovered()
        for change in report.changes:
            log.info("Turnkey: %s %s -> %s", change.name, change.old.value, change.new.value)
        for document in report.failed:
            log.warning("Turnkey: %s failed for good (%s)", document.name, document.error_code)


class TurnkeyTracker:
    """The notifier's view of a pool's E0402 (notifier.reports.ReportTracker): how far the
    documents handed to Turnkey have got, read inside the evaluator's transaction."""

    def blank_report_status(self, conn: Connection, pool: PoolKey) -> ReportStatus:
        if not is_closed(conn, pool):
            return ReportStatus(ReportState.NOT_CLOSED)
        table = store.documents
        rows = conn.execute(
            select(table)
            .where(table.c.message_type == MessageType.E0402.value)
            .where(table.c.year_month == pool.year_month)
            .where(table.c.invoice_type == pool.type_code)
        ).all()
        documents = [store.tracked(r) for r in rows]
        status = worst_status(documents)
        if not documents:
            return ReportStatus(ReportState.CLOSED, "closed at HQ; not handed to Turnkey yet")
        if status is DueStatus.FAILED:
            codes = sorted({d.error_code for d in documents if d.error_code})
            return ReportStatus(ReportState.FAILED, ", ".join(codes))
        if status is DueStatus.CONFIRMED:
            return ReportStatus(ReportState.CONFIRMED)
        return ReportStatus(ReportState.SUBMITTED)


def _tell_held_back(conn: Any, now: datetime, pool: PoolKey, held: list[str]) -> None:
    """Tell the admins (notifier) about each branch held back; resolve the ones now sent."""
    for branch in list_branches(conn):
        ban = branch.ban.value
        if ban in held:
            raise_held_back(conn, now, ban, branch.name, pool, "its final usage report is missing")
        else:
            resolve_held_back(conn, now, ban, pool)
