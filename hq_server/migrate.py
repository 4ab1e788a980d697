"""Schema migrations (Alembic), run by Store on start-up: the same revisions on both backends.

Replicas of one HQ may start together: on PostgreSQL an advisory lock makes them migrate one at
a time (the second finds the schema current). A database made before migrations existed (by
`metadata.create_all`) is stamped with the baseline it already matches, then upgraded.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, inspect, text

BASELINE = "0001"
# Any constant will do: it only has to be the same for every replica of every HQ.
MIGRATION_LOCK_KEY = 0x45494E56  # "EINV"
MIGRATIONS = Path(__file__).with_name("migrations")


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
            if "leadership" in names and "alembic_version" not in names:
                command.stamp(config, BASELINE)
            command.upgrade(config, "head")
            conn.commit()
        finally:
            if postgres:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                conn.commit()


def make_revision(url: str, message: str) -> None:
    """For developers: write a new revision file from the difference between `url` and schema.py.

    Point `url` at a scratch database at the current head, e.g. a fresh SQLite file after
    `Store(url)`; review the generated file (autogenerate misses the exclusion constraint).
    """
    from sqlalchemy import create_engine

    with create_engine(url).connect() as conn:
        command.revision(alembic_config(conn), message=message, autogenerate=True)
