"""The hand-off to Turnkey, driven through a Turnkey double: pickup, results, retries,
failures, the never-twice rule, the message log, and the E0402 deadlines."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from allocator.identity import InvoiceType, Track
from allocator.period import TAIPEI
from allocator.ranges import RangeSet
from mof_sync.deadlines import ReportStatus, blank_reports_due, expected_e0402_keys
from mof_sync.documents import MigDocument
from mof_sync.e0402 import build_e0402, build_e0402_set
from mof_sync.errors import AlreadySent
from mof_sync.message_log import MessageLog
from mof_sync.mig import MessageType
from mof_sync.outbox import RESULT_SETTLE_SECONDS, TurnkeyOutbox
from mof_sync.store import metadata
from mof_sync.tracking import DocState
from mof_sync.turnkey import TurnkeyFolders, temporary_name, write_atomically
from tests.mof_sync.mof_support import BRANCHES, HQ, PERIOD
from tests.mof_sync.turnkey_double import Sent, TurnkeyDouble, process_result

AB = Track("AB")
E0402 = MessageType.E0402
NOW = datetime(2026, 1, 3, 10, 0, tzinfo=TAIPEI)  # period 11412 closed, deadline 2026-01-11


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    made = create_engine(f"sqlite:///{tmp_path / 'hq.db'}")
    metadata.create_all(made)  # in the HQ, its migrations make these tables
    return made


@pytest.fixture
def folders(tmp_path: Path) -> TurnkeyFolders:
    return TurnkeyFolders(tmp_path / "EINVTurnkey", pack_dirs=(tmp_path / "EINVTurnkey" / "Pack",))


@pytest.fixture
def double(folders: TurnkeyFolders) -> TurnkeyDouble:
    return TurnkeyDouble(folders, pack_dir=folders.pack_dirs[0])


def blanks_for(*branches: int) -> dict:
    return {(BRANCHES[i], AB): RangeSet.single(100 * i, 100 * i + 9) for i in branches}


def period_documents(*branches: int) -> list[MigDocument]:
    return build_e0402_set(HQ, InvoiceType.GENERAL, PERIOD, blanks_for(*branches))


def one_planned(outbox: TurnkeyOutbox, double: TurnkeyDouble, outcomes: list[str]) -> MigDocument:
    """Branch 0's document handed over, Turnkey planned to answer each attempt with the next
    of `outcomes`."""
    (document,) = period_documents(0)
    double.plan[document.file_name] = outcomes
    outbox.submit([document], NOW)
    return document


def src_files(folders: TurnkeyFolders) -> list[str]:
    src = folders.src(E0402)
    return sorted(p.name for p in src.iterdir()) if src.is_dir() else []


def states(outbox: TurnkeyOutbox) -> dict[str, tuple[DocState, int, str | None]]:
    return {d.name: (d.state, d.attempts, d.error_code) for d in outbox.documents()}


def test_atomic_write_leaves_no_temporary(tmp_path: Path) -> None:
    path = write_atomically(tmp_path / "SRC", "a.xml", b"<a/>")
    assert path.read_bytes() == b"<a/>"
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.xml"]
    assert temporary_name("a.xml") == ".a.xml.tmp"


def test_documents_go_through_to_confirmed(
    engine: Engine, folders: TurnkeyFolders, double: TurnkeyDouble
) -> None:
    outbox = TurnkeyOutbox(engine, folders)
    documents = period_documents(0, 1)
    report = outbox.submit(documents, NOW)
    assert report.written == tuple(d.file_name for d in documents)
    assert src_files(folders) == sorted(report.written)
    assert all(d.written_at == NOW for d in outbox.documents())  # Taipei time kept as UTC
    assert (folders.src(E0402) / documents[0].file_name).read_bytes() == documents[0].xml

    assert outbox.poll(NOW).changes == ()  # still waiting in SRC
    double.upcast(NOW)
    report_poll = outbox.poll(NOW)
    assert {c.new for c in report_poll.changes} == {DocState.PICKED_UP}
    double.deliver(NOW)
    report_poll = outbox.poll(NOW)
    assert {c.new for c in report_poll.changes} == {DocState.CONFIRMED}
    assert report_poll.unmatched_results == ()
    assert all(state is DocState.CONFIRMED for state, _, _ in states(outbox).values())

    again = outbox.submit(period_documents(0, 1), NOW)  # idempotent: nothing is sent twice
    assert again.written == () and len(again.skipped) == 2
    assert src_files(folders) == []


def test_summary_results_confirm_too(engine: Engine, folders: TurnkeyFolders) -> None:
    double = TurnkeyDouble(folders, pack_dir=folders.pack_dirs[0], summary=True)
    outbox = TurnkeyOutbox(engine, folders)
    outbox.submit(period_documents(0), NOW)
    double.upcast(NOW)
    double.deliver(NOW)
    outbox.poll(NOW)
    assert [state for state, _, _ in states(outbox).values()] == [DocState.CONFIRMED]


def test_moved_to_err_is_retried(
    engine: Engine, folders: TurnkeyFolders, double: TurnkeyDouble
) -> None:
    outbox = TurnkeyOutbox(engine, folders, max_attempts=3)
    document = one_planned(outbox, double, ["err", "ok"])
    double.upcast(NOW)
    report = outbox.poll(NOW)
    assert report.retried == (document.file_name,)
    assert states(outbox)[document.file_name] == (DocState.WRITTEN, 2, "TURNKEY_ERR")
    assert src_files(folders) == [document.file_name]  # written again, same bytes
    assert (folders.src(E0402) / document.file_name).read_bytes() == document.xml
    err_names = [p.name for p in folders.err(E0402).rglob("*")]
    assert f"{document.file_name}.attempt1.failed" in err_names  # the failed copy set aside

    double.upcast(NOW)
    double.deliver(NOW)
    outbox.poll(NOW)
    assert states(outbox)[document.file_name] == (DocState.CONFIRMED, 2, None)


def test_rejections_are_retried_then_surfaced_with_their_code(
    engine: Engine, folders: TurnkeyFolders, double: TurnkeyDouble
) -> None:
    outbox = TurnkeyOutbox(engine, folders, max_attempts=2)
    document = one_planned(outbox, double, ["E0101", "E0101"])
    for attempt in (1, 2):
        double.upcast(NOW)
        double.deliver(NOW)
        report = outbox.poll(NOW)
        if attempt == 1:
            assert report.retried == (document.file_name,)
    assert [d.name for d in report.failed] == [document.file_name]
    assert report.failed[0].error_code == "E0101"
    assert "E0101" in report.failed[0].error_detail
    assert [d.error_code for d in outbox.failed()] == ["E0101"]
    assert src_files(folders) == []

    outbox.resend(document.file_name, NOW)  # a human decides to try once more
    assert states(outbox)[document.file_name] == (DocState.WRITTEN, 3, "E0101")
    double.upcast(NOW)
    double.deliver(NOW)
    outbox.poll(NOW)
    assert states(outbox)[document.file_name][0] is DocState.CONFIRMED


def test_duplicate_message_error_is_not_retried(
    engine: Engine, folders: TurnkeyFolders, double: TurnkeyDouble
) -> None:
    outbox = TurnkeyOutbox(engine, folders, max_attempts=5)
    document = one_planned(outbox, double, ["E0201"])
    double.upcast(NOW)
    double.deliver(NOW)
    report = outbox.poll(NOW)
    assert report.retried == ()
    assert states(outbox)[document.file_name] == (DocState.FAILED, 1, "E0201")


def test_a_key_is_never_sent_twice_without_a_correction(
    engine: Engine, folders: TurnkeyFolders, double: TurnkeyDouble
) -> None:
    outbox = TurnkeyOutbox(engine, folders)
    (first,) = period_documents(0)
    outbox.submit([first], NOW)
    double.upcast(NOW)

    changed = build_e0402(HQ, BRANCHES[0], InvoiceType.GENERAL, PERIOD, AB, RangeSet.single(0, 3))
    report = outbox.submit(changed, NOW)
    assert report.written == () and "revision 1" in report.refused[0][1]
    with pytest.raises(AlreadySent, match="never sent twice"):
        report.raise_if_refused()
    assert src_files(folders) == []

    revision = outbox.next_revision(first.key)
    assert revision == 1
    correction = build_e0402(
        HQ, BRANCHES[0], InvoiceType.GENERAL, PERIOD, AB, RangeSet.single(0, 3), revision=revision
    )
    assert outbox.submit(correction, NOW).written == (correction[0].file_name,)
    assert correction[0].file_name.endswith("_1of1_r1.xml")
    assert outbox.submit(correction, NOW).skipped == (correction[0].file_name,)
    assert outbox.next_revision(first.key) == 2


def test_a_file_lost_before_pickup_is_written_again(
    engine: Engine, folders: TurnkeyFolders
) -> None:
    outbox = TurnkeyOutbox(engine, folders)
    (document,) = period_documents(0)
    outbox.submit([document], NOW)
    (folders.src(E0402) / document.file_name).unlink()
    report = outbox.poll(NOW)
    assert report.restored == (document.file_name,)
    assert states(outbox)[document.file_name] == (DocState.WRITTEN, 1, None)
    assert src_files(folders) == [document.file_name]


def test_unmatched_and_unreadable_results_are_reported(
    engine: Engine, folders: TurnkeyFolders, double: TurnkeyDouble
) -> None:
    outbox = TurnkeyOutbox(engine, folders)
    outbox.submit(period_documents(0), NOW)
    folder = folders.results()[0]
    folder.mkdir(parents=True)
    bomb = folder / "bomb.xml"
    bomb.write_bytes(b'<!DOCTYPE a [<!ENTITY a "aaaa">]><a>&a;</a>')
    settled = time.time() - RESULT_SETTLE_SECONDS - 1  # unreadable, and no longer changing
    os.utime(bomb, (settled, settled))
    double.upcast(NOW)
    double.deliver(NOW)
    # A result about a message no file of ours was packed as (sent by some other program).
    foreign = Sent("other.xml", E0402, f"4.1-E0402-20260103-100000000-{uuid.uuid4()}", "ok", "9")
    (folder / "foreign.xml").write_bytes(process_result(foreign, str(HQ)))
    report = outbox.poll(NOW)
    assert [r.message_id for r in report.unmatched_results] == [foreign.message_id]
    assert {c.new for c in report.changes} == {DocState.CONFIRMED}
    assert [path for path, _ in report.unreadable] == [str(folder / "bomb.xml")]
    assert "DOCTYPE" in report.unreadable[0][1]
    assert outbox.poll(NOW).unreadable == ()  # each result file is read once


def test_a_result_file_still_being_written_is_read_when_complete(
    engine: Engine, folders: TurnkeyFolders, double: TurnkeyDouble
) -> None:
    """Turnkey writes a result in place: a poll that finds it half written must not give up on
    it (the document would never be confirmed), only read it again once it is whole."""
    outbox = TurnkeyOutbox(engine, folders)
    (document,) = period_documents(0)
    outbox.submit([document], NOW)
    double.upcast(NOW)
    double.deliver(NOW)
    (result,) = [p for d in folders.results() if d.is_dir() for p in d.rglob("*.xml")]
    whole = result.read_bytes()
    result.write_bytes(whole[: len(whole) // 2])  # caught in the middle of Turnkey's write
    report = outbox.poll(NOW)
    assert report.unreadable == ()
    assert states(outbox)[document.file_name][0] is DocState.PICKED_UP
    result.write_bytes(whole)
    report = outbox.poll(NOW)
    assert [(c.name, c.new) for c in report.changes] == [(document.file_name, DocState.CONFIRMED)]


def test_message_log_confirms_and_reports_error_codes(
    engine: Engine, folders: TurnkeyFolders, tmp_path: Path
) -> None:
    log_engine = create_engine(f"sqlite:///{tmp_path / 'turnkey.db'}")
    plain = TurnkeyFolders(folders.root)  # no pack folder: ids come from the log only
    double = TurnkeyDouble(plain, log=log_engine)
    outbox = TurnkeyOutbox(engine, plain, message_log=MessageLog(log_engine), max_attempts=1)
    good, bad = period_documents(0, 1)
    double.plan[bad.file_name] = ["E0301"]
    outbox.submit([good, bad], NOW)
    double.upcast(NOW)
    outbox.poll(NOW)
    assert {s for s, _, _ in states(outbox).values()} == {DocState.PICKED_UP}
    double.deliver(NOW, results=False)  # only the log says what happened
    report = outbox.poll(NOW)
    assert states(outbox)[good.file_name][0] is DocState.CONFIRMED
    assert states(outbox)[bad.file_name] == (DocState.FAILED, 1, "E0301")
    assert [d.name for d in report.failed] == [bad.file_name]


def test_message_log_by_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'turnkey.db'}"
    TurnkeyDouble(TurnkeyFolders(tmp_path), log=create_engine(url))
    assert MessageLog(url).entries(since=NOW) == []


def test_deadlines(engine: Engine, folders: TurnkeyFolders, double: TurnkeyDouble) -> None:
    outbox = TurnkeyOutbox(engine, folders, max_attempts=1)
    expected = expected_e0402_keys(HQ, InvoiceType.GENERAL, PERIOD, blanks_for(0, 1, 2))
    assert len(expected) == 3
    due = blank_reports_due(expected, outbox.documents(), NOW)
    assert [(d.branch_ban, d.status) for d in due] == [
        (BRANCHES[0], ReportStatus.NOT_SENT),
        (BRANCHES[1], ReportStatus.NOT_SENT),
        (BRANCHES[2], ReportStatus.NOT_SENT),
    ]
    assert due[0].deadline == datetime(2026, 1, 11, tzinfo=TAIPEI)
    assert due[0].days_left == 7 and not due[0].overdue  # 7 days 14 hours left

    documents = period_documents(0, 1)
    double.plan[documents[1].file_name] = ["E0101"]
    outbox.submit(documents, NOW)
    double.upcast(NOW)
    double.deliver(NOW)
    outbox.poll(NOW)
    later = datetime(2026, 1, 12, 9, 0, tzinfo=TAIPEI)
    due = blank_reports_due(expected, outbox.documents(message=E0402, period=PERIOD), later)
    assert due == outbox.blank_reports_due(expected, later)
    assert [(d.branch_ban, d.status, d.error_codes) for d in due] == [
        (BRANCHES[1], ReportStatus.FAILED, ("E0101",)),
        (BRANCHES[2], ReportStatus.NOT_SENT, ()),
    ]
    assert due[0].overdue and due[0].days_left == -2
    assert due[0].remaining == -timedelta(hours=33)


def test_now_defaults_to_the_clock(engine: Engine, folders: TurnkeyFolders) -> None:
    outbox = TurnkeyOutbox(engine, folders)
    outbox.submit(period_documents(0))
    (tracked,) = outbox.documents()
    assert datetime.now(UTC) - tracked.written_at < timedelta(minutes=1)
