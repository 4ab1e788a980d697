"""`einv-admin export`: a period's grants, usage or E0402 blank ranges for an ERP (回拋ERP).

The rows of the admin API's ExportData stream, written as they arrive: CSV (RFC 4180 through
the csv module, UTF-8, a header row) or JSON. The columns are the row message's fields in their
order (protos/einvoice/v1/admin.proto), and every value is what the one JSON style makes of it
(runtime/json_style.py), so the CSV and the JSON of an export hold the same strings.

JSON is one array with a row object per line, not JSON Lines: the import tools an ERP side
uses (Power Query, SAP and Dynamics integration, pandas.read_json) read one JSON document of
records by default; one object per line still lets a shell tool stream or grep it.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import itertools
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from admin_cli.args import invoice_type, period
from allocator import InvalidInput
from protos.einvoice.v1 import admin_pb2
from runtime.json_style import array_lines, as_json

# what -> (ExportKind, row message, the reply's field, the documented sort key)
WHAT: dict[str, tuple[int, Any, str, str]] = {
    "grants": (
        admin_pb2.EXPORT_KIND_GRANTS,
        admin_pb2.GrantExportRow,
        "grants",
        "ban, invoice_type, track, begin_number",
    ),
    "usage": (
        admin_pb2.EXPORT_KIND_USAGE,
        admin_pb2.UsageExportRow,
        "usage",
        "ban, invoice_type",
    ),
    "blanks": (
        admin_pb2.EXPORT_KIND_BLANKS,
        admin_pb2.BlankExportRow,
        "blanks",
        "branch_ban, invoice_type, track, begin_number",
    ),
}
FILE_MODE = 0o644


def columns(what: str) -> list[str]:
    return [field.name for field in WHAT[what][1].DESCRIPTOR.fields]


def columns_help() -> str:
    lines = ["columns (in this order; docs/export.md says what each holds):"]
    for what, (_, _, _, key) in WHAT.items():
        lines.append(f"  {what}: {', '.join(columns(what))}")
        lines.append(f"    sorted by {key}")
    lines.append(
        "numbers are 8-digit strings, invoice_type 07 or 08, times RFC 3339 in Asia/Taipei; "
        "a missing time is an empty cell (CSV) or null (JSON)"
    )
    return "\n".join(lines)


def rows(
    replies: Iterable[admin_pb2.ExportDataReply], field: str, held: list[str]
) -> Iterator[dict[str, Any]]:
    """Every row of the stream as a dict, in the server's order; `held` collects held_branches."""
    for reply in replies:
        held.extend(reply.held_branches)
        for row in getattr(reply, field):
            yield as_json(row)


def write_csv(out: IO[str], names: list[str], items: Iterable[dict[str, Any]]) -> None:
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: CRLF, quotes doubled
    writer.writerow(names)
    for item in items:
        writer.writerow("" if item[name] is None else item[name] for name in names)


def write_json(out: IO[str], items: Iterable[dict[str, Any]]) -> None:
    for piece in array_lines(items):
        out.write(piece)


def refuse_existing(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise InvalidInput(f"--output {path} exists already: give --force to replace it")


@contextlib.contextmanager
def atomic_file(path: Path, force: bool) -> Iterator[IO[str]]:
    """A new file at `path` (0644) that appears whole or not at all: written beside it under a
    temporary name, then renamed. Streamed, so an export never sits whole in memory; without
    `force` the rename is a hard link, which fails rather than replace a file made meanwhile."""
    refuse_existing(path, force)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        if force:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise InvalidInput(
                    f"--output {path} was made while exporting: give --force to replace it"
                ) from None
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


def cmd_export(admin: Any, args: argparse.Namespace) -> None:
    kind, _, field, _ = WHAT[args.what]
    if args.output is not None:
        refuse_existing(args.output, args.force)  # before asking HQ for anything
    request = admin_pb2.ExportDataRequest(
        year_month=args.period, what=kind, invoice_type=args.type or 0
    )
    replies = admin.stream("ExportData", request)
    # HQ refuses (a bad period, nothing assigned) before its first reply: then nothing is
    # written at all, not even a header.
    first = next(replies, None)
    held: list[str] = []
    items = rows(itertools.chain([first] if first else [], replies), field, held)
    with (
        atomic_file(args.output, args.force)
        if args.output is not None
        else contextlib.nullcontext(sys.stdout)
    ) as out:
        if args.format == "csv":
            write_csv(out, columns(args.what), items)
        else:
            write_json(out, items)
    if held:
        print(
            "einv-admin: held back from the E0402 (final usage report missing), so not in this "
            f"export: {', '.join(held)}",
            file=sys.stderr,
        )


def add_commands(sub: Any, connection: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "export",
        parents=[connection],
        help="a period's grants, usage or E0402 blanks as CSV or JSON, for an ERP",
        description="Export a period's grants, usage or E0402 blank ranges (回拋ERP).",
        epilog=columns_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--period", type=period, required=True, help="YearMonth, e.g. 11512, or current/previous"
    )
    p.add_argument("--what", required=True, choices=list(WHAT), help="what to export")
    p.add_argument("--format", default="csv", choices=["csv", "json"], help="default: csv")
    p.add_argument("--type", type=invoice_type, help="07 or 08 (default: every type assigned)")
    p.add_argument("--output", type=Path, help="write this file (atomically) instead of stdout")
    p.add_argument("--force", action="store_true", help="replace an existing --output file")
    p.set_defaults(func=cmd_export)
