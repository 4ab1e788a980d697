"""`einv-admin users add|passwd|list`: the back office's users, over the admin API (admin role).

A password is read from a prompt (twice, not echoed) or from `--password-file` (its first
line), never from the command line, where every user of the machine could read it.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from rich.console import Console
from rich.table import Table

from allocator import InvalidInput
from protos.einvoice.v1 import admin_pb2

ROLES = {
    "viewer": admin_pb2.USER_ROLE_VIEWER,
    "operator": admin_pb2.USER_ROLE_OPERATOR,
    "admin": admin_pb2.USER_ROLE_ADMIN,
}
ROLE_NAMES = {code: name for name, code in ROLES.items()}


def read_password(args: argparse.Namespace) -> str:
    if args.password_file is not None:
        lines = Path(args.password_file).read_text().splitlines()
        if not lines or not lines[0]:
            raise InvalidInput(f"{args.password_file} holds no password on its first line")
        return lines[0]
    if not sys.stdin.isatty():
        raise InvalidInput("no terminal to ask for the password: give --password-file FILE")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise InvalidInput("the two passwords differ")
    return first


def when(stamp: Any, present: bool) -> str:
    return stamp.ToDatetime().isoformat(timespec="seconds") + "Z" if present else "-"


def rows_of(users: list[admin_pb2.WebUser]) -> list[dict[str, Any]]:
    return [
        {
            "name": u.name,
            "role": ROLE_NAMES.get(u.role, "?"),
            "failed attempts": u.failed_attempts,
            "locked until": when(u.locked_until, u.HasField("locked_until")),
            "password changed": when(u.password_changed_at, u.HasField("password_changed_at")),
        }
        for u in users
    ]


def show(args: argparse.Namespace, reply: Any, users: list[admin_pb2.WebUser], title: str) -> None:
    if args.json:
        print(json.dumps(MessageToDict(reply, preserving_proto_field_name=True), indent=2))
        return
    rows = rows_of(users)
    table = Table(title=title)
    for column in rows[0] if rows else ["(none)"]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def cmd_add(admin: Any, args: argparse.Namespace) -> None:
    request = admin_pb2.AddUserRequest(
        name=args.name, role=ROLES[args.role], password=read_password(args)
    )
    reply = admin.call("AddUser", request)
    show(args, reply, [reply], "back-office user added")


def cmd_passwd(admin: Any, args: argparse.Namespace) -> None:
    request = admin_pb2.SetPasswordRequest(name=args.name, password=read_password(args))
    reply = admin.call("SetPassword", request)
    show(args, reply, [reply], "password set (sessions ended, lock-out lifted)")


def cmd_list(admin: Any, args: argparse.Namespace) -> None:
    reply = admin.call("ListUsers", admin_pb2.ListUsersRequest())
    show(args, reply, list(reply.users), "back-office users")


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    users = sub.add_parser("users", help="back-office (web) users: add, passwd, list")
    inner = users.add_subparsers(dest="users_command", required=True)
    p = inner.add_parser("add", parents=[common], help="add a user with a role and a password")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=list(ROLES))
    p.add_argument("--password-file", type=Path, help="read the password from this file")
    p.set_defaults(func=cmd_add)
    p = inner.add_parser("passwd", parents=[common], help="set a user's password (unlocks)")
    p.add_argument("name")
    p.add_argument("--password-file", type=Path, help="read the password from this file")
    p.set_defaults(func=cmd_passwd)
    p = inner.add_parser("list", parents=[common], help="the users, roles and lock-outs")
    p.set_defaults(func=cmd_list)
