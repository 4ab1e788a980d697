"""P3: the period's E0402 set for 10,000 branches whose usage has random holes.

Timed: `allocator.blank_ranges` (granted minus issued, per branch and track) and
`mof_sync.build_e0402_set`, which builds, schema-validates, checks and serialises every document.
Floors: the same documents built and serialised with lxml and no validation, and reading back
(parse + validate) sampled documents, times the document count. Memory (tracemalloc, in a
second pass so its bookkeeping does not slow the timed one) is set against the bytes of the
output, and against the same usage with 100 times the numbers in the same count of ranges:
the cost must follow the ranges, never the numbers.
"""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Mapping
from dataclasses import dataclass
from time import perf_counter

from lxml import etree

from allocator import (
    BOOKLET_SIZE,
    Ban,
    BranchUsage,
    InvoiceType,
    NumberRange,
    RangeSet,
    Track,
    blank_ranges,
)
from bench.figures import Figure, Goal, Results, mean
from bench.seed import current_period
from bench.servers import HEAD_BAN
from demo.cluster import valid_bans
from mof_sync import MigDocument, build_e0402_set, read_e0402
from mof_sync.documents import DocumentKey, element, new_document, serialize
from mof_sync.mig import DEFAULT_VERSION, MessageType

TRACKS = tuple(Track(code) for code in ("AB", "CD", "EF", "GH"))
GOAL_SECONDS = 10.0
GOAL_MEMORY_RATIO = 1.2
MB = 1024 * 1024
Blanks = dict[tuple[Ban, Track], RangeSet]
Assigned = dict[Track, RangeSet]


@dataclass(frozen=True, slots=True)
class Sizes:
    branches: int
    samples: int  # documents read back for the per-document floor
    seed: int = 7


FULL = Sizes(branches=10_000, samples=300)
SMOKE = Sizes(branches=200, samples=20)


def run(sizes: Sizes, results: Results) -> list[Figure]:
    assigned, usage = branch_usage(sizes, scale=1)
    seconds, documents = timed(assigned, usage)
    lxml_only = _plain_lxml(blank_ranges(Ban(HEAD_BAN), assigned, usage))
    per_document = _read_back(documents, sizes)
    peak, _ = peak_memory(assigned, usage)
    peak_x100, documents_x100 = peak_memory(*branch_usage(sizes, scale=100))
    if len(documents_x100) != len(documents):
        raise RuntimeError("the x100 usage must give as many documents as the x1 usage")
    output = sum(len(d.xml) for d in documents)
    ranges = sum(d.items for d in documents)
    results.note(
        f"P3: {sizes.branches:,} branches, {len(documents):,} E0402 documents, {ranges:,} blank "
        f"ranges, {output / MB:.1f} MB of XML; tracemalloc sees Python objects, not libxml2's "
        "trees (one document at a time)"
    )
    return [
        Figure(
            "p3.seconds",
            f"P3 E0402 set, {sizes.branches:,} branches",
            seconds,
            "s",
            {
                "lxml serialisation, no validation": lxml_only,
                "read back 1 doc x count": per_document,
            },
            Goal(f"< {GOAL_SECONDS:.0f} s", seconds < GOAL_SECONDS),
        ),
        Figure(
            "p3.peak_mb",
            "P3 peak Python memory (tracemalloc)",
            peak / MB,
            "MB",
            {"XML output bytes": output / MB},
        ),
        Figure(
            "p3.peak_mb_numbers_x100",
            "P3 peak memory, 100x numbers, same ranges",
            peak_x100 / MB,
            "MB",
            {"peak at 1x numbers": peak / MB},
            Goal(
                f"<= {GOAL_MEMORY_RATIO}x: memory follows ranges, not numbers",
                peak_x100 <= GOAL_MEMORY_RATIO * peak,
            ),
        ),
    ]


