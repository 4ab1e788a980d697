"""A MIG document ready for Turnkey: its content key, its part of a split list, its revision.

The file name is derived from the content key alone, so the same document always gets the same
name and rewriting it is idempotent, while two different keys can never collide.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from lxml import etree

from allocator.identity import Ban, InvoiceType, Track
from allocator.period import Period
from allocator.ranges import NumberRange
from mof_sync.mig import MessageType, MigVersion

_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DocumentKey:
    """What a document is about. E0402: one (HeadBan, BranchBan, InvoiceType, YearMonth, track);
    E0401: the same plus the MOF range of its Main, since a branch can have several per track."""

    message: MessageType
    head_ban: Ban
    branch_ban: Ban
    invoice_type: InvoiceType
    period: Period
    track: Track
    main: NumberRange | None = None

    def label(self) -> str:
        """Stable text form, the file name's stem before the part and revision."""
        track = str(self.track)
        if self.main is not None:
            track = f"{self.track}{self.main.begin:08d}-{self.main.end:08d}"
        return "_".join(
            (
                self.message.value,
                str(self.head_ban),
                str(self.branch_ban),
                self.period.to_year_month(),
                track,
                self.invoice_type.value,
            )
        )


@dataclass(frozen=True, slots=True)
class MigDocument:
    """One validated document: part `part` of `parts` of revision `revision` of its key."""

    key: DocumentKey
    version: MigVersion
    part: int
    parts: int
    revision: int
    items: int
    xml: bytes

    @property
    def file_name(self) -> str:
        return document_name(self.key, self.part, self.parts, self.revision)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.xml).hexdigest()


def document_name(key: DocumentKey, part: int, parts: int, revision: int) -> str:
    """E.g. `E0402_<HeadBan>_<BranchBan>_<YearMonth>_<Track>_<Type>_<part>of<n>_r<revision>.xml`."""
    return f"{key.label()}_{part}of{parts}_r{revision}.xml"


def new_document(key: DocumentKey, version: MigVersion) -> tuple[etree._Element, str]:
    """Root and Main of a document of the key's message: (root, namespace).

    Main gets HeadBan, BranchBan, InvoiceType, YearMonth, InvoiceTrack (the MIG sample's order;
    v4 uses xsd:all, so order is free), and for E0401 the MOF range.
    """
    ns = key.message.namespace(version)
    root = etree.Element(f"{{{ns}}}{key.message.root}", nsmap={None: ns, "xsi": _XSI})
    # The schemaLocation hint the MIG samples carry; validators ignore it.
    root.set(f"{{{_XSI}}}schemaLocation", f"{ns} {key.message.value}.xsd")
    main = etree.SubElement(root, f"{{{ns}}}Main")
    element(main, ns, "HeadBan", str(key.head_ban))
    element(main, ns, "BranchBan", str(key.branch_ban))
    element(main, ns, "InvoiceType", key.invoice_type.value)
    element(main, ns, "YearMonth", key.period.to_year_month())
    element(main, ns, "InvoiceTrack", str(key.track))
    if key.main is not None:
        element(main, ns, "InvoiceBeginNo", f"{key.main.begin:08d}")
        element(main, ns, "InvoiceEndNo", f"{key.main.end:08d}")
    return root, ns


def serialize(root: etree._Element) -> bytes:
    """UTF-8 with an XML declaration (double-quoted, like the MIG samples)."""
    return _XML_DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def chunked(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Consecutive slices of at most `size` items (MIG caps the items per document)."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def element(parent: etree._Element, namespace: str, name: str, text: str) -> etree._Element:
    child = etree.SubElement(parent, f"{{{namespace}}}{name}")
    child.text = text
    return child
