"""einv-admin's argument types: the domain's own rules, refused with one line (exit 2)."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from allocator import TAIPEI, DomainError, InvoiceType, Period, check_schedule, parse_digits
from runtime.cli import arg, whole
from runtime.messages import TYPE_TO_PB

__all__ = ["arg", "duration", "instant", "invoice_type", "number", "period", "whole"]


@arg
def number(text: str) -> int:
    """An 8-digit invoice number inside a track (ASCII digits, as for a BAN)."""
    return parse_digits(text, 8, "number")


@arg
def invoice_type(text: str) -> int:
    return TYPE_TO_PB[InvoiceType.parse(text)]


def period(text: str) -> str:
    """A MIG YearMonth, or `current`, `next`, `previous` (by this machine's clock, Taipei)."""
    here = Period.containing(datetime.now(TAIPEI))
    named = {"current": here, "next": here.next(), "previous": here.previous()}
    if text in named:
        return named[text].to_year_month()
    try:
        return Period.from_year_month(text).to_year_month()
    except DomainError as error:
        raise argparse.ArgumentTypeError(f"{error} (or current, next, previous)") from None


def instant(text: str) -> datetime:
    """An ISO time with a zone, between an hour ago and 400 days ahead (a quota's start)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not an ISO date and time") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone, e.g. +08:00")
    try:
        return check_schedule(value, datetime.now(TAIPEI))
    except DomainError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def duration(text: str) -> timedelta:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    count, unit = text[:-1], text[-1:]
    if unit not in units or not count.isdigit() or not count.isascii():
        raise argparse.ArgumentTypeError(f"{text!r} must be a number and s, m, h or d, e.g. 24h")
    return timedelta(seconds=int(count) * units[unit])
