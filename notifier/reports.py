"""Where the notifier learns how far a period's blank report (E0402) has got.

MOF sync owns the hand-off to Turnkey and its results; the notifier only asks through this port,
so it works (with less to say) before MOF sync's tables exist.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection

from allocator import PoolKey
from hq_server.queries import is_closed
from notifier.model import ReportState, ReportStatus


class ReportTracker(Protocol):
    """The E0402 status of one pool, read inside the evaluator's transaction."""

    def blank_report_status(self, conn: Connection, pool: PoolKey) -> ReportStatus: ...


class ClosedPeriodTracker:
    """Without MOF sync: only whether the period is closed at HQ; never 'confirmed'.

    So an E0402 alert, once due, stays open until the admins acknowledge it (no more reminders)
    or the period stops being the one whose report is due.
    """

    def blank_report_status(self, conn: Connection, pool: PoolKey) -> ReportStatus:
        if is_closed(conn, pool):
            return ReportStatus(ReportState.CLOSED, "closed at HQ; MOF confirmation not tracked")
        return ReportStatus(ReportState.NOT_CLOSED)
