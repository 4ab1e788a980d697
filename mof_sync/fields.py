"""Field checks shared by the readers and the validator, all delegating to allocator's rules.

Each turns the allocator's InvalidInput into a MigError that names the file and the element, so
one message tells the reader what is wrong and where.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from lxml import etree

from allocator.errors import InvalidInput
from allocator.identity import Ban, BanRule, InvoiceType, Track, parse_digits
from allocator.period import Period
from allocator.ranges import BOOKLET_SIZE, NumberRange
from mof_sync.errors import MigError
from mof_sync.safe_xml import child_elements, local_name

T = TypeVar("T")
# ASCII digits only, by the core's rule (`\\d` would take full-width and other scripts' digits).
_BOOKLETS = re.compile(r"[0-9]{1,10}")
# Repeated elements always carry their 1-based index in paths, even when there is only one.
REPEATED = frozenset({"BranchTrackItem", "BranchTrackBlankItem", "InvoiceAssignNo"})


def checked(source: str, path: str, rule: Callable[[str], T], text: str) -> T:
    """Apply an allocator rule to a text value; its complaint becomes a MigError at `path`."""
    try:
        return rule(text)
    except InvalidInput as error:
        raise MigError(source, path, str(error)) from None


def ban(source: str, path: str, text: str, *, test_data: bool, rule: BanRule) -> Ban:
    """8 digits always; the MOF check digit too unless these are test data (placeholder BANs)."""
    if test_data:
        return checked(source, path, Ban, text)
    return checked(source, path, lambda value: Ban.parse(value, rule), text)


def invoice_type(source: str, path: str, text: str) -> InvoiceType:
    return checked(source, path, InvoiceType.parse, text)


def period(source: str, path: str, text: str) -> Period:
    return checked(source, path, Period.from_year_month, text)


def track(source: str, path: str, text: str) -> Track:
    return checked(source, path, Track, text)


def number(source: str, path: str, text: str) -> int:
    return checked(source, path, lambda value: parse_digits(value, 8, "invoice number"), text)


def number_range(source: str, path: str, begin_text: str, end_text: str) -> NumberRange:
    """`path` is the element holding InvoiceBeginNo and InvoiceEndNo."""
    begin = number(source, f"{path}/InvoiceBeginNo", begin_text)
    end = number(source, f"{path}/InvoiceEndNo", end_text)
    return checked(source, f"{path}/InvoiceEndNo", lambda _: NumberRange(begin, end), end_text)


def booklet_range(source: str, path: str, numbers: NumberRange) -> NumberRange:
    """Whole booklets: the error points at the bound that is off."""
    bound = "InvoiceBeginNo" if numbers.begin % BOOKLET_SIZE else "InvoiceEndNo"
    return checked(source, f"{path}/{bound}", lambda _: numbers.require_booklets(), "")


def booklet_count(source: str, path: str, text: str, numbers: NumberRange) -> int:
    """InvoiceBooklet must be the range's size in booklets of 50."""
    field = f"{path}/InvoiceBooklet"
    if not _BOOKLETS.fullmatch(text):
        raise MigError(source, field, f"InvoiceBooklet {text!r} must be a whole number (0-9)")
    booklets = int(text)
    if booklets != numbers.booklets:
        raise MigError(
            source,
            field,
            f"InvoiceBooklet {booklets} does not match range {numbers}: "
            f"{numbers.count} numbers are {numbers.booklets} booklets of {BOOKLET_SIZE}",
        )
    return booklets


def element_path(element: etree._Element) -> str:
    """Readable path of an element from the root by local names, e.g. `.../Item[3]/EndNo`."""
    parts: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        name = local_name(node)
        parent = node.getparent()
        if parent is not None:
            same = [child for child in child_elements(parent) if local_name(child) == name]
            if len(same) > 1 or name in REPEATED:
                name = f"{name}[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/".join(reversed(parts))


def text_of(element: etree._Element) -> str:
    return element.text or ""
