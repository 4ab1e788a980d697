"""Two HQ replicas on etcd and PostgreSQL: the leader's write health goes NOT_SERVING when etcd
loses its quorum (its lease can no longer be renewed) and SERVING again when a replica leads
again, reads staying SERVING; reads and writes NOT_SERVING while the database refuses
connections; `einv-admin status` shows each replica, and one stopped."""

from __future__ import annotations

import asyncio
import json
import time

import psycopg
import pytest
from sqlalchemy.engine import make_url

from demo.cluster import PG_ADMIN_URL, Replica
from hq_server.health import ADMIN_SERVICE, BRANCH_SERVICE, READ_SERVICE
from tests.cluster.clients import leadership
from tests.cluster.conftest import HqCluster
from tests.probes import NOT_SERVING, SERVING, einv_admin, health, until_health

pytestmark = pytest.mark.cluster


async def writers(cluster: HqCluster) -> list[Replica]:
    return [r for r in cluster.replicas if await health(r.address, BRANCH_SERVICE) == SERVING]


async def until_one_writer(cluster: HqCluster, timeout: float) -> Replica:
    """Poll until exactly one replica's write health is SERVING (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await writers(cluster)
        if len(found) == 1:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no single replica served writes within {timeout} s")


async def test_write_health_follows_the_etcd_lease(hq_cluster: HqCluster) -> None:
    ttl = hq_cluster.lease_ttl
    leader = await until_one_writer(hq_cluster, 15)
    assert leader is hq_cluster.leader()  # the one whose token the database holds
    follower = hq_cluster.other(leader)
    for name in (BRANCH_SERVICE, ADMIN_SERVICE):
        assert await health(follower.address, name) == NOT_SERVING  # its writes go elsewhere
        assert await health(leader.address, name) == SERVING
    for replica in hq_cluster.replicas:
        assert await health(replica.address, READ_SERVICE) == SERVING

    # Two etcd members of three gone: no quorum, no lease renewal, no writes anywhere.
    etcd = hq_cluster.etcd
    gone = etcd.members[:2]
    for member in gone:
        member.kill9()
    took = await until_health(leader.address, BRANCH_SERVICE, NOT_SERVING, timeout=3 * ttl + 5)
    print(f"write health NOT_SERVING {took:.2f} s after etcd lost its quorum")
    assert await health(leader.address, ADMIN_SERVICE) == NOT_SERVING
    assert await writers(hq_cluster) == []
    for replica in hq_cluster.replicas:  # reads go on, and the process is alive
        assert await health(replica.address, READ_SERVICE) == SERVING
        assert await health(replica.address, "") == SERVING

    # Quorum back: one replica takes office again and says so.
    await asyncio.to_thread(etcd.start, gone)
    back = time.monotonic()
    again = await until_one_writer(hq_cluster, 30)
    print(f"write health SERVING again {time.monotonic() - back:.2f} s after quorum returned")
    held = await asyncio.to_thread(leadership, hq_cluster.engine)
    assert held is not None and held[0] == again.address


async def test_einv_admin_status_of_two_replicas_then_one_stopped(
    hq_cluster: HqCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    leader = await until_one_writer(hq_cluster, 15)
    follower = hq_cluster.other(leader)
    both = ",".join(hq_cluster.addresses)
    code, out, err = await einv_admin(capsys, "status", "--hq", both, "--json")
    assert code == 0, err
    found = {e["endpoint"]: e["status"] for e in json.loads(out)["endpoints"]}
    lead, follow = found[leader.address], found[follower.address]
    assert (lead["role"], follow["role"]) == ("SERVER_ROLE_LEADER", "SERVER_ROLE_FOLLOWER")
    assert lead["leader"] == follow["leader"] == leader.address
    assert lead["fencing_token"] == lead["stored_token"] == follow["stored_token"] > 0
    assert follow["fencing_token"] == 0
    for status in (lead, follow):
        assert status["etcd"] == "ETCD_STATE_OK" and status["database_ok"] and status["healthy"]
    code, out, _ = await einv_admin(capsys, "status", "--hq", both)
    assert code == 0 and "leader" in out and "follower" in out

    follower.stop()
    code, out, _ = await einv_admin(capsys, "status", "--hq", both)
    assert code == 6  # one replica did not answer
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "UNREACHABLE" in rows[follower.address] and "Connection refused" in out
    assert "leader" in rows[leader.address] and "ok, revision" in rows[leader.address]


def allow_connections(db_url: str, allowed: bool) -> None:
    """Open or close the HQ database to new connections, and end the open ones when closing."""
    name = make_url(db_url).database
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )


async def test_health_while_the_database_refuses_connections(
    hq_cluster: HqCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    leader = await until_one_writer(hq_cluster, 15)
    await asyncio.to_thread(allow_connections, hq_cluster.db_url, False)
    try:
        await until_health(leader.address, READ_SERVICE, NOT_SERVING)
        for replica in hq_cluster.replicas:
            await until_health(replica.address, READ_SERVICE, NOT_SERVING)
            assert await health(replica.address, BRANCH_SERVICE) == NOT_SERVING
            assert await health(replica.address, "") == SERVING
        code, out, _ = await einv_admin(capsys, "status", "--hq", leader.address, "--json")
        (endpoint,) = json.loads(out)["endpoints"]
        assert code == 1 and endpoint["status"]["role"] == "SERVER_ROLE_LEADER"
        assert not endpoint["status"]["database_ok"]
        assert endpoint["status"]["problems"][0].startswith("database: ")
    finally:
        await asyncio.to_thread(allow_connections, hq_cluster.db_url, True)
    await until_health(leader.address, READ_SERVICE, SERVING)
    assert await until_one_writer(hq_cluster, 15) is leader  # its lease lived on meanwhile
