"""Alembic revisions of the HQ schema; see hq_server/migrate.py."""
