"""`einv-admin certs init-ca | hq | admin`: the HQ's certificate authority, on local files.

Like `cockroach cert create-ca / create-node / create-client`: one directory, files named by
role, keys written 0600. These commands talk to no server; run them where ca.key is kept.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from allocator import InvalidInput
from runtime import pki, principal
from runtime.principal import Role

DEFAULT_DAYS = 365


def cmd_init_ca(args: argparse.Namespace) -> None:
    ca = pki.create_ca()
    pki.write_private(args.certs_dir / pki.CA_KEY, pki.key_pem(ca.key), args.overwrite)
    pki.write_public(args.certs_dir / pki.CA_CERT, pki.cert_pem(ca.cert), args.overwrite)
    print(f"CA written: {args.certs_dir / pki.CA_CERT} and {args.certs_dir / pki.CA_KEY} (0600)")


def cmd_hq(args: argparse.Namespace) -> None:
    ca = pki.load_ca(args.certs_dir)
    key = pki.new_key()
    cert = ca.issue_hq(key.public_key(), args.host, lifetime(args.days))
    write_pair(args.certs_dir, "hq", key, cert, args.overwrite)
    print(f"HQ certificate for {', '.join(args.host)} written: {args.certs_dir / pki.HQ_CERT}")


def cmd_admin(args: argparse.Namespace) -> None:
    ca = pki.load_ca(args.certs_dir)
    who = principal.admin(args.name, Role.parse(args.role))
    key = pki.new_key()
    cert = ca.issue(key.public_key(), args.name, who.spiffe_id, lifetime(args.days))
    write_pair(args.certs_dir, args.name, key, cert, args.overwrite)
    print(f"certificate of {who.actor} written: {args.certs_dir / (args.name + '.crt')}")


def write_pair(
    folder: Path,
    name: str,
    key: pki.ec.EllipticCurvePrivateKey,
    cert: pki.x509.Certificate,
    overwrite: bool,
) -> None:
    pki.write_private(folder / f"{name}.key", pki.key_pem(key), overwrite)
    pki.write_public(folder / f"{name}.crt", pki.cert_pem(cert), overwrite)


def lifetime(days: int) -> timedelta:
    if not 1 <= days <= 3650:
        raise InvalidInput(f"--days {days} must be 1..3650")
    return timedelta(days=days)


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    certs = sub.add_parser("certs", help="the HQ's CA: make the CA, HQ and admin certificates")
    inner = certs.add_subparsers(dest="certs_command", required=True)

    def add(name: str, func: object, text: str) -> argparse.ArgumentParser:
        p = inner.add_parser(name, help=text)
        p.add_argument("--certs-dir", type=Path, required=True, help="the certificates directory")
        p.add_argument("--overwrite", action="store_true", help="replace existing files")
        p.set_defaults(local=func)
        return p

    add("init-ca", cmd_init_ca, "create the CA (ca.crt, ca.key)")
    p = add("hq", cmd_hq, "the HQ server's certificate (hq.crt, hq.key)")
    p.add_argument(
        "--host",
        action="append",
        required=True,
        help=f"a name or IP clients use (repeatable); {pki.HQ_NAME!r} is always added, for "
        "clients given several replicas",
    )
    p.add_argument("--days", type=int, default=DEFAULT_DAYS, help="validity (default: %(default)s)")
    p = add("admin", cmd_admin, "an admin's client certificate (NAME.crt, NAME.key)")
    p.add_argument("--name", required=True, help="the admin's user name")
    p.add_argument("--role", required=True, choices=[r.label for r in Role])
    p.add_argument("--days", type=int, default=DEFAULT_DAYS, help="validity (default: %(default)s)")
