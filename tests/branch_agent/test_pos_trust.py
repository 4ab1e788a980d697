"""POS terminals: each gives back only its own numbers; on the store LAN, mutual TLS with a
certificate per terminal, whose id is the terminal's (a request cannot claim another)."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from branch_agent.ledger.store import LEDGER_FILE
from protos.einvoice.v1 import pos_pb2, pos_pb2_grpc
from runtime import pki
from runtime.grpc_status import refusal
from runtime.tls import Tls
from tests.branch_agent.conftest import Pos, StartAgent, idle, lan_agent, ready


def ledger_rows(data: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(data / LEDGER_FILE) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


async def test_a_terminal_cannot_give_back_another_terminals_number(
    start_agent: StartAgent, pos_for: Callable[..., Pos], tmp_path: Path
) -> None:
    agent = await start_agent()
    await ready(agent)
    till1, till2 = pos_for(agent, "till-1"), pos_for(agent, "till-2")
    (number,) = await till1.next()
    await idle(agent)
    before = ledger_rows(tmp_path / "agent")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await till2.give_back(number)
    seen = refusal(caught.value)
    assert seen.code is grpc.StatusCode.PERMISSION_DENIED
    assert seen.reason == "NOT_YOUR_NUMBER" and "handed to terminal 'till-1'" in seen.message
    assert ledger_rows(tmp_path / "agent") == before
    assert await till1.give_back(number) == pos_pb2.GiveBackReply.OUTCOME_REUSED


async def test_lan_terminals_use_their_certificates(
    start_agent: StartAgent, tmp_path: Path
) -> None:
    _, lan, tls = await lan_agent(start_agent, tmp_path, "till-7")
    data = tmp_path / "agent"
    async with grpc.aio.secure_channel(lan, tls.credentials()) as channel:
        stub = pos_pb2_grpc.PosServiceStub(channel)
        reply = await stub.NextNumbers(pos_pb2.NextNumbersRequest(count=1), timeout=5)
        number = reply.numbers[0].invoice_number
        with pytest.raises(grpc.aio.AioRpcError) as caught:  # claiming another terminal's id
            await stub.NextNumbers(
                pos_pb2.NextNumbersRequest(count=1, terminal_id="till-1"), timeout=5
            )
        assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
        assert "may act only as itself" in caught.value.details()
        back = await stub.GiveBack(pos_pb2.GiveBackRequest(invoice_number=number), timeout=5)
        assert back.outcome == pos_pb2.GiveBackReply.OUTCOME_REUSED
    with sqlite3.connect(data / LEDGER_FILE) as conn:
        terminals = {r[0] for r in conn.execute("SELECT terminal_id FROM give_backs")}
    assert terminals == {"till-7"}
    # Without a certificate of this agent's POS CA, nothing gets through on the LAN port.
    other = pki.create_ca()
    key = pki.new_key()
    cert = other.issue(key.public_key(), "x", None, pki.CA_LIFETIME)
    foreign = Tls(tls.ca_pem, pki.cert_pem(cert), pki.key_pem(key))
    for creds in (foreign.credentials(), None):
        opened = (
            grpc.aio.insecure_channel(lan) if creds is None else grpc.aio.secure_channel(lan, creds)
        )
        async with opened as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await pos_pb2_grpc.PosServiceStub(channel).Status(
                    pos_pb2.StatusRequest(), timeout=3
                )
            assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_a_pos_on_the_same_machine_calls_over_the_unix_socket(
    start_agent: StartAgent, tmp_path: Path
) -> None:
    socket = tmp_path / "pos.sock"
    agent = await start_agent(listen=f"unix:{socket}")
    await ready(agent)
    assert agent.address == f"unix:{socket}"
    assert stat.S_IMODE(socket.stat().st_mode) == 0o660  # its owner and group only
    async with grpc.aio.insecure_channel(agent.address) as channel:
        stub = pos_pb2_grpc.PosServiceStub(channel)
        reply = await stub.NextNumbers(pos_pb2.NextNumbersRequest(terminal_id="till-2"), timeout=5)
        stream = stub.NextNumbersStream()
        await stream.write(pos_pb2.NextNumbersRequest(terminal_id="till-2"))
        streamed = await stream.read()
        await stream.done_writing()
    numbers = [reply.numbers[0].invoice_number, streamed.numbers[0].invoice_number]
    assert agent.parts.ledger.issued_numbers() == numbers
