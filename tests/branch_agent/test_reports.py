"""Usage reports carry what changed since HQ's last acknowledgement, not the grant's history."""

from __future__ import annotations

from collections.abc import Callable

from allocator import NumberRange, RangeSet
from protos.einvoice.v1 import pos_pb2
from tests.branch_agent.conftest import Pos, StartAgent, eventually, ready
from tests.branch_agent.hq_double import HqDouble

SKIPPED = pos_pb2.GiveBackReply.OUTCOME_SKIPPED


def at_hq(hq: HqDouble, grant_id: str) -> RangeSet:
    """The skip set HQ keeps for the grant (none before its first report)."""
    kept = hq.usage.get(grant_id)
    return kept.skipped if kept else RangeSet()


def spans_sent(hq: HqDouble, grant_id: str) -> list[list[tuple[int, int]]]:
    """The skip spans of each report of the grant that carried any."""
    return [
        [(s.begin, s.end) for s in g.skipped]
        for report in hq.sent
        for g in report.grants
        if g.grant_id == grant_id and g.skipped
    ]


async def test_a_report_sends_only_the_skips_hq_has_not_acknowledged(
    start_agent: StartAgent, pos_for: Callable[..., Pos], hq: HqDouble
) -> None:
    agent = await start_agent()
    await ready(agent)
    ledger, pos = agent.parts.ledger, pos_for(agent)
    first, second, third, _ = (int(n[2:]) for n in await pos.next(4))
    [grant] = [g for g in hq.granted() if g.range.begin <= first <= g.range.end]
    for number in (first, third):
        assert await pos.give_back(f"AB{number:08d}") == SKIPPED
        await eventually(lambda n=number: n in at_hq(hq, grant.grant_id))
        await eventually(lambda: ledger.reports_pending() == 0)
    assert spans_sent(hq, grant.grant_id) == [[(first, first)], [(third, third)]]
    assert await pos.give_back(f"AB{second:08d}") == SKIPPED  # joins the two: one range now
    await eventually(lambda: second in at_hq(hq, grant.grant_id))
    assert spans_sent(hq, grant.grant_id)[-1] == [(second, second)]
    assert at_hq(hq, grant.grant_id) == RangeSet((NumberRange(first, third),))
    reports = hq.reports
    await agent.parts.reporter.flush()  # nothing changed: nothing is sent
    assert hq.reports == reports


async def test_after_a_restart_the_whole_skip_set_goes_once_more(
    start_agent: StartAgent, pos_for: Callable[..., Pos], hq: HqDouble
) -> None:
    agent = await start_agent()
    await ready(agent)
    pos = pos_for(agent)
    first, second, _ = (int(n[2:]) for n in await pos.next(3))
    [grant] = [g for g in hq.granted() if g.range.begin <= first <= g.range.end]
    assert await pos.give_back(f"AB{first:08d}") == SKIPPED
    await eventually(lambda: agent.parts.ledger.reports_pending() == 0)
    await agent.stop()
    again = await start_agent()
    await ready(again)
    assert await pos_for(again).give_back(f"AB{second:08d}") == SKIPPED
    await eventually(lambda: second in at_hq(hq, grant.grant_id))
    assert spans_sent(hq, grant.grant_id)[-1] == [(first, second)]
