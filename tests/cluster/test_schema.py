"""Migrations build the same tables on SQLite and PostgreSQL; PostgreSQL refuses overlaps itself."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, insert, inspect, text
from sqlalchemy.exc import IntegrityError

from allocator import OverlappingRange
from hq_server.grant_batch import HELD_IN_POOL
from hq_server.migrate import MIGRATIONS, alembic_config
from hq_server.schema import GRANTS_NO_OVERLAP, assignments, branches, grants, metadata
from hq_server.store import Store
from mof_sync.store import metadata as mof_metadata
from notifier.outbox import metadata as notifier_metadata

pytestmark = pytest.mark.cluster
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def shape(engine: Engine) -> dict[str, Any]:
    """Tables, columns (generic type, nullability), keys and indexes, as comparable values."""
    found: dict[str, Any] = {}
    inspector = inspect(engine)
    for table in sorted(inspector.get_table_names()):
        columns = [
            (c["name"], generic(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
        ]
        found[table] = {
            "columns": columns,
            "pk": inspector.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"])
                for f in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
                # PostgreSQL also lists the indexes behind constraints; the exclusion
                # constraint is PostgreSQL's alone and checked on its own below.
                if not i.get("duplicates_constraint") and i["name"] != GRANTS_NO_OVERLAP
            ),
            "uniques": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
        }
    return found


def generic(column_type: Any) -> str:
    name = column_type.as_generic().__class__.__name__
    return "Float" if name == "Double" else name  # PostgreSQL reflects FLOAT as DOUBLE


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None and MIGRATIONS.is_dir()
    return head


def test_migrations_build_the_same_tables_on_sqlite_and_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    engines = {}
    for name, url in (("sqlite", f"sqlite:///{tmp_path / 'hq.db'}"), ("postgresql", pg_url)):
        Store(url).close()
        Store(url).close()  # a second start finds the schema current
        engines[name] = create_engine(url)
    try:
        shapes = {name: shape(engine) for name, engine in engines.items()}
        assert shapes["sqlite"] == shapes["postgresql"]
        every = [metadata, mof_metadata, notifier_metadata]  # Alembic owns them all
        tables = {name for m in every for name in m.tables}
        assert set(shapes["sqlite"]) == {*tables, "alembic_version"}
        for engine in engines.values():
            with engine.connect() as conn:
                assert compare_metadata(MigrationContext.configure(conn), every) == []
                version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                assert version == head_revision()
        with engines["postgresql"].connect() as conn:
            definition = conn.execute(
                text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'x'")
            ).scalar_one()
        assert definition.startswith("EXCLUDE USING gist (year_month WITH =, track WITH =")
        assert "int4range(begin, \"end\", '[]'::text) WITH &&" in definition
    finally:
        for engine in engines.values():
            engine.dispose()


def test_a_database_made_before_migrations_is_adopted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    later = {"hq_settings", "enroll_tokens", "certificates"}  # added by revisions after 0001
    later |= {"web_users", "pool_history", "branch_history"}
    metadata.create_all(engine, tables=[t for t in metadata.sorted_tables if t.name not in later])
    with engine.begin() as conn:  # and a column and the indexes added later (0005, 0006)
        conn.execute(text("ALTER TABLE branches DROP COLUMN issued_total"))
        conn.execute(text("DROP INDEX ix_usage_samples_at"))
        conn.execute(text("DROP INDEX ix_grants_track_end"))
    Store(url).close()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            head_revision()
        )
    engine.dispose()


def add_grant(conn: Connection, rid: str, begin: int, end: int, track: str = "AB") -> None:
    conn.execute(
        insert(grants).values(
            id=rid,
            request_id=rid,
            branch_ban="04595257",
            assignment_id=1,
            year_month="11512",
            invoice_type="07",
            track=track,
            begin=begin,
            end=end,
            booklets=(end - begin + 1) // 50,
            granted_at=NOW,
            fencing_token=1,
            next_number=begin,
            final=False,
        )
    )


def test_the_exclusion_constraint_rejects_an_overlapping_grant(pg_url: str) -> None:
    store = Store(pg_url)
    token = store.take_office("test", NOW)
    try:

        def setup(conn: Connection) -> None:
            conn.execute(
                insert(assignments).values(
                    id=1,
                    year_month="11512",
                    invoice_type="07",
                    track="AB",
                    begin=0,
                    end=9999,
                    status="enabled",
                    source="manual",
                    created_at=NOW,
                    granted_numbers=0,
                )
            )
            conn.execute(
                insert(branches).values(
                    ban="04595257",
                    name="s",
                    enabled=True,
                    booklets_per_request=1,
                    booklets_per_period=10,
                    low_water_count=0,
                    low_water_minutes=0,
                    min_booklets=1,
                    max_booklets=1,
                    emails="[]",
                    config_version=1,
                    created_at=NOW,
                )
            )
            add_grant(conn, "g1", 100, 199)
            add_grant(conn, "g2", 200, 249)  # adjacent: fine
            add_grant(conn, "g3", 100, 199, track="CD")  # another track: fine

        store.write_sync(token, setup)
        with pytest.raises(IntegrityError) as info, store.write_engine.begin() as conn:
            add_grant(conn, "bad1", 150, 299)  # inserted directly, not through the allocator
        assert getattr(info.value.orig, "sqlstate", None) == "23P01"
        with pytest.raises(OverlappingRange, match="refused an overlapping grant"):
            store.write_sync(token, lambda conn: add_grant(conn, "bad2", 249, 249))
        with store.read_engine.connect() as conn:
            ids = sorted(conn.execute(text("SELECT id FROM grants")).scalars())
        assert ids == ["g1", "g2", "g3"]
    finally:
        store.close()


@pytest.mark.parametrize("engine", ["write_engine", "read_engine"])
def test_every_run_of_a_statement_is_planned_for_its_values(pg_url: str, engine: str) -> None:
    """psycopg prepares a statement run 5 times, and PostgreSQL may then keep one generic plan
    for it, made for the table as it was: the period-start burst's first batches meet an empty
    grants table, and a sequential scan planned then served every later batch (a 500-branch IN
    list over 20,000 grants: 400 ms a batch; bench/README.md, Dec 3). Each run is planned."""
    store = Store(pg_url)
    try:
        with getattr(store, engine).connect() as conn:
            params = {"year_month": "11512", "type": "07", "bans": ["04595257", "22099131"]}
            for _ in range(20):
                HELD_IN_POOL.rows(conn, params)
            plans = conn.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE :held"
                ),
                {"held": "%branch_ban IN%"},
            ).one()
    finally:
        store.close()
    assert (plans.generic_plans, plans.custom_plans) == (0, 15)  # prepared after 5 runs
