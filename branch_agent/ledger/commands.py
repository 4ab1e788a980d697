"""The changes the writer applies, each to the in-memory buffer and the ledger in one step.

Every command runs in the writer's thread inside the batch transaction (its own savepoint; the
POS calls of a batch share one, `NextNumbers.apply_all`). A refused command changes nothing; if
the transaction fails, the writer rebuilds `BufferState` from the ledger.
The rules come from `allocator.buffer`: `take` for new numbers, `rewind_on_give_back`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from allocator import (
    DomainError,
    Holding,
    InvalidInput,
    InvoiceNumber,
    InvoiceType,
    NumberRange,
    Refused,
    require_handed_to,
    rewind_on_give_back,
    skipped_at_close,
    take,
)
from branch_agent.buffer.state import BufferState
from branch_agent.ledger.store import PosRequestRow, Tx
from branch_agent.ledger.tx import HandedRows
from branch_agent.model import AgentConfig, GiveBackOutcome, GrantRecord, HandedOut, HeldGrant

AGENT_TERMINAL = "agent"


class Command(Protocol):
    def apply(self, state: BufferState, tx: Tx, now: datetime) -> Any: ...


@dataclass(frozen=True, slots=True)
class NextNumbers:
    """Hand out `count` numbers; with a request id, a retry gets the same numbers back."""

    count: int
    invoice_type: InvoiceType
    terminal_id: str = ""
    request_id: str = ""

    def apply(self, state: BufferState, tx: Tx, now: datetime) -> HandedOut:
        (outcome,) = NextNumbers.apply_all(state, tx, now, [self])
        if isinstance(outcome, DomainError):
            raise outcome
        return outcome

    @staticmethod
    def apply_all(
        state: BufferState, tx: Tx, now: datetime, calls: Sequence[NextNumbers]
    ) -> list[HandedOut | DomainError]:
        """The POS calls of one batch together: each decided in turn against the buffer (a
        refused one changes nothing), their rows written with one statement per table."""
        answered = tx.find_pos_requests([c.request_id for c in calls if c.request_id])
        handed: list[HandedRows] = []
        cursors: dict[str, int] = {}
        outcomes: list[HandedOut | DomainError] = []
        for call in calls:
            try:
                outcomes.append(call._hand_out(state, now, answered, handed, cursors))
            except DomainError as error:
                outcomes.append(error)
        if handed:
            tx.insert_issued(handed, now)
            for grant_id, cursor in cursors.items():
                tx.set_cursor(grant_id, cursor, max(_held(state, grant_id).high_water, cursor))
            tx.insert_pos_requests(handed, now)
        return outcomes

    def _hand_out(
        self,
        state: BufferState,
        now: datetime,
        answered: dict[str, PosRequestRow],
        handed: list[HandedRows],
        cursors: dict[str, int],
    ) -> HandedOut:
        """Takes the numbers from the buffer; the ledger rows go to `handed` and `cursors`. If
        writing them fails, the whole batch fails and the writer reloads the buffer."""
        if self.request_id in answered:
            return self._replay(answered[self.request_id])
        issued, moved = take(state.issuable(self.invoice_type), self.count, now, self.invoice_type)
        state.set_cursors(moved)
        state.set_last_issued(self.invoice_type, issued[-1].number)
        state.issued_total += len(issued)
        cursors.update(moved)
        handed.append(HandedRows(issued, self.terminal_id, self.request_id))
        numbers = tuple(item.number for item in issued)
        if self.request_id:  # the same id twice in one batch: the second is a retry
            answered[self.request_id] = PosRequestRow(
                self.terminal_id, self.invoice_type, self.count, issued[0].period, numbers
            )
        return HandedOut(issued[0].period, self.invoice_type, numbers)

    def _replay(self, prior: PosRequestRow) -> HandedOut:
        if prior.count != self.count or prior.invoice_type is not self.invoice_type:
            raise InvalidInput(
                f"request id {self.request_id!r} was already used for {prior.count} numbers of "
                f"type {prior.invoice_type.value}; a retry must ask for the same"
            )
        return HandedOut(prior.period, prior.invoice_type, prior.numbers, replayed=True)


@dataclass(frozen=True, slots=True)
class GiveBack:
    """A number a POS did not use: re-used if nothing after it was issued, else skipped."""

    number: InvoiceNumber
    terminal_id: str = ""

    def apply(self, state: BufferState, tx: Tx, now: datetime) -> GiveBackOutcome:
        row = tx.find_issued(self.number)
        if row is None:
            raise Refused(
                f"invoice number {self.number} is not out with a POS: this agent never issued "
                "it, or it was already given back"
            )
        require_handed_to(self.number, row.terminal_id, self.terminal_id)
        grant = _held(state, row.grant_id)
        last = state.last_issued.get(row.invoice_type)
        rewound = _rewound(grant, self.number, last)
        tx.remove_issued(row)
        if rewound is not None:
            tx.set_cursor(grant.grant_id, rewound.next_number, grant.high_water)
            outcome = GiveBackOutcome.REUSED
        else:
            single = NumberRange(self.number.number, self.number.number)
            tx.add_skipped(grant, single, self.terminal_id, now)
            outcome = GiveBackOutcome.SKIPPED
        tx.log_give_back(row, self.terminal_id, outcome.value, now)
        new_last = tx.last_issued(row.invoice_type)
        if rewound is not None:
            state.set_cursors({grant.grant_id: rewound.next_number})
        state.set_last_issued(row.invoice_type, new_last)
        state.issued_total -= 1
        return outcome


def _rewound(grant: HeldGrant, number: InvoiceNumber, last: InvoiceNumber | None) -> Holding | None:
    # A closed grant's numbers can never be issued again: whatever comes back is skipped.
    if grant.final or last is None:
        return None
    return rewind_on_give_back(grant.holding, number.number, last)


@dataclass(frozen=True, slots=True)
class AddGrant:
    """Take a grant HQ sent into the buffer and forget its pending request, atomically."""

    grant: GrantRecord

    def apply(self, state: BufferState, tx: Tx, now: datetime) -> bool:
        grant = self.grant
        if tx.has_grant(grant.grant_id):
            tx.drop_pending_request(grant.request_id)
            return False
        _refuse_overlap(state, grant)
        seq = state.next_seq()
        tx.insert_grant(grant, seq)
        tx.drop_pending_request(grant.request_id)
        begin = grant.track_range.range.begin
        holding = Holding(
            grant.grant_id, grant.period, grant.invoice_type, grant.track_range, begin
        )
        state.add(HeldGrant(holding, seq, begin))
        return True


def _refuse_overlap(state: BufferState, grant: GrantRecord) -> None:
    """A grant overlapping one held would mean duplicate numbers: never take it in."""
    for held in state.grants:
        same_track = held.track_range.track == grant.track_range.track
        if (
            held.period == grant.period
            and same_track
            and held.track_range.range.overlaps(grant.track_range.range)
        ):
            raise Refused(
                f"grant {grant.grant_id} ({grant.track_range}) overlaps grant {held.grant_id} "
                f"({held.track_range}) already held"
            )


@dataclass(frozen=True, slots=True)
class FinalizeEnded:
    """Close the grants of every period that has ended by the agent's clock."""

    def apply(self, state: BufferState, tx: Tx, now: datetime) -> list[str]:
        closed: list[str] = []
        for grant in state.ended(now):
            unused = skipped_at_close(grant.holding.next_number, grant.high_water)
            if unused is not None:
                tx.add_skipped(grant, unused, AGENT_TERMINAL, now)
            tx.set_final(grant.grant_id)
            closed.append(grant.grant_id)
        for grant_id in closed:
            state.finalize(grant_id)
        return closed


@dataclass(frozen=True, slots=True)
class SetConfig:
    """HQ's configuration, kept so disabled ranges hold even before HQ is reachable again."""

    config: AgentConfig

    def apply(self, state: BufferState, tx: Tx, now: datetime) -> bool:
        if self.config.version < state.config.version or self.config == state.config:
            return False
        tx.save_config(self.config, now)
        state.config = self.config
        return True


@dataclass(frozen=True, slots=True)
class MarkDisabled:
    """HQ refused the branch as disabled: refill nothing until a new configuration says so."""

    def apply(self, state: BufferState, tx: Tx, now: datetime) -> bool:
        if not state.config.enabled:
            return False
        return SetConfig(replace(state.config, enabled=False)).apply(state, tx, now)


def _held(state: BufferState, grant_id: str) -> HeldGrant:
    grant = state.find(grant_id)
    if grant is None:
        raise RuntimeError(f"grant {grant_id} is in the ledger but not in the buffer")
    return grant
