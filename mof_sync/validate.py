"""Every E0401/E0402 is checked before it is returned or written: the shipped XSD first, then
the rules the schema does not check (it accepts any BAN of 0-10 characters, begin > end,
misaligned ranges, a wrong InvoiceBooklet and `1120|` as a YearMonth).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lxml import etree

from allocator.identity import BanRule
from allocator.ranges import NumberRange
from mof_sync import fields
from mof_sync.documents import DocumentKey
from mof_sync.errors import MigError
from mof_sync.mig import MessageType, MigVersion, namespace_version
from mof_sync.safe_xml import child_elements, local_name, namespace_of
from mof_sync.xsd import schema_for

MAX_ITEMS = {MessageType.E0401: 25_000, MessageType.E0402: 10_000}
ITEM = {MessageType.E0401: "BranchTrackItem", MessageType.E0402: "BranchTrackBlankItem"}


@dataclass(frozen=True, slots=True)
class DocumentContent:
    """What a valid E0401/E0402 says: its key and its item ranges, in document order."""

    key: DocumentKey
    version: MigVersion
    ranges: tuple[NumberRange, ...]


def detect_version(root: etree._Element, message: MessageType, source: str) -> MigVersion:
    """The MIG version from the root's namespace; a wrong root or namespace is refused."""
    name = local_name(root)
    if name != message.root:
        raise MigError(source, name, f"root element must be {message.root} for {message.value}")
    namespace = namespace_of(root)
    text = namespace_version(namespace, message.namespace_base)
    if text is None:
        raise MigError(
            source, name, f"namespace {namespace!r} is not {message.namespace_base}:<version>"
        )
    try:
        return MigVersion.parse(text)
    except ValueError as error:
        raise MigError(source, name, str(error)) from None


def check_schema(
    root: etree._Element, message: MessageType, version: MigVersion, source: str
) -> None:
    schema = schema_for(message, version)
    if schema.validate(root):
        return
    error = next(iter(schema.error_log))
    raise MigError(
        source,
        _error_path(root, error.path),
        f"does not validate against the MIG {version.value} {message.value} schema: "
        f"{error.message} (line {error.line})",
    )


def _error_path(root: etree._Element, xpath: str | None) -> str:
    try:
        found = root.getroottree().xpath(xpath) if xpath else []
    except etree.XPathError:
        found = []
    if found and isinstance(found[0], etree._Element):
        return fields.element_path(found[0])
    return xpath or local_name(root)


def validate_document(
    root: etree._Element,
    message: MessageType,
    version: MigVersion,
    *,
    source: str,
    test_data: bool = False,
    ban_rule: BanRule = BanRule.SINCE_2023,
) -> DocumentContent:
    """Schema, then the stricter rules; returns what the document says."""
    if message not in ITEM:
        raise ValueError(f"{message.value} is not a document MOF sync writes")
    if namespace_of(root) != message.namespace(version):
        detected = detect_version(root, message, source)
        if detected is not version:
            raise MigError(
                source,
                local_name(root),
                f"document is MIG {detected.value}, expected MIG {version.value}",
            )
    check_schema(root, message, version, source)
    return _Rules(root, message, version, source, test_data, ban_rule).content()


class _Rules:
    """The stricter checks of one schema-valid document."""

    def __init__(
        self,
        root: etree._Element,
        message: MessageType,
        version: MigVersion,
        source: str,
        test_data: bool,
        ban_rule: BanRule,
    ) -> None:
        self.root, self.message, self.version, self.source = root, message, version, source
        self.test_data, self.ban_rule = test_data, ban_rule
        self.base = local_name(root)

    def content(self) -> DocumentContent:
        parts = _children(self.root)
        main = _children(parts["Main"])
        key = self._key(main)
        items = child_elements(parts["Details"])
        self._check_count(len(items))
        ranges = self._items(items, key.main)
        _check_disjoint(ranges, self.source, f"{self.base}/Details/{ITEM[self.message]}")
        return DocumentContent(key, self.version, tuple(ranges))

    def _key(self, main: dict[str, etree._Element]) -> DocumentKey:
        path = f"{self.base}/Main"
        src = self.source

        def value(name: str) -> tuple[str, str]:
            return f"{path}/{name}", fields.text_of(main[name])

        bans = {
            name: fields.ban(src, *value(name), test_data=self.test_data, rule=self.ban_rule)
            for name in ("HeadBan", "BranchBan")
        }
        main_range = None
        if self.message is MessageType.E0401:
            numbers = fields.number_range(
                src, path, value("InvoiceBeginNo")[1], value("InvoiceEndNo")[1]
            )
            main_range = fields.booklet_range(src, path, numbers)
        return DocumentKey(
            self.message,
            bans["HeadBan"],
            bans["BranchBan"],
            fields.invoice_type(src, *value("InvoiceType")),
            fields.period(src, *value("YearMonth")),
            fields.track(src, *value("InvoiceTrack")),
            main_range,
        )

    def _check_count(self, count: int) -> None:
        limit = MAX_ITEMS[self.message]
        if not 1 <= count <= limit:
            raise MigError(
                self.source,
                f"{self.base}/Details",
                f"{count} {ITEM[self.message]} items: a document holds 1 to {limit}",
            )

    def _items(
        self, items: Sequence[etree._Element], main: NumberRange | None
    ) -> list[NumberRange]:
        check: Callable[[str, dict[str, etree._Element], NumberRange], None] | None = None
        if main is not None:
            check = self._branch_item(main)
        ranges: list[NumberRange] = []
        for index, item in enumerate(items, start=1):
            path = f"{self.base}/Details/{ITEM[self.message]}[{index}]"
            values = _children(item)
            numbers = fields.number_range(
                self.source,
                path,
                fields.text_of(values["InvoiceBeginNo"]),
                fields.text_of(values["InvoiceEndNo"]),
            )
            if check is not None:
                check(path, values, numbers)
            ranges.append(numbers)
        return ranges

    def _branch_item(
        self, main: NumberRange
    ) -> Callable[[str, dict[str, etree._Element], NumberRange], None]:
        """E0401 items: whole booklets, InvoiceBooklet matching, inside the MOF range of Main."""

        def check(path: str, values: dict[str, etree._Element], numbers: NumberRange) -> None:
            fields.booklet_range(self.source, path, numbers)
            fields.booklet_count(
                self.source, path, fields.text_of(values["InvoiceBooklet"]), numbers
            )
            if not (main.begin <= numbers.begin and numbers.end <= main.end):
                raise MigError(
                    self.source,
                    path,
                    f"range {numbers} is not inside the MOF range {main} of Main",
                )

        return check


def _children(element: etree._Element) -> dict[str, etree._Element]:
    # Only called on schema-valid elements (xsd:all): each child name occurs exactly once.
    return {local_name(child): child for child in child_elements(element)}


def _check_disjoint(ranges: Sequence[NumberRange], source: str, item_path: str) -> None:
    """No two items of one document may share a number."""
    order = sorted(range(len(ranges)), key=lambda index: ranges[index].begin)
    for previous, current in itertools.pairwise(order):
        if ranges[current].begin <= ranges[previous].end:
            raise MigError(
                source,
                f"{item_path}[{current + 1}]",
                f"range {ranges[current]} overlaps {item_path.rsplit('/', 1)[-1]}"
                f"[{previous + 1}] ({ranges[previous]})",
            )
