"""The admin RPCs the back office added: users, alerts, history, forecast, grants."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from hq_server import history
from protos.einvoice.v1 import admin_pb2, branch_pb2
from tests.conftest import BRANCH_BANS
from tests.fixtures import SecureHq, snapshot
from tests.hq_server.conftest import HqHandle
from tests.hq_server.test_branch_api import request, setup_pool

A, B, C = BRANCH_BANS
VIEWER = admin_pb2.USER_ROLE_VIEWER


async def report(hq: HqHandle, ban: str, grant: branch_pb2.Grant, used: int, rid: str) -> None:
    now = Timestamp()
    now.FromDatetime(hq.clock.now())
    await hq.branch.ReportUsage(
        branch_pb2.UsageReport(
            report_id=rid,
            branch_ban=ban,
            grants=[
                branch_pb2.GrantUsage(grant_id=grant.grant_id, next_number=grant.range.begin + used)
            ],
            agent_time=now,
        )
    )


async def burning(hq: HqHandle) -> branch_pb2.Grant:
    """Branch A holds 2 booklets and issues 20 numbers an hour (two reports an hour apart)."""
    await setup_pool(hq, per_request=2, per_period=4)
    grant = await hq.branch.RequestRange(request(A, "g1", booklets=2))
    await report(hq, A, grant, 10, "u1")
    hq.clock.advance(hours=1)
    await report(hq, A, grant, 30, "u2")
    return grant


async def test_a_what_if_shows_the_change_and_changes_nothing(hq: HqHandle) -> None:
    await burning(hq)
    before = snapshot(hq)
    now = await hq.admin.Forecast(admin_pb2.ForecastRequest(year_month="11512"))
    mine = next(b for b in now.branches if b.branch_ban == A)
    assert (mine.held, mine.quota_left, mine.booklets_per_period) == (70, 100, 4)
    assert mine.burn_per_hour == pytest.approx(20.0)
    assert mine.current.reason == "quota"  # 170 numbers at 20/h: 8.5 h, well within the period
    tried = await hq.admin.Forecast(
        admin_pb2.ForecastRequest(
            year_month="11512", quota_changes=[admin_pb2.QuotaChange(ban=A, booklets_per_period=2)]
        )
    )
    changed = next(b for b in tried.branches if b.branch_ban == A)
    assert changed.changed and changed.quota_left == 0 and changed.current.reason == "held"
    hours = (changed.current.at.ToSeconds() - tried.now.ToSeconds()) / 3600
    assert hours == pytest.approx(70 / 20)
    assert changed.current.ask_mof_by.seconds == 0  # HQ's own quota: nothing to ask the MOF
    moved = await hq.admin.Forecast(
        admin_pb2.ForecastRequest(moves=[admin_pb2.BookletMove(from_ban=A, to_ban=B, booklets=2)])
    )
    assert next(b for b in moved.branches if b.branch_ban == A).quota_left == 0
    assert snapshot(hq) == before
    usage = await hq.admin.GetUsage(admin_pb2.GetUsageRequest(year_month="11512", branch_ban=A))
    assert usage.branches[0].runs_out_reason == "quota"
    assert usage.branches[0].runs_out_at.seconds == mine.current.at.seconds


async def test_a_what_if_of_an_unknown_branch_is_not_found(hq: HqHandle) -> None:
    await setup_pool(hq)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hq.admin.Forecast(
            admin_pb2.ForecastRequest(
                quota_changes=[admin_pb2.QuotaChange(ban="22099131", booklets_per_period=3)]
            )
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_history_samples_and_grants(hq: HqHandle) -> None:
    grant = await burning(hq)
    await hq.app.write(lambda conn, now: history.sample(conn, now))
    hq.clock.advance(hours=1)
    await report(hq, A, grant, 50, "u3")
    pool = await hq.admin.GetHistory(admin_pb2.GetHistoryRequest(year_month="11512"))
    assert [p.issued for p in pool.points] == [30, 50]  # the sample, then now
    assert pool.points[-1].held == 100 and pool.points[-1].free == 900
    mine = await hq.admin.GetHistory(admin_pb2.GetHistoryRequest(branch_ban=A))
    assert [(p.issued, p.held) for p in mine.points] == [(30, 70), (50, 50)]
    grants = await hq.admin.ListGrants(admin_pb2.ListGrantsRequest(branch_ban=A))
    assert [(g.grant_id, g.issued, g.next_number) for g in grants.grants] == [
        (grant.grant_id, 50, 50)
    ]


async def test_users_need_the_admin_role_and_are_audited(secure_hq: SecureHq) -> None:
    add = admin_pb2.AddUserRequest(name="wendy", role=VIEWER, password="correct horse battery")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await secure_hq.admin_as("olga").AddUser(add)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    root = secure_hq.admin_as("root")
    made = await root.AddUser(add)
    assert (made.name, made.role, made.failed_attempts) == ("wendy", VIEWER, 0)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await root.AddUser(add)
    assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await root.SetPassword(admin_pb2.SetPasswordRequest(name="wendy", password="short"))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await root.SetPassword(admin_pb2.SetPasswordRequest(name="wendy", password="a longer one!"))
    listed = await root.ListUsers(admin_pb2.ListUsersRequest())
    assert [u.name for u in listed.users] == ["wendy"]
    audit = await root.ListAudit(admin_pb2.ListAuditRequest())
    assert [(e.actor, e.action) for e in audit.entries][-2:] == [
        ("admin:root (admin)", "add_web_user"),
        ("admin:root (admin)", "set_web_password"),
    ]
    assert all(
        "horse" not in e.details_json and "scrypt" not in e.details_json for e in audit.entries
    )


async def test_alerts_are_listed_and_acknowledged_by_operators(secure_hq: SecureHq) -> None:
    from notifier import Kind, raise_alert

    def open_alert(conn, now):  # type: ignore[no-untyped-def]
        raise_alert(
            conn, now, Kind.BRANCH_SILENT, "branch_silent:04595257", {"ban": A, "name": "x"}
        )

    await secure_hq.app.write(open_alert)
    vera, olga = secure_hq.admin_as("vera"), secure_hq.admin_as("olga")
    listed = await vera.ListAlerts(admin_pb2.ListAlertsRequest())
    assert [a.key for a in listed.alerts] == ["branch_silent:04595257"]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await vera.AckAlert(admin_pb2.AckAlertRequest(key="branch_silent:04595257"))
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    acked = await olga.AckAlert(admin_pb2.AckAlertRequest(key="branch_silent:04595257"))
    assert acked.acknowledged_by == "admin:olga (operator)"
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await olga.AckAlert(admin_pb2.AckAlertRequest(key="nope"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
