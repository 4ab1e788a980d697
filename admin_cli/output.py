"""How einv-admin shows a reply: a table for people, the one JSON style for scripts."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from google.protobuf.message import Message
from rich.console import Console
from rich.table import Table

from allocator import TAIPEI
from protos.einvoice.v1 import common_pb2
from runtime.json_style import as_json, dumps
from runtime.messages import STATUS_TO_PB

_STATUS_NAME = {pb: status.value for status, pb in STATUS_TO_PB.items()}


def show(args: argparse.Namespace, reply: Message, rows: list[dict[str, Any]], title: str) -> None:
    if args.json:
        print(dumps(as_json(reply)))
        return
    table(rows, title)


def table(rows: list[dict[str, Any]], title: str) -> None:
    """Rows of the same columns as a table (a wide one when stdout is not a terminal)."""
    shown = Table(title=title)
    for column in rows[0].keys() if rows else ["(none)"]:
        shown.add_column(column)
    for row in rows:
        shown.add_row(*(str(v) for v in row.values()))
    Console(width=None if sys.stdout.isatty() else 200).print(shown)


def taipei(stamp: Any, present: bool = True) -> str:
    """A time as a person reads it: Asia/Taipei, with the offset."""
    if not present:
        return "-"
    return stamp.ToDatetime(tzinfo=TAIPEI).isoformat(timespec="seconds")


def track_range(r: common_pb2.TrackRange) -> str:
    return f"{r.track}{r.begin:08d}-{r.track}{r.end:08d}"


def type_code(value: int) -> str:
    return f"{value:02d}"


def status_name(value: int) -> str:
    return _STATUS_NAME.get(value, str(value))
