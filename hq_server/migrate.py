"""Schema migrations (Alembic), run by Store on start-up (unless --no-migrate) or by `einv-hq db
upgrade`: the same revisions on both backends, and the one owner of every table.

Replicas of one HQ may start together: on PostgreSQL an advisory lock makes them migrate one at
a time (the second finds the schema current). A database made before migrations existed (by
`metadata.create_all`) is stamped with the baseline it already matches, then upgraded.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from allocator import Refused

BASELINE = "0001"
# Any constant will do: it only has to be the same for every replica of every HQ.
MIGRATION_LOCK_KEY = 0x45494E56  # "EINV"
MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision."""
    with engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            conn.commit()
        try:
            config = alembic_config(conn)
            names = set(inspect(conn).get_table_names())
            if "leadership" in names and VERSION_TABLE not in names:
                command.stamp(config, BASELINE)
            command.upgrade(config, "head")
            conn.commit()
        finally:
            if postgres:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                conn.commit()


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: not migrated at all)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def revision(conn: Connection) -> str | None:
    """`current` on a connection already open, read directly: the health probe reads it twice
    a second, and MigrationContext logs two lines each time. The table is Alembic's own."""
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def head() -> str:
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def history() -> list[tuple[str, str]]:
    """(revision, what it does), oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(script.walk_revisions())[::-1]
    return [(r.revision, (r.doc or "").strip().splitlines()[0]) for r in revisions]


class NotMigrated(Refused):
    reason = "NOT_MIGRATED"


def require_current(engine: Engine) -> None:
    """For --no-migrate: refuse to serve a database another revision than this code's."""
    found, wanted = current(engine), head()
    if found != wanted:
        raise NotMigrated(
            f"the database is at revision {found or 'none'}, this HQ needs {wanted}: run "
            "einv-hq db upgrade --db URL (or start without --no-migrate)"
        )
