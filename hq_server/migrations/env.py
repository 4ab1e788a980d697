"""Alembic environment: migrates the connection hq_server.migrate hands in."""

from __future__ import annotations

from alembic import context

from hq_server.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things: later revisions copy-and-move tables there.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
