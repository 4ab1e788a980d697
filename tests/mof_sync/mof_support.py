"""Shared values and document builders for the MOF sync tests."""

from __future__ import annotations

from pathlib import Path

from allocator.identity import Ban, ban_check_passes
from allocator.period import Period

# The CI clone has shared/ beside the repository: <root>/../shared/mig/samples.
SAMPLES = Path(__file__).parents[3] / "shared" / "mig" / "samples"
PUBLISHED = SAMPLES.parent
HQ = Ban.parse("22099131")  # passes the check digit (TSMC)
PLACEHOLDER = "90000011"  # the MIG samples' BAN: fails the check digit
PERIOD = Period(2025, 12)  # YearMonth 11412


def valid_bans(count: int, start: int = 10_000_000) -> list[Ban]:
    """The first `count` BANs from `start` that pass the MOF check digit."""
    found: list[Ban] = []
    number = start
    while len(found) < count:
        text = f"{number:08d}"
        if ban_check_passes(text) and text != str(HQ):
            found.append(Ban(text))
        number += 1
    return found


BRANCHES = valid_bans(8)

ASSIGN_FIELDS = {
    "Ban": str(HQ),
    "InvoiceType": "07",
    "YearMonth": "11412",
    "InvoiceTrack": "AB",
    "InvoiceBeginNo": "00000000",
    "InvoiceEndNo": "00000999",
    "InvoiceBooklet": "20",
}


def assign_no(prefix: str = "", **values: str) -> str:
    fields = {**ASSIGN_FIELDS, **values}
    body = "".join(
        f"<{prefix}{name}>{text}</{prefix}{name}>"
        for name, text in fields.items()
        if text is not None
    )
    return body


def e0501(version: str = "4.0", namespace: str | None = None, **values: str) -> bytes:
    """A bare InvoiceAssignNo."""
    ns = namespace or f"urn:GEINV:E0501:{version}"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<InvoiceAssignNo xmlns="{ns}">{assign_no(**values)}</InvoiceAssignNo>'
    ).encode()


def envelope(items: list[dict[str, str]], version: str = "4.0", count: int | None = None) -> bytes:
    """An InvoiceEnvelope whose InvoicePack holds one InvoiceAssignNo per dict of overrides."""
    pack = "".join(
        f'<e:InvoiceAssignNo xmlns:e="urn:GEINV:E0501:{version}">'
        f"{assign_no('e:', **values)}</e:InvoiceAssignNo>"
        for values in items
    )
    declared = len(items) if count is None else count
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<InvoiceEnvelope xmlns="urn:GEINV:InvoiceEnvelope:{version}">'
        f"<From><PartyId>{HQ}</PartyId></From><FromVAC><RoutingId>EINV</RoutingId></FromVAC>"
        f"<To><PartyId>{HQ}</PartyId></To><ToVAC><RoutingId>HQ</RoutingId></ToVAC>"
        f'<InvoicePack messageType="E0501" count="{declared}" version="{version}">{pack}'
        f"</InvoicePack></InvoiceEnvelope>"
    ).encode()
