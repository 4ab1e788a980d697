"""Sizes and characters of every request field, checked at the edge before anything else runs.

Every string field is at most DEFAULT_STRING characters unless STRING_LIMITS says otherwise, and
holds no control characters (NUL, ANSI escapes, line breaks: a log line or a mail header must not
be forged through a name). Bytes fields and repeated fields have their limits below. The guard
applies this to every call of every server, so a value that breaks a rule is refused with
INVALID_ARGUMENT naming the field and the rule, and nothing is stored. The .proto files refer here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from allocator import InvalidInput

DEFAULT_STRING = 200
DEFAULT_BYTES = 64 * 1024
DEFAULT_REPEATED = 1000
# message.field -> most characters
STRING_LIMITS: Mapping[str, int] = {
    "E0501File.name": 255,
    "AddBranchRequest.emails": 254,
    "EnrollToken.token": 4000,
    "GrantUsage.grant_id": 36,
    "RequestRangeRequest.request_id": 100,
    "NextNumbersRequest.request_id": 100,
    "NextNumbersRequest.terminal_id": 64,
    "GiveBackRequest.terminal_id": 64,
    "GiveBackRequest.invoice_number": 10,
    "UsageReport.report_id": 100,
}
# message.field -> most bytes
BYTES_LIMITS: Mapping[str, int] = {
    "E0501File.content": 2 * 1024 * 1024,  # a 5,000-range E0501 envelope is about 1.4 MB
    "EnrollRequest.csr_pem": 16 * 1024,
    "RenewCertificateRequest.csr_pem": 16 * 1024,
}
# message.field -> most items
REPEATED_LIMITS: Mapping[str, int] = {
    "AddBranchRequest.emails": 20,
    "ImportE0501Request.files": 100,
    "UsageReport.grants": 1000,
    "GrantUsage.skipped": 10_000,
}
# Whole requests: an import of many files is limited as a whole (the server's message limit).
SHOWN = 40  # characters of an offending value echoed back


class FieldRefused(InvalidInput):
    reason = "FIELD_REFUSED"


def check_request(message: Message) -> None:
    """Refuse the first field that breaks a size or character rule (InvalidInput)."""
    name = message.DESCRIPTOR.name
    for field, value in message.ListFields():
        key = f"{name}.{field.name}"
        repeated = field.is_repeated
        values = value if repeated else [value]
        if repeated and len(values) > REPEATED_LIMITS.get(key, DEFAULT_REPEATED):
            limit = REPEATED_LIMITS.get(key, DEFAULT_REPEATED)
            raise FieldRefused(f"{key} has {len(values)} items; at most {limit} are allowed")
        for item in values:
            if field.type == FieldDescriptor.TYPE_STRING:
                check_string(key, item)
            elif field.type == FieldDescriptor.TYPE_BYTES:
                limit = BYTES_LIMITS.get(key, DEFAULT_BYTES)
                if len(item) > limit:
                    raise FieldRefused(f"{key} is {len(item):,} bytes; at most {limit:,}")
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                check_request(item)


def check_string(key: str, text: str) -> None:
    limit = STRING_LIMITS.get(key, DEFAULT_STRING)
    if len(text) > limit:
        raise FieldRefused(
            f"{key} is {len(text):,} characters ({text[:SHOWN]!r}...); at most {limit}"
        )
    if text.isprintable():  # the fast path (C); it also refuses non-ASCII spaces, allowed below
        return
    for index, char in enumerate(text):
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            raise FieldRefused(
                f"{key} holds a control character (U+{ord(char):04X}) at position {index}: "
                "names, ids and addresses must be printable text"
            )
