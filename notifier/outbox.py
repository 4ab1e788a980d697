"""The notifier's own tables, on the HQ's database: alert conditions and the mails to send.

Conditions and their mails are written in the same transaction as the state that raised them
(the evaluator's fenced transaction, or MOF sync's through `raise_alert`), so a crash loses none.
A mail row is marked sent only once the SMTP server has accepted it; see notifier.dispatch for
what happens to a crash in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    insert,
    or_,
    select,
    update,
)

from runtime.sqltypes import UtcDateTime

metadata = MetaData()
OPEN, RESOLVED = "open", "resolved"
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
RULE, EXTERNAL = "rule", "external"

conditions = Table(
    "notify_conditions",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("source", String(10), nullable=False),  # rule: resolved by the rules; external: by call
    Column("ban", String(8)),
    Column("state", String(10), nullable=False),
    Column("episode", Integer, nullable=False),  # counts re-openings: mails of each apart
    Column("facts_json", Text, nullable=False),
    Column("first_seen", UtcDateTime(), nullable=False),
    Column("last_seen", UtcDateTime(), nullable=False),
    Column("resolved_at", UtcDateTime()),
    Column("open_mail_at", UtcDateTime()),
    Column("resolved_mail_at", UtcDateTime()),
    Column("next_reminder_at", UtcDateTime()),
    Column("reminders_sent", Integer, nullable=False),
    Column("acknowledged_by", String(200)),
    Column("acknowledged_at", UtcDateTime()),
    Column("last_error", Text),
    Index("ix_notify_conditions_state", "state"),
)

messages = Table(
    "notify_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(600), nullable=False, unique=True),
    Column("message_id", String(200), nullable=False, unique=True),  # the mail's Message-ID
    Column("condition_key", String(200)),
    Column("event", String(10), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("last_attempt_at", UtcDateTime()),
    Column("claim_token", BigInteger),
    Column("last_error", Text),
    Column("sent_at", UtcDateTime()),
    Index("ix_notify_messages_due", "state", "next_attempt_at"),
    Index("ix_notify_messages_condition", "condition_key"),
)


# One row per finished attempt (the claim itself is counted on the message).
attempts = Table(
    "notify_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message", Integer, ForeignKey("notify_messages.id"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("outcome", String(10), nullable=False),  # sent | retry | failed
    Column("detail", Text, nullable=False),
    Column("fencing_token", BigInteger, nullable=False),
)


@dataclass(frozen=True, slots=True)
class NewMessage:
    dedupe_key: str
    message_id: str
    condition_key: str | None
    event: str
    recipient: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class OutMessage:
    """A claimed mail, ready to send."""

    id: int
    message_id: str
    condition_key: str | None
    recipient: str
    subject: str
    body: str
    attempts: int
    created_at: datetime
    resumed: bool  # an earlier attempt's claim ran out: that attempt may have been delivered


def queue(conn: Connection, now: datetime, message: NewMessage) -> bool:
    """Add a mail unless one with the same de-duplication key exists."""
    exists = conn.execute(
        select(messages.c.id).where(messages.c.dedupe_key == message.dedupe_key)
    ).first()
    if exists is not None:
        return False
    conn.execute(
        insert(messages).values(
            dedupe_key=message.dedupe_key,
            message_id=message.message_id,
            condition_key=message.condition_key,
            event=message.event,
            recipient=message.recipient,
            subject=message.subject,
            body=message.body,
            state=PENDING,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
    )
    return True


def claim_due(
    conn: Connection, now: datetime, token: int, limit: int, stale_before: datetime
) -> list[OutMessage]:
    """Claim due mails for this leader's term: pending ones whose retry time has come, and
    'sending' ones whose claim is older than `stale_before` (their sender died mid-send)."""
    due = or_(
        and_(messages.c.state == PENDING, messages.c.next_attempt_at <= now),
        and_(messages.c.state == SENDING, messages.c.last_attempt_at < stale_before),
    )
    rows = conn.execute(select(messages).where(due).order_by(messages.c.id).limit(limit)).all()
    if not rows:
        return []
    conn.execute(
        update(messages)
        .where(messages.c.id.in_([r.id for r in rows]))
        .values(
            state=SENDING,
            attempts=messages.c.attempts + 1,
            last_attempt_at=now,
            claim_token=token,
        )
    )
    return [
        OutMessage(
            r.id,
            r.message_id,
            r.condition_key,
            r.recipient,
            r.subject,
            r.body,
            r.attempts + 1,
            r.created_at,
            r.state == SENDING,
        )
        for r in rows
    ]


def mark_sent(conn: Connection, now: datetime, message: OutMessage, token: int, reply: str) -> None:
    conn.execute(
        update(messages)
        .where(messages.c.id == message.id)
        .where(messages.c.claim_token == token)
        .values(state=SENT, sent_at=now, last_error=None)
    )
    _log_attempt(conn, now, message, token, SENT, reply)


def mark_unsent(
    conn: Connection,
    now: datetime,
    message: OutMessage,
    token: int,
    error: str,
    retry_at: datetime | None,
) -> None:
    """Back to pending until `retry_at`, or failed for good (None); the condition shows why."""
    state = PENDING if retry_at is not None else FAILED
    _log_attempt(conn, now, message, token, "retry" if retry_at else FAILED, error)
    values: dict[str, object] = {"state": state, "last_error": error}
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    conn.execute(
        update(messages)
        .where(messages.c.id == message.id)
        .where(messages.c.claim_token == token)
        .values(**values)
    )
    if message.condition_key is not None:
        note = f"mail to {message.recipient} (attempt {message.attempts}): {error}"
        conn.execute(
            update(conditions)
            .where(conditions.c.key == message.condition_key)
            .values(last_error=note)
        )


def _log_attempt(
    conn: Connection, now: datetime, message: OutMessage, token: int, outcome: str, detail: str
) -> None:
    conn.execute(
        insert(attempts).values(
            message=message.id,
            attempt=message.attempts,
            at=now,
            outcome=outcome,
            detail=detail,
            fencing_token=token,
        )
    )
