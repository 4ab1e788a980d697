"""Identities of the domain: BAN (統一編號), track (字軌), invoice type, invoice number."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from allocator.errors import (
    InvalidBan,
    InvalidInput,
    InvalidInvoiceNumber,
    InvalidInvoiceType,
    InvalidTrack,
)

BAN_WEIGHTS = (1, 2, 1, 2, 1, 2, 4, 1)
_TRACK_PATTERN = re.compile(r"[A-Z]{2}")
_NUMBER_PATTERN = re.compile(r"([A-Z]{2})([0-9]{8})")


def ascii_digits(text: object, count: int) -> bool:
    """Exactly `count` ASCII digits: `\\d` would take full-width and other scripts' digits."""
    return isinstance(text, str) and len(text) == count and text.isascii() and text.isdigit()


def parse_digits(text: str, count: int, what: str) -> int:
    """An invoice number's digits, by the same rule as a BAN's."""
    if not ascii_digits(text, count):
        shown = text[:40] if isinstance(text, str) else text
        raise InvalidInput(f"{what} {shown!r} must be exactly {count} ASCII digits")
    return int(text)


class BanRule(enum.Enum):
    """Which check-digit divisor applies: the MOF widened the rule in 2023 (10 -> 5)."""

    SINCE_2023 = 5
    BEFORE_2023 = 10


def ban_checksum(digits: str) -> int:
    """Sum of the digit sums of each digit times its MOF weight."""
    total = 0
    for digit, weight in zip(digits, BAN_WEIGHTS, strict=True):
        product = int(digit) * weight
        total += product // 10 + product % 10
    return total


def ban_check_passes(digits: str, rule: BanRule = BanRule.SINCE_2023) -> bool:
    """The MOF rule; when the 7th digit is 7 its product 28 may count as 1 or 0 (hence +1)."""
    total = ban_checksum(digits)
    if total % rule.value == 0:
        return True
    return digits[6] == "7" and (total + 1) % rule.value == 0


@dataclass(frozen=True, order=True, slots=True)
class Ban:
    """統一編號: the 8-digit business administration number of an HQ or a branch."""

    value: str

    def __post_init__(self) -> None:
        if not ascii_digits(self.value, 8):
            raise InvalidBan(f"BAN {self.value!r} must be exactly 8 digits")

    @classmethod
    def parse(cls, value: str, rule: BanRule = BanRule.SINCE_2023) -> Ban:
        ban = cls(value)
        if not ban_check_passes(ban.value, rule):
            raise InvalidBan(
                f"BAN {value!r} fails the MOF check digit "
                f"(weighted digit sum {ban_checksum(value)} is not divisible by {rule.value})"
            )
        return ban

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, order=True, slots=True)
class Track:
    """字軌: the two capital letters that prefix every invoice number of a range."""

    code: str

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _TRACK_PATTERN.fullmatch(self.code):
            raise InvalidTrack(f"track {self.code!r} must be two capital letters A-Z")

    def __str__(self) -> str:
        return self.code


class InvoiceType(enum.Enum):
    """MIG InvoiceType: 07 general tax (一般稅額), 08 special tax (特種稅額)."""

    GENERAL = "07"
    SPECIAL = "08"

    @classmethod
    def parse(cls, code: str) -> InvoiceType:
        for member in cls:
            if member.value == code:
                return member
        raise InvalidInvoiceType(f"invoice type {code!r} must be 07 (general) or 08 (special)")


def format_number(number: int) -> str:
    """The 8-digit zero-padded form of a number inside a track."""
    return f"{number:08d}"


@dataclass(frozen=True, order=True, slots=True)
class InvoiceNumber:
    """A full invoice number: track + 8 digits, e.g. AB12345678."""

    track: Track
    number: int

    def __post_init__(self) -> None:
        if not 0 <= self.number <= 99_999_999:
            raise InvalidInvoiceNumber(f"invoice number {self.number} must have 8 digits")

    @classmethod
    def parse(cls, text: str) -> InvoiceNumber:
        match = _NUMBER_PATTERN.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise InvalidInvoiceNumber(
                f"invoice number {text!r} must be two capital letters and 8 digits, e.g. AB12345678"
            )
        return cls(Track(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.track.code}{format_number(self.number)}"
