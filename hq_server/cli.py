"""`einv-hq serve`: run the HQ server (embedded SQLite by default, or one replica of a cluster)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from allocator import Ban, DomainError
from hq_server import migrate
from hq_server.app import Hq
from hq_server.cluster import MIN_LEASE_TTL, ClusterSettings, cluster_hq
from hq_server.coordinator import LocalCoordinator
from hq_server.enrolment import Signer
from hq_server.etcd_client import EtcdTls, parse_endpoints
from hq_server.metrics import listen_of
from hq_server.reports import ReportSettings
from hq_server.server import serve
from hq_server.store import Store, make_engines
from hq_server.web.app import WebListen, tls_context
from notifier import ConfigError, NotifierConfig, load_config
from runtime import pki
from runtime.cli import Parser, address, arg, seconds, whole
from runtime.clock import Clock, clock_from_args
from runtime.metrics.server import MetricsListen, listen_address
from runtime.tls import Tls, require_secure_or_loopback, server_tls


def parser() -> argparse.ArgumentParser:
    root = Parser(prog="einv-hq", description="HQ invoice-number server")
    sub = root.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="serve the branch and admin gRPC APIs")
    run.add_argument(
        "--head-ban", type=arg(head_ban), required=True, help="this HQ's 統一編號 (HeadBan)"
    )
    run.add_argument(
        "--db", default="sqlite:///hq.db", help="SQLAlchemy URL (default: %(default)s)"
    )
    run.add_argument(
        "--listen", type=address, default="127.0.0.1:50051", help="address (default: %(default)s)"
    )
    run.add_argument(
        "--certs-dir",
        type=Path,
        help="mutual TLS: ca.crt, hq.crt, hq.key (made by einv-admin certs init-ca / certs hq), "
        "and ca.key to enrol and renew branch certificates",
    )
    run.add_argument(
        "--insecure",
        action="store_true",
        help="no TLS and nobody authenticated (everyone acts as admin): loopback only, to try "
        "it out",
    )
    run.add_argument(
        "--branch-cert-hours",
        type=seconds(1 / 60, 8784),
        default=168.0,
        help="lifetime of the branch certificates HQ signs; agents renew at two thirds "
        "(default: %(default)s)",
    )
    run.add_argument(
        "--db-password-file",
        type=Path,
        help="file holding the database password (else EINV_DB_PASSWORD; never in --db)",
    )
    run.add_argument(
        "--etcd",
        help="cluster mode: etcd endpoints HOST:PORT[,...] (without it: one process, no etcd)",
    )
    run.add_argument(
        "--advertise",
        type=address,
        help="cluster mode: this replica's address for the others' redirects (default: --listen)",
    )
    run.add_argument(
        "--lease-ttl",
        type=whole(MIN_LEASE_TTL, 60),
        default=5,
        help="cluster mode: leader lease seconds (default 5)",
    )
    run.add_argument(
        "--etcd-cacert",
        type=Path,
        help="cluster mode: TLS to etcd, the members' CA (etcdctl --cacert)",
    )
    run.add_argument("--etcd-cert", type=Path, help="cluster mode: client certificate for etcd")
    run.add_argument("--etcd-key", type=Path, help="cluster mode: its key (0600)")
    run.add_argument(
        "--notifier-config",
        type=Path,
        help="notifier TOML (SMTP, recipients, thresholds); without it no e-mail",
    )
    run.add_argument(
        "--turnkey-root", type=directory, help="MOF Turnkey data root for E0401/E0402 (a folder)"
    )
    run.add_argument(
        "--turnkey-pack-dir",
        type=directory,
        action="append",
        default=[],
        help="a folder where Turnkey's Pack leaves its packed files (repeatable): ties each "
        "document to the message id of its result",
    )
    run.add_argument(
        "--turnkey-poll-seconds",
        type=seconds(0.1, 3600),
        default=30.0,
        help="how often the leader follows Turnkey's folders and results (default %(default)s)",
    )
    run.add_argument(
        "--mig-test-data",
        action="store_true",
        help="accept placeholder BANs in MIG documents (MOF samples only)",
    )
    run.add_argument(
        "--web-listen",
        type=address,
        help="serve the back office (HTTPS with hq.crt of --certs-dir; plain HTTP on loopback "
        "with --insecure) on this address, e.g. 127.0.0.1:8443 (default: off)",
    )
    run.add_argument(
        "--metrics-listen",
        type=listen_address,
        help="serve Prometheus /metrics on PORT or HOST:PORT (loopback: HTTP; else HTTPS with "
        "hq.crt, to HQ admin certificates only; default: off)",
    )
    run.add_argument(
        "--history-minutes",
        type=seconds(0.01, 24 * 60),
        default=60.0,
        help="how often pools and branches are sampled for charts and the seasonal forecast "
        "(default: %(default)s)",
    )
    run.add_argument("--sim-start", help="simulated clock: start instant (ISO, with zone)")
    run.add_argument("--sim-epoch", type=float, help="simulated clock: real UNIX time of start")
    run.add_argument(
        "--sim-speed", type=seconds(0, 10_000), default=1.0, help="simulated clock speed"
    )
    run.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not migrate the schema at start; refuse a database that is not current "
        "(for operators who run einv-hq db upgrade themselves)",
    )
    db = sub.add_parser("db", help="the schema: upgrade, current revision, history")
    inner = db.add_subparsers(dest="db_command", required=True)
    for name, text in (
        ("upgrade", "bring the database to this version's schema (Alembic)"),
        ("current", "the revision the database is at, and this version's"),
        ("history", "every revision, oldest first"),
    ):
        p = inner.add_parser(name, help=text)
        p.add_argument("--db", default="sqlite:///hq.db", help="SQLAlchemy URL")
        p.add_argument("--db-password-file", type=Path, help="file holding the password")
    return root


@dataclass(frozen=True, slots=True)
class Checked:
    """What main() validated before anything starts."""

    head_ban: str
    db_url: str
    clock: Clock
    notifier: NotifierConfig | None
    tls: Tls | None
    signer: Signer
    etcd_tls: EtcdTls | None
    web: WebListen | None = None
    metrics: MetricsListen | None = None


def open_store(url: str, head_ban: str, migrate_schema: bool = True) -> Store:
    """The database, migrated and claimed for this HQ; any failure is one line, not a trace."""
    try:
        store = Store(url, migrate_schema)
    except (SQLAlchemyError, ImportError) as error:
        shown = make_url(url).render_as_string(hide_password=True)
        first = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise ValueError(f"cannot open the database {shown}: {first}") from None
    store.claim_head_ban(head_ban)
    return store


async def run(args: argparse.Namespace, checked: Checked, store: Store) -> None:
    if not args.etcd:
        coordinator = LocalCoordinator(store, args.listen, checked.clock)
        await serve(
            configure(Hq(store, coordinator, checked.clock, checked.head_ban), args, checked),
            args.listen,
            web=checked.web,
            history_every=history_interval(args),
            metrics=checked.metrics,
        )
        return
    settings = ClusterSettings(
        parse_endpoints(args.etcd), args.advertise or args.listen, args.lease_ttl, checked.etcd_tls
    )
    async with cluster_hq(store, checked.clock, checked.head_ban, settings) as hq:
        await serve(
            configure(hq, args, checked),
            args.listen,
            web=checked.web,
            history_every=history_interval(args),
            metrics=checked.metrics,
        )


def configure(hq: Hq, args: argparse.Namespace, checked: Checked) -> Hq:
    hq.reports = report_settings(args)
    hq.notifier_config = checked.notifier
    hq.tls = checked.tls
    hq.signer = checked.signer
    return hq


def tls_material(args: argparse.Namespace) -> tuple[Tls | None, Signer]:
    """Secure by default: TLS material, or an explicit --insecure (loopback only)."""
    if args.insecure == (args.certs_dir is not None):
        raise ValueError(
            "give --certs-dir DIR (mutual TLS; see einv-admin certs init-ca and certs hq) "
            "or, to try it out on this machine only, --insecure"
        )
    require_secure_or_loopback(args.listen, secure=not args.insecure)
    lifetime = timedelta(hours=args.branch_cert_hours)
    if args.insecure:
        return None, Signer(None, lifetime)
    tls = server_tls(args.certs_dir)
    ca = pki.load_ca(args.certs_dir) if (args.certs_dir / pki.CA_KEY).exists() else None
    return tls, Signer(ca, lifetime)


def web_listen(args: argparse.Namespace) -> WebListen | None:
    """The back office: HTTPS with the HQ's own certificate, or plain HTTP on loopback."""
    if not args.web_listen:
        return None
    require_secure_or_loopback(args.web_listen, secure=not args.insecure)
    return WebListen(args.web_listen, None if args.insecure else tls_context(args.certs_dir))


