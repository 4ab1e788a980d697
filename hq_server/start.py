"""`einv-hq serve` and `db` once the command line is good: check every setting, then start.

Kept apart from hq_server.cli so that `einv-hq --help`, `--version` and a bad argument answer
without importing the whole server.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from allocator import DomainError
from hq_server import migrate
from hq_server.app import Hq
from hq_server.cluster import ClusterSettings, cluster_hq
from hq_server.coordinator import LocalCoordinator
from hq_server.enrolment import Signer
from hq_server.etcd_client import EtcdTls, parse_endpoints
from hq_server.metrics import listen_of
from hq_server.reports import ReportSettings
from hq_server.server import serve
from hq_server.store import Store, make_engines
from hq_server.web.app import WebListen, tls_context
from notifier import ConfigError, NotifierConfig, load_config
from runtime import event_loop, pki
from runtime.clock import Clock, clock_from_args
from runtime.metrics.server import MetricsListen
from runtime.tls import Tls, require_secure_or_loopback, server_tls


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


def main(args: argparse.Namespace) -> int:
    """Run what hq_server.cli parsed: exit 2 with one line for whatever refuses to start."""
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
        event_loop.run(run(args, checked, store))
    except (DomainError, OSError) as error:  # e.g. another HQ's database, a port in use
        print(f"einv-hq: {error}", file=sys.stderr)
        return 2
    return 0
