"""The bad-input corpus of E0501 documents, through ImportE0501: refused as INVALID_ARGUMENT
(or FAILED_PRECONDITION for an overlap with what is stored), naming the file and the element,
and every table of the HQ database byte-identical afterwards."""

from __future__ import annotations

import grpc
import pytest

from protos.einvoice.v1 import admin_pb2
from tests.corpus.state import seed
from tests.fixtures import HqHandle, snapshot
from tests.mof_sync.mof_support import HQ, assign_no, e0501, envelope

INVALID = grpc.StatusCode.INVALID_ARGUMENT
REFUSED = grpc.StatusCode.FAILED_PRECONDITION
OK = {"YearMonth": "11512", "InvoiceTrack": "CD", "InvoiceBeginNo": "00000000",
      "InvoiceEndNo": "00000999", "InvoiceBooklet": "20"}  # fmt: skip


def doc(**values: str) -> bytes:
    return e0501(**(OK | values))


CASES = [
    ("not XML", b"this is not xml", INVALID, "not well-formed"),
    ("empty file", b"", INVALID, "bad.xml"),
    ("truncated", doc()[:-20], INVALID, "bad.xml"),
    (
        "billion laughs",
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><l>&a;</l>',
        INVALID,
        "DOCTYPE",
    ),
    (
        "external entity",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        INVALID,
        "DOCTYPE",
    ),
    (
        "wrong root",
        b'<?xml version="1.0"?><Invoice xmlns="urn:GEINV:E0501:4.0"/>',
        INVALID,
        "root element",
    ),
    ("wrong namespace", e0501(namespace="urn:other:E0501:4.0", **OK), INVALID, "namespace"),
    ("foreign Ban", doc(Ban="04595257"), INVALID, "is not this HQ's BAN"),
    ("Ban check digit", doc(Ban="22099132"), INVALID, "Ban"),
    ("YearMonth 11513", doc(YearMonth="11513"), INVALID, "YearMonth"),
    ("InvoiceType 09", doc(InvoiceType="09"), INVALID, "InvoiceType"),
    ("track lower case", doc(InvoiceTrack="cd"), INVALID, "InvoiceTrack"),
    ("misaligned begin", doc(InvoiceBeginNo="00000010"), INVALID, "whole booklets"),
    (
        "end before begin",
        doc(InvoiceBeginNo="00001000", InvoiceEndNo="00000999"),
        INVALID,
        "bad.xml",
    ),
    ("booklets mismatch", doc(InvoiceBooklet="19"), INVALID, "InvoiceBooklet"),
    ("number letters", doc(InvoiceEndNo="0000099X"), INVALID, "InvoiceEndNo"),
    ("number full-width", doc(InvoiceEndNo="０００００９９９"), INVALID, "InvoiceEndNo"),
    ("missing element", e0501(**(OK | {"InvoiceBooklet": None})), INVALID, "missing"),
    ("unexpected element", e0501(**(OK | {"Extra": "1"})), INVALID, "unexpected element"),
    (
        "overlap in a file",
        envelope([OK, OK | {"InvoiceBeginNo": "00000500", "InvoiceEndNo": "00001499"}]),
        INVALID,
        "overlaps range CD00000000-CD00000999",
    ),
    (
        "overlap stored",
        doc(
            InvoiceTrack="AB",
            InvoiceBeginNo="00009950",
            InvoiceEndNo="00010049",
            InvoiceBooklet="2",
        ),
        REFUSED,
        "bad.xml: InvoiceAssignNo",
    ),
    ("count attribute wrong", envelope([OK], count=2), INVALID, "count attribute says"),
    ("empty pack", envelope([]), INVALID, "holds no InvoiceAssignNo"),
]


@pytest.mark.parametrize(("name", "content", "code", "needle"), CASES, ids=[c[0] for c in CASES])
async def test_bad_e0501_is_refused_naming_it_and_changes_nothing(
    hq: HqHandle, name: str, content: bytes, code: grpc.StatusCode, needle: str
) -> None:
    await seed(hq.admin, hq.branch)
    good = admin_pb2.E0501File(name="good.xml", content=doc(InvoiceTrack="EF"))
    bad = admin_pb2.E0501File(name="bad.xml", content=content)
    before = snapshot(hq)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hq.admin.ImportE0501(admin_pb2.ImportE0501Request(files=[good, bad]))
    assert info.value.code() == code, info.value.details()
    assert needle in info.value.details(), info.value.details()
    assert "bad.xml" in info.value.details()  # the file is named
    assert snapshot(hq) == before  # all or nothing: good.xml was not imported either


def test_the_builders_make_the_documents_they_say() -> None:
    assert f"<Ban>{HQ}</Ban>" in assign_no()