def history_interval(args: argparse.Namespace) -> timedelta:
    return timedelta(minutes=args.history_minutes)


def database_url(args: argparse.Namespace) -> str:
    """--db with the password from a file or the environment: never on the command line."""
    url = make_url(args.db)
    if url.password:
        raise ValueError(
            "--db must not carry a password (command lines are visible to every user of the "
            "machine): put it in EINV_DB_PASSWORD or a file named by --db-password-file"
        )
    password = os.environ.get("EINV_DB_PASSWORD")
    if args.db_password_file is not None:
        password = args.db_password_file.read_text().strip()
    if password:
        url = url.set(password=password)
    return url.render_as_string(hide_password=False)


def report_settings(args: argparse.Namespace) -> ReportSettings:
    return ReportSettings(
        turnkey_root=args.turnkey_root,
        test_data=args.mig_test_data,
        poll_seconds=args.turnkey_poll_seconds,
        pack_dirs=tuple(args.turnkey_pack_dir),
    )


def head_ban(text: str) -> str:
    return Ban.parse(text).value


def directory(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        what = "is a file" if path.exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"{text} {what}: give an existing folder")
    return path


def db_command(args: argparse.Namespace) -> int:
    """`einv-hq db upgrade|current|history`: migrations by hand, as operators like it."""
    if args.db_command == "history":
        for revision, text in migrate.history():
            print(f"{revision}  {text}")
        return 0
    url = database_url(args)
    try:
        engine = make_engines(url)[0]
        if args.db_command == "upgrade":
            migrate.upgrade(engine)
        found = migrate.current(engine)
    except SQLAlchemyError as error:
        first = str(getattr(error, "orig", None) or error).splitlines()[0]
        print(f"einv-hq: cannot open the database: {first}", file=sys.stderr)
        return 2
    print(f"database at {found or 'none (empty)'}; this version needs {migrate.head()}")
    return 0 if found == migrate.head() or args.db_command == "current" else 1


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a bad argument (one line, exit 2)
        return int(exit_.code or 0)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.command == "db":
        try:
            return db_command(args)
        except (ValueError, OSError) as error:
            print(f"einv-hq: {error}", file=sys.stderr)
            return 2
    try:
        tls, signer = tls_material(args)
        checked = Checked(
            head_ban=args.head_ban,
            db_url=database_url(args),
            clock=clock_from_args(args.sim_start, args.sim_epoch, args.sim_speed),
            notifier=load_config(args.notifier_config, os.environ)
            if args.notifier_config
            else None,
            tls=tls,
            signer=signer,
            etcd_tls=EtcdTls.from_files(args.etcd_cacert, args.etcd_cert, args.etcd_key)
            if args.etcd_cacert
            else None,
            web=web_listen(args),
            metrics=listen_of(args.metrics_listen, None if args.insecure else args.certs_dir),
        )
        if args.etcd:
            parse_endpoints(args.etcd)
        store = open_store(checked.db_url, checked.head_ban, not args.no_migrate)
    except (DomainError, ValueError, ConfigError, OSError) as error:
        print(f"einv-hq: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run(args, checked, store))
    except (DomainError, OSError) as error:  # e.g. another HQ's database, a port in use
        print(f"einv-hq: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
