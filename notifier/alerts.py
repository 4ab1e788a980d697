"""The notifier's alerts as people read them (einv-admin alerts, the back office): listing with
mail counts, acknowledging, a test mail. Functions over a Connection; the admin API calls them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, select

from allocator import InvalidInput, Refused
from notifier import smtp
from notifier.conditions import acknowledge
from notifier.config import NotifierConfig
from notifier.mailtext import TEXTS, display, when
from notifier.model import Kind
from notifier.outbox import FAILED, OPEN, PENDING, SENDING, SENT, conditions, messages
from runtime.emails import valid_address


@dataclass(frozen=True, slots=True)
class AlertView:
    key: str
    kind: str
    state: str
    about: str
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    reminders_sent: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    last_error: str | None
    mails_sent: int
    mails_waiting: int
    mails_failed: int


def views(conn: Connection, include_resolved: bool = False) -> list[AlertView]:
    """The alerts (open ones, or all) with their mail counts, for people to read."""
    return _views(conn, None if include_resolved else OPEN)


def ack(conn: Connection, now: datetime, key: str, actor: str) -> AlertView:
    """Stop the reminders of an alert (inside the caller's fenced transaction)."""
    acknowledge(conn, now, key, actor)
    return next(v for v in _views(conn, None) if v.key == key)


async def send_test_mail(config: NotifierConfig | None, address: str, now: datetime) -> str:
    """Send a test mail now (outside the outbox): the SMTP server's reply."""
    if not valid_address(address):
        raise InvalidInput(f"address {address!r} must be one e-mail address (name@domain)")
    if config is None:
        raise Refused("this HQ runs without --notifier-config: it has no SMTP settings to test")
    try:
        return await smtp.send_test(config.smtp, address, now)
    except smtp.SmtpUnavailable as error:
        raise Refused(f"the test mail to {address} was not delivered: {error}") from error


def _views(conn: Connection, state: str | None) -> list[AlertView]:
    counts = _mail_counts(conn)
    query = select(conditions).order_by(conditions.c.state, conditions.c.first_seen)
    if state is not None:
        query = query.where(conditions.c.state == state)
    views = []
    for r in conn.execute(query):
        sent, waiting, failed = counts.get(r.key, (0, 0, 0))
        text = TEXTS[Kind(r.kind)]
        about = text.tail.format_map(display(json.loads(r.facts_json)))
        views.append(
            AlertView(
                key=r.key,
                kind=r.kind,
                state=r.state,
                about=f"{text.en_title}: {about}",
                first_seen=r.first_seen,
                last_seen=r.last_seen,
                resolved_at=r.resolved_at,
                reminders_sent=r.reminders_sent,
                acknowledged_by=r.acknowledged_by,
                acknowledged_at=r.acknowledged_at,
                last_error=r.last_error,
                mails_sent=sent,
                mails_waiting=waiting,
                mails_failed=failed,
            )
        )
    return views


def _mail_counts(conn: Connection) -> dict[str, tuple[int, int, int]]:
    def count(*states: str) -> Any:
        return func.sum(case((messages.c.state.in_(states), 1), else_=0))

    query = select(
        messages.c.condition_key, count(SENT), count(PENDING, SENDING), count(FAILED)
    ).group_by(messages.c.condition_key)
    return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in conn.execute(query) if r[0]}


def format_alerts(views: list[AlertView]) -> str:
    if not views:
        return "no alerts"
    lines = []
    for v in views:
        ack = f"acknowledged by {v.acknowledged_by}" if v.acknowledged_by else "not acknowledged"
        lines.append(f"{v.key}  [{v.state}]  {v.about}")
        lines.append(
            f"    since {when(v.first_seen)}, last seen {when(v.last_seen)}; {ack}; "
            f"mails sent {v.mails_sent}, waiting {v.mails_waiting}, failed {v.mails_failed}"
        )
        if v.last_error:
            lines.append(f"    last error: {v.last_error}")
    return "\n".join(lines)
