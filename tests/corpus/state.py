"""What the corpus cases share: a seeded HQ and byte-for-byte snapshots of every table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData

from hq_server.schema import metadata
from mof_sync.store import metadata as mof_metadata
from notifier.outbox import metadata as notifier_metadata
from protos.einvoice.v1 import branch_pb2, common_pb2
from tests.conftest import BRANCH_BANS
from tests.fixtures import seed_pool_and_branches

GENERAL = common_pb2.INVOICE_TYPE_GENERAL
A, B = BRANCH_BANS[0], BRANCH_BANS[1]
EVERY: tuple[MetaData, ...] = (metadata, mof_metadata, notifier_metadata)


def snapshot(app: Any) -> dict[str, list[Any]]:
    """Every row of every table of the HQ database (the server's, MOF sync's, the notifier's)."""

    def read(conn):  # type: ignore[no-untyped-def]
        return {
            t.name: sorted(map(tuple, conn.execute(t.select()).all()), key=repr)
            for m in EVERY
            for t in m.sorted_tables
        }

    return app.store.read_sync(read)


async def seed(admin: Any, branch: Any) -> branch_pb2.Grant:
    """A pool of period 11512 (AB 0-9999), branches A and B, and one grant of A."""
    await seed_pool_and_branches(admin)
    return await branch.RequestRange(
        branch_pb2.RequestRangeRequest(
            request_id="seed-1", branch_ban=A, year_month="11512", invoice_type=GENERAL, booklets=2
        )
    )
