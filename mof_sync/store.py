"""The tracker's own tables (SQLAlchemy Core, prefix `mof_`), on whatever Engine it is given.

The HQ server passes its engine (SQLite by default, PostgreSQL in cluster mode); the tables live
in their own MetaData, created by the HQ's migrations (hq_server/migrations/versions/0003).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from allocator.identity import Ban, InvoiceType, Track
from allocator.period import Period
from allocator.ranges import NumberRange
from mof_sync.documents import DocumentKey, MigDocument
from mof_sync.mig import MessageType, MigVersion
from mof_sync.tracking import DocState, TrackedDocument

metadata = MetaData()

documents = Table(
    "mof_documents",
    metadata,
    Column("name", String(160), primary_key=True),
    Column("key", String(120), nullable=False),
    Column("message_type", String(5), nullable=False),
    Column("head_ban", String(8), nullable=False),
    Column("branch_ban", String(8), nullable=False),
    Column("invoice_type", String(2), nullable=False),
    Column("year_month", String(5), nullable=False),
    Column("track", String(2), nullable=False),
    Column("main_begin", Integer),
    Column("main_end", Integer),
    Column("revision", Integer, nullable=False),
    Column("part", Integer, nullable=False),
    Column("parts", Integer, nullable=False),
    Column("mig_version", String(3), nullable=False),
    Column("sha256", String(64), nullable=False),
    # The bytes are kept so a retry resends exactly what was validated.
    Column("content", LargeBinary, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("turnkey_id", String(80)),
    Column("error_code", String(32)),
    Column("error_detail", Text, nullable=False, default=""),
    Column("written_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("mof_documents_key", "key", "revision"),
    Index("mof_documents_state", "state"),
    Index("mof_documents_period", "message_type", "year_month"),
)

# Every Turnkey message id seen for a document, with the attempt it belongs to: results about
# an earlier attempt's id must not decide the current one.
message_ids = Table(
    "mof_message_ids",
    metadata,
    Column("correlation", String(80), primary_key=True),
    Column("document", String(160), ForeignKey("mof_documents.name"), nullable=False),
    Column("attempt", Integer, nullable=False),
)

# Result documents are facts recorded once; they are matched to documents by message id.
results = Table(
    "mof_results",
    metadata,
    Column("source", String(1000), primary_key=True),
    Column("correlation", String(80), primary_key=True),
    Column("message_id", String(120), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("codes", String(200), nullable=False),
    Column("detail", Text, nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Index("mof_results_correlation", "correlation"),
)

result_files = Table(
    "mof_result_files",
    metadata,
    Column("path", String(1000), primary_key=True),
    Column("problem", Text, nullable=False, default=""),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)


def utc(instant: datetime) -> datetime:
    """SQLite hands datetimes back naive: they were stored as UTC."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def document_row(document: MigDocument, now: datetime) -> dict[str, Any]:
    key = document.key
    return {
        "name": document.file_name,
        "key": key.label(),
        "message_type": key.message.value,
        "head_ban": str(key.head_ban),
        "branch_ban": str(key.branch_ban),
        "invoice_type": key.invoice_type.value,
        "year_month": key.period.to_year_month(),
        "track": str(key.track),
        "main_begin": key.main.begin if key.main else None,
        "main_end": key.main.end if key.main else None,
        "revision": document.revision,
        "part": document.part,
        "parts": document.parts,
        "mig_version": document.version.value,
        "sha256": document.sha256,
        "content": document.xml,
        "state": DocState.WRITTEN.value,
        "attempts": 1,
        "turnkey_id": None,
        "error_code": None,
        "error_detail": "",
        "written_at": utc(now),
        "updated_at": utc(now),
    }


def tracked(row: Any) -> TrackedDocument:
    """A TrackedDocument from a mof_documents row."""
    main = None
    if row.main_begin is not None:
        main = NumberRange(row.main_begin, row.main_end)
    key = DocumentKey(
        MessageType(row.message_type),
        Ban(row.head_ban),
        Ban(row.branch_ban),
        InvoiceType.parse(row.invoice_type),
        Period.from_year_month(row.year_month),
        Track(row.track),
        main,
    )
    return TrackedDocument(
        row.name,
        key,
        row.revision,
        row.part,
        row.parts,
        MigVersion.parse(row.mig_version),
        DocState(row.state),
        row.attempts,
        row.error_code,
        row.error_detail or "",
        row.turnkey_id,
        utc(row.written_at),
        utc(row.updated_at),
    )
