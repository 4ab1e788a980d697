"""Only the right party acts: every refusal of the trust rules, over real mutual TLS.

Each test asserts the status code, a message naming the reason (and the ErrorInfo reason), and
that every HQ table is byte-identical afterwards.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import update

from branch_agent.hq import identity
from hq_server.app import RateLimits
from hq_server.schema import enroll_tokens
from protos.einvoice.v1 import admin_pb2, admin_pb2_grpc, branch_pb2, branch_pb2_grpc, common_pb2
from runtime import pki, principal
from runtime.grpc_status import refusal
from runtime.ratelimit import BucketSize
from runtime.tls import Tls
from tests.conftest import BRANCH_BANS
from tests.fixtures import SecureHq, seed_pool_and_branches, snapshot

A, B = BRANCH_BANS[0], BRANCH_BANS[1]
GENERAL = common_pb2.INVOICE_TYPE_GENERAL
DENIED = grpc.StatusCode.PERMISSION_DENIED


async def setup(hq: SecureHq) -> branch_pb2.Grant:
    """A pool, branches A and B, and one grant of A."""
    await seed_pool_and_branches(hq.admin_as("olga"))
    return await hq.branch_as(A).RequestRange(range_request(A, "a-1"))


def range_request(ban: str, rid: str) -> branch_pb2.RequestRangeRequest:
    return branch_pb2.RequestRangeRequest(
        request_id=rid, branch_ban=ban, year_month="11512", invoice_type=GENERAL, booklets=1
    )


async def refused(
    hq: SecureHq, call: Callable[[], Awaitable[Any]], code: grpc.StatusCode, needle: str
) -> str:
    """Make the call; it must fail with `code`, a message containing `needle`, and change
    nothing. Returns the ErrorInfo reason."""
    before = snapshot(hq)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call()
    seen = refusal(info.value)
    assert seen.code == code, (seen.code, seen.message)
    assert needle in seen.message, seen.message
    assert snapshot(hq) == before
    return seen.reason


async def gets_nothing(hq: SecureHq, tls: Tls | None, rid: str) -> None:
    """A branch call on this TLS is turned away at the handshake, and nothing changes."""
    stub = branch_pb2_grpc.BranchServiceStub(hq.channel(tls))
    before = snapshot(hq)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.RequestRange(range_request(A, rid), timeout=3)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert snapshot(hq) == before


async def first_of(stream: Any) -> Any:
    async for item in stream:
        return item
    return None


async def test_a_plaintext_client_gets_nothing(secure_hq: SecureHq) -> None:
    await setup(secure_hq)
    await gets_nothing(secure_hq, None, "plain")


async def test_a_certificate_of_another_ca_gets_nothing(secure_hq: SecureHq, tmp_path: Any) -> None:
    await setup(secure_hq)
    other = pki.create_ca()
    key = pki.new_key()
    ident = principal.admin("mallory", principal.Role.ADMIN).spiffe_id
    cert = other.issue(key.public_key(), "mallory", ident, timedelta(days=1))
    # It trusts the real HQ CA (so the server passes), but its own certificate is foreign.
    tls = Tls(secure_hq.certs.admin_tls("root").ca_pem, pki.cert_pem(cert), pki.key_pem(key))
    await gets_nothing(secure_hq, tls, "foreign")
    # einv-admin says why before it even connects.
    with pytest.raises(pki.PkiError, match="not issued by the CA"):
        pki.check_issued_by(cert, pki.load_cert(secure_hq.certs.ca_cert), "mallory.crt")


async def test_an_expired_certificate_gets_nothing(secure_hq: SecureHq) -> None:
    await setup(secure_hq)
    ca = pki.load_ca(secure_hq.certs.folder)
    key = pki.new_key()
    past = pki.now_utc() - timedelta(days=3)
    cert = ca.issue(key.public_key(), A, principal.branch(A).spiffe_id, timedelta(days=1), now=past)
    tls = Tls(pki.cert_pem(ca.cert), pki.cert_pem(cert), pki.key_pem(key))
    await gets_nothing(secure_hq, tls, "expired")
    with pytest.raises(pki.PkiError, match="expired at"):
        pki.check_current(cert, "branch.crt")


async def test_a_disabled_branch_is_refused_but_may_still_report(secure_hq: SecureHq) -> None:
    grant = await setup(secure_hq)
    await secure_hq.admin_as("olga").DisableBranch(admin_pb2.DisableBranchRequest(ban=A))
    branch = secure_hq.branch_as(A)
    csr = pki.make_csr(pki.new_key(), A)
    calls = [
        lambda: branch.RequestRange(range_request(A, "after-disable")),
        lambda: first_of(branch.WatchConfig(branch_pb2.WatchConfigRequest(branch_ban=A))),
        lambda: branch.RenewCertificate(branch_pb2.RenewCertificateRequest(csr_pem=csr)),
    ]
    for call in calls:
        assert await refused(secure_hq, call, DENIED, "disabled") == "BRANCH_DISABLED"
    report = branch_pb2.UsageReport(
        report_id="r",
        branch_ban=A,
        grants=[branch_pb2.GrantUsage(grant_id=grant.grant_id, next_number=grant.range.begin + 7)],
    )
    assert (await branch.ReportUsage(report)).grants_updated == 1  # its books still close
    await secure_hq.admin_as("olga").EnableBranch(admin_pb2.EnableBranchRequest(ban=A))
    again = await branch.RequestRange(range_request(A, "after-enable"))
    assert again.branch_ban == A


async def test_branch_a_cannot_act_for_branch_b(secure_hq: SecureHq) -> None:
    await setup(secure_hq)
    b_grant = await secure_hq.branch_as(B).RequestRange(range_request(B, "b-1"))
    as_a = secure_hq.branch_as(A)
    usage_for_b = branch_pb2.UsageReport(
        report_id="r",
        branch_ban=B,
        grants=[branch_pb2.GrantUsage(grant_id=b_grant.grant_id, next_number=b_grant.range.end)],
    )
    b_grant_as_own = branch_pb2.UsageReport(
        report_id="r",
        branch_ban=A,
        grants=[branch_pb2.GrantUsage(grant_id=b_grant.grant_id, next_number=b_grant.range.end)],
    )
    calls = [
        lambda: as_a.RequestRange(range_request(B, "a-as-b")),
        lambda: as_a.ReportUsage(usage_for_b),
        lambda: first_of(as_a.WatchConfig(branch_pb2.WatchConfigRequest(branch_ban=B))),
    ]
    for call in calls:
        assert await refused(secure_hq, call, DENIED, f"not for branch '{B}'") == "FORBIDDEN"
    await refused(secure_hq, lambda: as_a.ReportUsage(b_grant_as_own), DENIED, "not held by")
    # A branch certificate on the admin API.
    as_a_admin = admin_pb2_grpc.AdminServiceStub(secure_hq.channel(secure_hq.certs.branch_tls(A)))
    request = admin_pb2.ListPoolsRequest()
    await refused(secure_hq, lambda: as_a_admin.ListPools(request), DENIED, "needs the viewer role")


WRITES: list[tuple[str, Any]] = [
    (
        "AddAssignment",
        admin_pb2.AddAssignmentRequest(
            year_month="11512",
            invoice_type=GENERAL,
            range=common_pb2.TrackRange(track="CD", begin=0, end=49),
        ),
    ),
    (
        "AddBranch",
        admin_pb2.AddBranchRequest(
            ban=BRANCH_BANS[2],
            name="x",
            quota=common_pb2.Quota(booklets_per_request=1, booklets_per_period=1),
        ),
    ),
    ("DisableBranch", admin_pb2.DisableBranchRequest(ban=A)),
    ("EnableBranch", admin_pb2.EnableBranchRequest(ban=A)),
    (
        "SetQuota",
        admin_pb2.SetQuotaRequest(
            ban=A, quota=common_pb2.Quota(booklets_per_request=99, booklets_per_period=100_000)
        ),
    ),
    ("SetRangeStatus", admin_pb2.SetRangeStatusRequest(assignment_id=1, status=3)),
    ("ClosePeriod", admin_pb2.ClosePeriodRequest(year_month="11510", invoice_type=GENERAL)),
    ("ImportE0501", admin_pb2.ImportE0501Request(files=[admin_pb2.E0501File(name="x")])),
    ("BuildReports", admin_pb2.BuildReportsRequest(year_month="11512", kind=1)),
    ("CreateEnrollToken", admin_pb2.CreateEnrollTokenRequest(ban=A)),
    ("ListCertificates", admin_pb2.ListCertificatesRequest()),
]


async def test_a_viewer_is_refused_every_write_and_an_operator_the_certificates(
    secure_hq: SecureHq,
) -> None:
    await setup(secure_hq)
    viewer, operator = secure_hq.admin_as("vera"), secure_hq.admin_as("olga")
    for method, request in WRITES:
        needle = (
            "needs the admin role"
            if method in ("CreateEnrollToken", "ListCertificates")
            else ("needs the operator role")
        )
        call = getattr(viewer, method)
        assert await refused(secure_hq, lambda c=call, r=request: c(r), DENIED, needle)
    for method in ("CreateEnrollToken", "ListCertificates"):
        request = dict(WRITES)[method]
        call = getattr(operator, method)
        await refused(secure_hq, lambda c=call, r=request: c(r), DENIED, "needs the admin role")
    pools = await viewer.ListPools(admin_pb2.ListPoolsRequest())  # reading is allowed
    assert pools.pools[0].year_month == "11512"


async def test_a_token_works_once_and_not_after_it_expired(
    secure_hq: SecureHq, tmp_path: Any
) -> None:
    await setup(secure_hq)
    root = secure_hq.admin_as("root")
    token = await root.CreateEnrollToken(admin_pb2.CreateEnrollTokenRequest(ban=B))
    key, cert = pki.decode_token(token.token)
    boot = Tls(pki.cert_pem(pki.load_cert(secure_hq.certs.ca_cert)), pki.cert_pem(cert),
               pki.key_pem(key))  # fmt: skip
    enrol = branch_pb2_grpc.BranchServiceStub(secure_hq.channel(boot))
    first = await enrol.Enroll(branch_pb2.EnrollRequest(csr_pem=pki.make_csr(pki.new_key(), B)))
    assert first.branch_ban == B
    again = branch_pb2.EnrollRequest(csr_pem=pki.make_csr(pki.new_key(), B))
    reason = await refused(secure_hq, lambda: enrol.Enroll(again), DENIED, "already used")
    assert reason == "ENROLL_TOKEN_REFUSED"
    # A token past its expiry (the HQ's record says so) is refused too.
    second = await root.CreateEnrollToken(admin_pb2.CreateEnrollTokenRequest(ban=B))
    secure_hq.app.store.write_sync(
        1,
        lambda conn: conn.execute(
            update(enroll_tokens)
            .where(enroll_tokens.c.id == second.token_id)
            .values(expires_at=pki.now_utc() - timedelta(seconds=1))
        ),
    )
    key2, cert2 = pki.decode_token(second.token)
    boot2 = Tls(boot.ca_pem, pki.cert_pem(cert2), pki.key_pem(key2))
    enrol2 = branch_pb2_grpc.BranchServiceStub(secure_hq.channel(boot2))
    req = branch_pb2.EnrollRequest(csr_pem=pki.make_csr(pki.new_key(), B))
    await refused(secure_hq, lambda: enrol2.Enroll(req), DENIED, "expired")
    # The enrolment credential is good for Enroll only.
    await refused(
        secure_hq, lambda: enrol2.RequestRange(range_request(B, "boot")), DENIED, "not a branch"
    )


async def test_an_expired_token_is_refused_by_the_agent_before_it_connects(
    secure_hq: SecureHq, tmp_path: Any
) -> None:
    await setup(secure_hq)
    ca = pki.load_ca(secure_hq.certs.folder)
    key = pki.new_key()
    ident = principal.enrollee(B, "0123456789abcdef").spiffe_id
    old = ca.issue(key.public_key(), "enrol", ident, timedelta(hours=1), now=pki.now_utc()
                   - timedelta(hours=2))  # fmt: skip
    with pytest.raises(pki.PkiError, match="expired at"):
        identity.enroll(
            secure_hq.address, secure_hq.certs.ca_cert, pki.encode_token(key, old), tmp_path / "s"
        )
    assert not identity.enrolled(tmp_path / "s")


async def test_the_audit_log_names_the_authenticated_caller(secure_hq: SecureHq) -> None:
    await setup(secure_hq)
    await secure_hq.admin_as("olga").SetQuota(
        admin_pb2.SetQuotaRequest(
            ban=A,
            quota=common_pb2.Quota(booklets_per_request=2, booklets_per_period=50),
            actor="MOF",  # a request field: ignored
        )
    )
    log = await secure_hq.admin_as("vera").ListAudit(admin_pb2.ListAuditRequest(limit=100))
    actors = {(e.action, e.actor) for e in log.entries}
    assert ("add_assignment", "admin:olga (operator)") in actors
    assert ("grant", f"branch:{A}") in actors
    assert ("set_quota", "admin:olga (operator)") in actors
    assert not any(e.actor == "MOF" for e in log.entries)
    assert log.chain_ok


async def test_a_caller_over_its_rate_limit_is_told_when_to_retry(secure_hq: SecureHq) -> None:
    await setup(secure_hq)
    secure_hq.app.limits = RateLimits(branch=BucketSize(burst=3, per_second=0.5))
    # The limiter is built with the server; a new server reads the new sizes.
    from hq_server.server import build_server

    server, port = await build_server(secure_hq.app, "127.0.0.1:0")
    await server.start()
    try:
        channel = grpc.aio.secure_channel(
            f"127.0.0.1:{port}", secure_hq.certs.branch_tls(B).credentials()
        )
        stub = branch_pb2_grpc.BranchServiceStub(channel)
        for n in range(3):
            await stub.RequestRange(range_request(B, f"burst-{n}"))
        before = snapshot(secure_hq)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.RequestRange(range_request(B, "one-too-many"))
        seen = refusal(info.value)
        assert seen.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert seen.reason == "RATE_LIMITED" and "too many calls" in seen.message
        assert seen.retry_after is not None and 0.5 < seen.retry_after <= 2.0
        assert snapshot(secure_hq) == before
        # Another branch has a bucket of its own.
        other = branch_pb2_grpc.BranchServiceStub(secure_hq.channel(secure_hq.certs.branch_tls(A)))
        await other.RequestRange(range_request(A, "a-not-limited"))
        await channel.close()
    finally:
        await server.stop(0)


async def test_enrolled_identity_requests_and_renews(secure_hq: SecureHq, tmp_path: Any) -> None:
    await setup(secure_hq)
    token = await secure_hq.admin_as("root").CreateEnrollToken(
        admin_pb2.CreateEnrollTokenRequest(ban=B, ttl_seconds=600)
    )
    data = tmp_path / "store"
    enrolled = await asyncio.to_thread(
        identity.enroll, secure_hq.address, secure_hq.certs.ca_cert, token.token, data
    )
    assert enrolled.ban == B
    assert (data / "tls" / "branch.key").stat().st_mode & 0o077 == 0
    stub = branch_pb2_grpc.BranchServiceStub(secure_hq.channel(enrolled.tls))
    grant = await stub.RequestRange(range_request(B, "enrolled-1"))
    assert grant.branch_ban == B

    class Port:
        async def renew_certificate(self, csr_pem: bytes) -> branch_pb2.BranchCertificate:
            request = branch_pb2.RenewCertificateRequest(csr_pem=csr_pem)
            return await stub.RenewCertificate(request)

    renewed = await identity.renew(enrolled, Port(), data)
    assert renewed.tls.key_pem != enrolled.tls.key_pem  # a new key each time
    assert identity.load(data).tls.cert_pem == renewed.tls.cert_pem
    listed = await secure_hq.admin_as("root").ListCertificates(
        admin_pb2.ListCertificatesRequest(branch_ban=B)
    )
    assert sorted(c.how for c in listed.certificates) == ["enrolled", "renewed"]
    assert [t.token_id for t in listed.tokens] == [token.token_id]
    log = await secure_hq.admin_as("vera").ListAudit(admin_pb2.ListAuditRequest(limit=100))
    assert {e.action for e in log.entries} >= {"create_enroll_token", "enrol", "renew_certificate"}
    enrol = next(e for e in log.entries if e.action == "enrol")
    assert json.loads(enrol.details_json)["ban"] == B
