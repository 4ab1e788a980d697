"""What this HQ replica can do now, told truthfully: its grpc.health.v1 statuses and the status
einv-admin shows (GetServerStatus), both from one `Readiness` read by one rule.

What SERVING means for each service name (deploy/README.md says the same for operators):
- "" (the whole server): the process runs and answers gRPC (liveness); NOT_SERVING only once it
  shuts down. A fenced or partitioned replica stays alive: restarting it would not help.
- "einvoice.v1.Read": reads answer here (the database answered the last probe). Every replica,
  a follower too, serves the reads of AdminService and BranchService (WatchConfig).
- "einvoice.v1.BranchService" and "einvoice.v1.AdminService": a write sent here commits now.
  The replica holds office (in cluster mode its etcd lease is alive, so etcd has a quorum), the
  fencing token in the database is still its own (not fenced), and the database answers. A
  follower is NOT_SERVING: its writes are refused UNAVAILABLE, naming the leader.
The server re-reads its readiness every EVERY_SECONDS (the lease itself lapses by the clock,
with no event to wait for) and changes a status, and logs it, only when it changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

import grpc
from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from hq_server import migrate
from hq_server.app import Hq
from hq_server.coordinator import EtcdSession
from hq_server.schema import leadership
from protos.einvoice.v1 import admin_pb2, branch_pb2
from runtime.errors import NotLeader
from runtime.health import HealthBoard, keep_updated

log = logging.getLogger("einv.hq.health")
SERVER = ""
READ_SERVICE = "einvoice.v1.Read"
BRANCH_SERVICE = branch_pb2.DESCRIPTOR.services_by_name["BranchService"].full_name
ADMIN_SERVICE = admin_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name
EVERY_SECONDS = 0.5
DB_PROBE_SECONDS = 2.0  # a database that has not answered by then counts as down


class ServerRole(StrEnum):
    SINGLE = "single"
    LEADER = "leader"
    FOLLOWER = "follower"


@dataclass(frozen=True, slots=True)
class StoredTerm:
    """What the database says: the term in office and the schema revision."""

    token: int | None
    holder: str | None
    revision: str | None


@dataclass(frozen=True, slots=True)
class Readiness:
    cluster: bool
    token: int | None  # this replica's own term, while its coordinator says it holds office
    leader: str | None  # the leader's address as this replica knows it
    etcd_ok: bool | None  # None: single mode, no etcd
    stored: StoredTerm | None  # None: the database did not answer
    db_error: str
    head: str  # the schema revision this code needs

    @property
    def role(self) -> ServerRole:
        if not self.cluster:
            return ServerRole.SINGLE
        return ServerRole.LEADER if self.token is not None else ServerRole.FOLLOWER

    @property
    def fenced(self) -> bool:
        """Another term is stored than the one this replica believes it holds."""
        stored = self.stored
        return self.token is not None and stored is not None and stored.token != self.token

    @property
    def reads(self) -> bool:
        return self.stored is not None

    @property
    def writes(self) -> bool:
        return self.reads and self.token is not None and not self.fenced

    def serving(self) -> dict[str, bool]:
        """Each health service name and whether it is SERVING (the rule of the docstring)."""
        return {
            SERVER: True,
            READ_SERVICE: self.reads,
            BRANCH_SERVICE: self.writes,
            ADMIN_SERVICE: self.writes,
        }

    def problems(self) -> list[str]:
        """Why the replica is not healthy or does not write, one line each ([]: all fine)."""
        found = []
        if self.stored is None:
            found.append(f"database: {self.db_error}")
        elif self.stored.revision != self.head:
            found.append(
                f"database schema at revision {self.stored.revision or 'none'}, this version "
                f"needs {self.head} (einv-hq db upgrade)"
            )
        if self.etcd_ok is False:
            found.append("etcd: no live lease (etcd unreachable or without quorum)")
        if self.fenced and self.stored is not None:
            found.append(
                f"fenced: the database names token {self.stored.token} of "
                f"{self.stored.holder}, not this replica's {self.token}"
            )
        if not self.cluster and self.token is None and self.stored is not None:
            found.append(  # LocalCoordinator.fenced: it never takes office back by itself
                f"not in office: the database names token {self.stored.token} of "
                f"{self.stored.holder} (another HQ process on this database?)"
            )
        elif self.leader is None:
            found.append("no leader known to this replica")
        return found

    @property
    def healthy(self) -> bool:
        """Fine as a member: a follower that knows its leader is healthy, a fenced one not."""
        return not self.problems()


async def readiness(
    hq: Hq, head: str | None = None, read: Callable[[], Awaitable[StoredTerm]] | None = None
) -> Readiness:
    """This replica now: its coordinator's view first, then the database's (so a term taken
    meanwhile by another replica shows as fenced, never the other way round). `head`: the
    schema revision this code needs, if known (reading the migration scripts costs)."""
    coordinator = hq.coordinator
    try:
        token: int | None = coordinator.token()
    except NotLeader:
        token = None
    cluster = isinstance(coordinator, EtcdSession)
    etcd_ok = coordinator.has_session() if isinstance(coordinator, EtcdSession) else None
    leader = coordinator.leader_address() if etcd_ok is not False else None
    stored, error = None, ""
    try:
        reading = read() if read is not None else hq.read(read_term)
        stored = await asyncio.wait_for(reading, DB_PROBE_SECONDS)
    except TimeoutError:
        error = f"no answer within {DB_PROBE_SECONDS:g} s"
    except SQLAlchemyError as failure:
        error = one_line(failure)
    if stored is not None and token is not None and stored.token != token:
        leader = stored.holder  # fenced: whoever took office since is the one to ask
    return Readiness(cluster, token, leader, etcd_ok, stored, error, head or migrate.head())


def read_term(conn: Connection) -> StoredTerm:
    row = conn.execute(select(leadership.c.fencing_token, leadership.c.holder)).first()
    token, holder = (row.fencing_token, row.holder) if row is not None else (None, None)
    return StoredTerm(token, holder, migrate.revision(conn))


def one_line(error: SQLAlchemyError) -> str:
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0][:300]


class ServerHealth:
    """The grpc.health.v1 service of one HQ server, kept to the replica's readiness."""

    def __init__(self, hq: Hq, every: float = EVERY_SECONDS) -> None:
        self.hq = hq
        self.every = every
        self.board = HealthBoard()
        self._head = migrate.head()
        self._reading: asyncio.Future[StoredTerm] | None = None

    def register(self, server: grpc.aio.Server) -> None:
        self.board.register(server)

    async def update(self) -> Readiness:
        """Read the readiness once and show it: the statuses that changed, and a log line."""
        now = await readiness(self.hq, self._head, self._read)
        if await self.board.show(now.serving()):
            problems = now.problems()
            level = logging.WARNING if problems else logging.INFO
            line = "health: writes %s, reads %s (%s: %s)"
            why = "; ".join(problems) or "all fine"
            log.log(level, line, _word(now.writes), _word(now.reads), now.role, why)
        return now

    def _read(self) -> Awaitable[StoredTerm]:
        """One database probe at a time: a database that hangs holds one worker thread, not
        one more every EVERY_SECONDS."""
        if self._reading is None or self._reading.done():
            self._reading = asyncio.ensure_future(self.hq.read(read_term))
            self._reading.add_done_callback(_retrieved)
        return asyncio.shield(self._reading)

    async def run(self) -> None:
        await keep_updated(self.update, self.every, log)

    async def shutdown(self) -> None:
        await self.board.shutdown()


def _retrieved(reading: asyncio.Future[StoredTerm]) -> None:
    """A probe given up on (timed out) may fail later: its error was already reported."""
    if not reading.cancelled():
        reading.exception()


def _word(ok: bool) -> str:
    return "SERVING" if ok else "NOT_SERVING"
