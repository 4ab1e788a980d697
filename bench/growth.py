"""Growth: how the cost grows with the work (issue 16), as a table of size -> figure.

P2 and P4 on an HQ database holding five years of history (bench/seed.py `seed_history`: 30
closed periods, a final grant per branch in each, some skipped numbers, every E0402 handed to
the MOF and confirmed) for each size of chain (1,000 / 10,000 / 50,000 branches): the P2 burst
of this period (bench/p2_hq.py, the same floors) and P4 usage reports of its grants
(bench/p4_usage.py). P3 (bench/p3_mof.py) for the same counts of branches with 1x and 10x the
holes per grant. Each figure carries its floors and, past the first size, the same figure at
the first size; a note per figure states the growth: the ratio of the cost at the largest size
to the first against the ratio of the work (flat, linear, or worse).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from allocator import BOOKLET_SIZE
from bench import p2_hq, p3_mof, p4_usage
from bench.figures import Figure, Results, number_text
from bench.floors import sqlite_commit_loop
from bench.seed import HISTORY_PERIODS, POOL_RANGE, seed_history, seed_hq
from bench.servers import HEAD_BAN, Server, hq_process
from demo.cluster import valid_bans

FLAT = 1.5  # below this ratio of cost for the whole range of sizes: flat
LINEAR = (0.5, 2.0)  # within these multiples of the ratio of work: linear


@dataclass(frozen=True, slots=True)
class Sizes:
    branches: tuple[int, ...]  # the chain's size, one HQ database each
    connections: int
    raw_commits: int
    usage: p4_usage.Sizes
    holes: tuple[int, ...] = (1, 10)  # P3: holes per grant, times p3_mof's 0-4
    more_holes_up_to: int | None = None  # P3 beyond the first count of holes: up to this size


FULL = Sizes(
    branches=(1_000, 10_000, 50_000),
    connections=100,
    raw_commits=1000,
    usage=p4_usage.Sizes(rate=220.0, seconds=4.0, capacity_seconds=1.5, connections=100),
    # 10x the holes of 50,000 branches: 1-2 more minutes (most under tracemalloc) for a growth
    # the smaller sizes show already.
    more_holes_up_to=10_000,
)
# Enough calls for the CPU figures (clock ticks of 10 ms) to be above zero.
SMOKE = Sizes(branches=(200, 400), connections=10, raw_commits=50, usage=p4_usage.SMOKE)

# The figures of each size taken from the suites' own: their key, ours, and whether a higher
# value is a lower cost (a rate).
P2_FIGURES = {
    "p2.sqlite_burst_seconds": ("p2_burst_seconds", False),
    "p2.sqlite_grants_per_s": ("p2_grants_per_s", True),
    "p2.sqlite_cpu_per_grant": ("p2_cpu_per_grant", False),
}
P4_FIGURES = {
    "p4.p99": ("p4_p99", False),
    "p4.cpu_per_report": ("p4_cpu_per_report", False),
}


def run(root: Path, echo: Server, sizes: Sizes, results: Results) -> list[Figure]:
    if max(sizes.branches) * p2_hq.PLAN.per_request * BOOKLET_SIZE > POOL_RANGE.count:
        raise ValueError("the seeded pool is too small for a burst of the largest size")
    table = Table(sizes.branches)
    for count in sizes.branches:
        _hq_with_history(root / f"hq-{count}", echo, count, sizes, table, results)
    p3_mof.timed(*p3_mof.branch_usage(p3_mof.SMOKE, scale=1))  # warm: schema, imports
    for count in sizes.branches:
        _e0402(count, sizes, table, results)
    results.note(
        f"growth: P2 and P4 on an HQ holding {HISTORY_PERIODS} closed periods of history (a "
        "final grant per branch in each, every tenth with a skipped number, each branch's E0402 "
        f"confirmed); P4 at {sizes.usage.rate:g} reports/s for {sizes.usage.seconds:g} s, "
        f"then {sizes.usage.reporters} reporters for {sizes.usage.capacity_seconds:g} s; P3 "
        "on p3_mof's generated usage of as many branches"
    )
    for line in table.growth():
        results.note(line)
    return table.figures()


def _hq_with_history(
    root: Path, echo: Server, count: int, sizes: Sizes, table: Table, results: Results
) -> None:
    root.mkdir(parents=True, exist_ok=True)
    database = root / "hq.db"
    bans = valid_bans(count)
    start = perf_counter()
    period = seed_hq(f"sqlite:///{database}", bans, p2_hq.PLAN)
    history = seed_history(f"sqlite:///{database}", bans, HEAD_BAN)
    seeded = perf_counter() - start
    commits = sqlite_commit_loop(database, sizes.raw_commits)
    with hq_process(root, f"sqlite:///{database}") as hq:
        year_month = period.to_year_month()
        branches, burst = asyncio.run(
            p2_hq.burst(hq, echo, bans, year_month, sizes.connections, commits)
        )
        usage = p4_usage.run(hq, echo, branches.granted(), sizes.usage, Results(results.mode))
    table.put(count, burst, P2_FIGURES)
    table.put(count, usage, P4_FIGURES)
    results.note(
        f"growth {count:,} branches: history of {history.grants:,} grants, "
        f"{history.skipped:,} skipped ranges, {history.documents:,} E0402 documents, seeded "
        f"in {seeded:.0f} s ({database.stat().st_size / 2**20:,.0f} MiB); "
        f"{branches.retries:,} burst calls retried"
    )


def _e0402(count: int, sizes: Sizes, table: Table, results: Results) -> None:
    """P3's E0402 set of `count` branches at each count of holes: seconds and peak memory, the
    larger counts of holes against the first; the growth with the blank ranges noted."""
    p3 = p3_mof.Sizes(branches=count, samples=0)  # nothing read back here
    first = sizes.holes[0]
    base: tuple[float, float, int] | None = None
    up_to = sizes.more_holes_up_to
    for holes in sizes.holes if up_to is None or count <= up_to else sizes.holes[:1]:
        assigned, usage = p3_mof.branch_usage(p3, scale=1, holes=holes)
        seconds, documents = p3_mof.timed(assigned, usage)
        peak = p3_mof.peak_memory(assigned, usage)[0] / p3_mof.MB
        ranges = sum(d.items for d in documents)
        base = base or (seconds, peak, ranges)
        against = () if holes == first else (f"at {first}x holes",)
        sampled = "" if holes == first or up_to is None else f" (up to {up_to:,} branches)"
        name, label = f"p3_{holes}x_holes", f"P3 E0402 set, {holes}x holes{sampled}"
        at = tuple((floor, base[0]) for floor in against)
        table.add(count, Point(f"{name}_seconds", label, seconds, "s", at))
        label = f"P3 peak Python memory, {holes}x holes{sampled}"
        at = tuple((floor, base[1]) for floor in against)
        table.add(count, Point(f"{name}_peak_mb", label, peak, "MB", at))
        if holes != first:
            work = ranges / base[2]
            results.note(
                f"growth of P3 with {holes}x holes, {count:,} branches: {ranges:,} blank ranges "
                f"({work:.2f}x those at {first}x), {seconds / base[0]:.2f}x the seconds "
                f"({classify(seconds / base[0], work)}), {peak / base[1]:.2f}x the peak memory "
                f"({classify(peak / base[1], work)})"
            )


@dataclass(frozen=True, slots=True)
class Point:
    """One figure at one size: its floors are those of the suite that measured it."""

    name: str
    label: str
    value: float
    unit: str
    floors: tuple[tuple[str, float], ...] = ()
    rate: bool = False  # a higher value is a lower cost


class Table:
    """Size -> figure, for every figure; the growth of each from the first size to the last."""

    def __init__(self, sizes: Sequence[int]) -> None:
        self.sizes = tuple(sizes)
        self.points: dict[str, dict[int, Point]] = {}

    def add(self, size: int, point: Point) -> None:
        self.points.setdefault(point.name, {})[size] = point

    def put(
        self, size: int, figures: Sequence[Figure], chosen: dict[str, tuple[str, bool]]
    ) -> None:
        """The chosen ones of a suite's figures, under our names."""
        for figure in figures:
            if figure.key in chosen:
                name, rate = chosen[figure.key]
                label = figure.label.replace(f", {size:,} branches served", "")
                floors = tuple(figure.floors.items())
                self.add(size, Point(name, label, figure.value, figure.unit, floors, rate))

    def figures(self) -> list[Figure]:
        first = self.sizes[0]
        return [
            Figure(
                f"growth.{name}.{size}",
                f"Growth {point.label}, {size:,} branches",
                point.value,
                point.unit,
                dict(point.floors) | _at_first(by_size[first], size, first),
            )
            for name, by_size in self.points.items()
            for size, point in by_size.items()
        ]

    def growth(self) -> list[str]:
        return [_growth(by_size) for by_size in self.points.values()]


