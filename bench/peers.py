"""Peers: the agent next to the designs a POS integrator would pick instead, in the same run.

Three servers of the same NextNumbers (one number, a request id each), driven by the same
client over loopback: ours (a real agent fed by a real HQ, as P1's, called as P1 calls it: one
unary call per number, and one NextNumbersStream per terminal, as a POS integrator would), the
central peer (every call one row-locking UPDATE ... RETURNING and one durable commit in
PostgreSQL) and the Leaf peer (segments from PostgreSQL, numbers from memory, no durability: the
upper bound); both peers are bench/peer_server.py, on a fresh database dropped after the run.
Measured, per number:

- latency p50/p99 for one terminal, numbers/s for 1, 8 and 32 terminals, and the CPU of each
  server process per number (the central peer's PostgreSQL backends too, from /proc); the
  agent's unary and streamed, each with the goals (the peers serve the unary call only);
- a WAN: the agent's link to HQ, and the POS's link to the central peer, through
  bench/wan_relay.py (10 ms each way: the kernel this was written on has no sch_netem);
- kill -9 of the agent while 8 terminals call, then a restart: every number a POS got is in the
  ledger and none is handed out again;
- an outage: HQ stopped, and the central peer's server stopped (its POS cannot reach it; the
  shared PostgreSQL stays up): numbers served meanwhile at a fixed rate;
- every number any design handed out, whole run, is unique (the central peer's also held once
  in its PostgreSQL table).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic

import grpc
import psycopg

from bench import load, p1_agent
from bench.figures import Figure, Goal, Results, ms, percentile
from bench.peer_server import TRACK, application, create_schema
from bench.seed import seed_hq
from bench.servers import Server, agent_process, hq_process, peer_process, wan_relay
from branch_agent.ledger.store import issued_numbers
from demo.cluster import fresh_database, postgres_reachable

BANS = {"ours": "04595257", "wan": "12345675"}
TERMINALS = (1, 8, 32)
CPU_TERMINALS = (1, 32)
ROUNDS = 3
LATENCY_GOAL = 0.7  # of the central peer's p50
THROUGHPUT_GOAL = 1.5  # of the central peer's numbers/s at GOAL_TERMINALS
GOAL_TERMINALS = 32
WAN_DELAY_MS = 10.0  # each way: a 20 ms round trip
KILL_TERMINALS = 8
PHASE_TIMEOUT = 120.0
NAMES = {"central": "central PostgreSQL peer", "leaf": "Leaf in-memory peer"}
UNARY, STREAM = p1_agent.TCP_SHAPES  # how P1 calls the agent over TCP
OURS = {f"ours{shape.key}": shape for shape in (UNARY, STREAM)}  # "ours", "ours_stream"
WAN = " over the WAN"  # the suffix of a design's name behind bench/wan_relay.py


@dataclass(frozen=True, slots=True)
class Sizes:
    latency_calls: int  # per design, over ROUNDS alternating rounds
    seconds: float  # per design and number of terminals
    wan_calls: int
    kill_after: int  # numbers handed out by the kill -9, and again after the restart
    outage_seconds: float
    outage_rate: float = 50.0  # numbers asked for per second during the outage


FULL = Sizes(latency_calls=3000, seconds=4.0, wan_calls=300, kill_after=2000, outage_seconds=60)
SMOKE = Sizes(latency_calls=60, seconds=0.6, wan_calls=20, kill_after=100, outage_seconds=1.0)


@dataclass
class Target:
    """Where a POS calls and how, the process whose CPU counts, and every number a POS got."""

    address: str
    server: Server
    got: list[str] = field(default_factory=list)
    shape: p1_agent.Shape = UNARY  # the peers serve the unary call only
    backends: list[Server] = field(default_factory=list)  # PostgreSQL's, working for it

    def cpu(self) -> tuple[float, float]:
        """CPU seconds so far: the server's, and its database backends'."""
        return self.server.cpu(), sum(backend.cpu() for backend in self.backends)


@dataclass
class Throughput:
    """The measured rounds of one design, added up."""

    numbers: int = 0
    elapsed: float = 0.0
    server_cpu: float = 0.0  # seconds, the server process alone
    backend_cpu: float = 0.0  # seconds, its PostgreSQL backends

    @property
    def rate(self) -> float:
        return self.numbers / self.elapsed

    @property
    def cpu(self) -> float:
        """Seconds of the server process per number."""
        return self.server_cpu / self.numbers

    @property
    def backends(self) -> float:
        """Seconds of its PostgreSQL backends per number."""
        return self.backend_cpu / self.numbers


def run(root: Path, sizes: Sizes, results: Results) -> list[Figure]:
    if not postgres_reachable():
        results.note("peers skipped: PostgreSQL is not reachable on 127.0.0.1:5432")
        return []
    root.mkdir(parents=True, exist_ok=True)
    hq_url = f"sqlite:///{root / 'hq.db'}"
    seed_hq(hq_url, list(BANS.values()), p1_agent.PLAN)
    with fresh_database(prefix="einv_peers") as db_url, contextlib.ExitStack() as stack:
        conninfo = db_url.replace("postgresql+psycopg://", "postgresql://", 1)
        create_schema(conninfo)
        hq = stack.enter_context(hq_process(root, hq_url))
        near, far = _start(stack, root, hq.address, conninfo)
        if not near["central"].backends:
            results.note("peers: PostgreSQL's backends are not in this machine's /proc")
        bench = Bench(sizes)
        figures = asyncio.run(bench.side_by_side(near, far))
        restart = lambda: stack.enter_context(agent_process(root, hq.address, BANS["ours"]))  # noqa: E731
        figures += bench.kill9(near["ours"], restart, root / f"agent-{BANS['ours']}")
        figures += asyncio.run(bench.outage(near["ours"], hq, near["central"]))
        held = _held_once(conninfo)
    figures += _unique_figures(near, far, held)
    results.note(
        f"peers: the WAN is bench/wan_relay.py (a TCP relay, {WAN_DELAY_MS:g} ms each way), "
        "not tc netem (the kernel this was written on has no sch_netem)"
    )
    return figures


def _start(
    stack: contextlib.ExitStack, root: Path, hq: str, conninfo: str
) -> tuple[dict[str, Target], dict[str, Target]]:
    """The servers, stopped with `stack`: the designs on loopback, and behind a WAN (the
    agent's HQ link, the central peer's POS link)."""
    agent = stack.enter_context(agent_process(root, hq, BANS["ours"]))
    hq_link = stack.enter_context(wan_relay(root, hq, WAN_DELAY_MS))
    far_agent = stack.enter_context(agent_process(root, hq_link.address, BANS["wan"]))
    central = stack.enter_context(peer_process(root, "central", conninfo))
    leaf = stack.enter_context(peer_process(root, "leaf", conninfo))
    pos_link = stack.enter_context(wan_relay(root, central.address, WAN_DELAY_MS))
    ours = Target(agent.address, agent)
    near = {
        "ours": ours,
        "ours_stream": Target(agent.address, agent, ours.got, shape=STREAM),
        "central": Target(central.address, central, backends=_backends(conninfo, "central")),
        "leaf": Target(leaf.address, leaf),  # a segment load per 10,000 numbers: no backend
    }
    far = {
        "ours": Target(far_agent.address, far_agent),
        "central": Target(pos_link.address, central, near["central"].got),
    }
    return near, far


def _backends(conninfo: str, design: str) -> list[Server]:
    """The PostgreSQL backends serving a peer's connections, if they run on this machine."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (application(design),)
        ).fetchall()
    # PostgreSQL elsewhere (a container, another host): its pids are not this machine's.
    return [Server(f"postgres backend {pid}", pid) for (pid,) in rows if _is_postgres(pid)]


