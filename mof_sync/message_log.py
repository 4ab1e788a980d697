"""Turnkey's own message log, read (never written) through a SQLAlchemy URL when configured.

TURNKEY_MESSAGE_LOG has one row per message with its STATUS (P prepared, G sent, C confirmed
by the platform, E... or I an error); TURNKEY_MESSAGE_LOG_DETAIL ties it to the FILENAME each
Turnkey task handled; TURNKEY_SYSEVENT_LOG holds error codes (E0201 ...) by UUID (DOMAIN-NOTES
3.3). Column names as in Turnkey's schema.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, column, create_engine, func, select, table
from sqlalchemy.exc import DBAPIError

from allocator.period import TAIPEI
from mof_sync.turnkey import correlation_id, pack_source
from runtime.in_lists import in_batches

_messages = table(
    "TURNKEY_MESSAGE_LOG",
    column("SEQNO"),
    column("SUBSEQNO"),
    column("UUID"),
    column("MESSAGE_TYPE"),
    column("MESSAGE_DTS"),
    column("STATUS"),
)
_details = table(
    "TURNKEY_MESSAGE_LOG_DETAIL",
    column("SEQNO"),
    column("SUBSEQNO"),
    column("FILENAME"),
    column("UUID"),
)
_MESSAGES = tuple(f"MESSAGE{index}" for index in range(1, 7))
_events = table(
    "TURNKEY_SYSEVENT_LOG", column("UUID"), column("ERRORCODE"), *(column(m) for m in _MESSAGES)
)
_ERROR_CODE = re.compile(r"E\d{4}")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """Turnkey's word on one of our files: its message id and status."""

    file_name: str
    message_id: str
    correlation: str
    status: str
    error_code: str | None = None


class MessageLog:
    """Reads Turnkey's message log tables from its database."""

    def __init__(self, database: str | Engine) -> None:
        self.engine = create_engine(database) if isinstance(database, str) else database

    def entries(
        self, message_types: Sequence[str] = ("E0401", "E0402"), since: datetime | None = None
    ) -> list[LogEntry]:
        """Rows of our message types (since an instant), newest statuses as Turnkey has them."""
        query = (
            select(
                _details.c.FILENAME,
                func.coalesce(_messages.c.UUID, _details.c.UUID),
                _messages.c.STATUS,
            )
            .select_from(
                _messages.join(
                    _details,
                    and_(
                        _messages.c.SEQNO == _details.c.SEQNO,
                        _messages.c.SUBSEQNO == _details.c.SUBSEQNO,
                    ),
                )
            )
            .where(_messages.c.MESSAGE_TYPE.in_(list(message_types)))
        )
        if since is not None:
            # MESSAGE_DTS is yyyyMMddHHmmssSSS, local (Taipei) time: compares as text.
            query = query.where(_messages.c["MESSAGE_DTS"] >= _dts(since))
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        entries = [_entry(name, uuid, status) for name, uuid, status in rows if name and uuid]
        return _with_error_codes(self.engine, entries)


def _dts(instant: datetime) -> str:
    return instant.astimezone(TAIPEI).strftime("%Y%m%d%H%M%S") + "000"


def _entry(file_name: str, uuid: str, status: str | None) -> LogEntry:
    # FILENAME may be a full (Windows) path, and later tasks log the packed name.
    base = re.split(r"[\\/]", file_name.strip())[-1]
    packed = pack_source(base)
    name = packed[0] if packed else base
    return LogEntry(name, uuid.strip(), correlation_id(uuid), (status or "").strip())


def _with_error_codes(engine: Engine, entries: list[LogEntry]) -> list[LogEntry]:
    """Add the E-code of failed messages from TURNKEY_SYSEVENT_LOG, if that table is there."""
    failed = sorted({entry.message_id for entry in entries if is_error_status(entry.status)})
    if not failed:
        return entries
    codes = _error_codes(engine, failed)
    return [replace(entry, error_code=codes.get(entry.correlation)) for entry in entries]


def _error_codes(engine: Engine, message_ids: Sequence[str]) -> dict[str, str]:
    codes: dict[str, str] = {}
    try:
        with engine.connect() as connection:
            for batch in in_batches(message_ids):
                query = select(_events).where(_events.c.UUID.in_(batch))
                for row in connection.execute(query):
                    code = _event_code(row)
                    if code is not None:
                        codes[correlation_id(row.UUID)] = code
    except DBAPIError:
        return {}  # an older Turnkey without the table: the STATUS letter has to do
    return codes


def _event_code(row: Any) -> str | None:
    """ERRORCODE holds 4 characters; the E-code (E0201 ...) is in the message texts."""
    texts = [getattr(row, name) or "" for name in _MESSAGES]
    for text in texts:
        match = _ERROR_CODE.search(text)
        if match is not None:
            return match.group(0)
    code = (row.ERRORCODE or "").strip()
    return code or None


def is_error_status(status: str) -> bool:
    return status.startswith("E") or status == "I"
