"""MOF sync: the MIG documents of number allocation, and their hand-off to the MOF Turnkey.

- Read what the MOF assigned: `read_e0501` / `read_e0501_file` (E0501, bare or in an envelope).
- Build what the HQ reports: `build_e0401_set` (branch allocations) and `build_e0402_set`
  (blank ranges, from `allocator.usage.blank_ranges`); every document is validated against the
  shipped MIG schema and the stricter rules before it is returned.
- Hand them to Turnkey and follow them: `TurnkeyOutbox(engine, TurnkeyFolders(root))`, then
  `submit(documents)` and `poll()`; `blank_reports_due` says which E0402s are still due.

Rules come from `allocator`; this package only reads, writes and tracks files.
"""

from __future__ import annotations

from mof_sync.deadlines import (
    BlankReportDue,
    ReportStatus,
    blank_reports_due,
    expected_e0402_keys,
    key_status,
)
from mof_sync.documents import DocumentKey, MigDocument
from mof_sync.e0401 import build_e0401, build_e0401_set, grants_of, read_e0401, read_e0401_file
from mof_sync.e0402 import build_e0402, build_e0402_set, read_e0402, read_e0402_file
from mof_sync.e0501 import Assignment, read_e0501, read_e0501_file
from mof_sync.errors import AlreadySent, MigError, UnsafeXml
from mof_sync.message_log import LogEntry, MessageLog
from mof_sync.mig import DEFAULT_VERSION, MessageType, MigVersion
from mof_sync.outbox import Change, PollReport, SubmitReport, TurnkeyOutbox
from mof_sync.results import TurnkeyResult, read_result, read_result_file
from mof_sync.safe_xml import parse_xml
from mof_sync.tracking import DocState, TrackedDocument
from mof_sync.turnkey import TurnkeyFolders, e0501_files, hand_off
from mof_sync.validate import DocumentContent, validate_document

__all__ = [
    "DEFAULT_VERSION",
    "AlreadySent",
    "Assignment",
    "BlankReportDue",
    "Change",
    "DocState",
    "DocumentContent",
    "DocumentKey",
    "LogEntry",
    "MessageLog",
    "MessageType",
    "MigDocument",
    "MigError",
    "MigVersion",
    "PollReport",
    "ReportStatus",
    "SubmitReport",
    "TrackedDocument",
    "TurnkeyFolders",
    "TurnkeyOutbox",
    "TurnkeyResult",
    "UnsafeXml",
    "blank_reports_due",
    "build_e0401",
    "build_e0401_set",
    "build_e0402",
    "build_e0402_set",
    "e0501_files",
    "expected_e0402_keys",
    "grants_of",
    "hand_off",
    "key_status",
    "parse_xml",
    "read_e0401",
    "read_e0401_file",
    "read_e0402",
    "read_e0402_file",
    "read_e0501",
    "read_e0501_file",
    "read_result",
    "read_result_file",
    "validate_document",
]
