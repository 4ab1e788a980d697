"""The one hardened XML parser every MIG and Turnkey document goes through.

Entities are never resolved, no DTD is loaded, nothing is fetched from the network, libxml2's
size limits stay on (no huge_tree), and any document with a DOCTYPE is refused outright: MIG
documents never need one, and a DOCTYPE is the only way to declare the entities of an XML bomb
or an external-entity read (file:///etc/passwd).
"""

from __future__ import annotations

import re

from lxml import etree

from mof_sync.errors import MigError, UnsafeXml

# Far above any MIG document (an E0402 of 10,000 items is about 1 MB), far below harm.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
DOCUMENT = "(document)"
# The prolog is where a DOCTYPE must be; scanning the raw bytes refuses it before libxml2 sees
# it. The check after parsing catches encodings this byte pattern cannot see (UTF-16).
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    # A new parser per call: cheap, and lxml parsers must not be shared between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=True,
    )


def parse_xml(data: bytes, source: str) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise a MigError naming `source`."""
    if not isinstance(data, bytes):
        raise MigError(
            source, DOCUMENT, "XML must be given as bytes (its declaration names the encoding)"
        )
    if len(data) > MAX_DOCUMENT_BYTES:
        raise MigError(
            source, DOCUMENT, f"document is {len(data)} bytes, more than {MAX_DOCUMENT_BYTES}"
        )
    if _DOCTYPE.search(data):
        raise _refuse_doctype(source)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        raise MigError(source, DOCUMENT, f"not well-formed XML: {error}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _refuse_doctype(source)
    return root


def _refuse_doctype(source: str) -> UnsafeXml:
    return UnsafeXml(
        source,
        DOCUMENT,
        "DOCTYPE declarations are refused: MIG documents have none, and entity declarations "
        "could expand without bound (XML bomb) or read local files (external entities)",
    )


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname


def namespace_of(element: etree._Element) -> str | None:
    return etree.QName(element).namespace


def child_elements(element: etree._Element) -> list[etree._Element]:
    """Element children only: comments and processing instructions are not data."""
    return [child for child in element if isinstance(child.tag, str)]
