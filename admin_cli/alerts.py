"""`einv-admin alerts list [--all] | ack KEY | test-mail ADDRESS`: the notifier's alerts, over
the admin API like every other command (so the caller's certificate decides, and the audit log
names who acknowledged)."""

from __future__ import annotations

import argparse
from typing import Any

from admin_cli.output import show, taipei
from protos.einvoice.v1 import admin_pb2


def rows_of(alerts: list[admin_pb2.AlertInfo]) -> list[dict[str, Any]]:
    return [
        {
            "key": a.key,
            "state": a.state,
            "about": a.about,
            "since": taipei(a.first_seen),
            "last seen": taipei(a.last_seen),
            "acknowledged by": a.acknowledged_by or "-",
            "mails sent/waiting/failed": f"{a.mails_sent}/{a.mails_waiting}/{a.mails_failed}",
            "last error": a.last_error or "-",
        }
        for a in alerts
    ]


def cmd_list(admin: Any, args: argparse.Namespace) -> None:
    reply = admin.call("ListAlerts", admin_pb2.ListAlertsRequest(include_resolved=args.all))
    title = "alerts" if args.all else "open alerts"
    show(args, reply, rows_of(list(reply.alerts)), title)


def cmd_ack(admin: Any, args: argparse.Namespace) -> None:
    reply = admin.call("AckAlert", admin_pb2.AckAlertRequest(key=args.key))
    show(args, reply, rows_of([reply]), "alert acknowledged: no more reminders")


def cmd_test_mail(admin: Any, args: argparse.Namespace) -> None:
    reply = admin.call("SendTestMail", admin_pb2.SendTestMailRequest(address=args.address))
    rows = [{"sent to": args.address, "server reply": reply.server_reply}]
    show(args, reply, rows, "test mail sent")


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    alerts = sub.add_parser("alerts", help="notifier alerts: list, acknowledge, test mail")
    inner = alerts.add_subparsers(dest="alerts_command", required=True)
    p = inner.add_parser("list", parents=[common], help="open alerts (--all: resolved too)")
    p.add_argument("--all", action="store_true", help="include resolved alerts")
    p.set_defaults(func=cmd_list)
    p = inner.add_parser("ack", parents=[common], help="acknowledge an alert: no more reminders")
    p.add_argument("key", help="the alert's key (alerts list)")
    p.set_defaults(func=cmd_ack)
    p = inner.add_parser(
        "test-mail", parents=[common], help="send a test mail with HQ's notifier settings"
    )
    p.add_argument("address", help="where to send it")
    p.set_defaults(func=cmd_test_mail)
