"""The tracked hand-off: writes documents into Turnkey's SRC folders and follows each one
through pickup, the platform's result, retries and failure, persisting everything in the
`mof_` tables. The decisions are the pure functions of `tracking`; this class does the I/O.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from allocator.errors import NotFound
from allocator.period import Period
from mof_sync import queries, store
from mof_sync.deadlines import BlankReportDue, blank_reports_due
from mof_sync.documents import DocumentKey, MigDocument
from mof_sync.errors import AlreadySent, MigError
from mof_sync.message_log import LogEntry, MessageLog, is_error_status
from mof_sync.mig import MessageType
from mof_sync.results import TurnkeyResult, read_result_file
from mof_sync.tracking import (
    DEFAULT_MAX_ATTEMPTS,
    OPEN_STATES,
    DocState,
    Outcome,
    Prior,
    Progress,
    Sighting,
    Step,
    TrackedDocument,
    Verdict,
    advance_all,
    decide_submission,
    events_for,
)
from mof_sync.turnkey import (
    FolderSnapshot,
    TurnkeyFolders,
    correlation_id,
    publish,
    result_files,
    set_aside,
    snapshot,
    stage,
    sync_directory,
    write_atomically,
)

# Files older than the oldest open document (less this margin) cannot be about it.
_RESULT_MARGIN = timedelta(days=1)
_STATUS_CODE = re.compile(r"E\d{4}")
# Turnkey writes its result files in place: one that does not parse yet and changed this
# recently is read again at the next poll instead of being recorded as unreadable for good.
RESULT_SETTLE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class SubmitReport:
    written: tuple[str, ...]
    skipped: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]  # (file name, reason)

    def raise_if_refused(self) -> None:
        if self.refused:
            raise AlreadySent("; ".join(f"{name}: {reason}" for name, reason in self.refused))


@dataclass(frozen=True, slots=True)
class Change:
    name: str
    old: DocState
    new: DocState
    attempts: int
    error_code: str | None


@dataclass(frozen=True, slots=True)
class PollReport:
    changes: tuple[Change, ...]
    retried: tuple[str, ...]  # written again for another attempt after a failure
    restored: tuple[str, ...]  # written again because the file vanished before pickup
    failed: tuple[TrackedDocument, ...]  # newly failed for good: surface them with the code
    unmatched_results: tuple[TurnkeyResult, ...]  # results of no document we know
    unreadable: tuple[tuple[str, str], ...]  # (result file, problem)


class TurnkeyOutbox:
    """Hands documents to Turnkey and tracks them; one per Turnkey data root."""

    def __init__(
        self,
        engine: Engine,
        folders: TurnkeyFolders,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        message_log: MessageLog | None = None,
    ) -> None:
        """`engine`'s database holds the mof_ tables (the HQ's migrations create them)."""
        if max_attempts < 1:
            raise ValueError(f"max_attempts {max_attempts} must be at least 1")
        self.engine = engine
        self.folders = folders
        self.max_attempts = max_attempts
        self.message_log = message_log

    # -- handing over ------------------------------------------------------------------------

    def submit(self, documents: Iterable[MigDocument], now: datetime | None = None) -> SubmitReport:
        """Write new documents into SRC; the same ones again are skipped, changed ones refused.

        All parts of a key's revision must come in one call. A correction is the next revision
        of the key (see `next_revision`).
        """
        now = store.utc(now or datetime.now(UTC))
        groups: dict[str, list[MigDocument]] = {}
        for document in documents:
            groups.setdefault(document.key.label(), []).append(document)
        prior = self._prior(list(groups))
        written: list[MigDocument] = []
        skipped: list[str] = []
        refused: list[tuple[str, str]] = []
        for label, group in sorted(groups.items()):
            group.sort(key=lambda document: document.part)
            verdict, reason = decide_submission(group, prior.get(label, []))
            names = [document.file_name for document in group]
            if verdict is Verdict.WRITE:
                written.extend(group)
            elif verdict is Verdict.SKIP:
                skipped.extend(names)
            else:
                refused.extend((name, reason) for name in names)
        self._write_new(written, now)
        return SubmitReport(
            tuple(document.file_name for document in written), tuple(skipped), tuple(refused)
        )

    def _prior(self, labels: Sequence[str]) -> dict[str, list[Prior]]:
        with self.engine.connect() as connection:
            return queries.priors(connection, labels)

    def _write_new(self, documents: Sequence[MigDocument], now: datetime) -> None:
        """Stage every file (fsynced), record the rows, then rename the files into place.

        A crash before the commit leaves only hidden temporaries; a crash after it leaves rows
        whose files are missing, which `poll` writes again (the `vanished` event).
        """
        if not documents:
            return
        staged: list[tuple[Path, str]] = []
        try:
            for document in documents:
                src = self.folders.src(document.key.message)
                staged.append((stage(src, document.file_name, document.xml), document.file_name))
            with self.engine.begin() as connection:
                queries.add_documents(connection, documents, now)
        except BaseException:
            for temporary, _ in staged:
                temporary.unlink(missing_ok=True)
            raise
        for temporary, name in staged:
            publish(temporary, name)
        for directory in {temporary.parent for temporary, _ in staged}:
            sync_directory(directory)

    # -- following up ------------------------------------------------------------------------

    def poll(self, now: datetime | None = None) -> PollReport:
        """Look at Turnkey's folders, results and (if configured) message log; move states on,
        retry failures and report what changed."""
        now = store.utc(now or datetime.now(UTC))
        open_documents = self.documents(states=OPEN_STATES)
        if not open_documents:
            return PollReport((), (), (), (), (), ())
        oldest = min(document.written_at for document in open_documents)
        new_results, unreadable = self._read_results(oldest - _RESULT_MARGIN, now)
        log = self.message_log.entries(since=oldest - _RESULT_MARGIN) if self.message_log else []
        messages = {document.key.message for document in open_documents}
        snapshots = {message: snapshot(self.folders, message) for message in messages}
        with self.engine.begin() as connection:
            rows, latest = new_message_ids(
                open_documents, names_to_ids(log, snapshots), queries.known_correlations(connection)
            )
            queries.add_message_ids(connection, rows, latest, now)
            outcomes = self._outcomes(connection, open_documents, log)
            report = self._advance(connection, open_documents, snapshots, outcomes, now)
            known = queries.known_correlations(connection)
        unmatched = tuple(result for result in new_results if result.correlation not in known)
        return PollReport(*report, unmatched, tuple(unreadable))

    def _read_results(
        self, since: datetime, now: datetime
    ) -> tuple[list[TurnkeyResult], list[tuple[str, str]]]:
        """Parse result files not seen before; record them, readable or not, once."""
        candidates = [
            path
            for path in result_files(self.folders)
            if datetime.fromtimestamp(path.stat().st_mtime, UTC) >= since
        ]
        if not candidates:
            return [], []
        with self.engine.connect() as connection:
            seen = queries.seen_result_files(connection, [str(path) for path in candidates])
        parsed: list[TurnkeyResult] = []
        problems: list[tuple[str, str]] = []
        files: list[dict[str, Any]] = []
        for path in candidates:
            if str(path) in seen:
                continue
            try:
                found = read_result_file(path)
            except (MigError, OSError) as error:
                if _maybe_half_written(path):
                    continue  # Turnkey may still be writing it: read it again next poll
                problems.append((str(path), str(error)))
                files.append({"path": str(path), "problem": str(error), "seen_at": now})
                continue
            parsed.extend(found)
            files.append({"path": str(path), "problem": "", "seen_at": now})
        with self.engine.begin() as connection:
            queries.add_results(connection, files, parsed, now)
        return parsed, problems

    def _outcomes(
        self,
        connection: Connection,
        open_documents: Sequence[TrackedDocument],
        log: Sequence[LogEntry],
    ) -> dict[str, list[Outcome]]:
        """Results and log statuses about each open document's current attempt."""
        current = {document.name: document.attempts for document in open_documents}
        ids = queries.current_attempt_ids(connection, current)
        outcomes = queries.result_outcomes(connection, ids)
        for entry in log:
            if entry.correlation in ids:
                outcomes.setdefault(ids[entry.correlation], []).append(_log_outcome(entry))
        return outcomes

    def _advance(
        self,
        connection: Connection,
        open_documents: Sequence[TrackedDocument],
        snapshots: dict[MessageType, FolderSnapshot],
        outcomes: dict[str, list[Outcome]],
        now: datetime,
    ) -> tuple[tuple[Change, ...], tuple[str, ...], tuple[str, ...], tuple[TrackedDocument, ...]]:
        changes: list[Change] = []
        retried: list[str] = []
        restored: list[str] = []
        failed: list[TrackedDocument] = []
        for document in open_documents:
            seen = snapshots[document.key.message]
            sighting = Sighting(
                document.name in seen.src,
                document.name in seen.bak,
                document.name in seen.err,
                tuple(outcomes.get(document.name, ())),
            )
            step = advance_all(document.progress, events_for(sighting), self.max_attempts)
            if step.progress == document.progress and not step.rewrite:
                continue
            if step.rewrite:
                self._rewrite(connection, document, seen)
                new_attempt = step.progress.attempts != document.attempts
                (retried if new_attempt else restored).append(document.name)
            queries.save_step(connection, document, step, now)
            if step.progress.state is not document.state:
                changes.append(
                    Change(
                        document.name,
                        document.state,
                        step.progress.state,
                        step.progress.attempts,
                        step.progress.error_code,
                    )
                )
            if step.progress.state is DocState.FAILED:
                failed.append(_found(queries.document(connection, document.name), document.name))
        return tuple(changes), tuple(retried), tuple(restored), tuple(failed)

    def _rewrite(
        self, connection: Connection, document: TrackedDocument, seen: FolderSnapshot
    ) -> None:
        failed_copy = seen.err.get(document.name)
        if failed_copy is not None and failed_copy.exists():
            set_aside(failed_copy, document.attempts)
        data = queries.content(connection, document.name)
        write_atomically(self.folders.src(document.key.message), document.name, data)

    # -- asking --------------------------------------------------------------------------------

    def documents(
        self,
        *,
        message: MessageType | None = None,
        period: Period | None = None,
        states: Sequence[DocState] | None = None,
    ) -> list[TrackedDocument]:
        year_month = None if period is None else period.to_year_month()
        with self.engine.connect() as connection:
            return queries.documents(connection, message, year_month, states)

    def failed(self) -> list[TrackedDocument]:
        """Documents that failed for good, with their error codes: for a human."""
        return self.documents(states=(DocState.FAILED,))

    def blank_reports_due(
        self, expected: Iterable[DocumentKey], now: datetime | None = None
    ) -> list[BlankReportDue]:
        """`deadlines.blank_reports_due` over this outbox's E0402s."""
        documents = self.documents(message=MessageType.E0402)
        return blank_reports_due(expected, documents, now or datetime.now(UTC))

    def next_revision(self, key: DocumentKey) -> int:
        """The revision a correction of `key` must carry (0 when nothing was sent yet)."""
        revisions = [item.revision for item in self._prior([key.label()]).get(key.label(), [])]
        return max(revisions, default=-1) + 1

    def resend(self, name: str, now: datetime | None = None) -> None:
        """A human's explicit retry of a failed document (e.g. after fixing Turnkey's setup)."""
        now = store.utc(now or datetime.now(UTC))
        with self.engine.begin() as connection:
            document = _found(queries.document(connection, name), name)
            if document.state is not DocState.FAILED:
                raise AlreadySent(f"{name} is {document.state.value}, only failed ones are resent")
            again = Progress(
                DocState.WRITTEN, document.attempts + 1, document.error_code, document.error_detail
            )
            self._rewrite(connection, document, snapshot(self.folders, document.key.message))
            queries.save_step(connection, document, Step(again, rewrite=True), now)


