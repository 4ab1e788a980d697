"""Turnkey's result documents: ProcessResult (one message) and SummaryResult (many).

Read with the hardened parser and namespace-agnostically (`urn:GEINV:ProcessResult:<version>`;
3.0 and 4.1 are both seen in the wild). They are not validated against results-3.0: its
MessageTypeEnum has no E-series message. Each result names the Turnkey message id it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from mof_sync.errors import MigError
from mof_sync.mig import namespace_version
from mof_sync.safe_xml import child_elements, local_name, namespace_of, parse_xml
from mof_sync.turnkey import correlation_id

# A code of zeros ("0000") reports success; anything else (E0201 ...) is an error code.
_SUCCESS = re.compile(r"0+")
SUMMARY_FAILED = "SUMMARY_FAILED"


@dataclass(frozen=True, slots=True)
class TurnkeyResult:
    """What the platform said about one message."""

    message_id: str
    correlation: str
    message_type: str | None
    ok: bool
    codes: tuple[str, ...]
    detail: str
    source: str


def read_result(data: bytes, source: str) -> list[TurnkeyResult]:
    root = parse_xml(data, source)
    name = local_name(root)
    if name not in ("ProcessResult", "SummaryResult"):
        raise MigError(source, name, "root element must be ProcessResult or SummaryResult")
    base = f"urn:GEINV:{name}"
    if namespace_version(namespace_of(root), base) is None:
        raise MigError(source, name, f"namespace {namespace_of(root)!r} is not {base}:<version>")
    if name == "ProcessResult":
        return [_process(root, source)]
    return _summary(root, source)


def read_result_file(path: Path) -> list[TurnkeyResult]:
    return read_result(path.read_bytes(), str(path))


def _process(root: etree._Element, source: str) -> TurnkeyResult:
    info = _one(root, "MessageInfo", source, "ProcessResult")
    message_id = _text(info, "Id", source, "ProcessResult/MessageInfo")
    errors: list[str] = []
    details: list[str] = []
    result = _one(root, "Result", source, "ProcessResult")
    for index, item in enumerate(_all(result, "Info"), start=1):
        code = _text(item, "Code", source, f"ProcessResult/Result/Info[{index}]")
        words = [_optional(item, tag) for tag in ("Description", *_PARAMETERS)]
        details.append(" ".join([code, *(word for word in words if word)]))
        if not _SUCCESS.fullmatch(code):
            errors.append(code)
    return TurnkeyResult(
        message_id,
        correlation_id(message_id),
        _optional(info, "MessageType") or None,
        not errors,
        tuple(errors),
        "; ".join(details),
        source,
    )


_PARAMETERS = tuple(f"Parameter{index}" for index in range(5))


def _summary(root: etree._Element, source: str) -> list[TurnkeyResult]:
    details = _one(root, "DetailList", source, "SummaryResult")
    results: list[TurnkeyResult] = []
    for index, message in enumerate(_all(details, "Message"), start=1):
        path = f"SummaryResult/DetailList/Message[{index}]"
        info = _one(message, "Info", source, path)
        message_id = _text(info, "Id", source, f"{path}/Info")
        counts = _one(message, "Result", source, path)
        failed = _count(counts, "Failed", source, f"{path}/Result")
        total = _count(counts, "Total", source, f"{path}/Result")
        results.append(
            TurnkeyResult(
                message_id,
                correlation_id(message_id),
                _optional(info, "MessageType") or None,
                failed == 0,
                () if failed == 0 else (SUMMARY_FAILED,),
                f"{failed} of {total} failed",
                source,
            )
        )
    return results


def _all(parent: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in child_elements(parent) if local_name(child) == name]


def _one(parent: etree._Element, name: str, source: str, path: str) -> etree._Element:
    found = _all(parent, name)
    if len(found) != 1:
        raise MigError(source, f"{path}/{name}", f"expected once, found {len(found)} times")
    return found[0]


def _text(parent: etree._Element, name: str, source: str, path: str) -> str:
    text = (_one(parent, name, source, path).text or "").strip()
    if not text:
        raise MigError(source, f"{path}/{name}", "empty")
    return text


def _optional(parent: etree._Element, name: str) -> str:
    found = _all(parent, name)
    return (found[0].text or "").strip() if found else ""


def _count(parent: etree._Element, name: str, source: str, path: str) -> int:
    element = _one(parent, name, source, path)
    text = _text(element, "Count", source, f"{path}/{name}")
    if not text.isdigit():
        raise MigError(source, f"{path}/{name}/Count", f"{text!r} is not a count")
    return int(text)
