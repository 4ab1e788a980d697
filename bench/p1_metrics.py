"""P1 with metrics on, next to P1 without: what the instrumentation costs per number.

Two agents of the same HQ, in the same run: one started without `--metrics-listen` (its hooks
are the no-op), one with it and scraped every SCRAPE_SECONDS meanwhile (Prometheus scrapes
every 15 s or more: once a second is the pessimistic case). Their NextNumbers latencies are
measured in alternating rounds, one terminal, one call at a time, as P1's; and the CPU each
spends per number under 32 terminals. The hooks' own cost per number is also timed in-process
(what `--metrics-listen` adds to one call: the NextNumbers histogram, and at most one commit's
two observations), against the no-op hooks: that is the figure the goal holds to 3% of the p50.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench import p1_agent
from bench.figures import Figure, Goal, ms, percentile
from bench.seed import seed_hq
from bench.servers import Server, hq_process, loopback
from branch_agent.metrics import AgentMetrics
from demo.procs import Proc, free_port, running
from runtime.metrics import NO_METRICS, NoMetrics

BANS = {"off": "04595257", "on": "12345675"}
GOAL = 0.03  # of the p50 without metrics
SCRAPE_SECONDS = 1.0
TERMINALS = 32


@dataclass(frozen=True, slots=True)
class Sizes:
    rounds: int
    calls: int  # per round and agent
    seconds: float  # of the 32-terminal run, per agent
    hook_calls: int


# Many short alternating rounds: both agents see the same changes in the machine's load.
FULL = Sizes(rounds=40, calls=100, seconds=4.0, hook_calls=200_000)
SMOKE = Sizes(rounds=2, calls=30, seconds=0.6, hook_calls=2_000)


def run(root: Path, echo: Server, sizes: Sizes) -> list[Figure]:
    root.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{root / 'hq.db'}"
    seed_hq(url, list(BANS.values()), p1_agent.PLAN)
    port = free_port()
    with (
        hq_process(root, url) as hq,
        _agent(root, hq.address, BANS["off"]) as off,
        _agent(root, hq.address, BANS["on"], "--metrics-listen", str(port)) as on,
    ):
        figures = asyncio.run(_measure(off, on, f"http://127.0.0.1:{port}/metrics", sizes))
    return [*figures, _hook_figure(figures[0].floors["p50 metrics off"], sizes.hook_calls)]


@contextlib.contextmanager
def _agent(root: Path, hq_address: str, ban: str, *extra: str) -> Iterator[Server]:
    address = loopback()
    args = ["-m", "branch_agent", "serve", "--hq", hq_address, "--insecure", "--branch-ban", ban]
    args += ["--data", str(root / f"agent-{ban}"), "--listen", address, *extra]
    proc = Proc(f"agent {ban}", args, root / f"agent-{ban}.log", "serving POS")
    with running(proc.start()):
        yield Server(address, proc.pid)


async def _measure(off: Server, on: Server, metrics_url: str, sizes: Sizes) -> list[Figure]:
    for agent in (off, on):
        await p1_agent._wait_stocked(agent.address, p1_agent.PLAN.low_water_count)
    stop = asyncio.Event()
    scraper = asyncio.create_task(_scrape(metrics_url, stop))
    try:
        latencies: dict[str, list[float]] = {"off": [], "on": []}
        cpu_1: dict[str, float] = {"off": 0.0, "on": 0.0}
        for round_ in range(sizes.rounds):  # alternating: background load hits both alike
            for name, agent in (("off", off), ("on", on)):
                make = lambda ch, n=name, r=round_: p1_agent._next(ch, f"{n}{r}")  # noqa: E731
                before = agent.cpu()
                latencies[name] += await p1_agent._latency(agent.address, make, sizes.calls)
                cpu_1[name] += agent.cpu() - before
        cpu = {
            name: await p1_agent._throughput(
                agent,
                TERMINALS,
                sizes.seconds,
                lambda ch, i, n=name: p1_agent._next(ch, f"{n}c{i}"),
            )
            for name, agent in (("off", off), ("on", on))
        }
    finally:
        stop.set()
        scrapes = await scraper
    if scrapes == 0:
        raise RuntimeError(f"{metrics_url} was never scraped")
    calls = sizes.rounds * (sizes.calls + max(10, sizes.calls // 10))  # with the warm-ups
    per_number = {name: cpu_1[name] / calls for name in cpu_1}
    return [
        _latency_figure(latencies),
        _cpu_figure(1, per_number),
        _cpu_figure(TERMINALS, {name: run.cpu_per_call for name, run in cpu.items()}),
    ]


async def _scrape(url: str, stop: asyncio.Event) -> int:
    done = 0
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            async with session.get(url) as reply:
                await reply.read()
                done += reply.status == 200
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SCRAPE_SECONDS)
    return done


def _latency_figure(latencies: dict[str, list[float]]) -> Figure:
    on, off = (ms(percentile(latencies[k], 50)) for k in ("on", "off"))
    return Figure(
        "p1m.latency_p50",
        f"P1 next number p50 with metrics (scraped every {SCRAPE_SECONDS:g} s)",
        on,
        "ms",
        {"p50 metrics off": off},
        Goal(f"<= {1 + GOAL:.2f}x the p50 without metrics", on <= (1 + GOAL) * off),
    )


def _cpu_figure(terminals: int, seconds: dict[str, float]) -> Figure:
    return Figure(
        f"p1m.cpu_per_number_{terminals}",
        f"P1 agent CPU per number with metrics, {p1_agent._terminals(terminals)}",
        seconds["on"] * 1e6,
        "us",
        {"CPU per number metrics off": seconds["off"] * 1e6},
    )


def _hook_figure(p50_off_ms: float, calls: int) -> Figure:
    """The hooks of one number, timed in-process: metrics on minus the no-op's."""
    cost = (_hooks_seconds(AgentMetrics(), calls) - _hooks_seconds(NO_METRICS, calls)) / calls
    cost_us = max(cost * 1e6, 1e-3)  # a figure is positive; below a nanosecond is nothing
    p50_us = p50_off_ms * 1000
    return Figure(
        "p1m.hook_cost_per_number",
        "Metrics hooks per number (NextNumbers + one commit), in-process",
        cost_us,
        "us",
        {"P1 p50 metrics off": p50_us},
        Goal(f"<= {GOAL:.0%} of the p50 without metrics", cost_us <= GOAL * p50_us),
    )


def _hooks_seconds(hooks: AgentMetrics | NoMetrics, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        hooks.handed_out(1, 0.0007)
        hooks.committed(1, 0.0004)  # a lone call is a commit of its own: the worst case
    return time.perf_counter() - started
