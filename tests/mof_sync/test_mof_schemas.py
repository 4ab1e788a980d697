"""The shipped schemas: what was copied, what was fixed, and that the official samples pass."""

from __future__ import annotations

import pytest
from lxml import etree

from mof_sync.mig import MessageType, MigVersion
from mof_sync.safe_xml import parse_xml
from mof_sync.xsd import schema_for, schema_resource
from tests.mof_sync.mof_support import PUBLISHED, SAMPLES

COPIED = [
    "v4.0/E0401.xsd",
    "v4.0/E0402.xsd",
    "v4.0/E0501.xsd",
    "v4.0/GenericType_4.0.xsd",
    "v4.0/InvoiceEnvelope.xsd",
    "v4.1/messages/E0401.xsd",
    "v4.1/messages/E0402.xsd",
    "v4.1/common/GenericType_4.0.xsd",
    "results-3.0/ProcessResult.xsd",
    "results-3.0/SummaryResult.xsd",
    "results-3.0/GenericResult_3.0.xsd",
]
FIXED = {
    "v4.0/E0401.xsd": (b'name=" InvoiceBeginNo"', b'name="InvoiceBeginNo"'),
    "v4.0/E0402.xsd": (b'name=" BranchBan"', b'name="BranchBan"'),
}


@pytest.mark.parametrize("relative", COPIED)
def test_shipped_copy_equals_published_but_for_the_stray_space(relative: str) -> None:
    published = (PUBLISHED / relative).read_bytes()
    shipped = schema_resource(relative).read_bytes()
    if relative in FIXED:
        stray, stripped = FIXED[relative]
        assert published.count(stray) == 1
        published = published.replace(stray, stripped)
    assert shipped == published


def test_provenance_is_shipped() -> None:
    text = schema_resource("PROVENANCE.md").read_text(encoding="utf-8")
    assert "uxb2bralph/EIVO2025" in text and "stripped" in text


@pytest.mark.parametrize(
    ("sample", "message"),
    [("E0401_v4_sample.xml", MessageType.E0401), ("E0402_v4_sample.xml", MessageType.E0402)],
)
def test_official_samples_validate_against_the_shipped_v40_schema(
    sample: str, message: MessageType
) -> None:
    root = parse_xml((SAMPLES / sample).read_bytes(), sample)
    schema = schema_for(message, MigVersion.V4_0)
    assert schema.validate(root), schema.error_log


@pytest.mark.parametrize(
    ("sample", "xsd"),
    [("E0401_v4_sample.xml", "E0401.xsd"), ("E0402_v4_sample.xml", "E0402.xsd")],
)
def test_official_samples_fail_the_published_v40_schema(sample: str, xsd: str) -> None:
    """Why the copy is fixed: with the stray space even the MOF samples are invalid."""
    schema = etree.XMLSchema(etree.parse(str(PUBLISHED / "v4.0" / xsd)))
    assert not schema.validate(etree.parse(str(SAMPLES / sample)))


def test_schemas_are_compiled_once_per_thread() -> None:
    first = schema_for(MessageType.E0402, MigVersion.V4_1)
    assert schema_for(MessageType.E0402, MigVersion.V4_1) is first
