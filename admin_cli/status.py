"""`einv-admin status`: each HQ replica of --hq, one row each, like `etcdctl endpoint status`.

Every address is asked on its own, at once (no failover: the point is to see each replica); one
that does not answer is a row saying why, not an error. The replica judges itself
(GetServerStatus, by the rule its health service uses); this only shows it and sums it up in
the exit code.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from time import monotonic, sleep
from typing import Any

import grpc

from admin_cli.client import Admin
from admin_cli.commands import CheckFailed
from admin_cli.output import table
from protos.einvoice.v1 import admin_pb2, admin_pb2_grpc
from runtime.cli import EXIT_UNAVAILABLE, seconds
from runtime.json_style import as_json, dumps

TIMEOUT = 5.0
WAIT_STEP = 0.5
UNREACHABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
EPILOG = """exit codes of status:
  0  every replica answered and is healthy (a follower that knows its leader is healthy)
  1  a replica answered unhealthy: database down or behind the schema, etcd without a live
     lease, fenced, or no leader known (its problems column says which)
  6  a replica did not answer (its row says why); this wins over 1
  other codes as for every command (4: your identity may not ask, it needs the viewer role)"""
ROLES = {
    admin_pb2.SERVER_ROLE_SINGLE: "single",
    admin_pb2.SERVER_ROLE_LEADER: "leader",
    admin_pb2.SERVER_ROLE_FOLLOWER: "follower",
}
ETCD = {
    admin_pb2.ETCD_STATE_NOT_USED: "-",
    admin_pb2.ETCD_STATE_OK: "ok",
    admin_pb2.ETCD_STATE_NO_SESSION: "no session",
}


@dataclass(frozen=True, slots=True)
class Endpoint:
    address: str
    status: admin_pb2.ServerStatus | None  # None: it did not answer
    error: str = ""


def ask(admin: Admin, address: str) -> Endpoint:
    with admin.channel(address) as channel:
        stub = admin_pb2_grpc.AdminServiceStub(channel)
        try:
            reply = stub.GetServerStatus(admin_pb2.GetServerStatusRequest(), timeout=TIMEOUT)
        except grpc.RpcError as error:
            if error.code() not in UNREACHABLE:
                raise  # a refusal (e.g. PERMISSION_DENIED) is the command's error
            return Endpoint(address, None, admin.explain(error))
        return Endpoint(address, reply)


def row(found: Endpoint, services: list[str]) -> dict[str, str]:
    """The table's row: the same columns for every replica, "-" where it did not answer."""
    s = found.status
    if s is None:
        cells = dict.fromkeys(["leader", "fencing token", "version", "database", "etcd"], "-")
        health = dict.fromkeys(map(short, services), "-")
        return {"endpoint": found.address, "role": "UNREACHABLE", **cells, **health} | {
            "problems": found.error
        }
    serving = {h.service: h.serving for h in s.services}
    return {
        "endpoint": found.address,
        "role": ROLES.get(s.role, str(s.role)),
        "leader": s.leader or "-",
        "fencing token": str(s.fencing_token)
        if s.fencing_token
        else f"- (stored {s.stored_token})",
        "version": s.version,
        "database": database(s),
        "etcd": ETCD.get(s.etcd, str(s.etcd)),
        **{short(name): word(serving.get(name)) for name in services},
        "problems": "; ".join(s.problems) or "-",
    }


def database(s: admin_pb2.ServerStatus) -> str:
    if not s.database_ok:
        return f"DOWN: {s.database_error}"
    if s.schema_revision != s.schema_head:
        return f"ok, revision {s.schema_revision or 'none'} (needs {s.schema_head})"
    return f"ok, revision {s.schema_revision}"


def short(service: str) -> str:
    return service.rsplit(".", 1)[-1] or "server"


def word(serving: bool | None) -> str:
    return "-" if serving is None else "SERVING" if serving else "NOT_SERVING"


def cmd_status(admin: Admin, args: argparse.Namespace) -> None:
    found = ask_every(admin)
    deadline = monotonic() + args.wait
    while not healthy(found) and monotonic() + WAIT_STEP <= deadline:
        sleep(WAIT_STEP)  # --wait: a replica just started, or an election under way
        found = ask_every(admin)
    if args.json:
        print(dumps({"endpoints": [endpoint_json(e) for e in found]}))
    else:
        names = next((service_names(e.status) for e in found if e.status is not None), [])
        table([row(e, names) for e in found], "HQ replicas")
    if any(e.status is None for e in found):
        raise SystemExit(EXIT_UNAVAILABLE)
    if not healthy(found):
        raise CheckFailed()


def ask_every(admin: Admin) -> list[Endpoint]:
    with ThreadPoolExecutor(max_workers=len(admin.addresses)) as pool:
        return list(pool.map(lambda address: ask(admin, address), admin.addresses))


def healthy(found: list[Endpoint]) -> bool:
    return all(e.status is not None and e.status.healthy for e in found)


def service_names(status: admin_pb2.ServerStatus) -> list[str]:
    return [h.service for h in status.services if h.service]  # "" (liveness) is implied


def endpoint_json(found: Endpoint) -> dict[str, Any]:
    return {
        "endpoint": found.address,
        "reachable": found.status is not None,
        "error": found.error,
        "status": as_json(found.status) if found.status is not None else None,
    }


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "status",
        parents=[common],
        help="each HQ replica of --hq: role, leader, token, version, database, etcd, health",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--wait",
        type=seconds(0, 600),
        default=0.0,
        help="seconds to keep asking until every replica answers healthy (after a start; "
        "default 0: ask once)",
    )
    p.set_defaults(func=cmd_status)
