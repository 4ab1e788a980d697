"""The statements of one ledger transaction, as the writer's commands use them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime

from allocator import (
    InvoiceNumber,
    InvoiceType,
    Issued,
    NumberRange,
    Period,
    RefillPolicy,
    Track,
    TrackRange,
)
from branch_agent.ledger.schema import iso
from branch_agent.model import AgentConfig, GrantRecord, HeldGrant
from runtime.in_lists import in_batches


@dataclass(frozen=True, slots=True)
class IssuedRow:
    row_id: int
    period: Period
    invoice_type: InvoiceType
    number: InvoiceNumber
    grant_id: str
    terminal_id: str


@dataclass(frozen=True, slots=True)
class PosRequestRow:
    terminal_id: str
    invoice_type: InvoiceType
    count: int
    period: Period
    numbers: tuple[InvoiceNumber, ...]


@dataclass(frozen=True, slots=True)
class HandedRows:
    """The numbers one POS call got, as the ledger records them."""

    issued: Sequence[Issued]
    terminal_id: str
    request_id: str


class Tx:
    """The statements of one transaction, used by the writer's commands."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A command that fails leaves no row behind, while the batch around it commits."""
        self.conn.execute("SAVEPOINT command")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO command")
            self.conn.execute("RELEASE command")
            raise
        self.conn.execute("RELEASE command")

    def insert_issued(self, handed: Sequence[HandedRows], now: datetime) -> None:
        """The numbers of several POS calls, in one statement."""
        at = iso(now)
        self.conn.executemany(
            "INSERT INTO issued (year_month, invoice_type, track, number, grant_id, terminal_id, "
            "request_id, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    item.period.to_year_month(),
                    item.invoice_type.value,
                    item.number.track.code,
                    item.number.number,
                    item.grant_id,
                    call.terminal_id,
                    call.request_id or None,
                    at,
                )
                for call in handed
                for item in call.issued
            ],
        )

    def set_cursor(self, grant_id: str, next_number: int, high_water: int) -> None:
        self.conn.execute(
            "UPDATE grants SET next_number=?, high_water=?, version=version+1 WHERE grant_id=?",
            (next_number, high_water, grant_id),
        )

    def find_issued(self, number: InvoiceNumber) -> IssuedRow | None:
        """The latest outstanding issue of this number (a track may recur in a later year)."""
        row = self.conn.execute(
            "SELECT id, year_month, invoice_type, grant_id, terminal_id FROM issued "
            "WHERE track=? AND number=? ORDER BY id DESC LIMIT 1",
            (number.track.code, number.number),
        ).fetchone()
        if row is None:
            return None
        period, itype = Period.from_year_month(row[1]), InvoiceType.parse(row[2])
        return IssuedRow(row[0], period, itype, number, row[3], row[4])

    def last_issued(self, invoice_type: InvoiceType) -> InvoiceNumber | None:
        """The most recent number of this type still out with a POS."""
        row = self.conn.execute(
            "SELECT track, number FROM issued WHERE invoice_type=? ORDER BY id DESC LIMIT 1",
            (invoice_type.value,),
        ).fetchone()
        return None if row is None else InvoiceNumber(Track(row[0]), row[1])

    def remove_issued(self, row: IssuedRow) -> None:
        self.conn.execute("DELETE FROM issued WHERE id=?", (row.row_id,))

    def add_skipped(
        self, grant: HeldGrant, numbers: NumberRange, terminal_id: str, now: datetime
    ) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO skipped VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    grant.period.to_year_month(),
                    grant.track_range.track.code,
                    number,
                    grant.grant_id,
                    terminal_id,
                    iso(now),
                )
                for number in range(numbers.begin, numbers.end + 1)
            ],
        )
        self.conn.execute("UPDATE grants SET version=version+1 WHERE grant_id=?", (grant.grant_id,))

    def log_give_back(self, row: IssuedRow, terminal_id: str, outcome: str, now: datetime) -> None:
        self.conn.execute(
            "INSERT INTO give_backs (invoice_number, year_month, terminal_id, outcome, at) "
            "VALUES (?, ?, ?, ?, ?)",
            (str(row.number), row.period.to_year_month(), terminal_id, outcome, iso(now)),
        )

    def has_grant(self, grant_id: str) -> bool:
        found = self.conn.execute("SELECT 1 FROM grants WHERE grant_id=?", (grant_id,)).fetchone()
        return found is not None

    def insert_grant(self, grant: GrantRecord, seq: int) -> None:
        tr = grant.track_range
        self.conn.execute(
            "INSERT INTO grants (grant_id, seq, year_month, invoice_type, track, begin_no, end_no, "
            "next_number, high_water, request_id, granted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                grant.grant_id,
                seq,
                grant.period.to_year_month(),
                grant.invoice_type.value,
                tr.track.code,
                tr.range.begin,
                tr.range.end,
                tr.range.begin,
                tr.range.begin,
                grant.request_id,
                iso(grant.granted_at),
            ),
        )

    def drop_pending_request(self, request_id: str) -> None:
        self.conn.execute("DELETE FROM pending_requests WHERE request_id=?", (request_id,))

    def set_final(self, grant_id: str) -> None:
        self.conn.execute(
            "UPDATE grants SET final=1, version=version+1 WHERE grant_id=?", (grant_id,)
        )

    def find_pos_requests(self, request_ids: Sequence[str]) -> dict[str, PosRequestRow]:
        """The calls already answered under these request ids (a POS retrying)."""
        found: dict[str, PosRequestRow] = {}
        unique = sorted(set(request_ids))
        for chunk in in_batches(unique):
            rows = self.conn.execute(
                "SELECT request_id, terminal_id, invoice_type, count, year_month, numbers "
                f"FROM pos_requests WHERE request_id IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            for row in rows:
                numbers = tuple(InvoiceNumber.parse(text) for text in row[5].split(","))
                period = Period.from_year_month(row[4])
                found[row[0]] = PosRequestRow(
                    row[1], InvoiceType.parse(row[2]), row[3], period, numbers
                )
        return found

    def insert_pos_requests(self, handed: Sequence[HandedRows], now: datetime) -> None:
        """What each call with a request id got, so a retry gets the same numbers back."""
        at = iso(now)
        self.conn.executemany(
            "INSERT INTO pos_requests VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    call.request_id,
                    call.terminal_id,
                    call.issued[0].invoice_type.value,
                    len(call.issued),
                    call.issued[0].period.to_year_month(),
                    ",".join(str(item.number) for item in call.issued),
                    at,
                )
                for call in handed
                if call.request_id
            ],
        )

    def save_config(self, config: AgentConfig, now: datetime) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO config VALUES ('branch', ?, ?, ?)",
            (config.version, json.dumps(config_json(config)), iso(now)),
        )


def config_json(config: AgentConfig) -> dict:
    return {
        "version": config.version,
        "enabled": config.enabled,
        "policy": asdict(config.policy),
        "booklets_per_request": config.booklets_per_request,
        "booklets_per_period": config.booklets_per_period,
        "disabled": [[d.track.code, d.range.begin, d.range.end] for d in config.disabled],
    }


def load_config(conn: sqlite3.Connection) -> AgentConfig:
    row = conn.execute("SELECT body FROM config WHERE key='branch'").fetchone()
    if row is None:
        return AgentConfig()
    body = json.loads(row[0])
    disabled = tuple(TrackRange(Track(t), NumberRange(b, e)) for t, b, e in body["disabled"])
    return AgentConfig(
        version=body["version"],
        enabled=body["enabled"],
        policy=RefillPolicy(**body["policy"]),
        booklets_per_request=body["booklets_per_request"],
        booklets_per_period=body["booklets_per_period"],
        disabled=disabled,
    )
