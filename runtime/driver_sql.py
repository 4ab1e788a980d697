"""Hot statements run on the driver's own cursor, inside SQLAlchemy's transaction.

SQLAlchemy's execution layer costs 50-150 us a statement (execution context, cache lookup,
result metadata, events) against 5-20 us in the driver itself: on the HQ's steady-state paths
(a usage report, a grant) that was most of a transaction's CPU. A `DriverStatement` is a Core
statement, written against the schema's tables like any other, compiled once per dialect to
the driver's SQL; its parameters go through the columns' own type processors (so a datetime
is stored exactly as SQLAlchemy stores it) and its rows come back as named tuples with the
result processors applied. It runs on the DBAPI connection of the SQLAlchemy `Connection`
given, in that connection's transaction; a driver error is raised as SQLAlchemy's own
(`DBAPIError.instance`), so callers translate errors in one place whichever way a statement ran.

Only what the hot paths use is supported: plain binds, literal values and expanding IN lists
(`bindparam(..., expanding=True)`), one row of parameters or many (executemany).
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Table, bindparam, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")
PYFORMAT = re.compile(r"%\((\w+)\)s")
Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One statement for one dialect: SQL with named slots, how to fill them, rows' shape."""

    sql: str  # qmark: '?' per slot in `names` order; pyformat: %(name)s
    names: tuple[str, ...]  # the slots, in order; an expanding one once, where its list goes
    expanding: frozenset[str]
    defaults: Mapping[str, Any]  # literal values written into the statement
    binds: Mapping[str, Processor]
    positional: bool
    row: type | None  # a namedtuple of the selected columns, or None for a write
    results: tuple[Processor, ...]


class DriverStatement:
    """A Core statement compiled once per dialect, run on the driver's cursor."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    @classmethod
    def insert(cls, table: Table, columns: Sequence[str]) -> DriverStatement:
        """INSERT INTO table (columns) VALUES (one slot per column, named as the column)."""
        return cls(insert(table).values({name: bindparam(name) for name in columns}))

    def rows(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Run a query; its rows as named tuples (column labels as names)."""
        compiled = self._for(conn.dialect)
        sql, values = _bound(compiled, params or {})
        cursor = _run(conn, sql, values, many=False)
        try:
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        return [_row(compiled, raw) for raw in fetched]

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def execute(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run a write once; the rows it touched."""
        sql, values = _bound(self._for(conn.dialect), params or {})
        return _close(_run(conn, sql, values, many=False))

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a write once per row of parameters, as one executemany (no expanding lists)."""
        if not rows:
            return
        compiled = self._for(conn.dialect)
        if compiled.expanding:  # each row would need SQL of its own
            raise ValueError(f"executemany cannot expand {sorted(compiled.expanding)}")
        values = [_values(compiled, row, compiled.names) for row in rows]
        _close(_run(conn, compiled.sql, values, many=True))

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _compile(self.statement, dialect)
        return found


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    positional = dialect.paramstyle == "qmark"
    if positional:
        names = tuple(compiled.positiontup or ())
    elif dialect.paramstyle == "pyformat":
        # Named slots, in any order; an expanding list is a marker until it is written out.
        found = PYFORMAT.findall(compiled.string) + POSTCOMPILE.findall(compiled.string)
        names = tuple(dict.fromkeys(found))
    else:  # not one of the project's drivers (sqlite3, psycopg)
        raise ValueError(f"unsupported paramstyle {dialect.paramstyle}")
    binds = compiled.binds
    expanding = frozenset(POSTCOMPILE.findall(compiled.string))
    selected = getattr(statement, "selected_columns", None)
    columns = list(selected) if selected is not None and statement.is_select else []  # type: ignore[attr-defined]
    return _Compiled(
        sql=compiled.string,
        names=names,
        expanding=expanding,
        defaults={n: binds[n].effective_value for n in names if not binds[n].required},
        binds={n: binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names},
        positional=positional,
        row=namedtuple("Row", [c.key for c in columns]) if columns else None,  # type: ignore[misc]
        results=tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ),
    )


def _bound(compiled: _Compiled, params: Mapping[str, Any]) -> tuple[str, Any]:
    """The SQL with each expanding list written out as that many slots, and the values."""
    if not compiled.expanding:
        return compiled.sql, _values(compiled, params, compiled.names)
    sql, slots, flat = compiled.sql, [], dict(params)
    for name in compiled.names:
        if name not in compiled.expanding:
            slots.append(name)
            continue
        items = list(params[name])
        if not items:
            raise ValueError(f"expanding parameter {name!r} needs at least one value")
        listed = [f"{name}__{i}" for i in range(len(items))]
        flat.update(zip(listed, items, strict=True))
        slots.extend(listed)
        marks = ", ".join("?" if compiled.positional else f"%({s})s" for s in listed)
        sql = sql.replace(f"__[POSTCOMPILE_{name}]", marks, 1)
    return sql, _values(compiled, flat, slots)


def _values(compiled: _Compiled, params: Mapping[str, Any], slots: Sequence[str]) -> Any:
    """Each slot's value through its bind's type processor; an expanding list's slots
    (`name__i`) share the processor of `name`."""
    values = []
    for slot in slots:
        bind = slot if slot in compiled.binds else slot.rpartition("__")[0]
        value = params[slot] if slot in params else compiled.defaults[bind]
        process = compiled.binds[bind]
        values.append(value if process is None else process(value))
    return tuple(values) if compiled.positional else dict(zip(slots, values, strict=True))


def _row(compiled: _Compiled, raw: Sequence[Any]) -> Any:
    values = [v if p is None else p(v) for v, p in zip(raw, compiled.results, strict=True)]
    return compiled.row(*values)  # type: ignore[misc]


def _run(conn: Connection, sql: str, values: Any, many: bool) -> Any:
    """The driver's cursor of `conn`'s transaction, the statement run on it."""
    driver = conn.connection.driver_connection
    assert driver is not None  # a connection in use always has its driver connection
    cursor = driver.cursor()
    try:
        if many:
            cursor.executemany(sql, values)
        else:
            cursor.execute(sql, values)
    except conn.dialect.loaded_dbapi.Error as error:
        cursor.close()
        raise _as_sqlalchemy(conn, sql, values, error) from error
    return cursor


def _close(cursor: Any) -> int:
    count = int(cursor.rowcount)
    cursor.close()
    return count


def _as_sqlalchemy(conn: Connection, sql: str, values: Any, error: Exception) -> DBAPIError:
    """The error as SQLAlchemy would raise it; a lost connection is invalidated as it would."""
    dialect = conn.dialect
    lost = dialect.is_disconnect(error, conn.connection.dbapi_connection, None)
    wrapped = DBAPIError.instance(
        sql,
        values,
        error,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=lost,
        dialect=dialect,
    )
    if lost:
        conn.invalidate(wrapped)
    return wrapped  # type: ignore[no-any-return]
