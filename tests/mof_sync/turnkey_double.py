"""A stand-in for the MOF Turnkey program, following its documented folder layout.

- UpCast: every `*.xml` in `UpCast/B2PMESSAGE/<type>/SRC` is moved to `BAK` (or to `ERR` when
  the plan says so); Pack leaves `<source>_<from>_<to>_<message id>_1` in a pack folder.
- The platform: for every message sent, a ProcessResult (or SummaryResult) in
  `Unpack/BAK/ProcessResult/<date>/` with code 0000 or the planned error code.
- Optionally the message log: TURNKEY_MESSAGE_LOG(+_DETAIL, SYSEVENT) rows in a database.

A plan maps a file name to what happens on each attempt: "ok", "err" (moved to ERR) or an
error code such as "E0101" (sent, then rejected by the platform).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Column, Engine, MetaData, String, Table, insert, update

from mof_sync.mig import MessageType
from mof_sync.turnkey import TurnkeyFolders

log_metadata = MetaData()
message_log = Table(
    "TURNKEY_MESSAGE_LOG",
    log_metadata,
    *(
        Column(name, String(40))
        for name in (
            "SEQNO",
            "SUBSEQNO",
            "UUID",
            "MESSAGE_TYPE",
            "CATEGORY_TYPE",
            "PROCESS_TYPE",
            "FROM_PARTY_ID",
            "TO_PARTY_ID",
            "MESSAGE_DTS",
            "CHARACTER_COUNT",
            "STATUS",
            "IN_OUT_BOUND",
            "FROM_ROUTING_ID",
            "TO_ROUTING_ID",
            "INVOICE_IDENTIFIER",
        )
    ),
)
message_log_detail = Table(
    "TURNKEY_MESSAGE_LOG_DETAIL",
    log_metadata,
    Column("SEQNO", String(8)),
    Column("SUBSEQNO", String(5)),
    Column("PROCESS_DTS", String(17)),
    Column("TASK", String(30)),
    Column("STATUS", String(5)),
    Column("FILENAME", String(255)),
    Column("UUID", String(40)),
)
sysevent_log = Table(
    "TURNKEY_SYSEVENT_LOG",
    log_metadata,
    Column("EVENTDTS", String(17)),
    Column("PARTY_ID", String(10)),
    Column("SEQNO", String(8)),
    Column("SUBSEQNO", String(5)),
    Column("ERRORCODE", String(4)),
    Column("UUID", String(40)),
    *(Column(f"MESSAGE{index}", String(100)) for index in range(1, 7)),
)


@dataclass
class Sent:
    name: str
    message: MessageType
    message_id: str
    outcome: str
    seqno: str


@dataclass
class TurnkeyDouble:
    folders: TurnkeyFolders
    pack_dir: Path | None = None
    log: Engine | None = None
    party_id: str = "22099131"
    summary: bool = False
    plan: dict[str, list[str]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    in_flight: list[Sent] = field(default_factory=list)
    sequence: int = 0

    def __post_init__(self) -> None:
        if self.log is not None:
            log_metadata.create_all(self.log)

    def upcast(self, now: datetime) -> list[str]:
        """Take every SRC file: to ERR if planned, else to BAK, packed and sent."""
        moved: list[str] = []
        for message in (MessageType.E0401, MessageType.E0402):
            src = self.folders.src(message)
            if not src.is_dir():
                continue
            for path in sorted(src.glob("*.xml")):
                moved.append(self._take(path, message, now))
        return moved

    def _take(self, path: Path, message: MessageType, now: datetime) -> str:
        attempt = self.attempts.get(path.name, 0)
        self.attempts[path.name] = attempt + 1
        steps = self.plan.get(path.name, [])
        outcome = steps[attempt] if attempt < len(steps) else "ok"
        if outcome == "err":
            target = self.folders.err(message) / now.strftime("%Y%m%d")
            target.mkdir(parents=True, exist_ok=True)
            os.replace(path, target / path.name)
            return path.name
        bak = self.folders.bak(message) / now.strftime("%Y%m%d")
        bak.mkdir(parents=True, exist_ok=True)
        os.replace(path, bak / path.name)
        stamp = f"{now:%Y%m%d}-{now:%H%M%S}{now.microsecond // 1000:03d}"
        message_id = f"4.1-{message.value}-{stamp}-{uuid.uuid4()}"
        self.sequence += 1
        sent = Sent(path.name, message, message_id, outcome, f"{self.sequence:08d}")
        if self.pack_dir is not None:
            self.pack_dir.mkdir(parents=True, exist_ok=True)
            (self.pack_dir / f"{path.name}_{self.party_id}_0000000000_{message_id}_1").write_bytes(
                b""
            )
        if self.log is not None:
            self._log_sent(sent, now)
        self.in_flight.append(sent)
        return path.name

    def deliver(self, now: datetime, *, results: bool = True) -> list[str]:
        """The platform answers every message sent so far."""
        answered = [sent.name for sent in self.in_flight]
        for sent in self.in_flight:
            if results:
                self._write_result(sent, now)
            if self.log is not None:
                self._log_answer(sent, now)
        self.in_flight.clear()
        return answered

    def _write_result(self, sent: Sent, now: datetime) -> None:
        kind = "SummaryResult" if self.summary else "ProcessResult"
        folder = self.folders.root / "Unpack" / "BAK" / kind / now.strftime("%Y%m%d")
        folder.mkdir(parents=True, exist_ok=True)
        body = (
            _summary(sent, self.party_id) if self.summary else process_result(sent, self.party_id)
        )
        (folder / f"{sent.message_id}.xml").write_bytes(body)

    def _log_sent(self, sent: Sent, now: datetime) -> None:
        assert self.log is not None
        dts = f"{now:%Y%m%d%H%M%S}000"
        short = sent.message_id[-36:]
        with self.log.begin() as connection:
            connection.execute(
                insert(message_log).values(
                    SEQNO=sent.seqno,
                    SUBSEQNO="00001",
                    UUID=short,
                    MESSAGE_TYPE=sent.message.value,
                    CATEGORY_TYPE="B2P",
                    PROCESS_TYPE="MESSAGE",
                    FROM_PARTY_ID=self.party_id,
                    MESSAGE_DTS=dts,
                    STATUS="G",
                    IN_OUT_BOUND="O",
                )
            )
            for task, name in (
                (
                    "UpCast",
                    f"C:\\EINVTurnkey\\UpCast\\B2PMESSAGE\\{sent.message.value}\\SRC\\{sent.name}",
                ),
                ("Pack", f"{sent.name}_{self.party_id}_0000000000_{sent.message_id}_1"),
            ):
                connection.execute(
                    insert(message_log_detail).values(
                        SEQNO=sent.seqno,
                        SUBSEQNO="00001",
                        PROCESS_DTS=dts,
                        TASK=task,
                        STATUS="G",
                        FILENAME=name,
                        UUID=short,
                    )
                )

    def _log_answer(self, sent: Sent, now: datetime) -> None:
        assert self.log is not None
        short = sent.message_id[-36:]
        status = "C" if sent.outcome == "ok" else "E"
        with self.log.begin() as connection:
            connection.execute(
                update(message_log).where(message_log.c["UUID"] == short).values(STATUS=status)
            )
            if status == "E":
                connection.execute(
                    insert(sysevent_log).values(
                        EVENTDTS=f"{now:%Y%m%d%H%M%S}000",
                        PARTY_ID=self.party_id,
                        SEQNO=sent.seqno,
                        SUBSEQNO="00001",
                        ERRORCODE="9999",  # 4 characters in Turnkey; the E-code is in the text
                        UUID=short,
                        MESSAGE2=f"platform answered [{sent.outcome}]",
                    )
                )


def _routing(party_id: str) -> str:
    return (
        f"<RoutingInfo><From><PartyId>{party_id}</PartyId></From>"
        "<FromVAC><RoutingId>HQ</RoutingId></FromVAC>"
        "<To><PartyId>EINV</PartyId></To><ToVAC><RoutingId>EINV</RoutingId></ToVAC></RoutingInfo>"
    )


def process_result(sent: Sent, party_id: str) -> bytes:
    code = "0000" if sent.outcome == "ok" else sent.outcome
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ProcessResult xmlns="urn:GEINV:ProcessResult:4.1">'
        f"{_routing(party_id)}"
        f"<MessageInfo><Id>{sent.message_id}</Id><Size>1</Size>"
        f"<MessageType>{sent.message.value}</MessageType><Service>S</Service>"
        f"<Action>{sent.message.value}</Action></MessageInfo>"
        f"<Result><Info><Code>{code}</Code><Description>result of {sent.name}</Description>"
        "</Info></Result></ProcessResult>"
    ).encode()


def _summary(sent: Sent, party_id: str) -> bytes:
    good, failed = (1, 0) if sent.outcome == "ok" else (0, 1)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<SummaryResult xmlns="urn:GEINV:SummaryResult:3.0">'
        f"{_routing(party_id)}<DetailList><Message>"
        f"<Info><Id>{sent.message_id}</Id><Size>1</Size><MessageType>{sent.message.value}"
        "</MessageType><Service>S</Service><Action>A</Action></Info>"
        f"<Result><Total><Count>1</Count></Total><Good><Count>{good}</Count></Good>"
        f"<Failed><Count>{failed}</Count></Failed></Result>"
        "</Message></DetailList></SummaryResult>"
    ).encode()
