"""A statement run on the driver stores and reads exactly what SQLAlchemy would, on SQLite and
PostgreSQL, in the same transaction, and fails with SQLAlchemy's own errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from demo.cluster import fresh_database, postgres_reachable
from runtime.driver_sql import DriverStatement
from runtime.sqltypes import UtcDateTime

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("at", UtcDateTime(), nullable=True),
    Column("done", Boolean(), nullable=False),
    Column("count", BigInteger(), nullable=False),
    Column("kind", Integer(), nullable=False),
)
AT = datetime(2026, 12, 2, 6, 30, tzinfo=UTC)  # whole seconds: the text form SQLite differs most in

ADD = DriverStatement(
    insert(things).values(
        id=bindparam("id"),
        at=bindparam("at"),
        done=bindparam("done"),
        count=bindparam("count"),
        kind=7,  # a literal written into the statement
    )
)
BY_IDS = DriverStatement(
    select(things.c.id, things.c.at, things.c.done, things.c.count.label("n"))
    .where(things.c.id.in_(bindparam("ids", expanding=True)))
    .where(things.c.kind == 7)
    .order_by(things.c.id)
)
BUMP = DriverStatement(
    update(things)
    .where(things.c.id == bindparam("thing"))
    .values(count=things.c.count + bindparam("by"), at=bindparam("at"))
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'driver.db'}")
        metadata.create_all(made)
        yield made
        made.dispose()
        return
    if not postgres_reachable():
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (scripts/setup starts it)")
    with fresh_database() as url:
        made = create_engine(url)
        metadata.create_all(made)
        yield made
        made.dispose()


def stored(engine: Engine) -> list[tuple[object, ...]]:
    """The rows as the database holds them (text on SQLite), read without type processing."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM things ORDER BY id"))]


def test_a_row_written_on_the_driver_is_stored_as_sqlalchemy_stores_it(engine: Engine) -> None:
    with engine.begin() as conn:
        ADD.execute_many(
            conn,
            [
                {"id": "a", "at": AT, "done": True, "count": 2**40},
                {"id": "b", "at": None, "done": False, "count": 0},
            ],
        )
    ours = stored(engine)
    with engine.begin() as conn:
        conn.execute(things.delete())
        conn.execute(
            insert(things),
            [
                {"id": "a", "at": AT, "done": True, "count": 2**40, "kind": 7},
                {"id": "b", "at": None, "done": False, "count": 0, "kind": 7},
            ],
        )
    assert ours == stored(engine)


def test_rows_come_back_typed_and_named_in_the_same_transaction(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(things).values(id="a", at=AT, done=True, count=5, kind=7))
        ADD.execute(conn, {"id": "b", "at": AT, "done": False, "count": 1})
        assert BUMP.execute(conn, {"thing": "a", "by": 3, "at": AT + timedelta(hours=1)}) == 1
        rows = BY_IDS.rows(conn, {"ids": ["b", "a", "zz"]})  # sees its own transaction's writes
        assert BY_IDS.first(conn, {"ids": ["zz"]}) is None
    assert [(r.id, r.at, r.done, r.n) for r in rows] == [
        ("a", AT + timedelta(hours=1), True, 8),
        ("b", AT, False, 1),
    ]
    assert all(isinstance(r.done, bool) and r.at.tzinfo is UTC for r in rows)
    with engine.connect() as conn:  # and SQLAlchemy reads what the driver wrote
        read = conn.execute(select(things.c.at).where(things.c.id == "a")).scalar_one()
    assert read == AT + timedelta(hours=1)


def test_a_driver_error_is_sqlalchemys_and_rolls_back_with_the_transaction(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        ADD.execute(conn, {"id": "a", "at": AT, "done": True, "count": 1})
        ADD.execute(conn, {"id": "a", "at": AT, "done": True, "count": 1})  # the same key
    assert stored(engine) == []


def test_an_expanding_list_needs_a_value_and_runs_once(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(ValueError, match="'ids' needs at least one"):
        BY_IDS.rows(conn, {"ids": []})
    with engine.begin() as conn, pytest.raises(ValueError, match=r"cannot expand \['ids'\]"):
        BY_IDS.execute_many(conn, [{"ids": ["a"]}])
