"""E0401/E0402 writers: valid against the official schema, strict rules, chunking."""

from __future__ import annotations

import pytest
from lxml import etree

from allocator.errors import InvalidRange
from allocator.identity import Ban, InvoiceType, Track
from allocator.pool import TrackRange
from allocator.ranges import NumberRange, RangeSet
from allocator.usage import BranchUsage
from mof_sync.e0401 import build_e0401, build_e0401_set, grants_of, read_e0401, read_e0401_file
from mof_sync.e0402 import build_e0402, build_e0402_set, read_e0402, read_e0402_file
from mof_sync.errors import MigError
from mof_sync.mig import MessageType, MigVersion
from mof_sync.validate import validate_document
from mof_sync.xsd import schema_for
from tests.mof_sync.mof_support import BRANCHES, HQ, PERIOD, PLACEHOLDER, SAMPLES

AB = Track("AB")
GENERAL = InvoiceType.GENERAL
VERSIONS = [MigVersion.V4_0, MigVersion.V4_1]


# -- the official samples ------------------------------------------------------------------


def test_samples_read_back_with_test_data() -> None:
    blank = read_e0402_file(SAMPLES / "E0402_v4_sample.xml", test_data=True)
    assert blank.version is MigVersion.V4_0
    assert blank.key.period.to_year_month() == "11208"
    assert [str(r) for r in blank.ranges] == [
        "00001000-00001000",
        "00001100-00001110",
        "00001200-00001249",
    ]
    branch = read_e0401_file(SAMPLES / "E0401_v4_sample.xml", test_data=True)
    assert branch.key.main == NumberRange(1000, 1999)
    assert branch.ranges == (NumberRange(1000, 1249),)


@pytest.mark.parametrize("sample", ["E0401_v4_sample.xml", "E0402_v4_sample.xml"])
def test_samples_without_test_data_report_the_placeholder_ban(sample: str) -> None:
    with pytest.raises(MigError) as caught:
        (read_e0401_file if sample.startswith("E0401") else read_e0402_file)(SAMPLES / sample)
    error = caught.value
    assert error.path.endswith("/Main/HeadBan")
    assert error.problem.startswith(f"BAN '{PLACEHOLDER}' fails the MOF check digit")


# -- written documents validate against the official (fixed) schema --------------------------


def _schema_valid(xml: bytes, message: MessageType, version: MigVersion) -> None:
    schema = schema_for(message, version)
    root = etree.fromstring(xml)
    assert schema.validate(root), schema.error_log


@pytest.mark.parametrize("version", VERSIONS)
def test_e0402_written_validates_and_reads_back(version: MigVersion) -> None:
    blanks = RangeSet.of([NumberRange(7, 7), NumberRange(100, 149), NumberRange(150, 160)])
    (document,) = build_e0402(HQ, BRANCHES[0], GENERAL, PERIOD, AB, blanks, version=version)
    _schema_valid(document.xml, MessageType.E0402, version)
    assert document.xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert f"urn:GEINV:eInvoiceMessage:E0402:{version.value}".encode() in document.xml
    assert b"< " not in document.xml and b"</ " not in document.xml  # never the stray space
    assert document.file_name == f"E0402_{HQ}_{BRANCHES[0]}_11412_AB_07_1of1_r0.xml"
    content = read_e0402(document.xml, source=document.file_name)
    assert content.version is version
    assert content.key == document.key
    assert content.ranges == (NumberRange(7, 7), NumberRange(100, 160))  # merged


@pytest.mark.parametrize("version", VERSIONS)
def test_e0401_written_validates_and_reads_back(version: MigVersion) -> None:
    mof = TrackRange(AB, NumberRange(0, 9_999))
    grants = [NumberRange(0, 49), NumberRange(50, 199), NumberRange(1_000, 1_049)]
    (document,) = build_e0401(HQ, BRANCHES[1], GENERAL, PERIOD, mof, grants, version=version)
    _schema_valid(document.xml, MessageType.E0401, version)
    assert b"<InvoiceBooklet>4</InvoiceBooklet>" in document.xml
    assert (
        document.file_name == f"E0401_{HQ}_{BRANCHES[1]}_11412_AB00000000-00009999_07_1of1_r0.xml"
    )
    content = read_e0401(document.xml)
    assert content.key.main == mof.range
    assert content.ranges == (NumberRange(0, 199), NumberRange(1_000, 1_049))