def _maybe_half_written(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime < RESULT_SETTLE_SECONDS
    except OSError:
        return False  # gone meanwhile: what it was is recorded, once


def _found(document: TrackedDocument | None, name: str) -> TrackedDocument:
    if document is None:
        raise NotFound(f"report {name!r}: no such document (einv-admin report-list)")
    return document


def names_to_ids(
    log: Sequence[LogEntry], snapshots: dict[MessageType, FolderSnapshot]
) -> dict[str, set[str]]:
    """Per file name, the Turnkey message ids its log entries and packed file names carry."""
    by_name: dict[str, set[str]] = {}
    for entry in log:
        by_name.setdefault(entry.file_name, set()).add(entry.correlation)
    for seen in snapshots.values():
        for name, ids in seen.message_ids.items():
            by_name.setdefault(name, set()).update(correlation_id(i) for i in ids)
    return by_name


def new_message_ids(
    open_documents: Sequence[TrackedDocument], by_name: dict[str, set[str]], known: set[str]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The message ids to tie to each open document's current attempt, and its newest one.

    An id seen before belongs to the attempt it was first seen with and is not reassigned.
    """
    known = set(known)
    rows: list[dict[str, Any]] = []
    latest: dict[str, str] = {}
    for document in open_documents:
        for correlation in sorted(by_name.get(document.name, set()) - known):
            rows.append(
                {
                    "correlation": correlation,
                    "document": document.name,
                    "attempt": document.attempts,
                }
            )
            known.add(correlation)
            latest[document.name] = correlation
    return rows, latest


def _log_outcome(entry: LogEntry) -> Outcome:
    if entry.status == "C":
        return Outcome(True)
    if is_error_status(entry.status):
        code = entry.error_code
        if code is None:
            match = _STATUS_CODE.search(entry.status)
            code = match.group(0) if match else f"STATUS_{entry.status}"
        return Outcome(False, code, f"Turnkey message log status {entry.status}")
    return Outcome(None)