def _at_first(point: Point, size: int, first: int) -> dict[str, float]:
    if size == first and point.floors:
        return {}
    return {f"at {first:,} branches": point.value}


def _growth(by_size: dict[int, Point]) -> str:
    """Each size's cost against the first's, for its ratio of work; the verdict of the last."""
    sizes = sorted(by_size)
    first = by_size[sizes[0]]

    def cost(point: Point) -> float:
        return first.value / point.value if first.rate else point.value / first.value

    steps = [f"{sizes[0]:,} -> {number_text(first.value)} {first.unit}".rstrip()]
    for size in sizes[1:]:
        ratio, work = cost(by_size[size]), size / sizes[0]
        value = f"{number_text(by_size[size].value)} {first.unit}".rstrip()
        steps.append(f"{size:,} -> {value} ({ratio:.2f}x for {work:.0f}x: {classify(ratio, work)})")
    what = "cost per call" if first.rate else "cost"
    verdict = classify(cost(by_size[sizes[-1]]), sizes[-1] / sizes[0])
    return f"growth of {first.label} ({what}): {'; '.join(steps)}: {verdict}"


def classify(cost_ratio: float, work_ratio: float) -> str:
    """flat, linear (within LINEAR of the ratio of work), worse, or between flat and linear."""
    if cost_ratio < FLAT:
        return "flat"
    if LINEAR[0] * work_ratio <= cost_ratio <= LINEAR[1] * work_ratio:
        return "linear"
    if cost_ratio > LINEAR[1] * work_ratio:
        return "worse"
    return "between flat and linear"
