"""`einv-hq serve`: run the HQ server (embedded SQLite by default)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from allocator import Ban, DomainError
from branch_agent.clock import clock_from_args
from hq_server.app import Hq
from hq_server.coordinator import LocalCoordinator
from hq_server.server import require_loopback, serve
from hq_server.store import Store


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
    run.add_argument("--sim-start", help="simulated clock: start instant (ISO, with zone)")
    run.add_argument("--sim-epoch", type=float, help="simulated clock: real UNIX time of start")
    run.add_argument("--sim-speed", type=float, default=1.0, help="simulated clock speed")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        head_ban = Ban.parse(args.head_ban)
        require_loopback(args.listen, args.insecure_listen_any)
        clock = clock_from_args(args.sim_start, args.sim_epoch, args.sim_speed)
    except (DomainError, ValueError) as error:
        print(f"einv-hq: {error}", file=sys.stderr)
        return 2
    store = Store(args.db)
    hq = Hq(store, LocalCoordinator(store, args.listen, clock), clock, head_ban.value)
    asyncio.run(serve(hq, args.listen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
