"""Cluster mode over TLS to etcd (etcdctl's --cacert/--cert/--key), with the database password
from the environment: the replica takes office, and the password appears in no log line."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from demo.cluster import etcd_binary
from demo.procs import Proc, free_port
from runtime import pki, principal
from tests.cluster.clients import leadership
from tests.conftest import HEAD_BAN

pytestmark = pytest.mark.cluster


def tls_member(root: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    """One etcd member that speaks TLS only and wants client certificates of our CA."""
    ca = pki.create_ca("etcd CA")
    certs = root / "etcd-certs"
    pki.write_private(certs / "ca.key", pki.key_pem(ca.key))
    pki.write_public(certs / "ca.crt", pki.cert_pem(ca.cert))
    for name, server in (("member", True), ("client", False)):
        key = pki.new_key()
        hosts = ["127.0.0.1"] if server else []
        cert = ca.issue(key.public_key(), name, principal.HQ.spiffe_id, timedelta(days=1),
                        hosts, server=server)  # fmt: skip
        pki.write_private(certs / f"{name}.key", pki.key_pem(key))
        pki.write_public(certs / f"{name}.crt", pki.cert_pem(cert))
    client, peer = free_port(), free_port()
    url = f"https://127.0.0.1:{client}"
    args = [
        etcd_binary() or "etcd",
        *("--name", "tls1", "--data-dir", str(root / "etcd-data")),
        *("--listen-client-urls", url, "--advertise-client-urls", url),
        *("--listen-peer-urls", f"http://127.0.0.1:{peer}"),
        *("--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}"),
        *("--initial-cluster", f"tls1=http://127.0.0.1:{peer}"),
        *("--cert-file", str(certs / "member.crt"), "--key-file", str(certs / "member.key")),
        *("--client-cert-auth", "--trusted-ca-file", str(certs / "ca.crt")),
    ]
    log = (root / "etcd.log").open("ab")
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT), url, certs


def etcdctl(url: str, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["etcdctl", "--endpoints", url, *extra, "endpoint", "health"],
        capture_output=True,
        env={**os.environ, "ETCDCTL_API": "3"},
        timeout=20,
    )


def test_a_replica_reaches_etcd_over_tls_and_keeps_the_password_out_of_logs(
    tmp_path: Path, pg_url: str
) -> None:
    member, url, certs = tls_member(tmp_path)
    try:
        tls_args = ["--cacert", str(certs / "ca.crt"), "--cert", str(certs / "client.crt"),
                    "--key", str(certs / "client.key")]  # fmt: skip
        deadline = time.monotonic() + 30
        while etcdctl(url, *tls_args).returncode != 0:
            assert time.monotonic() < deadline, (tmp_path / "etcd.log").read_text()[-2000:]
            time.sleep(0.2)
        assert etcdctl(url, "--cacert", str(certs / "ca.crt")).returncode != 0  # no client cert
        secret = "s3cr3t-not-in-logs"
        address = f"127.0.0.1:{free_port()}"
        hq = Proc(
            "hq",
            ["-m", "hq_server", "serve", "--head-ban", HEAD_BAN, "--db", pg_url, "--listen",
             address, "--insecure", "--etcd", url, "--lease-ttl", "2", "--etcd-cacert",
             str(certs / "ca.crt"), "--etcd-cert", str(certs / "client.crt"), "--etcd-key",
             str(certs / "client.key")],
            tmp_path / "hq.log", "serving on",
        )  # fmt: skip
        os.environ["EINV_DB_PASSWORD"] = secret  # trust auth ignores it; it must not leak
        try:
            hq.start()
        finally:
            del os.environ["EINV_DB_PASSWORD"]
        try:
            engine = create_engine(pg_url)
            deadline = time.monotonic() + 20
            while leadership(engine) is None:
                assert time.monotonic() < deadline, (tmp_path / "hq.log").read_text()[-2000:]
                time.sleep(0.1)
            assert leadership(engine)[0] == address
            with engine.connect() as conn:
                assert conn.execute(text("SELECT value FROM hq_settings")).scalar() == HEAD_BAN
            engine.dispose()
        finally:
            hq.stop()
        logged = (tmp_path / "hq.log").read_text()
        assert secret not in logged and "***" in logged
    finally:
        member.terminate()
        member.wait(10)


def test_a_password_on_the_command_line_is_refused(tmp_path: Path) -> None:
    from hq_server.cli import main

    url = "postgresql+psycopg://einv:hunter2@127.0.0.1:5432/x"
    assert main(["serve", "--head-ban", HEAD_BAN, "--db", url, "--insecure"]) == 2
