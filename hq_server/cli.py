"""`einv-hq`: the HQ server's command line (serve, db). Only argparse and the domain's parsers
are imported here, so --help, --version and a bad argument answer at once; the server itself
is imported by hq_server.start once the command line is good."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from allocator import Ban
from runtime import clock, logs
from runtime.cli import Parser, add_completion, address, arg, listen_address, seconds, whole

ENV = "EINV_"  # einv-hq serve --head-ban: EINV_HEAD_BAN (runtime.layers)
MIN_LEASE_TTL = 2  # etcd itself raises shorter TTLs to about its election timeout (1 s) x 1.5


def parser() -> argparse.ArgumentParser:
    root = Parser(prog="einv-hq", description="HQ invoice-number server")
    add_completion(root)
    sub = root.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="serve the branch and admin gRPC APIs", env_prefix=ENV)
    run.add_argument(
        "--head-ban", type=arg(head_ban), required=True, help="this HQ's 統一編號 (HeadBan)"
    )
    add_database_options(run)
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
    clock.add_options(run)
    run.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not migrate the schema at start; refuse a database that is not current "
        "(for operators who run einv-hq db upgrade themselves)",
    )
    logs.add_options(run, "info")
    db = sub.add_parser("db", help="the schema: upgrade, current revision, history")
    inner = db.add_subparsers(dest="db_command", required=True)
    for name, text in (
        ("upgrade", "bring the database to this version's schema (Alembic)"),
        ("current", "the revision the database is at, and this version's"),
        ("history", "every revision, oldest first"),
    ):
        add_database_options(inner.add_parser(name, help=text))
    return root


def add_database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", default="sqlite:///hq.db", help="SQLAlchemy URL (default: %(default)s)"
    )
    parser.add_argument(
        "--db-password-file",
        type=Path,
        help="file holding the database password (else EINV_DB_PASSWORD; never in --db)",
    )


def head_ban(text: str) -> str:
    return Ban.parse(text).value


def directory(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        what = "is a file" if path.exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"{text} {what}: give an existing folder")
    return path


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a bad argument (one line, exit 2)
        return int(exit_.code or 0)
    from hq_server import start  # the whole server, once the command line is good

    # After the import: what libraries log while they load (alembic's plugins) is not news.
    logs.setup(getattr(args, "log_level", "info"), getattr(args, "log_format", "text"))
    return start.main(args)


if __name__ == "__main__":
    sys.exit(main())
