"""Usage reports decided together (one read, one write per table) and skip sets kept as ranges.

Reports queued at once share one savepoint of the group commit; each must still get its own
answer, and a refused one must change nothing. A report may carry only its new skips; HQ keeps
each grant's skip set as whole ranges and every branch's running issued total.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from alembic import command
from sqlalchemy import Connection, create_engine, insert, select, text

from allocator import Ban, BlanksReported, NotFound, NumberRange, OverlappingRange, PermissionDenied
from hq_server.app import scheduled_work
from hq_server.branch_ops import GrantProgress, UsageReport, report_usages
from hq_server.migrate import alembic_config
from hq_server.schema import branches, grants, skipped, usage_samples
from hq_server.store import Store
from mof_sync.store import documents
from protos.einvoice.v1 import admin_pb2, branch_pb2, common_pb2
from tests.conftest import BRANCH_BANS
from tests.hq_server.conftest import HqHandle
from tests.hq_server.test_branch_api import request, setup_pool

A, B = Ban(BRANCH_BANS[0]), Ban(BRANCH_BANS[1])


def usage(grant_id: str, cursor: int, *skips: tuple[int, int]) -> GrantProgress:
    return GrantProgress(grant_id, cursor, [NumberRange(b, e) for b, e in skips], False)


def stored(conn: Connection, ban: str) -> tuple[int, list[tuple[int, int]], int]:
    """(running issued total, skip rows of the branch's grants, last sample's total)."""
    total = conn.execute(select(branches.c.issued_total).where(branches.c.ban == ban)).scalar()
    rows = conn.execute(
        select(skipped.c.begin, skipped.c.end)
        .join(grants, grants.c.id == skipped.c.grant_id)
        .where(grants.c.branch_ban == ban)
        .order_by(skipped.c.begin)
    ).all()
    sample = conn.execute(
        select(usage_samples.c.issued_total)
        .where(usage_samples.c.ban == ban)
        .order_by(usage_samples.c.id.desc())
        .limit(1)
    ).scalar()
    return int(total), [(r.begin, r.end) for r in rows], int(sample or 0)


async def two_grants(hq: HqHandle) -> tuple[str, str]:
    await setup_pool(hq)
    a = await hq.branch.RequestRange(request(A.value, "a1"))
    b = await hq.branch.RequestRange(request(B.value, "b1"))
    return a.grant_id, b.grant_id


async def test_reports_decided_together_each_get_their_own_answer(hq: HqHandle) -> None:
    a, b = await two_grants(hq)  # A holds 0-99, B 100-199
    now = hq.clock.now()
    reports = [
        UsageReport(A, None, [usage(a, 20, (5, 5))]),
        UsageReport(A, None, [usage(a, 30), usage(b, 110)]),  # B's grant: refused as a whole
        UsageReport(Ban("22099131"), None, [usage(a, 40)]),  # not registered
        UsageReport(B, None, [usage(b, 250)]),  # outside the grant
        UsageReport(A, None, [usage(a, 20, (5, 5))]),  # the first one again
        UsageReport(A, None, [usage(a, 25, (6, 7)), usage(a, 24, (9, 9))]),  # a grant twice
        UsageReport(B, None, [usage(b, 150, (120, 121))]),
    ]
    outcomes = hq.app.store.write_sync(
        hq.app.coordinator.token(), lambda conn: report_usages(conn, now, reports)
    )
    assert outcomes[0] == 1 and outcomes[4] == 0 and outcomes[5] == 2 and outcomes[6] == 1
    assert isinstance(outcomes[1], PermissionDenied) and b in str(outcomes[1])
    assert isinstance(outcomes[2], NotFound)
    assert isinstance(outcomes[3], OverlappingRange) and "250" in str(outcomes[3])
    with hq.app.store.read_engine.connect() as conn:
        assert stored(conn, A.value) == (25 - 4, [(5, 7), (9, 9)], 21)  # not 30: refused
        assert stored(conn, B.value) == (50 - 2, [(120, 121)], 48)


async def test_concurrent_reports_over_grpc_keep_the_furthest_state(hq: HqHandle) -> None:
    a, b = await two_grants(hq)

    def report(ban: Ban, grant_id: str, cursor: int, *skips: int) -> branch_pb2.UsageReport:
        spans = [common_pb2.Span(begin=n, end=n) for n in skips]
        grant = branch_pb2.GrantUsage(grant_id=grant_id, next_number=cursor, skipped=spans)
        return branch_pb2.UsageReport(branch_ban=ban.value, grants=[grant])

    sent = [report(A, a, c, c - 1) for c in range(2, 40, 2)]  # each only its new skip
    sent += [report(B, b, 100 + c) for c in range(1, 40)] + [report(B, a, 50)]
    answers = await asyncio.gather(
        *(hq.branch.ReportUsage(r) for r in sent), return_exceptions=True
    )
    *served, last = answers
    assert isinstance(last, grpc.aio.AioRpcError)
    assert last.code() == grpc.StatusCode.PERMISSION_DENIED
    updated = [x.grants_updated for x in served]  # an AioRpcError here fails the line
    # Each of A's reports brings a skip HQ has not seen, in whatever order they arrive. B's
    # cursors race: one that arrives after a further one changes nothing, so only B's furthest
    # report is sure to count, and none counts twice.
    assert updated[:19] == [1] * 19
    assert set(updated[19:]) <= {0, 1} and updated[-1] == 1
    skips = [(n, n) for n in range(1, 39, 2)]
    with hq.app.store.read_engine.connect() as conn:
        assert stored(conn, A.value) == (38 - 19, skips, 19)
        assert stored(conn, B.value) == (39, [], 39)
    got = await hq.admin.GetUsage(admin_pb2.GetUsageRequest(year_month="11512"))
    mine = next(u for u in got.branches if u.branch_ban == A.value)
    assert (mine.issued, mine.skipped) == (19, 19)


async def test_skips_reported_piece_by_piece_are_stored_as_one_range(hq: HqHandle) -> None:
    a, _ = await two_grants(hq)
    now = hq.clock.now()
    token = hq.app.coordinator.token()
    for skips in ([(10, 10)], [(11, 11)], [(13, 13)], [(8, 9), (12, 12)], [(8, 13)]):
        outcome = hq.app.store.write_sync(
            token,
            lambda conn, s=skips: report_usages(
                conn, now, [UsageReport(A, None, [usage(a, 20, *s)])]
            ),
        )
        assert outcome[0] in (0, 1)
    with hq.app.store.read_engine.connect() as conn:
        assert stored(conn, A.value) == (20 - 6, [(8, 13)], 14)


def test_the_migration_merges_stored_pieces_and_counts_the_issued_totals(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    engine = create_engine(url)
    at = datetime(2026, 11, 23, tzinfo=UTC).isoformat()
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), "0004")
        conn.execute(
            text(
                "INSERT INTO branches (ban, name, enabled, booklets_per_request, "
                "booklets_per_period, low_water_count, low_water_minutes, min_booklets, "
                "max_booklets, emails, config_version, created_at) "
                "VALUES (:ban, 'a store', 1, 1, 1, 1, 1, 1, 1, '', 1, :at)"
            ),
            [{"ban": A.value, "at": at}, {"ban": B.value, "at": at}],
        )
        conn.execute(
            text(
                "INSERT INTO grants (id, request_id, branch_ban, assignment_id, year_month, "
                'invoice_type, track, begin, "end", booklets, granted_at, fencing_token, '
                "next_number, final) VALUES (:id, :id, :ban, 1, '11512', '07', 'AB', :begin, "
                ":end, 1, :at, 1, :next, 0)"
            ),
            [
                {"id": "g1", "ban": A.value, "begin": 0, "end": 49, "next": 30, "at": at},
                {"id": "g2", "ban": A.value, "begin": 50, "end": 99, "next": 60, "at": at},
            ],
        )
        conn.execute(
            text('INSERT INTO skipped (grant_id, begin, "end") VALUES (:g, :b, :e)'),
            [
                {"g": "g1", "b": 10, "e": 10},
                {"g": "g1", "b": 11, "e": 12},
                {"g": "g1", "b": 20, "e": 20},
                {"g": "g2", "b": 51, "e": 51},
            ],
        )
        conn.commit()
    Store(url).close()  # migrates to the newest revision
    with engine.connect() as conn:
        rows = conn.execute(
            select(skipped.c.grant_id, skipped.c.begin, skipped.c.end).order_by(skipped.c.begin)
        ).all()
        assert [tuple(r) for r in rows] == [("g1", 10, 12), ("g1", 20, 20), ("g2", 51, 51)]
        totals = dict(conn.execute(select(branches.c.ban, branches.c.issued_total)).all())
        assert totals == {A.value: 30 + 10 - 5, B.value: 0}
    engine.dispose()


@pytest.mark.parametrize("cursor", [20, 21])
async def test_a_late_report_with_a_new_skip_lowers_the_issued_total(
    hq: HqHandle, cursor: int
) -> None:
    a, _ = await two_grants(hq)
    now = hq.clock.now()
    token = hq.app.coordinator.token()
    for report in (usage(a, 30), usage(a, cursor, (15, 16))):
        hq.app.store.write_sync(
            token, lambda conn, r=report: report_usages(conn, now, [UsageReport(A, None, [r])])
        )
    with hq.app.store.read_engine.connect() as conn:
        assert stored(conn, A.value) == (28, [(15, 16)], 28)


async def test_the_scheduler_drops_samples_older_than_the_window(hq: HqHandle) -> None:
    a, b = await two_grants(hq)
    token = hq.app.coordinator.token()
    start = hq.clock.now()
    for minutes, cursor in ((0, 10), (30, 20), (150, 30)):
        at = start + timedelta(minutes=minutes)
        reports = [UsageReport(A, None, [usage(a, cursor)]), UsageReport(B, None, [usage(b, 150)])]
        hq.app.store.write_sync(token, lambda conn, t=at, r=reports: report_usages(conn, t, r))

    def samples() -> list[tuple[str, int]]:
        with hq.app.store.read_engine.connect() as conn:
            rows = conn.execute(
                select(usage_samples.c.ban, usage_samples.c.issued_total).order_by(
                    usage_samples.c.id
                )
            ).all()
        return [(r.ban, r.issued_total) for r in rows]

    assert len(samples()) == 6  # a report drops none
    late = start + timedelta(minutes=150)
    hq.app.store.write_sync(token, lambda conn: scheduled_work(conn, late))
    # 150 - 120 minutes: the samples at 30 and 150 stay, of both branches
    assert samples() == [(A.value, 20), (B.value, 50), (A.value, 30), (B.value, 50)]


async def test_usage_after_the_periods_e0402_went_to_the_mof_is_refused(hq: HqHandle) -> None:
    a, b = await two_grants(hq)
    ended = datetime(2027, 3, 1, tzinfo=UTC)  # after period 11512
    with hq.app.store.write_engine.begin() as conn:
        type_code = conn.execute(select(grants.c.invoice_type).where(grants.c.id == a)).scalar()
        conn.execute(
            insert(documents).values(
                name="E0402-A-11512",
                key="k",
                message_type="E0402",
                head_ban="22099131",
                branch_ban=A.value,
                invoice_type=type_code,
                year_month="11512",
                track="AB",
                revision=0,
                part=1,
                parts=1,
                mig_version="4.1",
                sha256="0" * 64,
                content=b"",
                state="sent",
                attempts=1,
                written_at=ended,
                updated_at=ended,
            )
        )
    token = hq.app.coordinator.token()
    outcomes = hq.app.store.write_sync(
        token,
        lambda conn: report_usages(
            conn,
            ended,
            [
                UsageReport(A, None, [usage(a, 20)]),  # A's E0402 is out: refused
                UsageReport(A, None, [usage(a, 0)]),  # moves nothing: accepted
                UsageReport(B, None, [usage(b, 120)]),  # B's is not: accepted
            ],
        ),
    )
    assert isinstance(outcomes[0], BlanksReported) and "E0402-A-11512" in str(outcomes[0])
    assert outcomes[1:] == [0, 1]
    with hq.app.store.read_engine.connect() as conn:
        assert stored(conn, A.value)[0] == 0 and stored(conn, B.value)[0] == 20
