"""E0401 (分支機構配號檔) writer: per MOF range and branch, the booklets given to the branch.

`Main` carries the range the MOF assigned (the E0501 range) and `Details` the booklet-aligned
sub-ranges of it granted to `BranchBan`, at most 25,000 per document.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from allocator.errors import InvalidRange
from allocator.identity import Ban, BanRule, InvoiceType, Track
from allocator.period import Period
from allocator.pool import TrackRange
from allocator.ranges import NumberRange, RangeSet
from allocator.usage import BranchUsage
from mof_sync.documents import DocumentKey, MigDocument
from mof_sync.mig import DEFAULT_VERSION, MessageType, MigVersion
from mof_sync.validate import DocumentContent
from mof_sync.writer import build_documents, read_document

MESSAGE = MessageType.E0401


def build_e0401(
    head_ban: Ban,
    branch_ban: Ban,
    invoice_type: InvoiceType,
    period: Period,
    mof_range: TrackRange,
    grants: RangeSet | Iterable[NumberRange],
    *,
    version: MigVersion = DEFAULT_VERSION,
    revision: int = 0,
    test_data: bool = False,
) -> list[MigDocument]:
    """The validated E0401 documents of one MOF range and branch (grants merged)."""
    ranges = RangeSet.of(grants).ranges
    key = DocumentKey(
        MESSAGE, head_ban, branch_ban, invoice_type, period, mof_range.track, mof_range.range
    )
    return build_documents(key, ranges, version=version, revision=revision, test_data=test_data)


def build_e0401_set(
    head_ban: Ban,
    invoice_type: InvoiceType,
    period: Period,
    assigned: Iterable[TrackRange],
    grants: Mapping[Ban, Iterable[TrackRange]],
    *,
    version: MigVersion = DEFAULT_VERSION,
    revision: int = 0,
    test_data: bool = False,
) -> list[MigDocument]:
    """A period's E0401s: every branch's grants, grouped by the MOF range that holds them."""
    grouped: dict[tuple[Ban, TrackRange], list[NumberRange]] = {}
    locate = _locator(assigned)
    for branch_ban, branch_grants in grants.items():
        for grant in branch_grants:
            grouped.setdefault((branch_ban, locate(branch_ban, grant)), []).append(grant.range)
    documents: list[MigDocument] = []
    for (branch_ban, mof_range), ranges in sorted(grouped.items()):
        documents.extend(
            build_e0401(
                head_ban,
                branch_ban,
                invoice_type,
                period,
                mof_range,
                ranges,
                version=version,
                revision=revision,
                test_data=test_data,
            )
        )
    return documents


def grants_of(usage: Mapping[Ban, BranchUsage]) -> dict[Ban, list[TrackRange]]:
    """The grants in `BranchUsage` values, as `build_e0401_set` takes them."""
    return {
        ban: [
            TrackRange(track, numbers)
            for track, ranges in branch.granted.items()
            for numbers in ranges
        ]
        for ban, branch in usage.items()
    }


def _locator(assigned: Iterable[TrackRange]) -> Callable[[Ban, TrackRange], TrackRange]:
    """Finds the one MOF range holding a grant (grants never cross ranges, see plan_grant)."""
    by_track: dict[Track, list[NumberRange]] = {}
    for item in assigned:
        by_track.setdefault(item.track, []).append(item.range)
    for ranges in by_track.values():
        ranges.sort()

    def locate(branch_ban: Ban, grant: TrackRange) -> TrackRange:
        ranges = by_track.get(grant.track, [])
        index = bisect.bisect_right(ranges, grant.range.begin, key=lambda item: item.begin) - 1
        if index >= 0 and grant.range.end <= ranges[index].end:
            return TrackRange(grant.track, ranges[index])
        raise InvalidRange(
            f"grant {grant} of branch {branch_ban} is not inside one MOF-assigned range"
        )

    return locate


def read_e0401(
    data: bytes,
    *,
    source: str = "(E0401)",
    test_data: bool = False,
    ban_rule: BanRule = BanRule.SINCE_2023,
) -> DocumentContent:
    """Read back an E0401 (either MIG version), validated like a written one."""
    return read_document(MESSAGE, data, source=source, test_data=test_data, ban_rule=ban_rule)


def read_e0401_file(path: Path, *, test_data: bool = False) -> DocumentContent:
    return read_e0401(path.read_bytes(), source=str(path), test_data=test_data)
