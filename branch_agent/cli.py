"""`einv-agent serve`: run one branch agent until SIGTERM or SIGINT (and enroll, pos-certs).

The agent itself is imported only once the command line is good, so --help, --version and a
bad argument answer at once."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from allocator import Ban, DomainError, InvoiceType
from runtime import clock, event_loop, logs, systemd
from runtime.cli import Parser, add_completion, address, addresses, arg, listen_address, seconds
from runtime.clock import clock_from_args

if TYPE_CHECKING:
    from branch_agent.agent import AgentSettings

ENV = "EINV_"  # einv-agent serve --hq: EINV_HQ (runtime.layers)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="einv-agent", description="E-invoice branch agent")
    add_completion(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="serve POS terminals from the local buffer", env_prefix=ENV
    )
    serve.add_argument(
        "--hq", type=addresses, required=True, help="HQ address(es), comma separated, for failover"
    )
    serve.add_argument(
        "--branch-ban",
        type=arg(ban),
        help="this branch's 統一編號 (default: the enrolled identity's)",
    )
    serve.add_argument("--data", required=True, type=Path, help="directory of the ledger")
    serve.add_argument(
        "--listen",
        type=address,
        default="127.0.0.1:50061",
        help="POS address on this machine: loopback, or unix:PATH (default: %(default)s)",
    )
    serve.add_argument(
        "--lan-listen",
        type=address,
        help="POS address on the store LAN, mutual TLS with terminal certificates (pos-certs)",
    )
    serve.add_argument(
        "--insecure",
        action="store_true",
        help="talk to an HQ started with --insecure, without TLS (loopback HQ only)",
    )
    serve.add_argument(
        "--types", type=arg(types), default="07", help="invoice types served, e.g. 07 or 07,08"
    )
    serve.add_argument(
        "--report-interval", type=seconds(0.05, 3600), default=10.0, help="seconds (0.05..3600)"
    )
    serve.add_argument(
        "--prefetch-before",
        type=seconds(0, 62 * 86400),
        default=2 * 86400,
        help="seconds before a period ends to fetch the next period's range",
    )
    serve.add_argument(
        "--hq-timeout", type=seconds(0, 300), default=5.0, help="seconds per HQ call (0..300)"
    )
    serve.add_argument(
        "--metrics-listen",
        type=listen_address,
        help="serve Prometheus /metrics on PORT or HOST:PORT (loopback: HTTP; else TLS with the "
        "pos-certs server certificate, to HQ admin certificates only; default: off)",
    )
    clock.add_options(serve)
    logs.add_options(serve, "warning")
    enroll = commands.add_parser("enroll", help="enrol this store once with a token from HQ")
    enroll.add_argument("--hq", type=address, required=True, help="the HQ address")
    enroll.add_argument("--ca-cert", required=True, type=Path, help="the HQ's ca.crt")
    enroll.add_argument("--token", required=True, help="the line branch-enroll-token printed")
    enroll.add_argument("--data", required=True, type=Path, help="the agent's data directory")
    pos = commands.add_parser("pos-certs", help="TLS for POS terminals on the store LAN")
    inner = pos.add_subparsers(dest="pos_command", required=True)
    init = inner.add_parser("init", help="the POS CA and the agent's LAN server certificate")
    init.add_argument("--data", required=True, type=Path)
    init.add_argument("--host", action="append", required=True, help="name or IP (repeatable)")
    init.add_argument("--overwrite", action="store_true")
    term = inner.add_parser("terminal", help="a certificate for one POS terminal")
    term.add_argument("--data", required=True, type=Path)
    term.add_argument("--terminal", required=True, help="the terminal id, e.g. till-3")
    term.add_argument("--out", required=True, type=Path, help="where to write its files")
    term.add_argument("--overwrite", action="store_true")
    return parser


def ban(text: str) -> str:
    return Ban.parse(text).value


def types(text: str) -> tuple[InvoiceType, ...]:
    return tuple(InvoiceType.parse(t.strip()) for t in text.split(","))


def settings_from_args(args: argparse.Namespace) -> AgentSettings:
    """Checks what the command line can check before anything starts (the BAN first)."""
    from branch_agent.agent import AgentSettings

    return AgentSettings(
        branch_ban=args.branch_ban,
        hq_addresses=args.hq,
        data_dir=args.data,
        listen=args.listen,
        lan_listen=args.lan_listen,
        insecure=args.insecure,
        types=args.types,
        report_interval=args.report_interval,
        prefetch_before=timedelta(seconds=args.prefetch_before),
        hq_timeout=args.hq_timeout,
        metrics_listen=args.metrics_listen,
        clock=clock_from_args(args.sim_start, args.sim_epoch, args.sim_speed),
    )


async def serve(settings: AgentSettings) -> None:
    """The route_guide shape: build, start, say so, wait for a signal, stop."""
    from branch_agent.agent import Agent

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    agent = Agent(settings)
    address = await agent.start()
    ban = agent.parts.service.branch_ban
    mode = "HQ over mutual TLS" if not settings.insecure else "INSECURE: HQ without TLS"
    if agent.metrics is not None:
        print(f"agent {ban} metrics on {agent.metrics.url}", flush=True)
    print(f"agent {ban} ({mode}) serving POS on {address}", flush=True)
    try:
        async with systemd.serving(agent.describe, agent.healthy):
            await stop.wait()
    finally:
        await agent.stop()


def enroll(args: argparse.Namespace) -> None:
    from branch_agent.hq import identity as ident

    identity = ident.enroll(args.hq, args.ca_cert, args.token, args.data)
    print(
        f"enrolled: branch {identity.ban}, certificate valid until "
        f"{identity.not_after.isoformat(timespec='seconds')}, kept in {ident.tls_dir(args.data)}"
    )


def pos_certs(args: argparse.Namespace) -> None:
    from branch_agent.hq import identity as ident
    from branch_agent.pos import tls as pos_tls

    ban = ident.load(args.data).ban if ident.enrolled(args.data) else None
    if ban is None:
        raise ValueError(f"{args.data} holds no enrolled identity: enrol the store first")
    if args.pos_command == "init":
        where = pos_tls.init(args.data, ban, args.host, args.overwrite)
        print(f"POS CA and LAN server certificate written to {where}")
    else:
        out = pos_tls.terminal(args.data, ban, args.terminal, args.out, args.overwrite)
        print(f"terminal {args.terminal}: {out}/ca.crt, {args.terminal}.crt, {args.terminal}.key")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a bad argument (one line, exit 2)
        return int(exit_.code or 0)
    logs.setup(getattr(args, "log_level", "warning"), getattr(args, "log_format", "text"))
    try:
        if args.command == "enroll":
            enroll(args)
            return 0
        if args.command == "pos-certs":
            pos_certs(args)
            return 0
        settings = settings_from_args(args)
        event_loop.run(serve(settings))
    except (DomainError, ValueError, OSError, RuntimeError) as error:
        print(f"einv-agent: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
