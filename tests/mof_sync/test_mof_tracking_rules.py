"""The pure state machine and the never-twice rule."""

from __future__ import annotations

from allocator.identity import InvoiceType, Track
from allocator.ranges import NumberRange, RangeSet
from mof_sync.e0402 import build_e0402
from mof_sync.tracking import (
    TURNKEY_ERR,
    DocState,
    Event,
    EventKind,
    Outcome,
    Prior,
    Progress,
    Sighting,
    Verdict,
    advance,
    advance_all,
    decide_submission,
    events_for,
)
from tests.mof_sync.mof_support import HQ, PERIOD

WRITTEN = Progress(DocState.WRITTEN, 1)


def test_happy_path() -> None:
    step = advance_all(WRITTEN, [Event(EventKind.PICKED_UP), Event(EventKind.ACCEPTED)], 3)
    assert step.progress == Progress(DocState.CONFIRMED, 1) and not step.rewrite


def test_failure_is_retried_until_the_limit() -> None:
    step = advance(WRITTEN, Event(EventKind.MOVED_TO_ERR, TURNKEY_ERR), 2)
    assert step.rewrite and step.progress.state is DocState.WRITTEN
    assert step.progress.attempts == 2 and step.progress.error_code == TURNKEY_ERR
    step = advance(step.progress, Event(EventKind.REJECTED, "E0101", "bad"), 2)
    assert not step.rewrite
    assert step.progress == Progress(DocState.FAILED, 2, "E0101", "bad")


def test_duplicate_message_is_never_retried() -> None:
    step = advance(Progress(DocState.PICKED_UP, 1), Event(EventKind.REJECTED, "E0201"), 5)
    assert step.progress.state is DocState.FAILED and not step.rewrite


def test_final_states_stay() -> None:
    for state in (DocState.CONFIRMED, DocState.FAILED):
        current = Progress(state, 1)
        assert advance(current, Event(EventKind.REJECTED, "E0101"), 3).progress == current


def test_vanished_file_is_rewritten_only_before_pickup() -> None:
    assert advance(WRITTEN, Event(EventKind.VANISHED), 3).rewrite
    picked = Progress(DocState.PICKED_UP, 1)
    assert not advance(picked, Event(EventKind.VANISHED), 3).rewrite


def test_events_stop_at_a_retry() -> None:
    events = [Event(EventKind.REJECTED, "E0101"), Event(EventKind.ACCEPTED)]
    assert advance_all(WRITTEN, events, 3).progress.state is DocState.WRITTEN


def test_sightings_to_events() -> None:
    kinds = lambda s: [e.kind for e in events_for(s)]  # noqa: E731
    assert kinds(Sighting(True, False, False)) == []
    assert kinds(Sighting(False, True, False)) == [EventKind.PICKED_UP]
    assert kinds(Sighting(False, False, True)) == [EventKind.MOVED_TO_ERR]
    assert kinds(Sighting(False, False, False)) == [EventKind.VANISHED]
    ok, rejected = Outcome(True), Outcome(False, "E0101")
    assert kinds(Sighting(False, True, False, (ok,))) == [EventKind.PICKED_UP, EventKind.ACCEPTED]
    assert kinds(Sighting(False, True, False, (ok, rejected))) == [
        EventKind.PICKED_UP,
        EventKind.REJECTED,
    ]
    assert kinds(Sighting(False, False, False, (Outcome(None),))) == [EventKind.PICKED_UP]


def _documents(revision: int, blanks: RangeSet) -> list:
    return build_e0402(HQ, HQ, InvoiceType.GENERAL, PERIOD, Track("AB"), blanks, revision=revision)


def test_never_twice() -> None:
    first = _documents(0, RangeSet.single(0, 9))
    prior = [Prior(d.file_name, d.revision, d.sha256) for d in first]
    assert decide_submission(first, [])[0] is Verdict.WRITE
    assert decide_submission(first, prior)[0] is Verdict.SKIP
    changed = _documents(0, RangeSet.single(0, 8))
    verdict, reason = decide_submission(changed, prior)
    assert verdict is Verdict.REFUSE and "revision 1" in reason
    assert decide_submission(_documents(1, RangeSet.single(0, 8)), prior)[0] is Verdict.WRITE
    assert decide_submission(_documents(2, RangeSet.single(0, 8)), prior)[0] is Verdict.REFUSE
    assert decide_submission(_documents(1, RangeSet.single(0, 8)), [])[0] is Verdict.REFUSE


def test_all_parts_together() -> None:
    many = RangeSet(tuple(NumberRange(2 * i, 2 * i) for i in range(10_001)))
    parts = _documents(0, many)
    assert len(parts) == 2
    verdict, reason = decide_submission(parts[:1], [])
    assert verdict is Verdict.REFUSE and "all 2 parts" in reason
