"""What the corpus cases share: a seeded HQ (tests.fixtures.snapshot compares its tables)."""

from __future__ import annotations

from typing import Any

from protos.einvoice.v1 import branch_pb2, common_pb2
from tests.conftest import BRANCH_BANS
from tests.fixtures import seed_pool_and_branches

GENERAL = common_pb2.INVOICE_TYPE_GENERAL
A, B = BRANCH_BANS[0], BRANCH_BANS[1]


async def seed(admin: Any, branch: Any) -> branch_pb2.Grant:
    """A pool of period 11512 (AB 0-9999), branches A and B, and one grant of A."""
    await seed_pool_and_branches(admin)
    return await branch.RequestRange(
        branch_pb2.RequestRangeRequest(
            request_id="seed-1", branch_ban=A, year_month="11512", invoice_type=GENERAL, booklets=2
        )
    )
