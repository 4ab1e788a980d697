"""einv-admin's commands: a request to the admin API, the reply as a table or as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from admin_cli.client import Admin
from admin_cli.output import show, status_name, taipei, track_range, type_code
from allocator import TAIPEI, NumberRange, RangeStatus
from protos.einvoice.v1 import admin_pb2, common_pb2
from runtime.cli import EXIT_FAILED
from runtime.json_style import as_json, dumps
from runtime.messages import STATUS_TO_PB, TYPE_TO_PB


class CheckFailed(SystemExit):
    """The command ran, and what it checks does not hold (exit 1)."""

    def __init__(self) -> None:
        super().__init__(EXIT_FAILED)


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
    return {
        "id": a.assignment_id,
        "period": a.year_month,
        "type": type_code(a.invoice_type),
        "range": track_range(a.range),
        "booklets": a.booklets,
        "status": status_name(a.status),
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


def refill_settings(args: argparse.Namespace) -> common_pb2.RefillSettings | None:
    if args.low_water is None and args.low_water_minutes is None:
        return None
    return common_pb2.RefillSettings(
        low_water_count=args.low_water or 0, low_water_minutes=args.low_water_minutes or 0
    )


def cmd_branch_add(admin: Admin, args: argparse.Namespace) -> None:
    request = admin_pb2.AddBranchRequest(
        ban=args.ban,
        name=args.name,
        emails=args.email or [],
        quota=common_pb2.Quota(
            booklets_per_request=args.per_request, booklets_per_period=args.per_period
        ),
    )
    if (refill := refill_settings(args)) is not None:
        request.refill.CopyFrom(refill)
    reply = admin.call("AddBranch", request)
    show(args, reply, [branch_row(reply)], "branch added")


def branch_row(b: admin_pb2.Branch) -> dict[str, Any]:
    return {
        "ban": b.ban,
        "name": b.name,
        "enabled": b.enabled,
        "per request": b.quota.booklets_per_request,
        "per period": b.quota.booklets_per_period,
        "low water": f"{b.refill.low_water_count} / {b.refill.low_water_minutes:g} min",
        "last report": taipei(b.last_report, b.HasField("last_report")),
    }


def cmd_branch_list(admin: Admin, args: argparse.Namespace) -> None:
    """Every branch, page after page (a page stays far below the message limit)."""
    reply = admin_pb2.ListBranchesReply()
    token = ""
    for _ in range(100_000):  # bounded: 500 a page covers any chain
        page = admin.call("ListBranches", admin_pb2.ListBranchesRequest(page_token=token))
        reply.branches.extend(page.branches)
        token = page.next_page_token
        if not token:
            break
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


def cmd_quota_set(admin: Admin, args: argparse.Namespace) -> None:
    request = admin_pb2.SetQuotaRequest(
        ban=args.ban,
        quota=common_pb2.Quota(
            booklets_per_request=args.per_request, booklets_per_period=args.per_period
        ),
    )
    if (refill := refill_settings(args)) is not None:
        request.refill.CopyFrom(refill)
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
            "last report": taipei(u.last_report, u.HasField("last_report")),
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


def types_of(admin: Admin, args: argparse.Namespace) -> list[int]:
    """The invoice type asked for, or every type the period has assignments of."""
    if args.type is not None:
        return [args.type]
    pools = admin.call("ListPools", admin_pb2.ListPoolsRequest(year_month=args.period)).pools
    found = sorted({p.invoice_type for p in pools})
    return found or [TYPE_TO_PB[min(TYPE_TO_PB)]]  # nothing assigned: HQ says so for 07


def cmd_period_close(admin: Admin, args: argparse.Namespace) -> None:
    rows, replies = [], []
    for code in types_of(admin, args):
        reply = admin.call(
            "ClosePeriod", admin_pb2.ClosePeriodRequest(year_month=args.period, invoice_type=code)
        )
        replies.append(as_json(reply) | {"invoice_type": type_code(code)})
        rows.append(
            {
                "type": type_code(code),
                "assigned": reply.assigned,
                "issued": reply.issued,
                "blank": reply.blank,
                "not final": ", ".join(reply.branches_not_final) or "-",
            }
        )
    if args.json:
        print(dumps({"year_month": args.period, "closed": replies}))
        return
    show(args, admin_pb2.ClosePeriodReply(), rows, f"period {args.period} closed")


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
        raise CheckFailed()


def cmd_audit(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call(
        "ListAudit", admin_pb2.ListAuditRequest(after_seq=args.after, limit=args.limit)
    )
    rows = [
        {
            "seq": e.seq,
            "at": taipei(e.at),
            "actor": e.actor,
            "action": e.action,
            "details": json.dumps(json.loads(e.details_json), ensure_ascii=False),
        }
        for e in reply.entries
    ]
    show(args, reply, rows, "audit log: chain " + ("OK" if reply.chain_ok else "BROKEN"))
    if not reply.chain_ok:
        raise CheckFailed()


def cmd_import_e0501(admin: Admin, args: argparse.Namespace) -> None:
    files = [admin_pb2.E0501File(name=str(path), content=path.read_bytes()) for path in args.files]
    reply = admin.call(
        "ImportE0501", admin_pb2.ImportE0501Request(files=files, test_data=args.test_data)
    )
    show(
        args,
        reply,
        [assignment_row(a) for a in reply.imported],
        f"imported {len(reply.imported)} ranges, {reply.unchanged} already there",
    )


KINDS = {"E0401": admin_pb2.REPORT_KIND_E0401, "E0402": admin_pb2.REPORT_KIND_E0402}


def cmd_reports(admin: Admin, args: argparse.Namespace) -> None:
    rows, replies = [], []
    for code in types_of(admin, args):
        reply = admin.call(
            "BuildReports",
            admin_pb2.BuildReportsRequest(
                year_month=args.period,
                invoice_type=code,
                kind=KINDS[args.kind],
                mig_version=args.mig,
                correction=args.correction,
            ),
        )
        replies.append(as_json(reply) | {"invoice_type": type_code(code)})
        kind = type_code(code)
        rows += [{"type": kind, "file": n, "state": "written"} for n in reply.written]
        rows += [{"type": kind, "file": n, "state": "already handed over"} for n in reply.unchanged]
        rows += [
            {"type": kind, "file": f"branch {b}", "state": "HELD: final usage report missing"}
            for b in reply.held_branches
        ]
    if args.json:
        print(dumps({"year_month": args.period, "kind": args.kind, "reports": replies}))
        return
    show(args, admin_pb2.BuildReportsReply(), rows, f"{args.kind} for {args.period}")


def report_row(d: admin_pb2.ReportDocument) -> dict[str, Any]:
    return {
        "file": d.name,
        "type": type_code(d.invoice_type),
        "branch": d.branch_ban,
        "state": d.state,
        "attempts": d.attempts,
        "error": d.error_code or "-",
        "revision": d.revision,
        "updated": taipei(d.updated_at),
    }


def cmd_report_list(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call("ListReports", admin_pb2.ListReportsRequest(year_month=args.period or ""))
    show(args, reply, [report_row(d) for d in reply.documents], "E0401/E0402 handed to Turnkey")


def cmd_report_resend(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call("ResendReport", admin_pb2.ResendReportRequest(name=args.name))
    show(args, reply, [report_row(reply)], "handed to Turnkey again")


def cmd_deadlines(admin: Admin, args: argparse.Namespace) -> None:
    reply = admin.call("ListDeadlines", admin_pb2.ListDeadlinesRequest())
    rows = [
        {
            "period": d.year_month,
            "type": type_code(d.invoice_type),
            "branch": d.branch_ban,
            "status": d.status,
            "deadline": taipei(d.deadline),
            "days left": d.days_left,
            "errors": ", ".join(d.error_codes) or "-",
        }
        for d in reply.deadlines
    ]
    show(args, reply, rows, "E0402 still due")
    if any(d.days_left < 0 for d in reply.deadlines):
        print("einv-admin: an E0402 is overdue", file=sys.stderr)
        raise CheckFailed()
