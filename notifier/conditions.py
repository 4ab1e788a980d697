"""Alert conditions: opened by the rules (or by MOF sync through `raise_alert`), refreshed while
they hold, resolved when they stop; acknowledged by a person.

Every function runs inside the caller's transaction, so a condition commits together with the
state that raised it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, Row, insert, select, update

from allocator import NotFound, PoolKey
from notifier.model import Alert, Fact, Kind
from notifier.outbox import EXTERNAL, OPEN, RESOLVED, RULE, conditions
from runtime.in_lists import in_batches


def sync_conditions(conn: Connection, now: datetime, alerts: Sequence[Alert]) -> tuple[int, int]:
    """Open or refresh a condition per alert; resolve the rules' conditions that no longer hold.

    Returns (opened, resolved).
    """
    keys = [a.key for a in alerts]
    known = rows_by_key(conn, keys)
    # Most conditions hold unchanged from one evaluation to the next: one bulk touch for them
    # keeps the HQ's write lock short at thousands of branches.
    same = {a.key for a in alerts if _unchanged(known.get(a.key), a)}
    _touch(conn, now, sorted(same))
    changed = [a for a in alerts if a.key not in same]
    opened = sum(_upsert(conn, now, alert, RULE, known.get(alert.key)) for alert in changed)
    stale = conn.execute(
        select(conditions.c.key)
        .where(conditions.c.state == OPEN)
        .where(conditions.c.source == RULE)
    ).scalars()
    gone = sorted(set(stale) - set(keys))
    for key in gone:
        _resolve(conn, now, key)
    return opened, len(gone)


def raise_alert(
    conn: Connection,
    now: datetime,
    kind: Kind,
    key: str,
    facts: Mapping[str, Fact],
    ban: str | None = None,
) -> bool:
    """Open a condition from outside the rules (MOF sync), inside the caller's transaction.

    It stays open until `resolve_alert`; the evaluator mails it on its next run. Returns True
    when the condition was not open before.
    """
    row = rows_by_key(conn, [key]).get(key)
    return _upsert(conn, now, Alert(key, kind, dict(facts), ban), EXTERNAL, row)


def resolve_alert(conn: Connection, now: datetime, key: str) -> bool:
    """Resolve an open condition (MOF sync's, or any); False when it was not open."""
    row = rows_by_key(conn, [key]).get(key)
    if row is None or row.state != OPEN:
        return False
    _resolve(conn, now, key)
    return True


def raise_held_back(
    conn: Connection,
    now: datetime,
    ban: str,
    name: str,
    pool: PoolKey,
    reason: str,
) -> bool:
    """MOF sync left a branch out of a pool's E0402 set (its usage is not final, say)."""
    facts = {
        "ban": ban,
        "name": name,
        "year_month": pool.year_month,
        "invoice_type": pool.type_code,
        "reason": reason,
    }
    return raise_alert(conn, now, Kind.E0402_HELD_BACK, held_back_key(ban, pool), facts, ban)


def resolve_held_back(conn: Connection, now: datetime, ban: str, pool: PoolKey) -> bool:
    return resolve_alert(conn, now, held_back_key(ban, pool))


def held_back_key(ban: str, pool: PoolKey) -> str:
    return f"{Kind.E0402_HELD_BACK}:{pool.year_month}:{pool.type_code}:{ban}"


def acknowledge(conn: Connection, now: datetime, key: str, by: str) -> Row:
    """A person has seen it: no more reminders for this episode (the resolution still comes)."""
    row = rows_by_key(conn, [key]).get(key)
    if row is None:
        raise NotFound(f"no alert with key {key!r} (einv-admin alerts list shows the keys)")
    conn.execute(
        update(conditions)
        .where(conditions.c.key == key)
        .values(acknowledged_by=by, acknowledged_at=now, next_reminder_at=None)
    )
    return rows_by_key(conn, [key])[key]


def rows_by_key(conn: Connection, keys: Iterable[str]) -> dict[str, Row]:
    found: dict[str, Row] = {}
    ordered = sorted(set(keys))
    for chunk in in_batches(ordered):
        for row in conn.execute(select(conditions).where(conditions.c.key.in_(chunk))):
            found[row.key] = row
    return found


def _facts_json(alert: Alert) -> str:
    return json.dumps(dict(alert.facts), ensure_ascii=False, sort_keys=True)


def _unchanged(row: Row | None, alert: Alert) -> bool:
    return row is not None and row.state == OPEN and row.facts_json == _facts_json(alert)


def _touch(conn: Connection, now: datetime, keys: list[str]) -> None:
    for chunk in in_batches(keys):
        conn.execute(update(conditions).where(conditions.c.key.in_(chunk)).values(last_seen=now))


def _upsert(conn: Connection, now: datetime, alert: Alert, source: str, row: Row | None) -> bool:
    facts = _facts_json(alert)
    if row is not None and row.state == OPEN:
        conn.execute(
            update(conditions)
            .where(conditions.c.key == alert.key)
            .values(last_seen=now, facts_json=facts)
        )
        return False
    values = {
        "kind": alert.kind.value,
        "source": source,
        "ban": alert.ban,
        "state": OPEN,
        "facts_json": facts,
        "first_seen": now,
        "last_seen": now,
        "resolved_at": None,
        "open_mail_at": None,
        "resolved_mail_at": None,
        "next_reminder_at": None,
        "reminders_sent": 0,
        "acknowledged_by": None,
        "acknowledged_at": None,
        "last_error": None,
    }
    if row is None:
        conn.execute(insert(conditions).values(key=alert.key, episode=1, **values))
    else:  # it held before, cleared, and holds again: a new episode with its own mails
        conn.execute(
            update(conditions)
            .where(conditions.c.key == alert.key)
            .values(episode=row.episode + 1, **values)
        )
    return True


def _resolve(conn: Connection, now: datetime, key: str) -> None:
    conn.execute(
        update(conditions)
        .where(conditions.c.key == key)
        .values(state=RESOLVED, resolved_at=now, next_reminder_at=None)
    )
