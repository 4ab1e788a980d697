"""What the notifier needs of the HQ, as ports: the HQ server passes its own implementations
(hq_server.alert_state, its Store and Coordinator), so the notifier imports no HQ module."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import Connection

from allocator import PoolKey
from notifier.model import ReportStatus, Snapshot

T = TypeVar("T")


class HqState(Protocol):
    """The HQ's state as the rules read it, inside the evaluation's transaction."""

    def snapshot(self, conn: Connection, now: datetime) -> Snapshot: ...

    def branch_emails(self, conn: Connection, ban: str) -> list[str]:
        """The addresses stored for a branch; LookupError (saying why) when there are none
        to read: the branch is not registered, or its stored list cannot be read."""
        ...


class ReportTracker(Protocol):
    """The E0402 status of one pool, read inside the evaluator's transaction."""

    def blank_report_status(self, conn: Connection, pool: PoolKey) -> ReportStatus: ...


class Database(Protocol):
    """The HQ store's fenced writes (Store.write)."""

    async def write(self, token: int, work: Callable[[Connection], T]) -> T: ...


class Leadership(Protocol):
    """The HQ coordinator: the fencing token while leading, NotLeader otherwise."""

    def token(self) -> int: ...