def test_e0401_set_groups_grants_by_mof_range() -> None:
    assigned = [TrackRange(AB, NumberRange(0, 999)), TrackRange(AB, NumberRange(5_000, 5_999))]
    usage = {
        BRANCHES[0]: BranchUsage(
            granted={AB: RangeSet.of([NumberRange(0, 99), NumberRange(5_000, 5_049)])}
        ),
        BRANCHES[1]: BranchUsage(granted={AB: RangeSet.of([NumberRange(100, 149)])}),
    }
    documents = build_e0401_set(HQ, GENERAL, PERIOD, assigned, grants_of(usage))
    assert [(d.key.branch_ban, d.key.main) for d in documents] == [
        (BRANCHES[0], NumberRange(0, 999)),
        (BRANCHES[0], NumberRange(5_000, 5_999)),
        (BRANCHES[1], NumberRange(0, 999)),
    ]
    stray = {BRANCHES[2]: [TrackRange(AB, NumberRange(2_000, 2_049))]}
    with pytest.raises(InvalidRange, match="not inside one MOF-assigned range"):
        build_e0401_set(HQ, GENERAL, PERIOD, assigned, stray)


def test_e0402_set_from_blank_ranges_output_skips_empty_sets() -> None:
    blanks = {
        (BRANCHES[1], AB): RangeSet.single(10, 20),
        (BRANCHES[0], AB): RangeSet.single(0, 5),
        (BRANCHES[2], AB): RangeSet(),
    }
    documents = build_e0402_set(HQ, GENERAL, PERIOD, blanks)
    assert [d.key.branch_ban for d in documents] == [BRANCHES[0], BRANCHES[1]]
    assert build_e0402(HQ, HQ, GENERAL, PERIOD, AB, RangeSet()) == []


# -- the stricter rules ------------------------------------------------------------------------


def test_writer_refuses_ban_failing_check_digit_unless_test_data() -> None:
    placeholder = Ban(PLACEHOLDER)
    with pytest.raises(MigError, match="check digit") as caught:
        build_e0402(placeholder, placeholder, GENERAL, PERIOD, AB, RangeSet.single(0, 0))
    assert caught.value.path == "BranchTrackBlank/Main/HeadBan"
    (document,) = build_e0402(
        placeholder, placeholder, GENERAL, PERIOD, AB, RangeSet.single(0, 0), test_data=True
    )
    assert read_e0402(document.xml, test_data=True).key.head_ban == placeholder


def test_e0401_item_must_be_whole_booklets() -> None:
    mof = TrackRange(AB, NumberRange(0, 999))
    with pytest.raises(MigError, match="whole booklets") as caught:
        build_e0401(HQ, HQ, GENERAL, PERIOD, mof, [NumberRange(0, 48)])
    assert caught.value.path == "BranchTrack/Details/BranchTrackItem[1]/InvoiceEndNo"


def test_e0401_item_must_be_inside_main() -> None:
    mof = TrackRange(AB, NumberRange(0, 999))
    with pytest.raises(MigError, match="not inside the MOF range") as caught:
        build_e0401(HQ, HQ, GENERAL, PERIOD, mof, [NumberRange(0, 49), NumberRange(1_000, 1_049)])
    assert caught.value.path == "BranchTrack/Details/BranchTrackItem[2]"


def test_e0401_main_must_be_whole_booklets() -> None:
    mof = TrackRange(AB, NumberRange(0, 998))
    with pytest.raises(MigError, match="whole booklets") as caught:
        build_e0401(HQ, HQ, GENERAL, PERIOD, mof, [NumberRange(0, 49)])
    assert caught.value.path == "BranchTrack/Main/InvoiceEndNo"


def _sample_root(sample: str) -> etree._Element:
    return etree.fromstring(
        (SAMPLES / sample).read_bytes(), etree.XMLParser(remove_blank_text=True)
    )


def _set(root: etree._Element, path: str, text: str) -> None:
    ns = {"m": root.nsmap[None]}
    root.xpath(path, namespaces=ns)[0].text = text


