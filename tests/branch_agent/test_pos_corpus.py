"""The bad-input corpus of the POS API: refused with the right status and a message naming the
problem, and every table of the agent's ledger byte-identical afterwards."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from branch_agent.ledger.store import LEDGER_FILE
from protos.einvoice.v1 import pos_pb2
from runtime.grpc_status import refusal
from tests.branch_agent.conftest import Pos, StartAgent, idle, ready

INVALID = grpc.StatusCode.INVALID_ARGUMENT
REFUSED = grpc.StatusCode.FAILED_PRECONDITION
DENIED = grpc.StatusCode.PERMISSION_DENIED


def ledger(data: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(data / LEDGER_FILE) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: sorted(conn.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in names}


def nxt(**kw: Any) -> Callable[[str], pos_pb2.NextNumbersRequest]:
    return lambda issued: pos_pb2.NextNumbersRequest(**({"count": 1, "terminal_id": "t1"} | kw))


def back(number: str | None = None, terminal: str = "t1") -> Callable[[str], Any]:
    return lambda issued: pos_pb2.GiveBackRequest(
        invoice_number=issued if number is None else number, terminal_id=terminal
    )


CASES = [
    ("count 1001", "NextNumbers", nxt(count=1001), INVALID, "count 1001 must be 1..1000"),
    ("count 2^32-1", "NextNumbers", nxt(count=2**32 - 1), INVALID, "count 4294967295"),
    ("type 9", "NextNumbers", nxt(invoice_type=9), INVALID, "invoice type 9"),
    ("type 8 not served", "NextNumbers", nxt(invoice_type=8), REFUSED, "not 08"),
    (
        "terminal 65",
        "NextNumbers",
        nxt(terminal_id="t" * 65),
        INVALID,
        "NextNumbersRequest.terminal_id is 65 characters",
    ),
    ("terminal NUL", "NextNumbers", nxt(terminal_id="t\x00"), INVALID, "U+0000"),
    ("terminal escape", "NextNumbers", nxt(terminal_id="\x1b[2J"), INVALID, "U+001B"),
    (
        "request id 101",
        "NextNumbers",
        nxt(request_id="r" * 101),
        INVALID,
        "NextNumbersRequest.request_id is 101 characters",
    ),
    (
        "request id reused",
        "NextNumbers",
        nxt(request_id="first", count=2),
        INVALID,
        "already used for 1 numbers",
    ),
    ("give back 9 characters", "GiveBack", back("AB1234567"), INVALID, "'AB1234567'"),
    (
        "give back 11 characters",
        "GiveBack",
        back("AB123456789"),
        INVALID,
        "GiveBackRequest.invoice_number is 11 characters",
    ),
    ("give back lower case", "GiveBack", back("ab12345678"), INVALID, "'ab12345678'"),
    ("give back full-width", "GiveBack", back("AB１２３４５６７８"), INVALID, "AB１２３４５６７８"),
    ("give back empty", "GiveBack", back(""), INVALID, "invoice number ''"),
    ("give back never issued", "GiveBack", back("ZZ00000001"), REFUSED, "ZZ00000001"),
    ("give back another's", "GiveBack", back(terminal="t2"), DENIED, "handed to terminal 't1'"),
    (
        "give back terminal 65",
        "GiveBack",
        back(terminal="x" * 65),
        INVALID,
        "GiveBackRequest.terminal_id is 65 characters",
    ),
    ("give back control", "GiveBack", back("AB0000\n000"), INVALID, "U+000A"),
]


@pytest.mark.parametrize(
    ("name", "method", "build", "code", "needle"), CASES, ids=[c[0] for c in CASES]
)
async def test_refused_and_the_ledger_is_unchanged(
    start_agent: StartAgent,
    pos_for: Callable[..., Pos],
    tmp_path: Path,
    name: str,
    method: str,
    build: Callable[[str], Any],
    code: grpc.StatusCode,
    needle: str,
) -> None:
    agent = await start_agent()
    await ready(agent)
    pos = pos_for(agent, "t1")
    (issued,) = await pos.next(1, request_id="first")
    await idle(agent)
    before = ledger(tmp_path / "agent")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await getattr(pos.stub, method)(build(issued), timeout=5)
    seen = refusal(info.value)
    assert seen.code == code, (seen.code, seen.message)
    assert needle in seen.message, seen.message
    assert seen.reason
    assert ledger(tmp_path / "agent") == before
