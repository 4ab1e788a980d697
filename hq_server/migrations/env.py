"""Alembic environment: migrates the connection hq_server.migrate hands in."""

from __future__ import annotations

from alembic import context

from hq_server.schema import metadata
from mof_sync.store import metadata as mof_metadata
from notifier.outbox import metadata as notifier_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    # Every table of the HQ database: the server's, MOF sync's and the notifier's. Alembic is
    # their one owner; nothing creates tables at run time.
    target_metadata=[metadata, mof_metadata, notifier_metadata],
    # SQLite cannot ALTER most things: later revisions copy-and-move tables there.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