@pytest.mark.parametrize(
    ("path", "text", "where", "problem"),
    [
        ("//m:BranchTrackItem/m:InvoiceBooklet", "4", "InvoiceBooklet", "does not match"),
        ("//m:BranchTrackItem/m:InvoiceBooklet", "0", "InvoiceBooklet", "does not match"),
        ("//m:BranchTrackItem/m:InvoiceEndNo", "00000999", "InvoiceEndNo", "begin must not"),
        ("//m:Main/m:YearMonth", "1120|", "YearMonth", "5 digits"),
        ("//m:Main/m:BranchBan", "9000001", "BranchBan", "exactly 8 digits"),
    ],
)
def test_what_the_schema_lets_through_is_caught(
    path: str, text: str, where: str, problem: str
) -> None:
    root = _sample_root("E0401_v4_sample.xml")
    _set(root, path, text)
    assert schema_for(MessageType.E0401, MigVersion.V4_0).validate(root)  # the schema is loose
    with pytest.raises(MigError, match=problem) as caught:
        validate_document(root, MessageType.E0401, MigVersion.V4_0, source="s", test_data=True)
    assert caught.value.path.endswith(where)


def test_overlapping_blank_items_are_refused() -> None:
    root = _sample_root("E0402_v4_sample.xml")
    _set(root, "(//m:BranchTrackBlankItem)[3]/m:InvoiceBeginNo", "00001105")
    with pytest.raises(MigError, match="overlaps") as caught:
        validate_document(root, MessageType.E0402, MigVersion.V4_0, source="s", test_data=True)
    assert caught.value.path == "BranchTrackBlank/Details/BranchTrackBlankItem[3]"


def test_schema_errors_name_the_element() -> None:
    root = _sample_root("E0402_v4_sample.xml")
    _set(root, "//m:Main/m:InvoiceTrack", "A1")
    with pytest.raises(MigError, match=r"does not validate against the MIG 4\.0 E0402") as caught:
        validate_document(root, MessageType.E0402, MigVersion.V4_0, source="s", test_data=True)
    assert caught.value.path == "BranchTrackBlank/Main/InvoiceTrack"


def test_wrong_version_or_namespace_is_refused() -> None:
    (document,) = build_e0402(HQ, HQ, GENERAL, PERIOD, AB, RangeSet.single(0, 0))
    root = etree.fromstring(document.xml)
    with pytest.raises(MigError, match=r"expected MIG 4\.0"):
        validate_document(root, MessageType.E0402, MigVersion.V4_0, source="s")
    wrong = document.xml.replace(b"eInvoiceMessage:E0402", b"eInvoiceMessage:E0401")
    with pytest.raises(MigError, match="namespace"):
        read_e0402(wrong)


# -- chunking ----------------------------------------------------------------------------------


def _singles(count: int) -> RangeSet:
    return RangeSet(tuple(NumberRange(2 * i, 2 * i) for i in range(count)))


@pytest.mark.parametrize(("items", "parts"), [(10_000, [10_000]), (10_001, [10_000, 1])])
def test_e0402_chunks_at_10000_items(items: int, parts: list[int]) -> None:
    documents = build_e0402(HQ, HQ, GENERAL, PERIOD, AB, _singles(items))
    assert [d.items for d in documents] == parts
    assert [d.file_name.rsplit("_", 2)[1] for d in documents] == [
        f"{i}of{len(parts)}" for i in range(1, len(parts) + 1)
    ]
    assert read_e0402(documents[-1].xml).ranges[-1] == NumberRange(2 * (items - 1), 2 * (items - 1))


def _booklets(count: int) -> list[NumberRange]:
    return [NumberRange(100 * i, 100 * i + 49) for i in range(count)]


@pytest.mark.parametrize(("items", "parts"), [(25_000, [25_000]), (25_001, [25_000, 1])])
def test_e0401_chunks_at_25000_items(items: int, parts: list[int]) -> None:
    mof = TrackRange(AB, NumberRange(0, 100 * items - 1))
    documents = build_e0401(HQ, HQ, GENERAL, PERIOD, mof, _booklets(items))
    assert [d.items for d in documents] == parts
    assert all(d.key.main == mof.range for d in documents)
