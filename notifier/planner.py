"""Which mails a condition needs now, to whom: one when it opens, reminders at an interval until
acknowledged, one when it resolves; and the admins' daily digest.

Runs in the evaluator's transaction right after the conditions are synced, so a condition and
its mails commit together.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, func, or_, select, update

from allocator import TAIPEI
from notifier.config import (
    ADMIN_ROLE,
    BRANCH_ROLE,
    DEFAULT_ROUTES,
    NotifierConfig,
    valid_address,
)
from notifier.mailtext import DigestLine, Occasion, render, render_digest
from notifier.model import Kind
from notifier.outbox import (
    FAILED,
    OPEN,
    PENDING,
    RESOLVED,
    SENDING,
    NewMessage,
    conditions,
    messages,
    queue,
)
from notifier.ports import HqState


def plan_mails(conn: Connection, now: datetime, config: NotifierConfig, state: HqState) -> int:
    """Queue every mail that is due; returns how many were queued."""
    due = or_(
        conditions.c.open_mail_at.is_(None),
        and_(
            conditions.c.state == OPEN,
            conditions.c.acknowledged_at.is_(None),
            conditions.c.next_reminder_at <= now,
        ),
        and_(conditions.c.state == RESOLVED, conditions.c.resolved_mail_at.is_(None)),
    )
    rows = conn.execute(select(conditions).where(due).order_by(conditions.c.key)).all()
    queued = sum(plan_condition(conn, now, config, state, row) for row in rows)
    return queued + plan_digest(conn, now, config)


def plan_condition(
    conn: Connection, now: datetime, config: NotifierConfig, state: HqState, row: Row
) -> int:
    events: list[tuple[str, int]] = []
    values: dict[str, Any] = {}
    interval = timedelta(hours=config.schedule.reminder_hours)
    if row.open_mail_at is None:
        events.append(("open", 0))
        values |= {"open_mail_at": now, "next_reminder_at": now + interval}
    elif row.state == OPEN:
        events.append(("reminder", row.reminders_sent + 1))
        values |= {"reminders_sent": row.reminders_sent + 1, "next_reminder_at": now + interval}
    if row.state == RESOLVED:
        events.append(("resolved", 0))
        values |= {"resolved_mail_at": now, "next_reminder_at": None}
    recipients, problems = recipients_for(conn, config, state, Kind(row.kind), row.ban)
    if problems:
        values["last_error"] = "; ".join(problems)
    conn.execute(update(conditions).where(conditions.c.key == row.key).values(**values))
    facts = json.loads(row.facts_json)
    queued = 0
    for event, number in events:
        occasion = Occasion(event, row.key, row.first_seen, number, row.resolved_at)
        subject, body = render(Kind(row.kind), facts, occasion)
        for recipient in recipients:
            dedupe = f"{row.key}#{row.episode}|{event}|{number}|{recipient.lower()}"
            new = NewMessage(dedupe, message_id(config), row.key, event, recipient, subject, body)
            queued += queue(conn, now, new)
    return queued


def recipients_for(
    conn: Connection, config: NotifierConfig, state: HqState, kind: Kind, ban: str | None
) -> tuple[list[str], list[str]]:
    """(addresses, problems): the route's roles, the branch's own addresses for 'branch'.

    A bad branch address is left out and named in the problems (stored on the condition); an
    alert nobody would get goes to the HQ admins instead, never nowhere.
    """
    found: list[str] = []
    problems: list[str] = []
    for role in config.routes.get(kind, DEFAULT_ROUTES[kind]):
        if role != BRANCH_ROLE:
            found += config.roles[role]
        elif ban is not None:
            good, bad = branch_addresses(conn, state, ban)
            found += good
            problems += bad
    unique = distinct(found)
    if not unique:
        problems.append(f"no recipient for {kind.value}: sent to {ADMIN_ROLE} instead")
        unique = list(config.roles[ADMIN_ROLE])
    return unique, problems


def distinct(addresses: list[str]) -> list[str]:
    """Each address once, first spelling kept (mail domains ignore case in practice)."""
    first: dict[str, str] = {}
    for address in addresses:
        first.setdefault(address.lower(), address)
    return list(first.values())


def branch_addresses(conn: Connection, state: HqState, ban: str) -> tuple[list[str], list[str]]:
    try:
        listed = state.branch_emails(conn, ban)
    except LookupError as why:
        return [], [str(why)]
    good = [a for a in listed if valid_address(a)]
    bad = [f"branch {ban}: {a!r} is not a valid e-mail address" for a in listed if a not in good]
    if not listed:
        bad.append(f"branch {ban} has no e-mail address")
    return good, bad


def plan_digest(conn: Connection, now: datetime, config: NotifierConfig) -> int:
    """Once a day, from the configured Taipei hour on, a summary to the HQ admins."""
    hour = config.schedule.digest_hour
    local = now.astimezone(TAIPEI)
    if hour is None or local.hour < hour:
        return 0
    key = f"digest:{local.date().isoformat()}"
    if conn.execute(select(messages.c.id).where(messages.c.condition_key == key)).first():
        return 0
    subject, body = render_digest(now, *digest_contents(conn, now))
    queued = 0
    for recipient in config.roles[ADMIN_ROLE]:
        dedupe = f"{key}|digest|0|{recipient.lower()}"
        new = NewMessage(dedupe, message_id(config), key, "digest", recipient, subject, body)
        queued += queue(conn, now, new)
    return queued


def digest_contents(
    conn: Connection, now: datetime
) -> tuple[list[DigestLine], list[DigestLine], int]:
    def lines(where: Any) -> list[DigestLine]:
        rows = conn.execute(select(conditions).where(where).order_by(conditions.c.first_seen))
        return [
            DigestLine(
                Kind(r.kind), r.key, json.loads(r.facts_json), r.first_seen, r.acknowledged_by
            )
            for r in rows
        ]

    open_now = lines(conditions.c.state == OPEN)
    cleared = lines(
        and_(conditions.c.state == RESOLVED, conditions.c.resolved_at >= now - timedelta(days=1))
    )
    undelivered = conn.execute(
        select(func.count())
        .select_from(messages)
        .where(messages.c.state.in_([PENDING, SENDING, FAILED]))
        .where(messages.c.attempts > 0)
    ).scalar_one()
    return open_now, cleared, undelivered


def message_id(config: NotifierConfig) -> str:
    """Fixed when the mail is queued and sent unchanged on every attempt, so a mail re-sent
    after a crash carries the same Message-ID as the first copy."""
    domain = config.smtp.sender.rsplit("@", 1)[1]
    return f"<einv.{uuid.uuid4().hex}@{domain}>"
