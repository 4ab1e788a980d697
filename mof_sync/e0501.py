"""E0501 (營業人電子發票配號檔) reader: the ranges the MOF assigned to the HQ.

Accepts a bare `InvoiceAssignNo` or Turnkey's `InvoiceEnvelope` whose `InvoicePack` holds one or
many of them, in any MIG version (matched on local names, the namespace checked to be
`urn:GEINV:E0501:<version>` / `urn:GEINV:InvoiceEnvelope:<version>`). Every value goes through
allocator's rules; the first problem stops the read, so a bad file yields no records at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from allocator.identity import Ban, BanRule, InvoiceType
from allocator.period import Period
from allocator.pool import TrackRange, first_overlap
from mof_sync import fields
from mof_sync.errors import MigError
from mof_sync.mig import ENVELOPE_NAMESPACE_BASE, ENVELOPE_ROOT, MessageType, namespace_version
from mof_sync.safe_xml import child_elements, local_name, namespace_of, parse_xml

MESSAGE = MessageType.E0501
FIELDS = (
    "Ban",
    "InvoiceType",
    "YearMonth",
    "InvoiceTrack",
    "InvoiceBeginNo",
    "InvoiceEndNo",
    "InvoiceBooklet",
)


@dataclass(frozen=True, slots=True)
class Assignment:
    """One range the MOF assigned: an E0501 InvoiceAssignNo, checked."""

    ban: Ban
    invoice_type: InvoiceType
    period: Period
    track_range: TrackRange
    booklets: int
    path: str = field(default="", compare=False)  # the element read, for error messages


@dataclass(frozen=True, slots=True)
class _Reader:
    source: str
    head_ban: Ban
    test_data: bool
    ban_rule: BanRule


def read_e0501(
    data: bytes,
    *,
    head_ban: Ban,
    source: str = "(E0501)",
    test_data: bool = False,
    ban_rule: BanRule = BanRule.SINCE_2023,
) -> tuple[Assignment, ...]:
    """The assignments of an E0501 document for the HQ `head_ban`, or a MigError.

    `test_data` accepts BANs that fail the check digit (the MOF samples' placeholder 90000011).
    """
    reader = _Reader(source, head_ban, test_data, ban_rule)
    root = parse_xml(data, source)
    read = [_assignment(reader, element, path) for element, path in _assign_elements(root, source)]
    _check_overlaps(reader, read)
    return tuple(read)


def read_e0501_file(
    path: Path, *, head_ban: Ban, test_data: bool = False, ban_rule: BanRule = BanRule.SINCE_2023
) -> tuple[Assignment, ...]:
    return read_e0501(
        path.read_bytes(),
        head_ban=head_ban,
        source=str(path),
        test_data=test_data,
        ban_rule=ban_rule,
    )


def _assign_elements(root: etree._Element, source: str) -> list[tuple[etree._Element, str]]:
    """The InvoiceAssignNo elements with their paths, bare or inside an envelope."""
    name = local_name(root)
    if name == MESSAGE.root:
        _check_namespace(root, MESSAGE.namespace_base, source, name)
        return [(root, name)]
    if name != ENVELOPE_ROOT:
        raise MigError(
            source, name, f"root element must be {MESSAGE.root} or {ENVELOPE_ROOT} for E0501"
        )
    _check_namespace(root, ENVELOPE_NAMESPACE_BASE, source, name)
    pack, pack_path = _pack(root, source)
    items = child_elements(pack)
    found: list[tuple[etree._Element, str]] = []
    for index, item in enumerate(items, start=1):
        path = f"{pack_path}/{local_name(item)}[{index}]"
        if local_name(item) != MESSAGE.root:
            raise MigError(source, path, f"InvoicePack of an E0501 may hold only {MESSAGE.root}")
        _check_namespace(item, MESSAGE.namespace_base, source, path)
        found.append((item, path))
    _check_pack_attributes(pack, pack_path, len(found), source)
    return found


def _pack(root: etree._Element, source: str) -> tuple[etree._Element, str]:
    packs = [child for child in child_elements(root) if local_name(child) == "InvoicePack"]
    path = f"{ENVELOPE_ROOT}/InvoicePack"
    if len(packs) != 1:
        raise MigError(source, path, f"an envelope needs exactly one InvoicePack, not {len(packs)}")
    if namespace_of(packs[0]) != namespace_of(root):
        raise MigError(source, path, "InvoicePack must be in the envelope's namespace")
    return packs[0], path


def _check_pack_attributes(pack: etree._Element, path: str, count: int, source: str) -> None:
    if count == 0:
        raise MigError(source, path, "InvoicePack holds no InvoiceAssignNo")
    message_type = pack.get("messageType")
    if message_type is not None and message_type != MESSAGE.value:
        raise MigError(source, path, f"messageType {message_type!r} is not E0501")
    declared = pack.get("count")
    if declared is not None and declared.strip() != str(count):
        # A count that disagrees means a truncated or spliced file: take none of it.
        raise MigError(source, path, f"count attribute says {declared!r} but it holds {count}")


def _check_namespace(element: etree._Element, base: str, source: str, path: str) -> None:
    namespace = namespace_of(element)
    # The MIG 3.1 E0501 schema itself has a stray leading space in its namespace.
    if namespace_version((namespace or "").strip(), base) is None:
        raise MigError(source, path, f"namespace {namespace!r} is not {base}:<version>")


def _values(reader: _Reader, element: etree._Element, path: str) -> dict[str, str]:
    """Each field exactly once, nothing else, all in the element's namespace."""
    values: dict[str, str] = {}
    namespace = namespace_of(element)
    for child in child_elements(element):
        name = local_name(child)
        child_path = f"{path}/{name}"
        if name not in FIELDS or namespace_of(child) != namespace:
            raise MigError(reader.source, child_path, f"unexpected element in {MESSAGE.root}")
        if name in values:
            raise MigError(reader.source, child_path, "appears more than once")
        if len(child_elements(child)):
            raise MigError(reader.source, child_path, "must hold text, not elements")
        values[name] = fields.text_of(child)
    for name in FIELDS:
        if name not in values:
            raise MigError(reader.source, f"{path}/{name}", "missing")
    return values


def _assignment(reader: _Reader, element: etree._Element, path: str) -> Assignment:
    values = _values(reader, element, path)
    src = reader.source
    ban = fields.ban(
        src, f"{path}/Ban", values["Ban"], test_data=reader.test_data, rule=reader.ban_rule
    )
    if ban != reader.head_ban:
        raise MigError(src, f"{path}/Ban", f"BAN {ban} is not this HQ's BAN {reader.head_ban}")
    invoice_type = fields.invoice_type(src, f"{path}/InvoiceType", values["InvoiceType"])
    period = fields.period(src, f"{path}/YearMonth", values["YearMonth"])
    track = fields.track(src, f"{path}/InvoiceTrack", values["InvoiceTrack"])
    numbers = fields.number_range(src, path, values["InvoiceBeginNo"], values["InvoiceEndNo"])
    numbers = fields.booklet_range(src, path, numbers)
    booklets = fields.booklet_count(src, path, values["InvoiceBooklet"], numbers)
    return Assignment(ban, invoice_type, period, TrackRange(track, numbers), booklets, path)


def _check_overlaps(reader: _Reader, read: Sequence[Assignment]) -> None:
    """No two ranges of one file may share a number of a track in a period."""
    for period in {item.period for item in read}:
        items = ((a.track_range, (i, a)) for i, a in enumerate(read) if a.period == period)
        clash = first_overlap(items)
        if clash is not None:
            (_, (_, first)), (_, (_, second)) = sorted(clash, key=lambda item: item[1][0])
            raise MigError(
                reader.source,
                second.path,
                f"range {second.track_range} overlaps range {first.track_range} (in {first.path})",
            )
