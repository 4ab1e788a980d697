"""Reading E0501: bare or enveloped, MIG 4.0 and 4.1, every value checked, errors located."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.identity import Ban, InvoiceType, Track
from allocator.pool import TrackRange
from allocator.ranges import NumberRange
from mof_sync.e0501 import Assignment, read_e0501, read_e0501_file
from mof_sync.errors import MigError
from tests.mof_sync.mof_support import HQ, PERIOD, PLACEHOLDER, e0501, envelope


@pytest.mark.parametrize("version", ["4.0", "4.1"])
def test_bare_document(version: str) -> None:
    (assignment,) = read_e0501(e0501(version), head_ban=HQ, source="a.xml")
    assert assignment == Assignment(
        HQ, InvoiceType.GENERAL, PERIOD, TrackRange(Track("AB"), NumberRange(0, 999)), 20
    )


@pytest.mark.parametrize("version", ["4.0", "4.1"])
def test_envelope_with_several_ranges(version: str) -> None:
    data = envelope(
        [
            {},
            {"InvoiceTrack": "AC", "InvoiceType": "08"},
            {"InvoiceBeginNo": "00001000", "InvoiceEndNo": "00001049", "InvoiceBooklet": "1"},
        ],
        version,
    )
    found = read_e0501(data, head_ban=HQ, source="env.xml")
    assert [(a.track_range.track.code, a.invoice_type, a.booklets) for a in found] == [
        ("AB", InvoiceType.GENERAL, 20),
        ("AC", InvoiceType.SPECIAL, 20),
        ("AB", InvoiceType.GENERAL, 1),
    ]


def test_file_reader(tmp_path: Path) -> None:
    path = tmp_path / "E0501.xml"
    path.write_bytes(e0501())
    assert len(read_e0501_file(path, head_ban=HQ)) == 1


def test_placeholder_ban_needs_test_data() -> None:
    data = e0501(Ban=PLACEHOLDER)
    (assignment,) = read_e0501(data, head_ban=Ban(PLACEHOLDER), test_data=True)
    assert assignment.ban == Ban(PLACEHOLDER)
    with pytest.raises(MigError) as caught:
        read_e0501(data, head_ban=Ban(PLACEHOLDER), source="sample.xml")
    assert caught.value.path == "InvoiceAssignNo/Ban"
    assert "'90000011' fails the MOF check digit" in str(caught.value)


def bad(data: bytes) -> MigError:
    with pytest.raises(MigError) as caught:
        read_e0501(data, head_ban=HQ, source="bad.xml")
    assert str(caught.value).startswith("bad.xml: ")
    return caught.value


@pytest.mark.parametrize(
    ("data", "path", "problem"),
    [
        (e0501(namespace="urn:GEINV:E0401:4.0"), "InvoiceAssignNo", "namespace"),
        (e0501(namespace="urn:GEINV:E0501:latest"), "InvoiceAssignNo", "namespace"),
        (e0501(Ban="12345678"), "InvoiceAssignNo/Ban", "check digit"),
        (e0501(Ban="04595257"), "InvoiceAssignNo/Ban", "not this HQ's BAN"),
        (e0501(Ban="2209913"), "InvoiceAssignNo/Ban", "exactly 8 digits"),
        (e0501(InvoiceType="05"), "InvoiceAssignNo/InvoiceType", "07 (general) or 08"),
        (e0501(YearMonth="11411"), "InvoiceAssignNo/YearMonth", "even month"),
        (e0501(YearMonth="1120|"), "InvoiceAssignNo/YearMonth", "5 digits"),
        (e0501(InvoiceTrack="ab"), "InvoiceAssignNo/InvoiceTrack", "two capital letters"),
        (e0501(InvoiceBeginNo="0000000"), "InvoiceAssignNo/InvoiceBeginNo", "8 ASCII digits"),
        (e0501(InvoiceBeginNo="00000010"), "InvoiceAssignNo/InvoiceBeginNo", "whole booklets"),
        (e0501(InvoiceEndNo="00000998"), "InvoiceAssignNo/InvoiceEndNo", "whole booklets"),
        (
            e0501(InvoiceBeginNo="00001000", InvoiceEndNo="00000999"),
            "InvoiceAssignNo/InvoiceEndNo",
            "begin must not be after end",
        ),
        (e0501(InvoiceBooklet="19"), "InvoiceAssignNo/InvoiceBooklet", "does not match"),
        (e0501(InvoiceBooklet="-1"), "InvoiceAssignNo/InvoiceBooklet", "whole number"),
        (e0501(InvoiceBooklet=None), "InvoiceAssignNo/InvoiceBooklet", "missing"),
        (b"<InvoiceEnvelope xmlns='urn:x'/>", "InvoiceEnvelope", "namespace"),
        (b"<BranchTrack xmlns='urn:GEINV:E0501:4.0'/>", "BranchTrack", "root element"),
    ],
)
def test_bad_values_are_located(data: bytes, path: str, problem: str) -> None:
    error = bad(data)
    assert error.path == path
    assert problem in error.problem


def test_unknown_and_repeated_elements() -> None:
    extra = e0501().replace(b"</InvoiceAssignNo>", b"<Note>x</Note></InvoiceAssignNo>")
    assert bad(extra).path == "InvoiceAssignNo/Note"
    twice = e0501().replace(b"</InvoiceAssignNo>", b"<Ban>22099131</Ban></InvoiceAssignNo>")
    assert "more than once" in bad(twice).problem


def test_error_in_second_item_names_it_and_returns_nothing() -> None:
    data = envelope([{}, {"InvoiceBeginNo": "00001001", "InvoiceEndNo": "00001049"}])
    error = bad(data)
    assert error.path == "InvoiceEnvelope/InvoicePack/InvoiceAssignNo[2]/InvoiceBeginNo"


def test_overlapping_ranges_in_one_file() -> None:
    data = envelope(
        [{}, {"InvoiceBeginNo": "00000950", "InvoiceEndNo": "00001049", "InvoiceBooklet": "2"}]
    )
    error = bad(data)
    assert error.path == "InvoiceEnvelope/InvoicePack/InvoiceAssignNo[2]"
    assert "overlaps" in error.problem and "InvoiceAssignNo[1]" in error.problem


def test_same_numbers_of_another_period_do_not_overlap() -> None:
    data = envelope([{}, {"YearMonth": "11410"}])
    assert len(read_e0501(data, head_ban=HQ)) == 2


def test_envelope_count_must_match() -> None:
    error = bad(envelope([{}, {"InvoiceTrack": "AC"}], count=3))
    assert error.path == "InvoiceEnvelope/InvoicePack" and "count" in error.problem


def test_envelope_of_other_messages_is_refused() -> None:
    data = envelope([{}]).replace(b"e:InvoiceAssignNo", b"e:BranchTrack")
    assert "may hold only InvoiceAssignNo" in bad(data).problem


def test_foreign_ban_in_envelope() -> None:
    error = bad(envelope([{}, {"Ban": "04595257"}]))
    assert error.path == "InvoiceEnvelope/InvoicePack/InvoiceAssignNo[2]/Ban"
