"""`einv-admin forecast [--quota BAN=N] [--move FROM:TO:N]`: who runs out when, and a what-if.

The same Forecast call as the back office's page: nothing is changed (apply a what-if with
quota-set). Times are Taipei's.
"""

from __future__ import annotations

import argparse
from typing import Any

from admin_cli.output import show, type_code
from allocator import TAIPEI
from protos.einvoice.v1 import admin_pb2


def quota_change(text: str) -> admin_pb2.QuotaChange:
    ban, _, number = text.partition("=")
    if not number.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} must be BAN=BOOKLETS_PER_PERIOD")
    return admin_pb2.QuotaChange(ban=ban, booklets_per_period=int(number))


def move(text: str) -> admin_pb2.BookletMove:
    parts = text.split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} must be FROM_BAN:TO_BAN:BOOKLETS")
    return admin_pb2.BookletMove(from_ban=parts[0], to_ban=parts[1], booklets=int(parts[2]))


def when(run: admin_pb2.RunOut) -> str:
    if not run.HasField("at"):
        return "not in sight"
    text = run.at.ToDatetime(tzinfo=TAIPEI).isoformat(timespec="minutes")
    return text + (" (lasts the period)" if run.lasts_period else "")


def ask(run: admin_pb2.RunOut) -> str:
    if not run.HasField("ask_mof_by"):
        return "-"
    text = run.ask_mof_by.ToDatetime(tzinfo=TAIPEI).isoformat(timespec="minutes")
    return text + (" TOO LATE" if run.late else "")


def cmd_forecast(admin: Any, args: argparse.Namespace) -> None:

    request = admin_pb2.ForecastRequest(
        year_month=args.period or "", quota_changes=args.quota or [], moves=args.move or []
    )
    reply = admin.call("Forecast", request)
    rows = [
        {
            "what": f"pool {p.year_month}/{type_code(p.invoice_type)}",
            "held / free": p.free,
            "burn/h": f"{p.burn_per_hour:.1f}",
            "runs out": when(p.current),
            "seasonal": when(p.seasonal),
            "ask the MOF by": ask(p.current),
        }
        for p in reply.pools
    ]
    rows += [
        {
            "what": f"branch {b.branch_ban}" + (" (what-if)" if b.changed else ""),
            "held / free": b.held,
            "burn/h": f"{b.burn_per_hour:.1f}",
            "runs out": f"{when(b.current)} ({b.current.reason})",
            "seasonal": when(b.seasonal),
            "ask the MOF by": ask(b.current),
        }
        for b in sorted(reply.branches, key=lambda b: (b.current.at.seconds or 2**62, b.branch_ban))
    ]
    show(args, reply, rows, f"forecast {reply.year_month} (nothing was changed)")


def add_commands(sub: Any, common: argparse.ArgumentParser, period: Any) -> None:
    p = sub.add_parser(
        "forecast", parents=[common], help="who runs out when; --quota/--move: a what-if"
    )
    p.add_argument("--period", type=period)
    p.add_argument("--quota", type=quota_change, action="append", help="try BAN=BOOKLETS")
    p.add_argument("--move", type=move, action="append", help="try FROM:TO:BOOKLETS of quota")
    p.set_defaults(func=cmd_forecast)
