"""The hardened parser: bombs, external entities and DOCTYPEs are refused, never expanded."""

from __future__ import annotations

import pytest

from mof_sync.e0402 import read_e0402
from mof_sync.e0501 import read_e0501
from mof_sync.errors import MigError, UnsafeXml
from mof_sync.results import read_result
from mof_sync.safe_xml import parse_xml
from tests.mof_sync.mof_support import HQ, envelope

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<InvoiceAssignNo xmlns="urn:GEINV:E0501:4.0"><Ban>&lol9;</Ban></InvoiceAssignNo>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE InvoiceAssignNo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<InvoiceAssignNo xmlns="urn:GEINV:E0501:4.0"><Ban>&xxe;</Ban></InvoiceAssignNo>
"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["bomb", "xxe"])
def test_entity_documents_are_refused_by_every_reader(data: bytes) -> None:
    for read in (
        lambda: read_e0501(data, head_ban=HQ, source="evil.xml"),
        lambda: read_e0402(data, source="evil.xml"),
        lambda: read_result(data, "evil.xml"),
    ):
        with pytest.raises(UnsafeXml, match="DOCTYPE") as caught:
            read()
        assert caught.value.source == "evil.xml"
        assert "root:" not in str(caught.value)  # nothing of /etc/passwd leaks into messages


def test_doctype_in_utf16_is_refused_after_parsing() -> None:
    data = EXTERNAL_ENTITY.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
    with pytest.raises(UnsafeXml):
        parse_xml(data.encode("utf-16"), "utf16.xml")


def test_malformed_xml_names_the_file() -> None:
    with pytest.raises(MigError, match=r"broken\.xml: \(document\): not well-formed XML"):
        parse_xml(b"<InvoiceAssignNo><Ban>1</InvoiceAssignNo>", "broken.xml")


def test_text_instead_of_bytes_is_refused() -> None:
    with pytest.raises(MigError, match="bytes"):
        parse_xml(envelope([{}]).decode(), "text.xml")  # type: ignore[arg-type]


def test_blank_text_is_removed() -> None:
    root = parse_xml(b"<a>\n  <b>x</b>\t\n</a>", "blank.xml")
    assert root.text is None and root[0].tail is None
