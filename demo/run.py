"""The demo: one HQ on SQLite, three stores, POS traffic across a period rollover.

It runs real processes on loopback on a fast simulated clock shared by all of them, prints a
table per branch and exits 0 only if no invoice number was issued twice, every branch's numbers
were ascending, no number of the old period was handed out after it ended, and the HQ's
reconciliation (assigned = issued + blank + held) holds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import grpc
from rich.console import Console
from rich.table import Table

from admin_cli.client import Admin
from allocator import TAIPEI, InvoiceNumber, Period
from demo.procs import Proc, agent_args, free_port, hq_args, running, sim_args
from demo.trust import Certs
from protos.einvoice.v1 import admin_pb2, common_pb2, pos_pb2, pos_pb2_grpc
from runtime.clock import SimulatedClock

HEAD_BAN = "22099131"
GENERAL = common_pb2.INVOICE_TYPE_GENERAL
OLD, NEW = "11512", "11602"
# (BAN, name, booklets per request, booklets per period, POS terminals, think time in seconds)
STORES = (
    ("04595257", "Taipei Main St.", 8, 400, 4, 0.010),
    ("12345675", "Taichung Station", 16, 800, 8, 0.005),
    ("10458575", "Kaohsiung Harbour", 4, 160, 2, 0.020),
)
SIM_START = datetime(2026, 12, 31, 23, 58, 0, tzinfo=TAIPEI)
SIM_SPEED = 8.0
TRAFFIC_UNTIL = SIM_START + timedelta(minutes=3)  # one minute into the new period
console = Console(width=120)


@dataclass
class Received:
    """What the POS terminals of one store got, in the order they got it."""

    numbers: list[tuple[float, InvoiceNumber, str, str]] = field(default_factory=list)
    given_back: int = 0
    reused: int = 0
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def forget(self, number: InvoiceNumber, terminal_id: str) -> None:
        """A number this terminal gave back, which the agent will hand out again. Its own entry
        goes, not the store's last: another terminal's number may have come in meanwhile (the
        agent can even hand this one out again before the give-back's reply arrives)."""
        for index in range(len(self.numbers) - 1, -1, -1):
            if self.numbers[index][1] == number and self.numbers[index][3] == terminal_id:
                del self.numbers[index]
                return
        raise AssertionError(f"{terminal_id} gave back {number}, which it was not handed")


def add_pool(admin: Admin, year_month: str, track: str, begin: int, end: int) -> None:
    """A range of general invoices' numbers for HQ to grant, as an MOF import would add it."""
    admin.call(
        "AddAssignment",
        admin_pb2.AddAssignmentRequest(
            year_month=year_month,
            invoice_type=GENERAL,
            range=common_pb2.TrackRange(track=track, begin=begin, end=end),
        ),
    )


def add_branch(
    admin: Admin,
    ban: str,
    name: str,
    per_request: int,
    per_period: int,
    *,
    low_water: int,
    low_water_minutes: float,
    min_booklets: int = 1,
) -> None:
    """A store whose agent refills by at most one request's booklets at a time."""
    admin.call(
        "AddBranch",
        admin_pb2.AddBranchRequest(
            ban=ban,
            name=name,
            quota=common_pb2.Quota(
                booklets_per_request=per_request, booklets_per_period=per_period
            ),
            refill=common_pb2.RefillSettings(
                low_water_count=low_water,
                low_water_minutes=low_water_minutes,
                min_booklets=min_booklets,
                max_booklets=per_request,
            ),
        ),
    )


def setup_hq(admin: Admin) -> None:
    for ym, track in ((OLD, "AB"), (OLD, "CD"), (NEW, "EF"), (NEW, "GH")):
        add_pool(admin, ym, track, 0, 99_999)
    for ban, name, per_request, per_period, _, _ in STORES:
        add_branch(admin, ban, name, per_request, per_period, low_water=60, low_water_minutes=0.5)


async def terminal(
    address: str,
    clock: SimulatedClock,
    got: Received,
    pause: float,
    terminal_id: str,
    rng: random.Random,
) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        pos = pos_pb2_grpc.PosServiceStub(channel)
        while clock.now() < TRAFFIC_UNTIL:
            try:
                reply = await pos.NextNumbers(
                    pos_pb2.NextNumbersRequest(
                        count=1, invoice_type=GENERAL, terminal_id=terminal_id
                    ),
                    timeout=10,
                )
                for item in reply.numbers:
                    got.numbers.append(
                        (
                            clock.now().timestamp(),
                            InvoiceNumber.parse(item.invoice_number),
                            item.year_month,
                            terminal_id,
                        )
                    )
                if rng.random() < 0.02:
                    last = reply.numbers[-1].invoice_number
                    back = await pos.GiveBack(
                        pos_pb2.GiveBackRequest(invoice_number=last, terminal_id=terminal_id),
                        timeout=10,
                    )
                    got.given_back += 1
                    if back.outcome == pos_pb2.GiveBackReply.OUTCOME_REUSED:
                        got.reused += 1
                        got.forget(InvoiceNumber.parse(last), terminal_id)
            except grpc.aio.AioRpcError as error:
                got.errors[f"{error.code().name}: {error.details()}"] += 1
                await asyncio.sleep(0.2)
            await asyncio.sleep(pause)


async def wait_for_stock(address: str, limit: float = 15.0, at_least: int = 1) -> None:
    """A store opens once its agent holds numbers: its first refill has arrived."""
    deadline = time.monotonic() + limit
    async with grpc.aio.insecure_channel(address) as channel:
        pos = pos_pb2_grpc.PosServiceStub(channel)
        while time.monotonic() < deadline:
            status = await pos.Status(pos_pb2.StatusRequest(), timeout=5)
            if status.remaining >= at_least:
                return
            await asyncio.sleep(0.1)


async def drive_traffic(agents: dict[str, str], clock: SimulatedClock) -> dict[str, Received]:
    await asyncio.gather(*(wait_for_stock(address) for address in agents.values()))
    received = {ban: Received() for ban in agents}
    rng = random.Random(20261231)
    tasks = [
        terminal(agents[ban], clock, received[ban], pause, f"{ban}-pos{i}", rng)
        for ban, _, _, _, terminals, pause in STORES
        for i in range(terminals)
    ]
    await asyncio.gather(*tasks)
    return received


def checks(received: dict[str, Received]) -> list[str]:
    """Every property the demo promises, as a list of failures (empty = all good)."""
    failures = []
    seen: dict[InvoiceNumber, str] = {}
    boundary = Period.from_year_month(OLD).end().timestamp()
    for ban, got in received.items():
        for at, number, ym, _ in got.numbers:
            if number in seen:
                failures.append(f"{number} issued twice ({seen[number]} and {ban})")
            seen[number] = ban
            if ym == OLD and at > boundary + 1.0:
                failures.append(f"{number} of {OLD} handed out after the period ended")
        by_terminal: dict[tuple[str, str], list[InvoiceNumber]] = defaultdict(list)
        for _, number, ym, term in got.numbers:
            by_terminal[(term, ym)].append(number)
        for (term, ym), numbers in by_terminal.items():
            if any(a >= b for a, b in itertools.pairwise(numbers)):
                failures.append(f"terminal {term}: numbers of {ym} not ascending")
    return failures


def report(admin: Admin, received: dict[str, Received]) -> None:
    for ym in (OLD, NEW):
        usage = admin.call("GetUsage", admin_pb2.GetUsageRequest(year_month=ym))
        table = Table(title=f"period {ym} per branch")
        for column in (
            "branch",
            "store",
            "granted",
            "issued",
            "given back/skipped",
            "left",
            "POS got (incl. given back)",
        ):
            table.add_column(column)
        names = {ban: name for ban, name, *_ in STORES}
        for u in usage.branches:
            pos_got = sum(1 for _, _, y, _ in received[u.branch_ban].numbers if y == ym)
            table.add_row(
                u.branch_ban,
                names[u.branch_ban],
                str(u.granted),
                str(u.issued),
                str(u.skipped),
                str(u.held),
                str(pos_got),
            )
        console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="einv-demo", description=__doc__)
    parser.add_argument("--data", type=Path, help="where to keep databases and logs")
    args = parser.parse_args(argv)
    data = args.data or Path(tempfile.mkdtemp(prefix="einv-demo-"))
    epoch = time.time() + 3.0  # everyone's simulated clock reads SIM_START at this instant
    clock = SimulatedClock(SIM_START, epoch, SIM_SPEED)
    sim = sim_args(SIM_START, epoch, SIM_SPEED)
    hq_address = f"127.0.0.1:{free_port()}"
    certs = Certs.create(data)
    hq = Proc(
        "hq",
        [*hq_args(HEAD_BAN, f"sqlite:///{data / 'hq.db'}", hq_address, certs.folder), *sim],
        data / "hq.log",
        "serving on",
    )
    console.print(f"[bold]HQ[/] {HEAD_BAN} on {hq_address} (mutual TLS), data in {data}")
    with running(hq.start()):
        admin = certs.admin([hq_address])
        setup_hq(admin)
        console.print("assigned AB, CD for 11512 and EF, GH for 11602; 3 branches registered")
        for ban, *_ in STORES:
            certs.enroll(admin, hq_address, ban, data / ban)
        console.print("each store enrolled with a one-time token: its key made on the store")
        agents = {ban: f"127.0.0.1:{free_port()}" for ban, *_ in STORES}
        procs = [
            Proc(
                f"agent {ban}",
                [
                    *agent_args(hq_address, ban, data / ban, agents[ban], 1),
                    "--prefetch-before",
                    "60",
                    *sim,
                ],
                data / f"agent-{ban}.log",
                "serving POS",
            )
            for ban, *_ in STORES
        ]
        with running(*(p.start() for p in procs)):
            console.print(
                f"POS traffic from {clock.now():%H:%M:%S} to "
                f"{TRAFFIC_UNTIL:%H:%M:%S} (simulated, x{SIM_SPEED:g}) across 00:00"
            )
            received = asyncio.run(drive_traffic(agents, clock))
            time.sleep(2.5)  # the agents' last usage reports
        close = admin.call(
            "ClosePeriod",
            admin_pb2.ClosePeriodRequest(year_month=OLD, invoice_type=GENERAL),
        )
        report(admin, received)
        console.print(
            f"period {OLD} closed: assigned {close.assigned}, issued {close.issued}, "
            f"blank {close.blank} (to report in E0402)"
        )
        reconciled = admin.call("Reconcile", admin_pb2.ReconcileRequest())
    failures = checks(received)
    if not reconciled.ok:
        failures += [v for t in reconciled.tracks for v in t.violations]
    for ban, got in received.items():
        for message, count in got.errors.items():
            console.print(f"[yellow]{ban}: {count} x {message}[/]")
    total = sum(len(g.numbers) for g in received.values())
    if failures:
        console.print(f"[bold red]FAILED[/]: {len(failures)} problems, first: {failures[:5]}")
        return 1
    console.print(
        f"[bold green]OK[/]: {total} numbers issued to POS terminals, none twice, "
        "ascending per terminal, none of 11512 after its end, reconciliation holds"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
