"""The ledger's tables. One row per number handed out; grants carry their report versions."""

from __future__ import annotations

from datetime import UTC, datetime

LEDGER_FILE = "ledger.sqlite3"
LOCK_FILE = "agent.lock"
SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS grants (
    grant_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    year_month TEXT NOT NULL,
    invoice_type TEXT NOT NULL,
    track TEXT NOT NULL,
    begin_no INTEGER NOT NULL,
    end_no INTEGER NOT NULL,
    next_number INTEGER NOT NULL,
    high_water INTEGER NOT NULL,
    final INTEGER NOT NULL DEFAULT 0,
    request_id TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    reported_version INTEGER NOT NULL DEFAULT 0,
    CHECK (begin_no <= next_number AND next_number <= high_water AND high_water <= end_no + 1)
);
CREATE TABLE IF NOT EXISTS issued (
    id INTEGER PRIMARY KEY,
    year_month TEXT NOT NULL,
    invoice_type TEXT NOT NULL,
    track TEXT NOT NULL,
    number INTEGER NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (grant_id),
    terminal_id TEXT NOT NULL,
    request_id TEXT,
    issued_at TEXT NOT NULL,
    UNIQUE (year_month, track, number)
);
CREATE INDEX IF NOT EXISTS issued_by_type ON issued (invoice_type, id);
CREATE INDEX IF NOT EXISTS issued_by_number ON issued (track, number);
CREATE TABLE IF NOT EXISTS skipped (
    year_month TEXT NOT NULL,
    track TEXT NOT NULL,
    number INTEGER NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (grant_id),
    terminal_id TEXT NOT NULL,
    skipped_at TEXT NOT NULL,
    PRIMARY KEY (year_month, track, number)
);
CREATE INDEX IF NOT EXISTS skipped_by_grant ON skipped (grant_id, number);
CREATE TABLE IF NOT EXISTS give_backs (
    id INTEGER PRIMARY KEY,
    invoice_number TEXT NOT NULL,
    year_month TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pending_requests (
    request_id TEXT PRIMARY KEY,
    year_month TEXT NOT NULL,
    invoice_type TEXT NOT NULL,
    booklets INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (year_month, invoice_type)
);
CREATE TABLE IF NOT EXISTS pos_requests (
    request_id TEXT PRIMARY KEY,
    terminal_id TEXT NOT NULL,
    invoice_type TEXT NOT NULL,
    count INTEGER NOT NULL,
    year_month TEXT NOT NULL,
    numbers TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS config (
    key TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL
);
"""

# The query the end-to-end duplicate check needs: every number this branch handed out.
ISSUED_NUMBERS_SQL = (
    "SELECT year_month, invoice_type, track || printf('%08d', number) AS invoice_number "
    "FROM issued ORDER BY id"
)


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()
