"""The tracker's SQL over the `mof_` tables (store.py), one function per question or change.

Each takes the connection of the caller's transaction, so the outbox decides what runs together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from mof_sync import store
from mof_sync.documents import MigDocument
from mof_sync.mig import MessageType
from mof_sync.results import TurnkeyResult
from mof_sync.tracking import DocState, Outcome, Prior, Step, TrackedDocument
from runtime.in_lists import in_batches


def priors(connection: Connection, labels: Sequence[str]) -> dict[str, list[Prior]]:
    """Per document key label, the documents already written for it."""
    found: dict[str, list[Prior]] = {}
    table = store.documents
    for batch in in_batches(labels):
        query = select(table.c.key, table.c.name, table.c.revision, table.c.sha256).where(
            table.c.key.in_(batch)
        )
        for key, name, revision, sha256 in connection.execute(query):
            found.setdefault(key, []).append(Prior(name, revision, sha256))
    return found


def add_documents(connection: Connection, documents: Sequence[MigDocument], now: datetime) -> None:
    connection.execute(insert(store.documents), [store.document_row(d, now) for d in documents])


def seen_result_files(connection: Connection, paths: Sequence[str]) -> set[str]:
    column = store.result_files.c.path
    return {
        row.path
        for batch in in_batches(paths)
        for row in connection.execute(select(column).where(column.in_(batch)))
    }


def add_results(
    connection: Connection,
    files: list[dict[str, Any]],
    results: Iterable[TurnkeyResult],
    now: datetime,
) -> None:
    """Result files read (with their problem, if any) and the results they held, once each."""
    if files:
        connection.execute(insert(store.result_files), files)
    rows = {(r.source, r.correlation): _result_row(r, now) for r in results}
    if rows:
        connection.execute(insert(store.results), list(rows.values()))


def known_correlations(connection: Connection) -> set[str]:
    return {row.correlation for row in connection.execute(select(store.message_ids))}


def add_message_ids(
    connection: Connection, rows: list[dict[str, Any]], latest: dict[str, str], now: datetime
) -> None:
    """Tie message ids to documents' attempts; `latest` is each document's newest id."""
    if rows:
        connection.execute(insert(store.message_ids), rows)
    for name, correlation in latest.items():
        connection.execute(
            update(store.documents)
            .where(store.documents.c.name == name)
            .values(turnkey_id=correlation, updated_at=now)
        )


def current_attempt_ids(connection: Connection, current: dict[str, int]) -> dict[str, str]:
    """Message id -> document name, for ids of each document's current attempt only."""
    ids: dict[str, str] = {}
    table = store.message_ids
    for batch in in_batches(list(current)):
        for row in connection.execute(select(table).where(table.c.document.in_(batch))):
            if current.get(row.document) == row.attempt:
                ids[row.correlation] = row.document
    return ids


def result_outcomes(connection: Connection, ids: dict[str, str]) -> dict[str, list[Outcome]]:
    """Per document name, the outcomes the recorded results say about its message ids."""
    outcomes: dict[str, list[Outcome]] = {}
    for batch in in_batches(list(ids)):
        query = select(store.results).where(store.results.c.correlation.in_(batch))
        for row in connection.execute(query):
            code = row.codes.split(",")[0] if row.codes else None
            outcomes.setdefault(ids[row.correlation], []).append(Outcome(row.ok, code, row.detail))
    return outcomes


def content(connection: Connection, name: str) -> bytes:
    query = select(store.documents.c.content).where(store.documents.c.name == name)
    return bytes(connection.execute(query).scalar_one())


def save_step(connection: Connection, document: TrackedDocument, step: Step, now: datetime) -> None:
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


def document(connection: Connection, name: str) -> TrackedDocument | None:
    row = connection.execute(select(store.documents).where(store.documents.c.name == name)).first()
    return None if row is None else store.tracked(row)


def documents(
    connection: Connection,
    message: MessageType | None,
    year_month: str | None,
    states: Sequence[DocState] | None,
) -> list[TrackedDocument]:
    table = store.documents
    query = select(table).order_by(table.c.name)
    if message is not None:
        query = query.where(table.c.message_type == message.value)
    if year_month is not None:
        query = query.where(table.c.year_month == year_month)
    if states is not None:
        query = query.where(table.c.state.in_([state.value for state in states]))
    return [store.tracked(row) for row in connection.execute(query)]


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
