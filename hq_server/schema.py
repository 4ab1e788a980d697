"""The HQ's tables (SQLAlchemy Core). One schema for SQLite (embedded) and PostgreSQL (cluster).

This is the one description of the tables: the code queries these objects, and the Alembic
migrations (hq_server/migrations) must build exactly these (tests/cluster/test_migrations.py
compares them on both backends).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint

from runtime.sqltypes import UtcDateTime

metadata = MetaData()

# The fencing token of the coordinator that leads now: every allocating transaction checks it.
leadership = Table(
    "leadership",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("fencing_token", BigInteger, nullable=False),
    Column("holder", String(200), nullable=False),
    Column("since", UtcDateTime(), nullable=False),
)

# Ranges the MOF assigned to this HQ (E0501 InvoiceAssignNo or entered by hand).
assignments = Table(
    "assignments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("year_month", String(5), nullable=False),
    Column("invoice_type", String(2), nullable=False),
    Column("track", String(2), nullable=False),
    Column("begin", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("source", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # Kept with every grant, so the free part of a range is known without reading its grants.
    Column("granted_numbers", BigInteger, nullable=False, default=0),
    Column("granted_high", Integer),
    UniqueConstraint("year_month", "invoice_type", "track", "begin", name="uq_assignment"),
)

branches = Table(
    "branches",
    metadata,
    Column("ban", String(8), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("booklets_per_request", Integer, nullable=False),
    Column("booklets_per_period", Integer, nullable=False),
    Column("low_water_count", Integer, nullable=False),
    Column("low_water_minutes", Float, nullable=False),
    Column("min_booklets", Integer, nullable=False),
    Column("max_booklets", Integer, nullable=False),
    Column("emails", Text, nullable=False),
    Column("config_version", BigInteger, nullable=False),
    Column("last_report_at", UtcDateTime()),
    Column("last_agent_time", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    # Numbers issued in all periods (below each cursor, less what was skipped), kept by every
    # usage report so that its burn-rate sample reads no grant.
    Column("issued_total", BigInteger, nullable=False, default=0, server_default="0"),
)

# Quotas that take effect later; applied to `branches` when their time comes.
quota_schedule = Table(
    "quota_schedule",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ban", String(8), ForeignKey("branches.ban"), nullable=False),
    Column("effective_from", UtcDateTime(), nullable=False),
    Column("booklets_per_request", Integer, nullable=False),
    Column("booklets_per_period", Integer, nullable=False),
    Column("applied", Boolean, nullable=False),
)

grants = Table(
    "grants",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("request_id", String(100), nullable=False, unique=True),
    Column("branch_ban", String(8), ForeignKey("branches.ban"), nullable=False),
    Column("assignment_id", Integer, ForeignKey("assignments.id"), nullable=False),
    Column("year_month", String(5), nullable=False),
    Column("invoice_type", String(2), nullable=False),
    Column("track", String(2), nullable=False),
    Column("begin", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("booklets", Integer, nullable=False),
    Column("granted_at", UtcDateTime(), nullable=False),
    Column("fencing_token", BigInteger, nullable=False),
    # The furthest usage the agent reported: numbers below next_number were issued or skipped.
    Column("next_number", Integer, nullable=False),
    Column("final", Boolean, nullable=False),
    Index("ix_grants_pool", "year_month", "invoice_type", "track", "begin"),
    Index("ix_grants_branch", "branch_ban", "year_month"),
    Index("ix_grants_track_end", "year_month", "track", "end"),  # the overlap check's
)
# The database's own guarantee that no two grants of a pool share a number, whatever the code
# does: on PostgreSQL an exclusion constraint (needs btree_gist for the `=` parts). SQLite has
# none; there the check inside the serialized write transaction (check_no_overlap) is the guard.
GRANTS_NO_OVERLAP = "ex_grants_no_overlap"
grants.append_constraint(
    ExcludeConstraint(
        (grants.c.year_month, "="),
        (grants.c.track, "="),
        (func.int4range(grants.c.begin, grants.c.end, "[]"), "&&"),
        name=GRANTS_NO_OVERLAP,
        using="gist",
    ).ddl_if(dialect="postgresql")
)

# Numbers a branch skipped (given back after a later one was issued): blank, never issued.
# One row per range of a grant's skip set: disjoint and not adjacent (a range that grows or
# joins another replaces its rows).
skipped = Table(
    "skipped",
    metadata,
    Column("grant_id", String(36), ForeignKey("grants.id"), primary_key=True),
    Column("begin", Integer, primary_key=True),
    Column("end", Integer, nullable=False),
)

# Issued totals over time per branch, for burn rates (pruned to a recent window).
usage_samples = Table(
    "usage_samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ban", String(8), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("issued_total", BigInteger, nullable=False),
    Index("ix_usage_samples_ban_at", "ban", "at"),
    Index("ix_usage_samples_at", "at"),  # the scheduler drops the old ones of every branch
)

closed_periods = Table(
    "closed_periods",
    metadata,
    Column("year_month", String(5), primary_key=True),
    Column("invoice_type", String(2), primary_key=True),
    Column("closed_at", UtcDateTime(), nullable=False),
    Column("closed_by", String(200), nullable=False),
)

# Append-only, hash-chained: each row's hash covers the previous hash and its own content.
audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(50), nullable=False),
    Column("details_json", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# Facts about this HQ fixed at its first start (its HeadBan): a server started later with
# another --head-ban on the same database is refused instead of serving another HQ's pools.
hq_settings = Table(
    "hq_settings",
    metadata,
    Column("key", String(50), primary_key=True),
    Column("value", Text, nullable=False),
)

# One-time enrolment tokens (the secret itself is never stored: it is a key only the token holds).
enroll_tokens = Table(
    "enroll_tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("branch_ban", String(8), ForeignKey("branches.ban"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("used_at", UtcDateTime()),
)

# Branch certificates the HQ's CA signed (enrolment and renewals), for the admins' record.
certificates = Table(
    "certificates",
    metadata,
    Column("serial", String(40), primary_key=True),
    Column("branch_ban", String(8), ForeignKey("branches.ban"), nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("not_after", UtcDateTime(), nullable=False),
    Column("how", String(10), nullable=False),
    Column("token_id", String(16)),
    Index("ix_certificates_branch", "branch_ban", "issued_at"),
)

# Back-office users (hq_server/web): a password (scrypt, salt and parameters in the hash) and
# the failed attempts since the last success; the fifth locks the account until locked_until.
web_users = Table(
    "web_users",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("role", String(10), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("failed_attempts", Integer, nullable=False),
    Column("locked_until", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("password_changed_at", UtcDateTime(), nullable=False),
)

# Numbers over time for the back office's charts and the seasonal forecast (hq_server/history):
# a sample of every pool and every branch's part of it, taken together every interval.
pool_history = Table(
    "pool_history",
    metadata,
    Column("year_month", String(5), primary_key=True),
    Column("invoice_type", String(2), primary_key=True),
    Column("at", UtcDateTime(), primary_key=True),
    Column("issued", BigInteger, nullable=False),
    Column("granted", BigInteger, nullable=False),
    Column("free", BigInteger, nullable=False),
)

branch_history = Table(
    "branch_history",
    metadata,
    Column("ban", String(8), primary_key=True),
    Column("year_month", String(5), primary_key=True),
    Column("invoice_type", String(2), primary_key=True),
    Column("at", UtcDateTime(), primary_key=True),
    Column("issued", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Index("ix_branch_history_at", "at"),
)
