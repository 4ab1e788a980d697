"""Each rule, from HQ state built with the HQ's use cases to the mail the SMTP server receives:
the right people, both languages, the figures needed to act."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from allocator import TAIPEI, InvoiceType, Period, PoolKey, RangeStatus
from hq_server.admin_ops import close_period, set_range_status
from notifier import ReportState, ReportStatus, raise_held_back, resolve_held_back
from notifier.config import NotifierConfig
from tests.notifier.conftest import ADMIN, FINANCE, STORE_IT, Inbox, World, cycle

STORE_MAIL = "store0@branch.example"


def busy_branch(world: World, per_period: int = 10, pool_end: int = 999) -> tuple[str, Any]:
    """Branch 0 holds AB00000000-AB00000199, has issued 150 of them in the last hour."""
    world.assign("11512", 0, pool_end)
    ban = world.branch(0, (STORE_MAIL,), per_period=per_period)
    world.clock.advance(hours=-1)
    grant = world.grant(ban, "g1")
    world.report(ban, grant, 0)
    world.clock.advance(hours=1)
    world.report(ban, grant, 150)
    return ban, grant


def only(inbox: Inbox, address: str) -> str:
    mails = inbox.to(address)
    assert len(mails) == 1, [m.mail["Subject"] for m in mails]
    return mails[0].text


async def test_pool_low_mails_the_admins_with_free_numbers_burn_and_runout(
    world: World, config: NotifierConfig, inbox: Inbox
) -> None:
    busy_branch(world)
    result = await cycle(world, config)
    assert (result.alerts, result.queued) == (1, 1)
    text = only(inbox, ADMIN)
    assert "總公司配號池即將用完" in text and "HQ number pool running low" in text
    assert "Free numbers: 800 (tracks AB)" in text and "可配號碼：800 張" in text
    assert "150.0 numbers an hour" in text
    assert "2026-11-23 15:20 (UTC+8)" in text  # 800 / 150 an hour after 10:00
    assert "einv-admin import-e0501" in text
    assert inbox.to(STORE_MAIL) == []


async def test_branch_at_its_quota_mails_the_store_and_store_it(
    world: World, config: NotifierConfig, inbox: Inbox
) -> None:
    busy_branch(world, per_period=4)
    await cycle(world, config)
    text = only(inbox, STORE_MAIL)
    assert only(inbox, STORE_IT) == text
    assert "分店無法補號" in text and "Branch cannot be refilled" in text
    assert "04595257" in text and "Store 0" in text
    assert "本期配額已用完" in text and "used its booklet quota" in text
    assert "Numbers left at the branch: 50 (track AB; low-water mark 100)" in text
    assert "4 booklets of a quota of 4" in text
    assert "forecast to run out: 2026-11-23 10:20 (UTC+8)" in text
    assert "einv-admin quota-set" in text


async def test_empty_pool_then_paused_range_is_one_condition_with_its_reason(
    world: World, config: NotifierConfig, inbox: Inbox
) -> None:
    busy_branch(world, pool_end=199)
    await cycle(world, config)
    text = only(inbox, STORE_MAIL)
    assert "the HQ pool has no free booklet left" in text and "總公司配號池已無可配本數" in text
    spare = world.assign("11512", 200, 399)
    world.write(lambda c, now: set_range_status(c, now, "alice", spare, RangeStatus.PAUSED))
    result = await cycle(world, config)
    assert result.opened == 0 and len(inbox.to(STORE_MAIL)) == 1  # same condition: no new mail
    world.write(lambda c, now: set_range_status(c, now, "alice", spare, RangeStatus.ENABLED))
    result = await cycle(world, config)
    assert result.resolved >= 1
    resolved = inbox.to(STORE_MAIL)[-1].text
    assert "已解除" in resolved and "Resolved" in resolved
    assert "paused or disabled" in resolved  # the last figures seen: the paused range


async def test_silent_branch_holding_numbers(
    world: World, config: NotifierConfig, inbox: Inbox
) -> None:
    world.assign("11512", 0, 999)
    ban = world.branch(0, (STORE_MAIL,))
    world.report(ban, world.grant(ban, "g1"), 0)
    world.clock.advance(minutes=45)
    await cycle(world, config)
    text = only(inbox, ADMIN)
    assert only(inbox, STORE_MAIL) == text
    assert "分店失去聯繫" in text and "Branch silent" in text
    assert "(45 minutes ago; threshold 30.0 minutes)" in text
    assert "Unused numbers held by the branch: 200" in text


async def test_agent_clock_off(world: World, config: NotifierConfig, inbox: Inbox) -> None:
    world.assign("11512", 0, 999)
    ban = world.branch(0, (STORE_MAIL,))
    world.report(ban, world.grant(ban, "g1"), 0, agent_skew=-300)
    await cycle(world, config)
    text = only(inbox, ADMIN)
    assert "分店時鐘偏差" in text and "Off by -300.0 seconds" in text
    assert "Agent clock: 2026-11-23 09:55 (UTC+8)" in text and "NTP" in text
    assert only(inbox, STORE_MAIL) == text


async def test_next_period_not_imported_ten_days_before(
    world: World, config: NotifierConfig, inbox: Inbox
) -> None:
    world.assign("11512", 0, 999)
    world.clock.current = datetime(2026, 12, 21, 22, 59, tzinfo=TAIPEI)
    assert (await cycle(world, config)).alerts == 0
    world.clock.current = datetime(2026, 12, 22, 9, 0, tzinfo=TAIPEI)
    await cycle(world, config)
    text = only(inbox, ADMIN)
    assert "字軌號碼尚未匯入" in text and "Period: 11602, invoice type: 07 general tax" in text
    assert "Period starts: 2027-01-01 00:00 (UTC+8)" in text


class FixedTracker:
    """Stands in for the Turnkey tracking (the ReportTracker port): one status for every pool."""

    def __init__(self, status: ReportStatus) -> None:
        self.status = status

    def blank_report_status(self, conn: Connection, pool: PoolKey) -> ReportStatus:
        return self.status


async def test_blank_report_due_mails_admins_and_finance_until_confirmed(
    world: World, config: NotifierConfig, inbox: Inbox
) -> None:
    world.assign("11510", 0, 999)
    world.assign("11512", 0, 999)
    world.clock.current = datetime(2026, 11, 5, 22, 59, tzinfo=TAIPEI)
    assert (await cycle(world, config)).alerts == 0  # more than 5 days before the 11th
    world.clock.current = datetime(2026, 11, 8, 10, 0, tzinfo=TAIPEI)
    await cycle(world, config)
    text = only(inbox, FINANCE)
    assert only(inbox, ADMIN) == text
    assert "空白未使用字軌（E0402）尚未確認" in text and "Period: 11510" in text
    assert "Deadline: 2026-11-11 00:00 (UTC+8) (2.6 days left" in text
    assert "the period is not closed at HQ" in text and "einv-admin reports E0402 --period" in text
    pool = PoolKey(Period.from_year_month("11510"), InvoiceType.GENERAL)
    world.write(lambda c, now: close_period(c, now, "alice", pool))
    assert (await cycle(world, config)).queued == 0  # still unconfirmed: same condition
    await cycle(world, config, FixedTracker(ReportStatus(ReportState.CONFIRMED)))
    assert [len(inbox.to(a)) for a in (ADMIN, FINANCE)] == [2, 2]
    assert "Resolved" in inbox.to(FINANCE)[-1].text


async def test_blank_report_failed_at_turnkey(
    world: World, config: NotifierConfig, inbox: Inbox
) -> None:
    world.assign("11510", 0, 999)
    world.assign("11512", 0, 999)
    failed = FixedTracker(ReportStatus(ReportState.FAILED, "E0201 訊息重複"))
    await cycle(world, config, failed)  # 23 Nov: past the deadline, failed all the same
    text = only(inbox, ADMIN)
    assert "E0402 上傳失敗" in text and "Error: E0201 訊息重複" in text
    assert inbox.to(FINANCE) == []  # the route for e0402_failed is the default, admins only


async def test_an_older_periods_blank_report_is_due_too(
    world: World, config: NotifierConfig, inbox: Inbox
) -> None:
    for year_month in ("11508", "11510", "11512"):
        world.assign(year_month, 0, 999)
    pool = PoolKey(Period.from_year_month("11510"), InvoiceType.GENERAL)
    world.write(lambda c, now: close_period(c, now, "alice", pool))
    confirmed_11510 = PeriodTracker({"11510": ReportStatus(ReportState.CONFIRMED)})
    await cycle(world, config, confirmed_11510)  # 23 Nov: 11508's deadline passed in September
    text = only(inbox, ADMIN)
    assert "Period: 11508" in text and "11510" not in text


class PeriodTracker:
    """The ReportTracker port with a status per period (unlisted: not closed)."""

    def __init__(self, statuses: dict[str, ReportStatus]) -> None:
        self.statuses = statuses

    def blank_report_status(self, conn: Connection, pool: PoolKey) -> ReportStatus:
        return self.statuses.get(pool.year_month, ReportStatus(ReportState.NOT_CLOSED))


async def test_mof_sync_raises_a_held_back_branch_in_its_own_transaction(
    world: World, config: NotifierConfig, inbox: Inbox
) -> None:
    world.assign("11510", 0, 999)
    world.assign("11512", 0, 999)
    ban = world.branch(0, (STORE_MAIL,))
    pool = PoolKey(Period.from_year_month("11510"), InvoiceType.GENERAL)

    def mof_sync_step(conn: Connection, now: datetime) -> bool:
        """What MOF sync does in its own transaction while building the E0402 set."""
        return raise_held_back(conn, now, ban, "Store 0", pool, "grant AB00000000-99 not final")

    assert world.write(mof_sync_step) is True
    assert world.write(mof_sync_step) is False  # already open
    tracker = FixedTracker(ReportStatus(ReportState.SUBMITTED))
    await cycle(world, config, tracker)
    text = only(inbox, STORE_MAIL)
    assert "分店未列入 E0402" in text and "Reason: grant AB00000000-99 not final" in text
    await cycle(world, config, tracker)  # the rules do not resolve what they did not raise
    assert len(inbox.to(ADMIN)) == 2  # the held-back alert and the overdue E0402
    assert world.write(lambda c, now: resolve_held_back(c, now, ban, pool)) is True
    await cycle(world, config, tracker)
    assert "Resolved" in inbox.to(STORE_MAIL)[-1].text and len(inbox.to(STORE_MAIL)) == 2


async def test_one_mail_on_open_reminders_until_ack_one_on_resolve(
    world: World, config: NotifierConfig, inbox: Inbox
) -> None:
    world.assign("11512", 0, 999)
    ban = world.branch(0, (STORE_MAIL,))
    grant = world.grant(ban, "g1")
    world.report(ban, grant, 0, agent_skew=120)
    await cycle(world, config)
    await cycle(world, config)
    assert len(inbox.to(ADMIN)) == 1
    world.clock.advance(minutes=61)
    world.report(ban, grant, 0, agent_skew=120)  # still off, and not silent
    await cycle(world, config)
    reminder = inbox.to(ADMIN)[-1].text
    assert len(inbox.to(ADMIN)) == 2 and "Reminder #1" in reminder and "提醒（第 1 次）" in reminder
    world.ack(f"clock_skew:{ban}", "bob")
    world.clock.advance(minutes=61)
    world.report(ban, grant, 0, agent_skew=120)
    await cycle(world, config)
    assert len(inbox.to(ADMIN)) == 2  # acknowledged: no more reminders
    world.report(ban, grant, 0)  # the clock was fixed
    await cycle(world, config)
    assert len(inbox.to(ADMIN)) == 3 and "Resolved" in inbox.to(ADMIN)[-1].text
    ids = [m.mail["Message-ID"] for m in inbox.all()]
    assert len(ids) == len(set(ids))


async def test_daily_digest_for_admins_once_a_day(
    world: World, config: NotifierConfig, inbox: Inbox
) -> None:
    world.assign("11512", 0, 999)
    ban = world.branch(0, (STORE_MAIL,))
    world.report(ban, world.grant(ban, "g1"), 0, agent_skew=120)
    world.clock.current = datetime(2026, 11, 23, 23, 5, tzinfo=TAIPEI)
    world.report(ban, world.grant(ban, "g1"), 0, agent_skew=120)
    await cycle(world, config)
    await cycle(world, config)
    digests = [m for m in inbox.to(ADMIN) if "Daily digest" in m.mail["Subject"]]
    assert len(digests) == 1
    assert f"clock_skew:{ban}" in digests[0].text and "Open alerts: 1" in digests[0].text
    world.clock.advance(hours=24)
    world.report(ban, world.grant(ban, "g1"), 0)
    await cycle(world, config)
    digests = [m for m in inbox.to(ADMIN) if "Daily digest" in m.mail["Subject"]]
    assert len(digests) == 2 and "Resolved in the last 24 hours: 1" in digests[1].text
