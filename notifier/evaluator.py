"""One evaluation: read HQ state, apply the rules, record conditions, queue their mails.

All of it is one function of one connection, run inside one fenced write transaction
(Store.write_sync): the conditions and mails commit with the state they were derived from, or
not at all, and only the leader can commit them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from notifier import rules
from notifier.conditions import sync_conditions
from notifier.config import NotifierConfig
from notifier.planner import plan_mails
from notifier.ports import HqState


@dataclass(frozen=True, slots=True)
class Evaluation:
    alerts: int  # conditions that hold now (from the rules)
    opened: int
    resolved: int
    queued: int  # mails queued by this evaluation


def evaluate(conn: Connection, now: datetime, config: NotifierConfig, state: HqState) -> Evaluation:
    snapshot = state.snapshot(conn, now)
    alerts = rules.evaluate(snapshot, config.thresholds)
    opened, resolved = sync_conditions(conn, now, alerts)
    queued = plan_mails(conn, now, config, state)
    return Evaluation(len(alerts), opened, resolved, queued)
