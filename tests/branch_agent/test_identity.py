"""A real agent against a real HQ over mutual TLS: it enrols, renews its certificate by itself,
stops refilling once disabled, and honours HQ's rate limit."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from pathlib import Path

import pytest

from allocator import Period
from branch_agent.agent import Agent, AgentSettings
from branch_agent.hq import identity
from hq_server.enrolment import Signer
from protos.einvoice.v1 import admin_pb2, common_pb2
from runtime import pki
from tests.branch_agent.conftest import GENERAL, eventually
from tests.conftest import BRANCH_BANS
from tests.fixtures import SecureHq

BAN = BRANCH_BANS[0]


async def registered(hq: SecureHq) -> None:
    admin = hq.admin_as("olga")
    await admin.AddAssignment(
        admin_pb2.AddAssignmentRequest(
            year_month="11512",
            invoice_type=common_pb2.INVOICE_TYPE_GENERAL,
            range=common_pb2.TrackRange(track="AB", begin=0, end=99_999),
        )
    )
    await admin.AddBranch(
        admin_pb2.AddBranchRequest(
            ban=BAN,
            name="store",
            quota=common_pb2.Quota(booklets_per_request=4, booklets_per_period=1000),
            refill=common_pb2.RefillSettings(low_water_count=60, max_booklets=4),
        )
    )


async def enrolled_agent(hq: SecureHq, data: Path, addresses: tuple[str, ...] = ()) -> Agent:
    token = await hq.admin_as("root").CreateEnrollToken(admin_pb2.CreateEnrollTokenRequest(ban=BAN))
    await asyncio.to_thread(identity.enroll, hq.address, hq.certs.ca_cert, token.token, data)
    agent = Agent(
        AgentSettings(
            branch_ban=None,
            hq_addresses=addresses or (hq.address,),
            data_dir=data,
            listen="127.0.0.1:0",
            report_interval=0.2,
            hq_timeout=2.0,
            refill_tick=0.05,
            clock=hq.clock,
        )
    )
    await agent.start()
    return agent


def remaining(agent: Agent) -> int:
    return agent.parts.state.remaining(Period.containing(agent.settings.clock.now()), GENERAL)


async def test_the_agent_renews_its_certificate_before_it_expires(
    secure_hq: SecureHq, tmp_path: Path
) -> None:
    await registered(secure_hq)
    # Certificates of 3 s: the agent renews each at two thirds of its life, by itself.
    secure_hq.app.signer = Signer(pki.load_ca(secure_hq.certs.folder), timedelta(seconds=3))
    agent = await enrolled_agent(secure_hq, tmp_path / "store")
    try:
        first = identity.load(tmp_path / "store")
        assert first.ban == BAN
        await eventually(lambda: remaining(agent) > 0)
        assert agent.renewal is not None
        renewal = agent.renewal
        await eventually(lambda: renewal.renewals >= 2, timeout=10)
        renewed = identity.load(tmp_path / "store")
        assert renewed.tls.cert_pem != first.tls.cert_pem
        assert renewed.tls.key_pem != first.tls.key_pem
        # Well after the first certificate expired, the agent still reaches HQ with the new one.
        reports = agent.parts.reporter.sent
        await agent.parts.service.next_numbers(5, GENERAL, "till-1")
        await eventually(lambda: agent.parts.reporter.sent > reports)
        assert pki.now_utc() > first.not_after
    finally:
        await agent.stop(grace=0.1)
    listed = await secure_hq.admin_as("root").ListCertificates(admin_pb2.ListCertificatesRequest())
    assert [c.how for c in listed.certificates].count("renewed") >= 2


async def test_a_disabled_branch_stops_refilling_until_enabled(
    secure_hq: SecureHq, tmp_path: Path
) -> None:
    await registered(secure_hq)
    agent = await enrolled_agent(secure_hq, tmp_path / "store")
    try:
        await eventually(lambda: remaining(agent) > 0)
        await secure_hq.admin_as("olga").DisableBranch(admin_pb2.DisableBranchRequest(ban=BAN))
        await eventually(lambda: not agent.parts.state.config.enabled, timeout=10)
        held = len(agent.parts.state.grants)
        left = remaining(agent)
        await agent.parts.service.next_numbers(left, GENERAL, "till-1")  # below the low water
        await eventually(lambda: "disabled" in agent.parts.refiller.errors.get(
            (Period.containing(secure_hq.clock.now()), GENERAL), "").__str__())  # fmt: skip
        assert len(agent.parts.state.grants) == held  # nothing new came in
    finally:
        await agent.stop(grace=0.1)
    # The ledger remembers: a restarted agent starts disabled, before HQ says anything.
    again = Agent(agent.settings)
    await again.start()
    try:
        assert again.parts.state.config.enabled is False
    finally:
        await again.stop(grace=0.1)


async def test_identity_files_are_private(secure_hq: SecureHq, tmp_path: Path) -> None:
    await registered(secure_hq)
    agent = await enrolled_agent(secure_hq, tmp_path / "store")
    await agent.stop(grace=0.1)
    key = tmp_path / "store" / "tls" / "branch.key"
    assert key.stat().st_mode & 0o777 == 0o600
    key.chmod(0o644)
    with pytest.raises(pki.PkiError, match="readable by others"):
        identity.load(tmp_path / "store")


async def test_over_tls_an_agent_given_several_hq_addresses_checks_the_hq_name(
    secure_hq: SecureHq, tmp_path: Path
) -> None:
    """One channel over every replica checks one server name, whichever replica answers:
    einv-hq, which every HQ certificate carries besides its hosts."""
    hq_cert = pki.load_cert(secure_hq.certs.folder / pki.HQ_CERT)
    names = hq_cert.extensions.get_extension_for_class(pki.x509.SubjectAlternativeName).value
    assert pki.HQ_NAME in names.get_values_for_type(pki.x509.DNSName)
    await registered(secure_hq)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{sock.getsockname()[1]}"
    agent = await enrolled_agent(secure_hq, tmp_path / "store", (dead, secure_hq.address))
    try:
        await eventually(lambda: remaining(agent) > 0)
        await agent.parts.service.next_numbers(3, GENERAL, "till-1")
        await eventually(lambda: agent.parts.reporter.sent > 0)
        assert agent.parts.hq.health.reachable
    finally:
        await agent.stop(grace=0.1)
