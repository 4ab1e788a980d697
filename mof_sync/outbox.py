"""The tracked hand-off: writes documents into Turnkey's SRC folders and follows each one
through pickup, the platform's result, retries and failure, persisting everything in the
`mof_` tables. The decisions are the pure functions of `tracking`; this class does the I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update

from allocator.errors import NotFound
from allocator.period import Period
from mof_sync import store
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
_BATCH = 500


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
        found: dict[str, list[Prior]] = {}
        table = store.documents
        with self.engine.connect() as connection:
            for batch in _batches(labels):
                query = select(table.c.key, table.c.name, table.c.revision, table.c.sha256).where(
                    table.c.key.in_(batch)
                )
                for key, name, revision, sha256 in connection.execute(query):
                    found.setdefault(key, []).append(Prior(name, revision, sha256))
        return found

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
                connection.execute(
                    insert(store.documents), [store.document_row(d, now) for d in documents]
                )
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
            self._learn_ids(connection, open_documents, snapshots, log, now)
            outcomes = self._outcomes(connection, open_documents, log)
            report = self._advance(connection, open_documents, snapshots, outcomes, now)
            known = {row.correlation for row in connection.execute(select(store.message_ids))}
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
        column = store.result_files.c.path
        with self.engine.connect() as connection:
            seen = {
                row.path
                for batch in _batches([str(path) for path in candidates])
                for row in connection.execute(select(column).where(column.in_(batch)))
            }
        parsed: list[TurnkeyResult] = []
        problems: list[tuple[str, str]] = []
        files: list[dict[str, Any]] = []
        for path in candidates:
            if str(path) in seen:
                continue
            try:
                found = read_result_file(path)
            except (MigError, OSError) as error:
                problems.append((str(path), str(error)))
                files.append({"path": str(path), "problem": str(error), "seen_at": now})
                continue
            parsed.extend(found)
            files.append({"path": str(path), "problem": "", "seen_at": now})
        with self.engine.begin() as connection:
            if files:
                connection.execute(insert(store.result_files), files)
            rows = {(r.source, r.correlation): _result_row(r, now) for r in parsed}
            if rows:
                connection.execute(insert(store.results), list(rows.values()))
        return parsed, problems

    def _learn_ids(
        self,
        connection: Any,
        open_documents: Sequence[TrackedDocument],
        snapshots: dict[MessageType, FolderSnapshot],
        log: Sequence[LogEntry],
        now: datetime,
    ) -> None:
        """Tie new Turnkey message ids (from packed file names or the log) to current attempts.

        An id seen before belongs to the attempt it was first seen with and is not reassigned.
        """
        by_name: dict[str, set[str]] = {}
        for entry in log:
            by_name.setdefault(entry.file_name, set()).add(entry.correlation)
        for seen in snapshots.values():
            for name, ids in seen.message_ids.items():
                by_name.setdefault(name, set()).update(_correlations(ids))
        known = {row.correlation for row in connection.execute(select(store.message_ids))}
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
        if rows:
            connection.execute(insert(store.message_ids), rows)
        for name, correlation in latest.items():
            connection.execute(
                update(store.documents)
                .where(store.documents.c.name == name)
                .values(turnkey_id=correlation, updated_at=now)
            )

    def _outcomes(
        self,
        connection: Any,
        open_documents: Sequence[TrackedDocument],
        log: Sequence[LogEntry],
    ) -> dict[str, list[Outcome]]:
        """Results and log statuses about each open document's current attempt."""
        current = {document.name: document.attempts for document in open_documents}
        ids: dict[str, str] = {}
        table = store.message_ids
        for batch in _batches(list(current)):
            for row in connection.execute(select(table).where(table.c.document.in_(batch))):
                if current.get(row.document) == row.attempt:
                    ids[row.correlation] = row.document
        outcomes: dict[str, list[Outcome]] = {}
        for batch in _batches(list(ids)):
            query = select(store.results).where(store.results.c.correlation.in_(batch))
            for row in connection.execute(query):
                code = row.codes.split(",")[0] if row.codes else None
                outcomes.setdefault(ids[row.correlation], []).append(
                    Outcome(row.ok, code, row.detail)
                )
        for entry in log:
            if entry.correlation in ids:
                outcomes.setdefault(ids[entry.correlation], []).append(_log_outcome(entry))
        return outcomes

    def _advance(
        self,
        connection: Any,
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
                self._rewrite(connection, document, seen, step)
                new_attempt = step.progress.attempts != document.attempts
                (retried if new_attempt else restored).append(document.name)
            self._save(connection, document, step, now)
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
                failed.append(self._reload(connection, document.name))
        return tuple(changes), tuple(retried), tuple(restored), tuple(failed)

    def _rewrite(
        self, connection: Any, document: TrackedDocument, seen: FolderSnapshot, step: Step
    ) -> None:
        failed_copy = seen.err.get(document.name)
        if failed_copy is not None and failed_copy.exists():
            set_aside(failed_copy, document.attempts)
        content = connection.execute(
            select(store.documents.c.content).where(store.documents.c.name == document.name)
        ).scalar_one()
        write_atomically(self.folders.src(document.key.message), document.name, content)

    def _save(self, connection: Any, document: TrackedDocument, step: Step, now: datetime) -> None:
        values: dict[str, Any] = {
            "state": step.progress.state.value,
            "attempts": step.progress.attempts,
            "error_code": step.progress.error_code,
            "error_detail": step.progress.error_detail,
            "updated_at": now,
        }
        if step.progress.attempts != document.attempts:
            values["turnkey_id"] = None  # the new attempt gets its own message id
        connection.execute(
            update(store.documents).where(store.documents.c.name == document.name).values(values)
        )

    def _reload(self, connection: Any, name: str) -> TrackedDocument:
        row = connection.execute(
            select(store.documents).where(store.documents.c.name == name)
        ).one()
        return store.tracked(row)

    # -- asking --------------------------------------------------------------------------------

    def documents(
        self,
        *,
        message: MessageType | None = None,
        period: Period | None = None,
        states: Sequence[DocState] | None = None,
    ) -> list[TrackedDocument]:
        table = store.documents
        query = select(table).order_by(table.c.name)
        if message is not None:
            query = query.where(table.c.message_type == message.value)
        if period is not None:
            query = query.where(table.c.year_month == period.to_year_month())
        if states is not None:
            query = query.where(table.c.state.in_([state.value for state in states]))
        with self.engine.connect() as connection:
            return [store.tracked(row) for row in connection.execute(query)]

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
            row = connection.execute(
                select(store.documents).where(store.documents.c.name == name)
            ).first()
            if row is None:
                raise NotFound(f"report {name!r}: no such document (einv-admin report-list)")
            document = store.tracked(row)
            if document.state is not DocState.FAILED:
                raise AlreadySent(f"{name} is {document.state.value}, only failed ones are resent")
            seen = snapshot(self.folders, document.key.message)
            again = Progress(
                DocState.WRITTEN, document.attempts + 1, document.error_code, document.error_detail
            )
            step = Step(again, rewrite=True)
            self._rewrite(connection, document, seen, step)
            self._save(connection, document, step, now)


def _batches(values: Sequence[str]) -> list[Sequence[str]]:
    """Bounded IN lists: SQLite and PostgreSQL cap the parameters of one statement."""
    return [values[start : start + _BATCH] for start in range(0, len(values), _BATCH)]


def _correlations(message_ids: Iterable[str]) -> set[str]:
    return {correlation_id(message_id) for message_id in message_ids}


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


def _result_row(result: TurnkeyResult, now: datetime) -> dict[str, Any]:
    return {
        "source": result.source,
        "correlation": result.correlation,
        "message_id": result.message_id,
        "ok": result.ok,
        "codes": ",".join(result.codes),
        "detail": result.detail,
        "seen_at": now,
    }
