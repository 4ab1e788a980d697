"""The in-memory buffer: a mirror of the ledger's grants that only the writer changes.

Changes are copy-on-write (whole tuples and dicts are swapped), so the event loop can read a
consistent view (Status, refill decisions) while the writer's thread applies a batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from allocator import Holding, InvoiceNumber, InvoiceType, Period
from branch_agent.ledger.store import LedgerSnapshot
from branch_agent.model import AgentConfig, HeldGrant


class BufferState:
    def __init__(self, snapshot: LedgerSnapshot) -> None:
        self.reset(snapshot)

    def reset(self, snapshot: LedgerSnapshot) -> None:
        """Rebuild from the ledger: at start-up, and after a batch failed to commit."""
        self.grants: tuple[HeldGrant, ...] = snapshot.grants
        self.last_issued: Mapping[InvoiceType, InvoiceNumber] = dict(snapshot.last_issued)
        self.config: AgentConfig = snapshot.config
        self.issued_total: int = snapshot.issued_total

    # --- reads ---

    def find(self, grant_id: str) -> HeldGrant | None:
        return next((g for g in self.grants if g.grant_id == grant_id), None)

    def issuable(self, invoice_type: InvoiceType) -> list[Holding]:
        """Holdings `allocator.take` may use, in grant order: open and not in a disabled range."""
        config = self.config
        return [
            g.holding
            for g in self.grants
            if g.invoice_type is invoice_type
            and not g.final
            and not config.is_disabled(g.track_range)
        ]

    def queue(self, period: Period, invoice_type: InvoiceType) -> list[HeldGrant]:
        """The period's grants with numbers left, in the order they will be used."""
        config = self.config
        return [
            g
            for g in self.grants
            if g.period == period
            and g.invoice_type is invoice_type
            and not g.final
            and g.holding.remaining > 0
            and not config.is_disabled(g.track_range)
        ]

    def remaining(self, period: Period, invoice_type: InvoiceType) -> int:
        return sum(g.holding.remaining for g in self.queue(period, invoice_type))

    def ended(self, now: datetime) -> list[HeldGrant]:
        """Open grants of a period that is over by this clock: they must become final."""
        return [g for g in self.grants if not g.final and g.period.has_ended(now)]

    def next_seq(self) -> int:
        return max((g.seq for g in self.grants), default=0) + 1

    # --- changes (writer only) ---

    def set_cursors(self, cursors: Mapping[str, int]) -> None:
        self.grants = tuple(
            _moved(g, cursors[g.grant_id]) if g.grant_id in cursors else g for g in self.grants
        )

    def set_last_issued(self, invoice_type: InvoiceType, number: InvoiceNumber | None) -> None:
        last = dict(self.last_issued)
        if number is None:
            last.pop(invoice_type, None)
        else:
            last[invoice_type] = number
        self.last_issued = last

    def add(self, grant: HeldGrant) -> None:
        self.grants = (*self.grants, grant)

    def finalize(self, grant_id: str) -> None:
        self.grants = tuple(
            replace(g, final=True) if g.grant_id == grant_id else g for g in self.grants
        )


def _moved(grant: HeldGrant, next_number: int) -> HeldGrant:
    holding = replace(grant.holding, next_number=next_number)
    return replace(grant, holding=holding, high_water=max(grant.high_water, next_number))
