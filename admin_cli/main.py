"""`einv-admin`: the HQ admin's command line (rich tables, `--json` on every listing)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from rich.console import Console
from rich.table import Table

from admin_cli import certs, forecast, users
from admin_cli.client import Admin, Identity, environment
from allocator import (
    TAIPEI,
    DomainError,
    InvalidInput,
    InvoiceType,
    NumberRange,
    Period,
    RangeStatus,
)
from notifier.cli import add_alerts_commands
from protos.einvoice.v1 import admin_pb2, common_pb2
from runtime.messages import STATUS_TO_PB, TYPE_TO_PB

DEFAULT_HQ = "127.0.0.1:50051"


def number(text: str) -> int:
    if not (len(text) == 8 and text.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} must be an 8-digit number")
    return int(text)


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
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone, e.g. +08:00")
    return value


def show(args: argparse.Namespace, reply: Message, rows: list[dict[str, Any]], title: str) -> None:
    if args.json:
        print(
            json.dumps(
                MessageToDict(reply, preserving_proto_field_name=True), indent=2, ensure_ascii=False
            )
        )
        return
    table = Table(title=title)
    for column in rows[0].keys() if rows else ["(none)"]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def fmt_range(r: common_pb2.TrackRange) -> str:
    return f"{r.track}{r.begin:08d}-{r.track}{r.end:08d}"


def type_code(value: int) -> str:
    return f"{value:02d}"


def cmd_assignment_add(admin: Admin, args: argparse.Namespace) -> None:
    NumberRange(args.begin, args.end).require_booklets()
    reply = admin.call(
        "AddAssignment",
        admin_pb2.AddAssignmentRequest(
            year_month=args.period,
            invoice_type=args.type,
            range=common_pb2.TrackRange(track=args.track, begin=args.begin, end=args.end),
        ),
    )
    show(args, reply, [assignment_row(reply)], "assignment added")


def assignment_row(a: admin_pb2.Assignment) -> dict[str, Any]:
    status = next(s.value for s, pb in STATUS_TO_PB.items() if pb == a.status)
    return {
        "id": a.assignment_id,
        "period": a.year_month,
        "type": type_code(a.invoice_type),
        "range": fmt_range(a.range),
        "booklets": a.booklets,
        "status": status,
        "granted": a.granted,
        "free": a.free,
    }


def cmd_pools(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call("ListPools", admin_pb2.ListPoolsRequest(year_month=args.period or ""))
    rows = [
        row | {"pool": f"{p.year_month}/{type_code(p.invoice_type)}", "closed": p.closed}
        for p in reply.pools
        for row in map(assignment_row, p.assignments)
    ]
    show(args, reply, rows, "pools")


def cmd_branch_add(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call(
        "AddBranch",
        admin_pb2.AddBranchRequest(
            ban=args.ban,
            name=args.name,
            emails=args.email or [],
            quota=common_pb2.Quota(
                booklets_per_request=args.per_request, booklets_per_period=args.per_period
            ),
            refill=common_pb2.RefillSettings(
                low_water_count=args.low_water or 0, low_water_minutes=args.low_water_minutes or 0
            ),
        ),
    )
    show(args, reply, [branch_row(reply)], "branch added")


def branch_row(b: admin_pb2.Branch) -> dict[str, Any]:
    last = b.last_report.ToDatetime().isoformat() if b.HasField("last_report") else "-"
    return {
        "ban": b.ban,
        "name": b.name,
        "enabled": b.enabled,
        "per request": b.quota.booklets_per_request,
        "per period": b.quota.booklets_per_period,
        "low water": f"{b.refill.low_water_count} / {b.refill.low_water_minutes:g} min",
        "last report": last,
    }


def cmd_branch_list(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call("ListBranches", admin_pb2.ListBranchesRequest())
    show(args, reply, [branch_row(b) for b in reply.branches], "branches")


def cmd_branch_disable(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call("DisableBranch", admin_pb2.DisableBranchRequest(ban=args.ban))
    show(args, reply, [branch_row(reply)], "branch disabled")


def cmd_branch_enable(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call("EnableBranch", admin_pb2.EnableBranchRequest(ban=args.ban))
    show(args, reply, [branch_row(reply)], "branch enabled")


def cmd_enroll_token(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call(
        "CreateEnrollToken",
        admin_pb2.CreateEnrollTokenRequest(ban=args.ban, ttl_seconds=int(args.ttl.total_seconds())),
    )
    if args.json:
        show(args, reply, [], "")
        return
    print(reply.token)  # alone on stdout: TOKEN=$(einv-admin ... branch-enroll-token ...)
    expires = reply.expires_at.ToDatetime(tzinfo=TAIPEI).isoformat(timespec="minutes")
    print(
        f"token {reply.token_id} enrols branch {reply.branch_ban} once, until {expires}; on "
        f"the store: einv-agent enroll --hq HQ --ca-cert ca.crt --token TOKEN --data DIR",
        file=sys.stderr,
    )


def cmd_certs_list(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call(
        "ListCertificates", admin_pb2.ListCertificatesRequest(branch_ban=args.branch or "")
    )
    rows = [
        {
            "branch": c.branch_ban,
            "serial": c.serial,
            "how": c.how,
            "issued": taipei(c.issued_at),
            "expires": taipei(c.not_after),
        }
        for c in reply.certificates
    ]
    show(args, reply, rows, "branch certificates")


def taipei(stamp: Any) -> str:
    return stamp.ToDatetime(tzinfo=TAIPEI).isoformat(timespec="seconds")


def duration(text: str) -> timedelta:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit() or not number.isascii():
        raise argparse.ArgumentTypeError(f"{text!r} must be a number and s, m, h or d, e.g. 24h")
    return timedelta(seconds=int(number) * units[unit])


def cmd_quota_set(admin: Admin, args: argparse.Namespace) -> None:
    if args.per_request < 1 or args.per_period < 0:
        raise InvalidInput(
            f"quota {args.per_request}/{args.per_period}: per request must be >= 1 and "
            "per period >= 0"
        )
    request = admin_pb2.SetQuotaRequest(
        ban=args.ban,
        quota=common_pb2.Quota(
            booklets_per_request=args.per_request, booklets_per_period=args.per_period
        ),
    )
    if args.low_water or args.low_water_minutes:
        request.refill.CopyFrom(
            common_pb2.RefillSettings(
                low_water_count=args.low_water or 0, low_water_minutes=args.low_water_minutes or 0
            )
        )
    if args.effective_from:
        request.effective_from.FromDatetime(args.effective_from)
    reply = admin.call("SetQuota", request)
    show(args, reply, [branch_row(reply)], "quota set")


def cmd_range_status(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call(
        "SetRangeStatus",
        admin_pb2.SetRangeStatusRequest(
            assignment_id=args.id, status=STATUS_TO_PB[RangeStatus(args.status)]
        ),
    )
    show(args, reply, [assignment_row(reply)], "range status")


def cmd_usage(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call(
        "GetUsage",
        admin_pb2.GetUsageRequest(year_month=args.period or "", branch_ban=args.branch or ""),
    )
    rows = [
        {
            "branch": u.branch_ban,
            "booklets": u.booklets_granted,
            "granted": u.granted,
            "issued": u.issued,
            "skipped": u.skipped,
            "held": u.held,
            "burn/h": f"{u.burn_per_hour:.1f}",
            "runs out": runs_out(u),
            "final": u.final,
        }
        for u in reply.branches
    ]
    show(args, reply, rows, f"usage {reply.year_month}")


def runs_out(u: admin_pb2.BranchUsage) -> str:
    """The forecast column: when it runs dry at its current burn, and what empties it."""
    if not u.HasField("runs_out_at"):
        return "-"
    return f"{taipei(u.runs_out_at)} ({u.runs_out_reason})"


def cmd_period_close(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call(
        "ClosePeriod",
        admin_pb2.ClosePeriodRequest(year_month=args.period, invoice_type=args.type),
    )
    show(
        args,
        reply,
        [
            {
                "assigned": reply.assigned,
                "issued": reply.issued,
                "blank": reply.blank,
                "not final": ", ".join(reply.branches_not_final) or "-",
            }
        ],
        f"period {args.period} closed",
    )


def cmd_reconcile(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call("Reconcile", admin_pb2.ReconcileRequest(year_month=args.period or ""))
    rows = [
        {
            "period": t.year_month,
            "type": type_code(t.invoice_type),
            "track": t.track,
            "assigned": t.assigned,
            "issued": t.issued,
            "blank": t.blank,
            "held": t.held,
            "violations": "; ".join(t.violations) or "none",
        }
        for t in reply.tracks
    ]
    show(args, reply, rows, "reconciliation: " + ("OK" if reply.ok else "VIOLATIONS"))
    if not reply.ok:
        raise SystemExit(1)


def cmd_audit(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call(
        "ListAudit", admin_pb2.ListAuditRequest(after_seq=args.after, limit=args.limit)
    )
    rows = [
        {
            "seq": e.seq,
            "at": e.at.ToDatetime().isoformat(),
            "actor": e.actor,
            "action": e.action,
            "details": e.details_json,
        }
        for e in reply.entries
    ]
    show(args, reply, rows, "audit log: chain " + ("OK" if reply.chain_ok else "BROKEN"))


def cmd_import_e0501(admin: Admin, args: argparse.Namespace) -> None:
    files = [admin_pb2.E0501File(name=str(path), content=path.read_bytes()) for path in args.files]
    reply = admin.call(
        "ImportE0501",
        admin_pb2.ImportE0501Request(files=files, test_data=args.test_data),
    )
    show(
        args,
        reply,
        [assignment_row(a) for a in reply.imported],
        f"imported {len(reply.imported)} ranges, {reply.unchanged} already there",
    )


def cmd_reports(admin: Admin, args: argparse.Namespace) -> None:
    kind = {"E0401": admin_pb2.REPORT_KIND_E0401, "E0402": admin_pb2.REPORT_KIND_E0402}
    reply = admin.call(
        "BuildReports",
        admin_pb2.BuildReportsRequest(
            year_month=args.period,
            invoice_type=args.type,
            kind=kind[args.kind],
            mig_version=args.mig,
            correction=args.correction,
        ),
    )
    rows = [{"file": n, "state": "written"} for n in reply.written]
    rows += [{"file": n, "state": "already handed over"} for n in reply.unchanged]
    rows += [
        {"file": f"branch {b}", "state": "HELD: final usage report missing"}
        for b in reply.held_branches
    ]
    show(args, reply, rows, f"{args.kind} for {args.period}")


def cmd_deadlines(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call("ListDeadlines", admin_pb2.ListDeadlinesRequest())
    rows = [
        {
            "period": d.year_month,
            "branch": d.branch_ban,
            "status": d.status,
            "deadline": d.deadline.ToDatetime().isoformat(),
            "days left": d.days_left,
            "errors": ", ".join(d.error_codes) or "-",
        }
        for d in reply.deadlines
    ]
    show(args, reply, rows, "E0402 still due")


Command = Callable[[Admin, argparse.Namespace], None]


def connection_options(p: argparse.ArgumentParser, default: Any) -> None:
    p.add_argument(
        "--hq",
        default=DEFAULT_HQ if default is None else default,
        help=f"HQ address(es), comma-separated (default: {DEFAULT_HQ})",
    )
    p.add_argument(
        "--certs-dir",
        type=Path,
        default=default,
        help="your certificates: ca.crt, USER.crt, USER.key (default: $EINV_CERTS_DIR)",
    )
    p.add_argument(
        "--user", default=default, help="your user name, USER of USER.crt (default: $EINV_USER)"
    )
    p.add_argument(
        "--insecure",
        action="store_true",
        default=False if default is None else default,
        help="talk to an HQ started with --insecure (no TLS)",
    )


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    root = argparse.ArgumentParser(prog="einv-admin", description="HQ administration")
    # The connection options work before the command and after it (default SUPPRESS below the
    # root, so a value given first is not reset by the subcommand's parser).
    for parser_, default in ((root, None), (common, argparse.SUPPRESS)):
        connection_options(parser_, default)
    sub = root.add_subparsers(dest="command", required=True)

    def add(name: str, func: Command, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text)
        p.set_defaults(func=func)
        return p

    p = add("assignment-add", cmd_assignment_add, "add a MOF-assigned range by hand")
    p.add_argument(
        "--period", type=period, required=True, help="YearMonth, e.g. 11412, or current/next"
    )
    p.add_argument("--type", type=invoice_type, default=invoice_type("07"), help="07 or 08")
    p.add_argument("--track", required=True, help="two capital letters")
    p.add_argument("--begin", type=number, required=True, help="first number, 8 digits")
    p.add_argument("--end", type=number, required=True, help="last number, 8 digits")
    p = add("pools", cmd_pools, "list pools with used/free counts")
    p.add_argument("--period", type=period)
    p = add("branch-add", cmd_branch_add, "register a branch")
    p.add_argument("--ban", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--per-request", type=int, required=True, help="booklets per request")
    p.add_argument("--per-period", type=int, required=True, help="booklets per period")
    p.add_argument("--low-water", type=int, help="refill below this many numbers")
    p.add_argument("--low-water-minutes", type=float, help="... or minutes of burn")
    p.add_argument("--email", action="append", help="contact (repeatable)")
    add("branch-list", cmd_branch_list, "list branches")
    p = add("branch-disable", cmd_branch_disable, "stop granting to a branch")
    p.add_argument("ban")
    p = add("branch-enable", cmd_branch_enable, "serve a disabled branch again")
    p.add_argument("ban")
    p = add("branch-enroll-token", cmd_enroll_token, "a one-time enrolment token (stdout)")
    p.add_argument("--ban", required=True, help="the branch that will enrol with it")
    p.add_argument("--ttl", type=duration, default=timedelta(hours=24), help="e.g. 30m, 24h, 7d")
    p = add("certs-list", cmd_certs_list, "branch certificates HQ signed, and tokens")
    p.add_argument("--branch")
    p = add("quota-set", cmd_quota_set, "set a branch's quota")
    p.add_argument("ban")
    p.add_argument("--per-request", type=int, required=True)
    p.add_argument("--per-period", type=int, required=True)
    p.add_argument("--low-water", type=int)
    p.add_argument("--low-water-minutes", type=float)
    p.add_argument("--from", dest="effective_from", type=instant, help="effective from (ISO)")
    p = add("range-status", cmd_range_status, "enable, pause or disable a range")
    p.add_argument("id", type=int)
    p.add_argument("status", choices=[s.value for s in RangeStatus])
    p = add("usage", cmd_usage, "per-branch usage and burn rate")
    p.add_argument("--period", type=period)
    p.add_argument("--branch")
    p = add("period-close", cmd_period_close, "close a period (blank = not issued)")
    p.add_argument("--period", type=period, required=True)
    p.add_argument("--type", type=invoice_type, default=invoice_type("07"))
    p = add("reconcile", cmd_reconcile, "prove assigned = issued + blank + held")
    p.add_argument("--period", type=period)
    p = add("audit", cmd_audit, "read the audit log")
    p.add_argument("--after", type=int, default=0)
    p.add_argument("--limit", type=int, default=100)
    p = add("import-e0501", cmd_import_e0501, "import MOF E0501 files (all or nothing)")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--test-data", action="store_true", help="accept placeholder BANs")
    p = add("reports", cmd_reports, "build E0401/E0402 and hand them to Turnkey")
    p.add_argument("kind", choices=["E0401", "E0402"])
    p.add_argument("--period", type=period, required=True)
    p.add_argument("--type", type=invoice_type, default=invoice_type("07"))
    p.add_argument("--mig", default="4.1", choices=["4.1", "4.0"])
    p.add_argument("--correction", action="store_true", help="send the next revision")
    add("deadlines", cmd_deadlines, "what is still due to the MOF, days left")
    add_alerts_commands(sub, common)
    users.add_commands(sub, common)
    forecast.add_commands(sub, common, period)
    certs.add_commands(sub)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if getattr(args, "local", None) is not None:  # certs ...: local files, no HQ
            args.local(args)
            return 0
        identity = Identity.resolve(args.certs_dir, args.user, args.insecure, environment())
        admin = Admin([a.strip() for a in args.hq.split(",") if a.strip()], identity.tls)
        args.func(admin, args)
    except DomainError as error:
        print(f"einv-admin: {error}", file=sys.stderr)
        return 2
    except grpc.RpcError as error:
        print(f"einv-admin: {admin.explain(error)}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"einv-admin: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
