"""`einv-pos`: a POS terminal's view of the agent, for people and scripts (--json)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from time import monotonic, sleep

import grpc
from rich.console import Console
from rich.table import Table

from allocator import TAIPEI, DomainError
from protos.einvoice.v1 import common_pb2, pos_pb2, pos_pb2_grpc
from runtime.cli import (
    EXIT_CODES_HELP,
    Parser,
    add_completion,
    address,
    exit_code,
    seconds,
    whole,
)
from runtime.grpc_status import refusal
from runtime.json_style import as_json, dumps
from runtime.tls import client_tls

RETRY_STEP = 0.5
TYPES = {"07": common_pb2.INVOICE_TYPE_GENERAL, "08": common_pb2.INVOICE_TYPE_SPECIAL}


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="einv-pos",
        description="Talk to the branch agent",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        # --agent, --terminal, --timeout, --certs-dir: EINV_POS_AGENT, ... (runtime.layers); a
        # prefix of its own, since a till's certificates are not an admin's EINV_CERTS_DIR.
        env_prefix="EINV_POS_",
    )
    add_completion(parser)
    parser.add_argument(
        "--agent", type=address, default="127.0.0.1:50061", help="the agent's POS address"
    )
    parser.add_argument("--terminal", default="einv-pos", help="terminal id sent to the agent")
    parser.add_argument("--timeout", type=seconds(0, 600), default=5.0, help="seconds")
    parser.add_argument(
        "--wait",
        type=seconds(0, 600),
        default=0.0,
        help="seconds to keep trying while the agent is UNAVAILABLE (just started, or still "
        "taking its first numbers from HQ); a retried next keeps its request id (default 0)",
    )
    parser.add_argument(
        "--certs-dir",
        type=Path,
        help="a POS on the store LAN: ca.crt, TERMINAL.crt, TERMINAL.key (einv-agent pos-certs)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    nxt = commands.add_parser("next", help="take the next invoice number(s)")
    nxt.add_argument("--count", type=whole(1, 1000), default=1, help="1..1000 (default 1)")
    nxt.add_argument("--type", default="07", choices=sorted(TYPES))
    nxt.add_argument("--request-id", default="", help="idempotency key (default: a new UUID)")
    nxt.add_argument("--json", action="store_true")
    give = commands.add_parser("give-back", help="give back a number that was not used")
    give.add_argument("invoice_number")
    give.add_argument("--json", action="store_true")
    status = commands.add_parser("status", help="what the agent holds, whether HQ is reachable")
    status.add_argument("--json", action="store_true")
    return parser


def _next(stub: pos_pb2_grpc.PosServiceStub, args: argparse.Namespace, console: Console) -> None:
    request = pos_pb2.NextNumbersRequest(
        count=args.count,
        invoice_type=TYPES[args.type],
        terminal_id=args.terminal,
        request_id=args.request_id,
    )
    reply = stub.NextNumbers(request, timeout=args.timeout)
    if args.json:
        print(dumps(as_json(reply)))
        return
    for number in reply.numbers:
        console.print(f"{number.invoice_number}  [dim]{number.year_month}[/dim]")


def _give_back(
    stub: pos_pb2_grpc.PosServiceStub, args: argparse.Namespace, console: Console
) -> None:
    request = pos_pb2.GiveBackRequest(invoice_number=args.invoice_number, terminal_id=args.terminal)
    reply = stub.GiveBack(request, timeout=args.timeout)
    outcome = pos_pb2.GiveBackReply.Outcome.Name(reply.outcome).removeprefix("OUTCOME_").lower()
    if args.json:
        print(dumps({"invoice_number": args.invoice_number} | as_json(reply)))
    else:
        console.print(f"{args.invoice_number}: {outcome}")


def _range(message: common_pb2.TrackRange) -> str:
    return f"{message.track}{message.begin:08d}-{message.track}{message.end:08d}"


def _status(stub: pos_pb2_grpc.PosServiceStub, args: argparse.Namespace, console: Console) -> None:
    reply = stub.Status(pos_pb2.StatusRequest(), timeout=args.timeout)
    if args.json:
        print(dumps(as_json(reply)))
        return
    table = Table(title=f"Branch agent {reply.branch_ban}", show_header=False)
    since = ""
    if reply.HasField("hq_unreachable_since"):
        since = reply.hq_unreachable_since.ToDatetime(tzinfo=TAIPEI).isoformat(timespec="seconds")
    rows = [
        ("period", reply.year_month),
        ("remaining", str(reply.remaining)),
        ("current range", _range(reply.current_range) if reply.HasField("current_range") else "-"),
        ("next ranges", ", ".join(_range(r) for r in reply.next_ranges) or "-"),
        ("HQ reachable", "yes" if reply.hq_reachable else f"no (since {since or '?'})"),
        ("burn / minute", f"{reply.burn_per_minute:.1f}"),
        ("issued total", str(reply.issued_total)),
        ("reports pending", str(reply.reports_pending)),
        ("last refill error", reply.last_refill_error or "-"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


COMMANDS = {"next": _next, "give-back": _give_back, "status": _status}


def channel(args: argparse.Namespace) -> grpc.Channel:
    if args.certs_dir is None:
        return grpc.insecure_channel(args.agent)
    tls = client_tls(args.certs_dir, args.terminal)
    return grpc.secure_channel(args.agent, tls.credentials())


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a bad argument (one line, exit 2)
        return int(exit_.code or 0)
    if args.command == "next" and not args.request_id:
        args.request_id = str(uuid.uuid4())  # once: a retry under --wait takes nothing twice
    console = Console()
    try:
        opened = channel(args)
    except DomainError as error:
        print(f"einv-pos: {error}", file=sys.stderr)
        return 2
    with opened as channel_:
        # An agent just started may take a moment to listen: wait for it (bounded), then call.
        with contextlib.suppress(grpc.FutureTimeoutError):
            grpc.channel_ready_future(channel_).result(timeout=min(args.timeout, 5.0))
        stub = pos_pb2_grpc.PosServiceStub(channel_)
        try:
            _patiently(lambda: COMMANDS[args.command](stub, args, console), args.wait)
        except grpc.RpcError as error:
            seen = refusal(error)
            reason = f" [{seen.reason}]" if seen.reason else ""
            print(f"einv-pos: {seen.code.name}{reason}: {seen.message}", file=sys.stderr)
            return exit_code(seen.code.name)
    return 0


def _patiently(command: Callable[[], None], wait: float) -> None:
    """The command, tried again every RETRY_STEP while the agent is UNAVAILABLE, for `wait` s."""
    deadline = monotonic() + wait
    while True:
        try:
            return command()
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or monotonic() + RETRY_STEP > deadline:
                raise
        sleep(RETRY_STEP)


if __name__ == "__main__":
    sys.exit(main())
