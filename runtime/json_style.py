"""The one JSON style of every command line's `--json`: what a script can rely on.

Field names as in the .proto (snake_case); every field present, zero values included; integers
as JSON numbers (protobuf's own JSON mapping writes 64-bit ones as strings); enums by name;
times as RFC 3339 in Asia/Taipei with the offset (a person reads these too); unset messages and
times as null; a field holding JSON text (`details_json`) as the object itself, under `details`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from allocator import TAIPEI

TIMESTAMP = "google.protobuf.Timestamp"


def as_json(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.name.endswith("_json") and field.type == FieldDescriptor.TYPE_STRING:
            out[field.name.removesuffix("_json")] = json.loads(value) if value else None
        elif field.is_repeated:
            out[field.name] = [_value(field, item) for item in value]
        elif field.type == FieldDescriptor.TYPE_MESSAGE and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = _value(field, value)
    return out


def _value(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name == TIMESTAMP:
            return value.ToDatetime(tzinfo=TAIPEI).isoformat()
        return as_json(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return (
            field.enum_type.values_by_number[value].name
            if value in (field.enum_type.values_by_number)
            else value
        )
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode()
    return value


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def array_lines(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A long list as one JSON array written piece by piece, an item per line: one document
    any JSON reader takes, streamed without holding the list (`einv-admin export`)."""
    yield "["
    separator = "\n"
    for item in items:
        yield separator + json.dumps(item, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"
