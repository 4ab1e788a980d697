"""The one MIG writer and reader of the allocation reports: E0401 and E0402 differ only in
their key (E0401's carries the MOF range) and in their detail items, described by `Details`.

A list of ranges becomes documents of at most the message's item cap each, every one validated
against the shipped schema and the stricter rules before it is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from allocator.identity import BanRule
from allocator.ranges import BOOKLET_SIZE, NumberRange
from mof_sync.documents import (
    DocumentKey,
    MigDocument,
    chunked,
    document_name,
    element,
    new_document,
    serialize,
)
from mof_sync.mig import MessageType, MigVersion
from mof_sync.safe_xml import parse_xml
from mof_sync.validate import MAX_ITEMS, DocumentContent, detect_version, validate_document


@dataclass(frozen=True, slots=True)
class Details:
    """How a message lists its ranges: the item's element, and whether it counts booklets."""

    item: str
    booklets: bool


DETAILS = {
    MessageType.E0401: Details("BranchTrackItem", booklets=True),
    MessageType.E0402: Details("BranchTrackBlankItem", booklets=False),
}


def build_documents(
    key: DocumentKey,
    ranges: Sequence[NumberRange],
    *,
    version: MigVersion,
    revision: int,
    test_data: bool,
) -> list[MigDocument]:
    """The validated documents of one key (none when there is no range)."""
    parts = chunked(ranges, MAX_ITEMS[key.message])
    return [
        _document(key, items, part, len(parts), version, revision, test_data)
        for part, items in enumerate(parts, start=1)
    ]


def _document(
    key: DocumentKey,
    items: Sequence[NumberRange],
    part: int,
    parts: int,
    version: MigVersion,
    revision: int,
    test_data: bool,
) -> MigDocument:
    shape = DETAILS[key.message]
    root, ns = new_document(key, version)
    details = etree.SubElement(root, f"{{{ns}}}Details")
    for numbers in items:
        item = etree.SubElement(details, f"{{{ns}}}{shape.item}")
        element(item, ns, "InvoiceBeginNo", f"{numbers.begin:08d}")
        element(item, ns, "InvoiceEndNo", f"{numbers.end:08d}")
        if shape.booklets:
            # Booklets only of aligned ranges; a misaligned one is reported by the validation.
            booklets = numbers.count // BOOKLET_SIZE if numbers.is_booklet_aligned() else 0
            element(item, ns, "InvoiceBooklet", str(booklets))
    name = document_name(key, part, parts, revision)
    validate_document(root, key.message, version, source=name, test_data=test_data)
    return MigDocument(key, version, part, parts, revision, len(items), serialize(root))


def read_document(
    message: MessageType,
    data: bytes,
    *,
    source: str,
    test_data: bool = False,
    ban_rule: BanRule = BanRule.SINCE_2023,
) -> DocumentContent:
    """Read back a document of `message` (either MIG version), validated like a written one."""
    root = parse_xml(data, source)
    version = detect_version(root, message, source)
    return validate_document(
        root, message, version, source=source, test_data=test_data, ban_rule=ban_rule
    )
