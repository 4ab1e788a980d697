"""`einv-agent serve`: run one branch agent until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from allocator import Ban, DomainError, InvoiceType
from branch_agent.agent import Agent, AgentSettings
from runtime.clock import clock_from_args


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="einv-agent", description="E-invoice branch agent")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve POS terminals from the local buffer")
    serve.add_argument("--hq", required=True, help="HQ address(es), comma separated, for failover")
    serve.add_argument("--branch-ban", required=True, help="this branch's 統一編號")
    serve.add_argument("--data", required=True, type=Path, help="directory of the ledger")
    serve.add_argument("--listen", default="127.0.0.1:50061", help="POS address (loopback)")
    serve.add_argument(
        "--insecure-listen-any",
        action="store_true",
        help="allow a non-loopback --listen address (POS traffic is not encrypted yet)",
    )
    serve.add_argument("--types", default="07", help="invoice types served, e.g. 07 or 07,08")
    serve.add_argument("--report-interval", type=float, default=10.0, help="seconds")
    serve.add_argument(
        "--prefetch-before",
        type=float,
        default=2 * 86400,
        help="seconds before a period ends to fetch the next period's range",
    )
    serve.add_argument("--hq-timeout", type=float, default=5.0, help="seconds per HQ call")
    serve.add_argument("--sim-start", help="simulated clock: start instant (ISO, with zone)")
    serve.add_argument("--sim-epoch", type=float, help="simulated clock: real UNIX time of start")
    serve.add_argument("--sim-speed", type=float, default=1.0, help="simulated clock: speed")
    serve.add_argument("--log-level", default="WARNING")
    return parser


def settings_from_args(args: argparse.Namespace) -> AgentSettings:
    """Checks what the command line can check before anything starts (the BAN first)."""
    ban = Ban.parse(args.branch_ban)
    addresses = tuple(a.strip() for a in args.hq.split(",") if a.strip())
    if not addresses:
        raise ValueError("--hq needs at least one address")
    return AgentSettings(
        branch_ban=ban.value,
        hq_addresses=addresses,
        data_dir=args.data,
        listen=args.listen,
        insecure_listen_any=args.insecure_listen_any,
        types=tuple(InvoiceType.parse(t.strip()) for t in args.types.split(",")),
        report_interval=args.report_interval,
        prefetch_before=timedelta(seconds=args.prefetch_before),
        hq_timeout=args.hq_timeout,
        clock=clock_from_args(args.sim_start, args.sim_epoch, args.sim_speed),
    )


async def serve(settings: AgentSettings) -> None:
    """The route_guide shape: build, start, say so, wait for a signal, stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    agent = Agent(settings)
    address = await agent.start()
    print(f"agent {settings.branch_ban} serving POS on {address}", flush=True)
    try:
        await stop.wait()
    finally:
        await agent.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    try:
        settings = settings_from_args(args)
        asyncio.run(serve(settings))
    except (DomainError, ValueError, OSError, RuntimeError) as error:
        print(f"einv-agent: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
