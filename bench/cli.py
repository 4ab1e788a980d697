"""`python -m bench [--smoke] [--only p1,p2,p3,p4]`: run, print the table, write the JSON."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from time import monotonic

from bench import growth, p1_agent, p1_metrics, p2_hq, p2_pg, p2_tls, p3_mof, peers, web
from bench.figures import Figure, Results, table
from bench.servers import REPO, Server, child_environment, echo_server, profile_into
from runtime.cli import seconds

SUITES = ("p1", "p1m", "p2", "p2tls", "p3", "p4", "web", "peers", "growth")
RESULTS = REPO / "bench" / "results"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks, not figures")
    parser.add_argument("--only", default=",".join(SUITES), help="comma-separated suites")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL burst of P2")
    parser.add_argument("--out", type=Path, help="JSON path (default bench/results/<mode>.json)")
    parser.add_argument("--workdir", type=Path, help="an empty dir for the data (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, databases)")
    parser.add_argument(
        "--outage-seconds",
        type=seconds(0.1, 3600),
        help="peers: the HQ outage window (default 60, 1 with --smoke)",
    )
    parser.add_argument(
        "--profile", type=Path, help="run HQ and agents under pyinstrument, sessions into this dir"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    if unknown := set(chosen) - set(SUITES):
        print(f"bench: unknown suites {sorted(unknown)}; choose from {SUITES}", file=sys.stderr)
        return 2
    mode = "smoke" if args.smoke else "full"
    out = args.out or RESULTS / ("latest.json" if mode == "full" else "smoke.json")
    child_environment()
    if args.profile:
        profile_into(args.profile)
    results = Results(mode)
    with _workdir(args.workdir, args.keep) as root:
        failed = _run(_steps(chosen, root, args, results), root, results)
    if args.smoke:
        _drop_goals(results)
    results.write(out)
    print(table(results))
    for note in results.notes:
        print(f"note: {note}")
    print(f"written: {out}")
    return 1 if failed else 0


Step = Callable[[Server], list[Figure]]  # given the echo server


def _steps(
    chosen: list[str], root: Path, args: argparse.Namespace, results: Results
) -> dict[str, Step]:
    smoke = args.smoke
    steps: dict[str, Step] = {}
    if "p1" in chosen:
        sizes1 = p1_agent.SMOKE if smoke else p1_agent.FULL
        steps["p1"] = lambda echo: p1_agent.run(root / "p1", echo, sizes1)
    if "p1m" in chosen:  # P1 with --metrics-listen next to P1 without (bench/p1_metrics.py)
        sizes1m = p1_metrics.SMOKE if smoke else p1_metrics.FULL
        steps["p1m"] = lambda echo: p1_metrics.run(root / "p1m", echo, sizes1m)
    if "p2" in chosen or "p4" in chosen:
        # P4 reports usage of the grants the P2 burst made, to the same HQ: one step.
        sizes2 = p2_hq.SMOKE if smoke else p2_hq.FULL
        name = "+".join(s for s in ("p2", "p4") if s in chosen)
        steps[name] = lambda echo: p2_hq.run(root / "p2", echo, sizes2, "p4" in chosen, results)
    if "p2" in chosen and not args.no_pg:
        sizes_pg = p2_pg.SMOKE if smoke else p2_pg.FULL
        steps["p2-pg"] = lambda echo: p2_pg.run(root / "p2-pg", echo, sizes_pg, results)
    if "p2tls" in chosen:  # the same burst through mutual TLS, one certificate per branch
        sizes_tls = p2_tls.SMOKE if smoke else p2_tls.FULL
        steps["p2tls"] = lambda _echo: p2_tls.run(root / "p2tls", sizes_tls, results)
    if "p3" in chosen:
        sizes3 = p3_mof.SMOKE if smoke else p3_mof.FULL
        steps["p3"] = lambda _echo: p3_mof.run(sizes3, results)
    if "web" in chosen and not smoke:  # 10,000 branches seeded: kept out of the smoke mode
        steps["web"] = lambda _echo: web.run(root / "web", web.FULL, results)
    elif "web" in chosen:
        results.note("WEB (the back office's branches page) runs in the full mode only")
    if "peers" in chosen:  # the agent next to the designs an integrator would pick instead
        sizes_peers = peers.SMOKE if smoke else peers.FULL
        if args.outage_seconds is not None:
            sizes_peers = replace(sizes_peers, outage_seconds=args.outage_seconds)
        steps["peers"] = lambda _echo: peers.run(root / "peers", sizes_peers, results)
    if "growth" in chosen:  # P2, P4 and P3 again at growing sizes, on five years of history
        sizes_growth = growth.SMOKE if smoke else growth.FULL
        steps["growth"] = lambda echo: growth.run(root / "growth", echo, sizes_growth, results)
    return steps


def _run(steps: dict[str, Step], root: Path, results: Results) -> bool:
    """Each step in turn; one that breaks is reported and the others still run."""
    failed = False
    with echo_server(root) as echo:
        for name, step in steps.items():
            print(f"bench: running {name} (load average {_load()})", flush=True)
            start = monotonic()
            try:
                results.add(*step(echo))
            except Exception:
                failed = True
                traceback.print_exc()
                results.note(f"{name} failed: {traceback.format_exc(limit=1).strip()}")
            took = monotonic() - start
            results.note(f"{name}: {took:.0f} s, load average {_load()} at the end")
    return failed


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _drop_goals(results: Results) -> None:
    """Tiny sizes say nothing about the goals: smoke checks that every figure is produced."""
    for figure in results.figures:
        figure.goal = None


@contextlib.contextmanager
def _workdir(given: Path | None, keep: bool) -> Iterator[Path]:
    if given is not None and given.exists() and any(given.iterdir()):
        raise SystemExit(f"bench: --workdir {given} is not empty: every run starts from nothing")
    root = given or Path(tempfile.mkdtemp(prefix="einv-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        yield root
    finally:
        if keep or given is not None:
            print(f"bench: work dir kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
