"""Sending the outbox: claim due mails in a fenced transaction, send, record each attempt.

Only the leader can claim (the claim is a fenced write), so in a cluster exactly one replica
sends. Delivery is exactly-once except in one window: if the process dies (or is fenced) after
the SMTP server accepted a mail and before the 'sent' mark commits, the row stays 'sending';
once its claim is older than schedule.claim_timeout_seconds the leader sends it again, with
the same Message-ID, so the recipient may see it twice (mail clients that thread or de-duplicate
by Message-ID show one). Everywhere else a mail is sent once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from notifier.config import NotifierConfig, Schedule
from notifier.outbox import OutMessage, claim_due, mark_sent, mark_unsent
from notifier.smtp import Outcome
from runtime.backoff import Backoff

log = logging.getLogger("einv.notifier")


@dataclass(frozen=True, slots=True)
class Delivery:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed


def claim(conn: Connection, now: datetime, token: int, config: NotifierConfig) -> list[OutMessage]:
    schedule = config.schedule
    stale_before = now - timedelta(seconds=schedule.claim_timeout_seconds)
    batch = claim_due(conn, now, token, schedule.batch_size, stale_before)
    for message in batch:
        if message.resumed:
            log.warning(
                "re-sending mail %s to %s: its previous attempt did not finish, so the "
                "recipient may get it twice (same Message-ID)",
                message.message_id,
                message.recipient,
            )
    return batch


def record(
    conn: Connection,
    now: datetime,
    token: int,
    schedule: Schedule,
    batch: Sequence[OutMessage],
    outcomes: Sequence[Outcome],
) -> Delivery:
    sent = retrying = failed = 0
    for message, outcome in zip(batch, outcomes, strict=True):
        if outcome.accepted:
            mark_sent(conn, now, message, token, outcome.detail)
            sent += 1
        elif outcome.permanent:
            mark_unsent(conn, now, message, token, outcome.detail, None)
            failed += 1
            log.error(
                "mail %s to %s refused for good: %s",
                message.message_id,
                message.recipient,
                outcome.detail,
            )
        else:
            retry_at = now + backoff(schedule, message.attempts)
            mark_unsent(conn, now, message, token, outcome.detail, retry_at)
            retrying += 1
    return Delivery(sent, retrying, failed)


def backoff(schedule: Schedule, attempts: int) -> timedelta:
    """Exponential: base, 2 base, 4 base, ... up to the maximum; retried for as long as it
    takes (a mail is never given up because the server was down)."""
    exact = Backoff(schedule.retry_base_seconds, schedule.retry_max_seconds, jitter=False)
    return timedelta(seconds=exact.delay(attempts))
