"""What several pages share: the confirmation step, the period in view, run-out cells."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from aiohttp import web
from google.protobuf.timestamp_pb2 import Timestamp

from allocator import InvalidInput, Period
from hq_server.web.html import Frame, e, form, note, page
from hq_server.web.i18n import when
from protos.einvoice.v1 import admin_pb2


def stamp(value: Timestamp, present: bool = True) -> datetime | None:
    return value.ToDatetime(tzinfo=UTC) if present and (value.seconds or value.nanos) else None


def period_of(request: web.Request, now: datetime) -> Period:
    text = request.query.get("period", "")
    if not text:
        return Period.containing(now)
    return Period.from_year_month(text)


def confirmed(request: web.Request) -> bool:
    return request["form"].get("confirm") == "yes"


def form_int(request: web.Request, name: str, minimum: int = 0, maximum: int = 1_000_000) -> int:
    text = str(request["form"].get(name, "")).strip()
    if not text.isdigit() or not minimum <= int(text) <= maximum:
        raise InvalidInput(f"{name} must be a whole number from {minimum} to {maximum}")
    return int(text)


def confirm_page(
    frame: Frame,
    action: str,
    what: str,
    changes: Sequence[tuple[str, str, str]],
    fields: Mapping[str, object],
    back: str,
) -> web.Response:
    """Before a change: what it is, before and after, and one button that makes it."""
    rows = "".join(
        f'<tr><th>{e(label)}</th><td data-k="before">{e(old)}</td>'
        f'<td data-k="after">{e(new)}</td></tr>'
        for label, old, new in changes
    )
    body = (
        f'<p class="what">{e(what)}</p><table class="confirm"><thead><tr><th></th>'
        f"<th>{e(frame.text('before'))}</th><th>{e(frame.text('after'))}</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        + form(
            action,
            frame,
            "",
            frame.text("confirm"),
            {**fields, "confirm": "yes"},
            css="confirm",
            name="confirm",
        )
        + f'<p><a class="cancel" href="{e(back)}">{e(frame.text("cancel"))}</a></p>'
    )
    return web.Response(
        text=page(frame, frame.text("confirm_title"), body), content_type="text/html"
    )


def done_note(request: web.Request, frame: Frame) -> str:
    return note(frame.text("done"), "done") if request.query.get("done") else ""


def reason_text(frame: Frame, reason: str) -> str:
    key = f"reason_{reason}" if reason in ("held", "quota", "pool", "never") else "reason_never"
    return frame.text(key)


def run_out_text(frame: Frame, run: admin_pb2.RunOut) -> str:
    """When it runs dry, or that it lasts the period; and what to ask the MOF by when."""
    at = stamp(run.at, run.HasField("at"))
    if at is None:
        return frame.text("never")
    text = when(at, frame.lang)
    if run.lasts_period:
        return f"{text} ({frame.text('lasts')})"
    return text


def ask_text(frame: Frame, run: admin_pb2.RunOut) -> str:
    ask = stamp(run.ask_mof_by, run.HasField("ask_mof_by"))
    if ask is None:
        return "—"
    return f"{when(ask, frame.lang)}" + (f" · {frame.text('too_late')}" if run.late else "")
