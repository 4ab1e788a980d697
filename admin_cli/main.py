"""`einv-admin`: the HQ admin's command line (rich tables, `--json` on every listing)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc

from admin_cli import alerts, certs, export, forecast, status, users
from admin_cli import commands as c
from admin_cli.args import duration, instant, invoice_type, number, period, whole
from admin_cli.client import Admin, Identity
from allocator import DomainError
from runtime.cli import (
    EXIT_CODES_HELP,
    EXIT_USAGE,
    Parser,
    add_completion,
    addresses,
    exit_code,
    seconds,
)

DEFAULT_HQ = "127.0.0.1:50051"
Command = Callable[[Admin, argparse.Namespace], None]
# The domain's bounds (allocator.pool, allocator.buffer), checked here first so a typing
# mistake is a usage error (exit 2) before anything is sent.
PER_REQUEST, PER_PERIOD = whole(1, 10_000), whole(0, 2_000_000)
LOW_WATER = whole(0, 1_000_000)


minutes = seconds(0, 7 * 24 * 60)


def connection_options(p: argparse.ArgumentParser, default: Any) -> None:
    p.add_argument(
        "--hq",
        type=addresses,
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


def add_branch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--per-request", type=PER_REQUEST, required=True, help="booklets per request")
    p.add_argument("--per-period", type=PER_PERIOD, required=True, help="booklets per period")
    p.add_argument("--low-water", type=LOW_WATER, help="refill below this many numbers")
    p.add_argument("--low-water-minutes", type=minutes, help="... or minutes of burn")


def parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    root = Parser(
        prog="einv-admin",
        description="HQ administration",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        env_prefix="EINV_",  # --hq, --certs-dir, --user, --insecure: EINV_HQ, ... (runtime.layers)
    )
    add_completion(root)
    # The connection options work before the command and after it (default SUPPRESS below the
    # root, so a value given first is not reset by the subcommand's parser).
    connection = Parser(add_help=False)  # for commands without --json (export)
    below = argparse.SUPPRESS
    for parser_, default in ((root, None), (common, below), (connection, below)):
        connection_options(parser_, default)
    sub = root.add_subparsers(dest="command", required=True)

    def add(name: str, func: Command, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text)
        p.set_defaults(func=func)
        return p

    p = add("assignment-add", c.cmd_assignment_add, "add a MOF-assigned range by hand")
    p.add_argument(
        "--period", type=period, required=True, help="YearMonth, e.g. 11412, or current/next"
    )
    p.add_argument("--type", type=invoice_type, default=invoice_type("07"), help="07 or 08")
    p.add_argument("--track", required=True, help="two capital letters")
    p.add_argument("--begin", type=number, required=True, help="first number, 8 digits")
    p.add_argument("--end", type=number, required=True, help="last number, 8 digits")
    p = add("pools", c.cmd_pools, "list pools with used/free counts")
    p.add_argument("--period", type=period)
    p = add("branch-add", c.cmd_branch_add, "register a branch")
    p.add_argument("--ban", required=True)
    p.add_argument("--name", required=True)
    add_branch_options(p)
    p.add_argument("--email", action="append", help="contact (repeatable)")
    add("branch-list", c.cmd_branch_list, "list branches")
    p = add("branch-disable", c.cmd_branch_disable, "stop granting to a branch")
    p.add_argument("ban")
    p = add("branch-enable", c.cmd_branch_enable, "serve a disabled branch again")
    p.add_argument("ban")
    p = add("branch-enroll-token", c.cmd_enroll_token, "a one-time enrolment token (stdout)")
    p.add_argument("--ban", required=True, help="the branch that will enrol with it")
    p.add_argument("--ttl", type=duration, default=timedelta(hours=24), help="e.g. 30m, 24h, 7d")
    p = add("certs-list", c.cmd_certs_list, "branch certificates HQ signed, and tokens")
    p.add_argument("--branch")
    p = add("quota-set", c.cmd_quota_set, "set a branch's quota")
    p.add_argument("ban")
    add_branch_options(p)
    p.add_argument("--from", dest="effective_from", type=instant, help="effective from (ISO)")
    p = add("range-status", c.cmd_range_status, "enable, pause or disable a range")
    p.add_argument("id", type=whole(1, 2**31 - 1))
    p.add_argument("status", choices=["enabled", "paused", "disabled"])
    p = add("usage", c.cmd_usage, "per-branch usage and burn rate")
    p.add_argument("--period", type=period)
    p.add_argument("--branch")
    p = add("period-close", c.cmd_period_close, "close a period (blank = not issued)")
    p.add_argument("--period", type=period, required=True)
    p.add_argument("--type", type=invoice_type, help="07 or 08 (default: every type assigned)")
    p = add("reconcile", c.cmd_reconcile, "prove assigned = issued + blank + held")
    p.add_argument("--period", type=period)
    p = add("audit", c.cmd_audit, "read the audit log")
    p.add_argument("--after", type=whole(0, 2**62), default=0)
    p.add_argument("--limit", type=whole(1, 1000), default=100)
    p = add("import-e0501", c.cmd_import_e0501, "import MOF E0501 files (all or nothing)")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--test-data", action="store_true", help="accept placeholder BANs")
    p = add("reports", c.cmd_reports, "build E0401/E0402 and hand them to Turnkey")
    p.add_argument("kind", choices=["E0401", "E0402"])
    p.add_argument("--period", type=period, required=True)
    p.add_argument("--type", type=invoice_type, help="07 or 08 (default: every type assigned)")
    p.add_argument("--mig", default="4.1", choices=["4.1", "4.0"])
    p.add_argument("--correction", action="store_true", help="send the next revision")
    p = add("report-list", c.cmd_report_list, "E0401/E0402 documents and how far they got")
    p.add_argument("--period", type=period)
    p = add("report-resend", c.cmd_report_resend, "hand a failed document to Turnkey again")
    p.add_argument("name", help="its file name (report-list)")
    add("deadlines", c.cmd_deadlines, "what is still due to the MOF, days left")
    alerts.add_commands(sub, common)
    users.add_commands(sub, common)
    forecast.add_commands(sub, common, period)
    certs.add_commands(sub)
    export.add_commands(sub, connection)
    status.add_commands(sub, common)
    return root


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a bad argument (one line, exit 2)
        return int(exit_.code or 0)
    admin: Admin | None = None
    try:
        if getattr(args, "local", None) is not None:  # certs ...: local files, no HQ
            args.local(args)
            return 0
        identity = Identity.resolve(args.certs_dir, args.user, args.insecure)
        admin = Admin(list(args.hq), identity.tls)
        args.func(admin, args)
    except DomainError as error:
        print(f"einv-admin: {error}", file=sys.stderr)
        return EXIT_USAGE
    except grpc.RpcError as error:
        assert admin is not None
        print(f"einv-admin: {admin.explain(error)}", file=sys.stderr)
        return exit_code(error.code().name)
    except OSError as error:
        print(f"einv-admin: {error}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