def branch_usage(
    sizes: Sizes, scale: int, holes: int = 1
) -> tuple[Assigned, dict[Ban, BranchUsage]]:
    """Each branch: 1-2 grants of 1-4 booklets (times `scale`) on random tracks, used up to a
    random point with 0-4 random holes (skipped numbers), times `holes`. The same seed gives the
    same ranges at every scale; only their lengths grow. More holes keep the grants and the
    first holes, and add others."""
    rng = random.Random(sizes.seed)
    more = random.Random(sizes.seed + 1)  # the added holes: `rng` draws as with holes=1
    cursor = dict.fromkeys(TRACKS, 0)
    usage: dict[Ban, BranchUsage] = {}
    for ban in valid_bans(sizes.branches):
        granted: dict[Track, list[NumberRange]] = {}
        issued: dict[Track, list[NumberRange]] = {}
        for _ in range(rng.randint(1, 2)):
            track = rng.choice(TRACKS)
            size = rng.randint(1, 4) * BOOKLET_SIZE * scale
            grant = NumberRange(cursor[track], cursor[track] + size - 1)
            cursor[track] += size
            granted.setdefault(track, []).append(grant)
            issued.setdefault(track, []).extend(_used(rng, more, grant, scale, holes))
        usage[Ban(ban)] = BranchUsage(
            {t: RangeSet.of(r) for t, r in granted.items()},
            {t: RangeSet.of(r) for t, r in issued.items()},
        )
    # A few booklets per track stay with HQ: reported under BranchBan = HeadBan.
    spare = 10 * BOOKLET_SIZE * scale
    assigned = {t: RangeSet.single(0, end + spare - 1) for t, end in cursor.items()}
    return assigned, usage


def _used(
    rng: random.Random, more: random.Random, grant: NumberRange, scale: int, holes: int
) -> list[NumberRange]:
    """The issued part of a grant: a prefix (up to the whole) minus a few holes."""
    used = rng.randint(0, grant.count // scale) * scale
    if used == 0:
        return []
    issued = RangeSet.single(grant.begin, grant.begin + used - 1)
    count = rng.randint(0, 4)
    offsets = [rng.randrange(0, used // scale) for _ in range(count)]
    offsets += [more.randrange(0, used // scale) for _ in range(count * (holes - 1))]
    for offset in offsets:
        start = grant.begin + offset * scale
        issued = issued - RangeSet.single(start, start + scale - 1)
    return list(issued)


def _build(assigned: Assigned, usage: Mapping[Ban, BranchUsage]) -> list[MigDocument]:
    head = Ban(HEAD_BAN)
    blanks = blank_ranges(head, assigned, usage)
    return build_e0402_set(head, InvoiceType.GENERAL, current_period(), blanks)


def timed(assigned: Assigned, usage: Mapping[Ban, BranchUsage]) -> tuple[float, list[MigDocument]]:
    start = perf_counter()
    documents = _build(assigned, usage)
    return perf_counter() - start, documents


def peak_memory(
    assigned: Assigned, usage: Mapping[Ban, BranchUsage]
) -> tuple[int, list[MigDocument]]:
    """Peak bytes traced while building, above what the inputs already hold."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        documents = _build(assigned, usage)
        return tracemalloc.get_traced_memory()[1], documents
    finally:
        tracemalloc.stop()


def _plain_lxml(blanks: Blanks) -> float:
    """The same documents (one per key: no key here exceeds MIG's 10,000 items) built and
    serialised with lxml alone: no schema, no checks."""
    period = current_period()
    start = perf_counter()
    for (branch, track), ranges in sorted(blanks.items()):
        key = DocumentKey(
            MessageType.E0402, Ban(HEAD_BAN), branch, InvoiceType.GENERAL, period, track
        )
        root, ns = new_document(key, DEFAULT_VERSION)
        details = etree.SubElement(root, f"{{{ns}}}Details")
        for numbers in ranges:
            item = etree.SubElement(details, f"{{{ns}}}BranchTrackBlankItem")
            element(item, ns, "InvoiceBeginNo", f"{numbers.begin:08d}")
            element(item, ns, "InvoiceEndNo", f"{numbers.end:08d}")
        serialize(root)
    return perf_counter() - start


def _read_back(documents: list[MigDocument], sizes: Sizes) -> float:
    """Mean seconds to parse + validate one document of the set, times the document count."""
    sample = random.Random(sizes.seed).sample(documents, min(sizes.samples, len(documents)))
    times = []
    for document in sample:
        start = perf_counter()
        read_e0402(document.xml, source=document.file_name)
        times.append(perf_counter() - start)
    return mean(times) * len(documents)