def _is_postgres(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
    except OSError:
        return False


def _held_once(conninfo: str) -> Counter[str]:
    """How many times the central peer's table holds each number it handed out."""
    held: Counter[str] = Counter()
    with psycopg.connect(conninfo) as conn:
        for first, count in conn.execute("SELECT first, count FROM requests"):
            held.update(f"{TRACK}{n:08d}" for n in range(first, first + count))
    return held


class Bench:
    """The client: the same calls against every design; terminal ids never repeat in a run."""

    def __init__(self, sizes: Sizes) -> None:
        self.sizes = sizes
        self._terminals = itertools.count()

    def call(self, channel: grpc.aio.Channel, target: Target) -> load.Call:
        """A POS terminal in the target's shape (P1's calls: one number each, each with its own
        request id), its numbers kept on arrival."""
        ask = target.shape.call(channel, f"pos{next(self._terminals)}")

        async def next_number() -> None:
            reply = await ask()
            target.got.extend(number.invoice_number for number in reply.numbers)

        return next_number

    async def side_by_side(
        self, loopback: dict[str, Target], wan: dict[str, Target]
    ) -> list[Figure]:
        """Every design in the same alternating rounds, the WAN ones too (at 32 terminals):
        "unchanged over a WAN" compares figures taken under the same load."""
        for agent in (loopback["ours"], wan["ours"]):
            await p1_agent._wait_stocked(agent.address, p1_agent.PLAN.low_water_count)
        every = {**loopback, **{f"{name}{WAN}": target for name, target in wan.items()}}
        calls = {name: self.sizes.latency_calls for name in loopback}
        calls |= {f"{name}{WAN}": self.sizes.wan_calls for name in wan}
        latencies = await self._latencies(every, calls)
        rates = {}
        for terminals in TERMINALS:
            measured = await self.throughput(
                every if terminals == GOAL_TERMINALS else loopback, terminals
            )
            rates |= {(name, terminals): done for name, done in measured.items()}
        return [
            *_latency_figures(latencies),
            *_throughput_figures(rates),
            *_cpu_figures(rates),
            *_wan_figures(latencies, rates),
        ]

    async def _latencies(
        self, targets: dict[str, Target], calls: dict[str, int]
    ) -> dict[str, list[float]]:
        """Rounds in turn, so a change in the machine's load hits every design alike."""
        latencies: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(ROUNDS):
            for name, target in targets.items():
                make = lambda channel, t=target: self.call(channel, t)  # noqa: E731
                count = calls[name] // ROUNDS
                latencies[name] += await p1_agent._latency(target.address, make, count)
        return latencies

    async def throughput(self, targets: dict[str, Target], terminals: int) -> dict[str, Throughput]:
        """`terminals` flat out against each design, in alternating rounds like `_latencies`."""
        seconds = self.sizes.seconds / ROUNDS
        done = {name: Throughput() for name in targets}
        async with contextlib.AsyncExitStack() as stack:
            calls = {}
            for name, target in targets.items():
                opened = await stack.enter_async_context(load.channels(target.address, terminals))
                calls[name] = [self.call(channel, target) for channel in opened]
                await load.closed_loop(calls[name], self.sizes.seconds / 10)  # warm-up
            for _ in range(ROUNDS):
                for name, target in targets.items():
                    server, backends = target.cpu()
                    run = await load.closed_loop(calls[name], seconds)
                    server_after, backends_after = target.cpu()
                    run.check(f"{name}, {terminals} terminals")
                    done[name].numbers += len(run.latencies)
                    done[name].elapsed += run.elapsed
                    done[name].server_cpu += server_after - server
                    done[name].backend_cpu += backends_after - backends
        return done

    def kill9(self, ours: Target, restart: Callable[[], Server], data: Path) -> list[Figure]:
        """kill -9 mid-stream, restart on the same ledger (`ours` then points at the new
        process), hand out as many numbers again, and compare with the ledger."""
        before = asyncio.run(self._hand_out(ours, self.sizes.kill_after, ours.server.kill9))
        ours.server = restart()
        ours.address = ours.server.address
        ledger = [number for _, _, number in issued_numbers(data)]
        asyncio.run(p1_agent._wait_stocked(ours.address, self.sizes.kill_after))
        after = asyncio.run(self._hand_out(ours, self.sizes.kill_after, None))[len(before) :]
        lost = len(set(before) - set(ledger))
        twice = _twice(before + after) + _twice(ledger)
        return [
            Figure(
                "peers.kill9_lost",
                "Peers: numbers a POS got, missing from the ledger after kill -9 (agent)",
                lost,
                "",
                {"numbers a POS got from the agent before the kill": len(before)},
                Goal("0 lost", lost == 0),
            ),
            Figure(
                "peers.kill9_twice",
                "Peers: numbers handed out twice across kill -9 and restart (agent)",
                twice,
                "",
                {"numbers a POS got before and after the restart": len(before) + len(after)},
                Goal("0 twice", twice == 0),
            ),
        ]

    async def _hand_out(
        self, target: Target, count: int, kill: Callable[[], None] | None
    ) -> list[str]:
        """KILL_TERMINALS terminals until `count` more numbers are in; then `kill` (if given)
        while the others' calls are in flight, which then fail. Every number the POS got so far
        (the agent's whole run, for the check against the ledger)."""
        goal = len(target.got) + count
        done = asyncio.Event()
        deadline = monotonic() + PHASE_TIMEOUT

        async def terminal(call: load.Call) -> None:
            while not done.is_set():
                if monotonic() > deadline:
                    raise RuntimeError(f"{count} numbers not handed out in {PHASE_TIMEOUT:.0f} s")
                try:
                    await call()
                except grpc.aio.AioRpcError:
                    if kill is None or not done.is_set():
                        raise
                    return
                if len(target.got) >= goal and not done.is_set():
                    done.set()
                    if kill is not None:
                        kill()

        async with load.channels(target.address, KILL_TERMINALS) as opened:
            await asyncio.gather(*(terminal(self.call(channel, target)) for channel in opened))
        return list(target.got)

    async def outage(self, ours: Target, hq: Server, central: Target) -> list[Figure]:
        """HQ stopped, and the central peer's server stopped (its database stays up): numbers
        served at a fixed rate meanwhile, both windows at once."""
        await p1_agent._wait_stocked(ours.address, p1_agent.PLAN.low_water_count)
        rate, seconds = self.sizes.outage_rate, self.sizes.outage_seconds
        count = max(1, round(rate * seconds))
        async with (
            load.channels(ours.address, 1) as (near,),
            load.channels(central.address, 1) as (far,),
        ):
            calls = [self.call(near, ours), self.call(far, central)]
            hq.stop()
            central.server.stop()
            served = await asyncio.gather(
                *(load.open_loop(lambda _i, c=call: c, rate, count) for call in calls)
            )
        asked = f"numbers asked for ({rate:g}/s)"
        return [
            Figure(
                "peers.outage_ours",
                f"Peers: numbers served during a {seconds:g} s HQ outage (agent)",
                len(served[0].latencies),
                "",
                {asked: count},
                Goal("all served from the buffer", len(served[0].latencies) == count),
            ),
            Figure(
                "peers.outage_central",
                f"Peers: numbers served during a {seconds:g} s outage (central peer, server down)",
                len(served[1].latencies),
                "",
                {asked: count},
            ),
        ]


def _twice(numbers: list[str]) -> int:
    return len(numbers) - len(set(numbers))


def _versus(values: dict[str, float], ours: str, what: str) -> dict[str, float]:
    """The peers' figures next to one of the agent's; a stream's shows the agent's unary too."""
    others = {f"{NAMES[name]} {what}": values[name] for name in NAMES}
    if ours != "ours":
        others[f"agent unary {what}"] = values["ours"]
    return others


def _latency_figures(latencies: dict[str, list[float]]) -> list[Figure]:
    figures = []
    for (ours, shape), q in itertools.product(OURS.items(), (50, 99)):
        values = {name: ms(percentile(latencies[name], q)) for name in (*OURS, *NAMES)}
        goal = None
        if q == 50:
            met = values[ours] <= LATENCY_GOAL * values["central"]
            goal = Goal(f"<= {LATENCY_GOAL}x the central peer's", met)
        figures.append(
            Figure(
                f"peers.latency_p{q}{shape.key}",
                f"Peers: next number p{q}, 1 terminal (agent{shape.label})",
                values[ours],
                "ms",
                _versus(values, ours, f"p{q}"),
                goal,
            )
        )
    return figures


def _throughput_figures(rates: dict[tuple[str, int], Throughput]) -> list[Figure]:
    figures = []
    for (ours, shape), terminals in itertools.product(OURS.items(), TERMINALS):
        values = {name: rates[name, terminals].rate for name in (*OURS, *NAMES)}
        goal = None
        if terminals == GOAL_TERMINALS:
            met = values[ours] >= THROUGHPUT_GOAL * values["central"]
            goal = Goal(f">= {THROUGHPUT_GOAL}x the central peer's", met)
        figures.append(
            Figure(
                f"peers.throughput_{terminals}{shape.key}",
                f"Peers: numbers/s, {p1_agent._terminals(terminals)} (agent{shape.label})",
                values[ours],
                "/s",
                _versus(values, ours, "numbers/s"),
                goal,
            )
        )
    return figures


def _cpu_figures(rates: dict[tuple[str, int], Throughput]) -> list[Figure]:
    figures = []
    for (ours, shape), terminals in itertools.product(OURS.items(), CPU_TERMINALS):
        central, leaf = rates["central", terminals], rates["leaf", terminals]
        floors = {"central peer process": central.cpu * 1e6}
        if central.backends > 0:
            floors["central peer + its PostgreSQL backends"] = (
                central.cpu + central.backends
            ) * 1e6
        floors["Leaf peer process"] = leaf.cpu * 1e6
        if ours != "ours":
            floors["agent process, unary"] = rates["ours", terminals].cpu * 1e6
        figures.append(
            Figure(
                f"peers.cpu_per_number_{terminals}{shape.key}",
                f"Peers: CPU per number, {p1_agent._terminals(terminals)} (agent process"
                f"{shape.label})",
                rates[ours, terminals].cpu * 1e6,
                "us",
                floors,
            )
        )
    return figures


def _wan_figures(
    latencies: dict[str, list[float]], rates: dict[tuple[str, int], Throughput]
) -> list[Figure]:
    trip = 2 * WAN_DELAY_MS
    figures = []
    for q in (50, 99):
        value = {name: ms(percentile(sample, q)) for name, sample in latencies.items()}
        figures.append(
            Figure(
                f"peers.wan_latency_p{q}",
                f"Peers WAN ({trip:g} ms round trip): next number p{q}, agent (its HQ link)",
                value[f"ours{WAN}"],
                "ms",
                {
                    f"agent p{q} on loopback": value["ours"],
                    f"central peer p{q} (its POS link)": value[f"central{WAN}"],
                    "the round trip": trip,
                },
            )
        )
    rate = {
        name: done.rate for (name, terminals), done in rates.items() if terminals == GOAL_TERMINALS
    }
    figures.append(
        Figure(
            f"peers.wan_throughput_{GOAL_TERMINALS}",
            f"Peers WAN: numbers/s, {GOAL_TERMINALS} terminals, agent (its HQ link)",
            rate[f"ours{WAN}"],
            "/s",
            {
                "agent on loopback": rate["ours"],
                "central peer (its POS link)": rate[f"central{WAN}"],
            },
        )
    )
    return figures


def _unique_figures(
    targets: dict[str, Target], wan: dict[str, Target], held: Counter[str]
) -> list[Figure]:
    agents = targets["ours"].got + wan["ours"].got
    central = targets["central"].got
    not_held_once = sum(1 for number in set(central) if held[number] != 1)
    cases = {
        "ours": ("the two agents", _twice(agents), len(agents)),
        "central": (
            "the central peer, or not held once in its PostgreSQL table",
            _twice(central) + not_held_once,
            len(central),
        ),
        "leaf": ("the Leaf peer", _twice(targets["leaf"].got), len(targets["leaf"].got)),
    }
    return [
        Figure(
            f"peers.twice_{name}",
            f"Peers: numbers handed out twice by {who}, whole run",
            twice,
            "",
            {"numbers a POS got": total},
            Goal("0 twice", twice == 0),
        )
        for name, (who, twice, total) in cases.items()
    ]
