"""E0402 (空白未使用字軌檔) writer: the blank ranges of one (HeadBan, BranchBan, InvoiceType,
YearMonth, track), at most 10,000 per document; no document where nothing is blank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from allocator.identity import Ban, BanRule, InvoiceType, Track
from allocator.period import Period
from allocator.ranges import NumberRange, RangeSet
from mof_sync.documents import DocumentKey, MigDocument
from mof_sync.mig import DEFAULT_VERSION, MessageType, MigVersion
from mof_sync.validate import DocumentContent
from mof_sync.writer import build_documents, read_document

MESSAGE = MessageType.E0402


def build_e0402(
    head_ban: Ban,
    branch_ban: Ban,
    invoice_type: InvoiceType,
    period: Period,
    track: Track,
    blanks: RangeSet | Iterable[NumberRange],
    *,
    version: MigVersion = DEFAULT_VERSION,
    revision: int = 0,
    test_data: bool = False,
) -> list[MigDocument]:
    """The validated E0402 documents of one key (ranges merged; empty list when none)."""
    ranges = RangeSet.of(blanks).ranges
    key = DocumentKey(MESSAGE, head_ban, branch_ban, invoice_type, period, track)
    return build_documents(key, ranges, version=version, revision=revision, test_data=test_data)


def build_e0402_set(
    head_ban: Ban,
    invoice_type: InvoiceType,
    period: Period,
    blanks: Mapping[tuple[Ban, Track], RangeSet],
    *,
    version: MigVersion = DEFAULT_VERSION,
    revision: int = 0,
    test_data: bool = False,
) -> list[MigDocument]:
    """A whole period's E0402s from `allocator.usage.blank_ranges` output, in key order."""
    documents: list[MigDocument] = []
    for (branch_ban, track), ranges in sorted(blanks.items()):
        documents.extend(
            build_e0402(
                head_ban,
                branch_ban,
                invoice_type,
                period,
                track,
                ranges,
                version=version,
                revision=revision,
                test_data=test_data,
            )
        )
    return documents


def read_e0402(
    data: bytes,
    *,
    source: str = "(E0402)",
    test_data: bool = False,
    ban_rule: BanRule = BanRule.SINCE_2023,
) -> DocumentContent:
    """Read back an E0402 (either MIG version), validated like a written one."""
    return read_document(MESSAGE, data, source=source, test_data=test_data, ban_rule=ban_rule)


def read_e0402_file(path: Path, *, test_data: bool = False) -> DocumentContent:
    return read_e0402(path.read_bytes(), source=str(path), test_data=test_data)
