"""`einv-hq serve`: run the HQ server (embedded SQLite by default, or one replica of a cluster)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path

from allocator import Ban, DomainError
from hq_server.app import Hq
from hq_server.cluster import MIN_LEASE_TTL, ClusterSettings, cluster_hq
from hq_server.coordinator import LocalCoordinator
from hq_server.etcd_client import parse_endpoints
from hq_server.reports import ReportSettings
from hq_server.server import serve
from hq_server.store import Store
from notifier import ConfigError, NotifierConfig, load_config
from runtime.clock import Clock, clock_from_args
from runtime.listen import require_loopback


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="einv-hq", description="HQ invoice-number server")
    sub = root.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="serve the branch and admin gRPC APIs")
    run.add_argument("--head-ban", required=True, help="this HQ's 統一編號 (HeadBan)")
    run.add_argument(
        "--db", default="sqlite:///hq.db", help="SQLAlchemy URL (default: %(default)s)"
    )
    run.add_argument("--listen", default="127.0.0.1:50051", help="address (default: %(default)s)")
    run.add_argument(
        "--insecure-listen-any",
        action="store_true",
        help="allow a non-loopback listen address without TLS",
    )
    run.add_argument(
        "--etcd",
        help="cluster mode: etcd endpoints HOST:PORT[,...] (without it: one process, no etcd)",
    )
    run.add_argument(
        "--advertise",
        help="cluster mode: this replica's address for the others' redirects (default: --listen)",
    )
    run.add_argument(
        "--lease-ttl", type=int, default=5, help="cluster mode: leader lease seconds (default 5)"
    )
    run.add_argument(
        "--notifier-config",
        type=Path,
        help="notifier TOML (SMTP, recipients, thresholds); without it no e-mail",
    )
    run.add_argument("--turnkey-root", type=Path, help="MOF Turnkey data root for E0401/E0402")
    run.add_argument(
        "--hold-margin-hours",
        type=float,
        default=48.0,
        help="stop waiting for a branch's final usage report this long before "
        "the E0402 deadline (default: %(default)s)",
    )
    run.add_argument(
        "--mig-test-data",
        action="store_true",
        help="accept placeholder BANs in MIG documents (MOF samples only)",
    )
    run.add_argument("--sim-start", help="simulated clock: start instant (ISO, with zone)")
    run.add_argument("--sim-epoch", type=float, help="simulated clock: real UNIX time of start")
    run.add_argument("--sim-speed", type=float, default=1.0, help="simulated clock speed")
    return root


async def run(
    args: argparse.Namespace, clock: Clock, head_ban: str, notifier_config: NotifierConfig | None
) -> None:
    store = Store(args.db)
    if not args.etcd:
        hq = Hq(store, LocalCoordinator(store, args.listen, clock), clock, head_ban)
        hq.reports = report_settings(args)
        hq.notifier_config = notifier_config
        await serve(hq, args.listen)
        return
    settings = ClusterSettings(
        parse_endpoints(args.etcd), args.advertise or args.listen, args.lease_ttl
    )
    async with cluster_hq(store, clock, head_ban, settings) as hq:
        hq.reports = report_settings(args)
        hq.notifier_config = notifier_config
        await serve(hq, args.listen)


def report_settings(args: argparse.Namespace) -> ReportSettings:
    return ReportSettings(
        turnkey_root=args.turnkey_root,
        hold_margin=timedelta(hours=args.hold_margin_hours),
        test_data=args.mig_test_data,
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        head_ban = Ban.parse(args.head_ban)
        require_loopback(args.listen, args.insecure_listen_any)
        clock = clock_from_args(args.sim_start, args.sim_epoch, args.sim_speed)
        check_cluster_args(args)
        notifier = load_config(args.notifier_config, os.environ) if args.notifier_config else None
    except (DomainError, ValueError, ConfigError, OSError) as error:
        print(f"einv-hq: {error}", file=sys.stderr)
        return 2
    asyncio.run(run(args, clock, head_ban.value, notifier))
    return 0


def check_cluster_args(args: argparse.Namespace) -> None:
    if args.lease_ttl < MIN_LEASE_TTL:
        raise ValueError(f"--lease-ttl {args.lease_ttl} is below etcd's minimum of {MIN_LEASE_TTL}")
    if args.etcd:
        parse_endpoints(args.etcd)


if __name__ == "__main__":
    sys.exit(main())
