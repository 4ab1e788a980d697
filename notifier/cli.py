"""`einv-admin alerts list | ack KEY | test-mail ADDRESS`: functions over a Store and a config,
plus the argparse glue einv-admin mounts (`add_alerts_commands`).

These read and write the HQ database directly (not over gRPC): an acknowledgement is not an
allocation, so it runs under whichever fencing token is stored now, which still serialises it
with the leader's own writes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, select

from allocator import InvalidInput, Refused
from hq_server.schema import leadership
from hq_server.store import LEADERSHIP_ROW, Store
from notifier import smtp
from notifier.conditions import acknowledge
from notifier.config import ConfigError, NotifierConfig, load_config, valid_address
from notifier.mailtext import TEXTS, display, when
from notifier.model import Kind
from notifier.outbox import (
    FAILED,
    OPEN,
    PENDING,
    SENDING,
    SENT,
    conditions,
    messages,
)
from runtime.clock import Clock, SystemClock


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


def list_alerts(store: Store, include_resolved: bool = False) -> list[AlertView]:
    return store.read_sync(lambda conn: _views(conn, None if include_resolved else OPEN))


def ack_alert(
    store: Store, key: str, actor: str, now: datetime, token: int | None = None
) -> AlertView:
    """Stop the reminders of an alert; `token` defaults to the one stored now (see module)."""
    fence = token if token is not None else store.read_sync(stored_token)

    def work(conn: Connection) -> AlertView:
        acknowledge(conn, now, key, actor)
        return next(v for v in _views(conn, None) if v.key == key)

    return store.write_sync(fence, work)


async def send_test_mail(config: NotifierConfig, address: str, now: datetime) -> str:
    """Send a test mail now (outside the outbox); the server's reply, or SmtpUnavailable."""
    if not valid_address(address):
        raise ConfigError(f"{address!r} is not a valid e-mail address")
    return await smtp.send_test(config.smtp, address, now)


def stored_token(conn: Connection) -> int:
    row = conn.execute(
        select(leadership.c.fencing_token).where(leadership.c.id == LEADERSHIP_ROW)
    ).first()
    if row is None:
        raise Refused(
            "no HQ has taken office on this database yet: start the HQ (einv-hq serve) first"
        )
    return int(row.fencing_token)


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


# --- einv-admin glue ------------------------------------------------------------------------


def add_alerts_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Mount `alerts list|ack|test-mail` on einv-admin's subparsers; each sets `func(admin,
    args)` like the other commands (the gRPC `admin` is not used: alerts live in the db)."""
    alerts = sub.add_parser("alerts", help="notifier alerts: list, acknowledge, test mail")
    inner = alerts.add_subparsers(dest="alerts_command", required=True)
    for name, command, text in (
        ("list", cmd_alerts_list, "list open alerts (--all: resolved too)"),
        ("ack", cmd_alerts_ack, "acknowledge an alert: no more reminders"),
        ("test-mail", cmd_alerts_test_mail, "send a test mail with the notifier's settings"),
    ):
        p = inner.add_parser(name, parents=[common], help=text)
        p.add_argument("--db", default="sqlite:///hq.db", help="HQ database URL")
        p.add_argument(
            "--notifier-config",
            default=os.environ.get("EINV_NOTIFIER_CONFIG", "notifier.toml"),
            help="notifier TOML (default: $EINV_NOTIFIER_CONFIG or %(default)s)",
        )
        p.set_defaults(func=command)
        if name == "list":
            p.add_argument("--all", action="store_true", help="include resolved alerts")
        elif name == "ack":
            p.add_argument("key")
        else:
            p.add_argument("address")


def cmd_alerts_list(_admin: Any, args: argparse.Namespace, clock: Clock | None = None) -> None:
    views = _with_store(args, lambda store: list_alerts(store, args.all))
    if args.json:
        print(json.dumps([asdict(v) for v in views], default=str, ensure_ascii=False, indent=2))
    else:
        print(format_alerts(views))


def cmd_alerts_ack(_admin: Any, args: argparse.Namespace, clock: Clock | None = None) -> None:
    now = (clock or SystemClock()).now()
    actor = getattr(args, "actor", None) or os.environ.get("USER", "admin")
    view = _with_store(args, lambda store: ack_alert(store, args.key, actor, now))
    print(format_alerts([view]))


def cmd_alerts_test_mail(_admin: Any, args: argparse.Namespace, clock: Clock | None = None) -> None:
    now = (clock or SystemClock()).now()
    try:
        config = load_config(args.notifier_config, os.environ)
        reply = asyncio.run(send_test_mail(config, args.address, now))
    except (ConfigError, smtp.SmtpUnavailable) as error:
        raise InvalidInput(str(error)) from error  # einv-admin prints domain errors, exit 2
    print(f"sent to {args.address}: {reply}")


def _with_store(args: argparse.Namespace, work: Any) -> Any:
    store = Store(args.db)
    try:
        return work(store)
    finally:
        store.close()
