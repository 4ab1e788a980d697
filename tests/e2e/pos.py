"""A POS load driver for the end-to-end tests: terminals that record what they received."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

import grpc

from allocator import InvoiceNumber
from protos.einvoice.v1 import pos_pb2, pos_pb2_grpc


@dataclass
class Tally:
    numbers: list[tuple[str, InvoiceNumber, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def terminal(address: str, name: str, calls: int, tally: Tally, pause: float = 0.0) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        pos = pos_pb2_grpc.PosServiceStub(channel)
        for _ in range(calls):
            try:
                reply = await pos.NextNumbers(
                    pos_pb2.NextNumbersRequest(count=1, terminal_id=name), timeout=10
                )
                tally.numbers.extend(
                    (name, InvoiceNumber.parse(n.invoice_number), n.year_month)
                    for n in reply.numbers
                )
            except grpc.aio.AioRpcError as error:
                tally.errors.append(f"{error.code().name}: {error.details()}")
            if pause:
                await asyncio.sleep(pause)


async def load(
    address: str, terminals: int, calls: int, pause: float = 0.0, prefix: str = "pos"
) -> Tally:
    tally = Tally()
    await asyncio.gather(
        *(terminal(address, f"{prefix}{i}", calls, tally, pause) for i in range(terminals))
    )
    return tally


def ascending_per_terminal(tally: Tally) -> bool:
    by_terminal: dict[str, list[InvoiceNumber]] = {}
    for name, number, _ in tally.numbers:
        by_terminal.setdefault(name, []).append(number)
    return all(all(a < b for a, b in itertools.pairwise(ns)) for ns in by_terminal.values())
