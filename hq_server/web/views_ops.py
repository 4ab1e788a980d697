"""Alerts (list, acknowledge), deadlines and reports (E0402 due per period and branch, days
left; E0401 / E0402 built and handed to Turnkey by an operator), and the audit log with its
hash chain verified."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from aiohttp import web

from allocator import InvalidInput, Period, Refused
from hq_server.web.app import frame_of, html, office_of, redirect
from hq_server.web.html import cell, e, form, note, page, table
from hq_server.web.i18n import TEXTS, when
from hq_server.web.views_common import confirm_page, confirmed, done_note, stamp
from hq_server.web.views_pools import TYPE_CODE
from protos.einvoice.v1 import admin_pb2

AUDIT_PAGE = 100
KINDS = {"E0401": admin_pb2.REPORT_KIND_E0401, "E0402": admin_pb2.REPORT_KIND_E0402}
TYPES = {code: pb for pb, code in TYPE_CODE.items()}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/alerts", alerts_page)
    router.add_post("/alerts/ack", ack)
    router.add_get("/reports", reports_page)
    router.add_post("/reports/build", build)
    router.add_get("/audit", audit_page)


# --- alerts ---------------------------------------------------------------------------------


async def alerts_page(request: web.Request) -> web.StreamResponse:
    office, frame = office_of(request), frame_of(request)
    who = request["principal"]
    everything = request.query.get("all") == "1"
    listed = await office.api.call(
        who, "ListAlerts", admin_pb2.ListAlertsRequest(include_resolved=everything)
    )
    may_ack = office.api.allowed(who, "AckAlert")
    rows = []
    for a in listed.alerts:
        acked = a.acknowledged_by
        control = (
            form("/alerts/ack", frame, "", frame.text("ack"), {"key": a.key}, css="inline")
            if may_ack and not acked and a.state == "open"
            else ""
        )
        rows.append(
            f'<tr data-alert="{e(a.key)}" class="{e(a.state)}">'
            + cell(a.kind, "kind")
            + cell(a.about, "about")
            + cell(a.state, "state")
            + cell(when(stamp(a.first_seen), frame.lang), "since")
            + cell(acked or "—", "acknowledged")
            + f"<td>{control}</td></tr>"
        )
    toggle = frame.link("/alerts", all="" if everything else "1")
    body = done_note(request, frame) + (
        f'<p><a href="{toggle}">{e(frame.text("show_resolved"))}</a></p>'
    )
    if rows:
        head = ["kind", "about", "status", "since", "acknowledged"]
        body += table([e(frame.text(h)) for h in head] + [""], rows, css="alerts")
    else:
        body += note(frame.text("no_alerts"))
    return html(page(frame, frame.text("alerts"), body, "alerts"))


async def ack(request: web.Request) -> web.StreamResponse:
    office = office_of(request)
    key = str(request["form"].get("key", ""))[:300]
    await office.api.call(request["principal"], "AckAlert", admin_pb2.AckAlertRequest(key=key))
    return redirect("/alerts?done=1")


# --- deadlines and reports ------------------------------------------------------------------


async def reports_page(request: web.Request) -> web.StreamResponse:
    office, frame = office_of(request), frame_of(request)
    who = request["principal"]
    now = office.now()
    try:
        due = await office.api.call(who, "ListDeadlines", admin_pb2.ListDeadlinesRequest())
        sent = await office.api.call(who, "ListReports", admin_pb2.ListReportsRequest())
        missing = ""
    except Refused as error:  # e.g. no --turnkey-root: say so, show the rest
        due, missing = admin_pb2.ListDeadlinesReply(), note(str(error), "error")
        sent = admin_pb2.ListReportsReply()
    states = report_states(sent.documents)
    pools = await office.api.call(who, "ListPools", admin_pb2.ListPoolsRequest())
    rows = [
        f'<tr data-deadline="{e(d.year_month)}-{e(d.branch_ban)}">'
        + cell(d.year_month, "period")
        + cell(d.branch_ban, "ban")
        + cell(d.status, "status")
        + cell(when(stamp(d.deadline), frame.lang), "deadline")
        + cell(d.days_left, "days_left", "low" if d.days_left <= 3 else "")
        + cell(", ".join(d.error_codes) or "—", "errors")
        + "</tr>"
        for d in due.deadlines
    ]
    body = done_note(request, frame) + f"<h2>{e(frame.text('e0402_due'))}</h2>" + missing
    if rows:
        head = ["period", "ban", "status", "deadline", "days_left", "error"]
        body += table([e(frame.text(h)) for h in head], rows, css="deadlines")
    else:
        body += note(frame.text("nothing_due"))
    may_build = office.api.allowed(who, "BuildReports")
    recent = {
        Period.containing(now).to_year_month(),
        Period.containing(now).previous().to_year_month(),
    }
    pool_rows = []
    for p in pools.pools:
        if p.year_month not in recent:
            continue
        code = TYPE_CODE[p.invoice_type]
        ended = Period.from_year_month(p.year_month).end() <= now
        buttons = ""
        if may_build:
            for kind in ("E0401", "E0402") if ended else ("E0401",):
                buttons += form(
                    "/reports/build",
                    frame,
                    "",
                    f"{kind}: {frame.text('build')}",
                    {"kind": kind, "period": p.year_month, "type": code},
                    css="inline",
                )
        deadline = Period.from_year_month(p.year_month).blank_report_deadline()
        pool_rows.append(
            f'<tr data-pool="{e(p.year_month)}-{code}">'
            + cell(f"{p.year_month} · {code}")
            + cell(frame.text("closed") if p.closed else frame.text("open"), "state")
            + cell(when(deadline, frame.lang), "deadline")
            + cell((deadline - now).days, "days_left")
            + cell(states.get(("E0401", p.year_month, code), "—"), "e0401")
            + cell(states.get(("E0402", p.year_month, code), "—"), "e0402")
            + f"<td>{buttons}</td></tr>"
        )
    head = ["pools", "status", "deadline", "days_left", "E0401", "E0402", ""]
    body += f"<h2>{e(frame.text('reports'))}</h2>" + table(
        [e(frame.text(h)) if h in TEXTS else e(h) for h in head], pool_rows, css="reports"
    )
    if not may_build:
        body += note(frame.text("viewer_note"))
    return html(page(frame, frame.text("reports"), body, "reports"))


def report_states(documents: Sequence[admin_pb2.ReportDocument]) -> dict[tuple[str, str, str], str]:
    """(kind, period, type) -> how many documents are in which state, e.g. "2 written"."""
    counts: dict[tuple[str, str, str], Counter[str]] = {}
    names = {admin_pb2.REPORT_KIND_E0401: "E0401", admin_pb2.REPORT_KIND_E0402: "E0402"}
    for d in documents:
        key = (names.get(d.kind, "?"), d.year_month, TYPE_CODE.get(d.invoice_type, "?"))
        counts.setdefault(key, Counter())[d.state] += 1
    return {
        key: ", ".join(f"{n} {state}" for state, n in sorted(found.items()))
        for key, found in counts.items()
    }


async def build(request: web.Request) -> web.StreamResponse:
    office, frame = office_of(request), frame_of(request)
    who = request["principal"]
    kind = str(request["form"].get("kind", ""))
    code = str(request["form"].get("type", ""))
    year_month = str(request["form"].get("period", ""))
    if kind not in KINDS or code not in TYPES:
        raise InvalidInput("a report is E0401 or E0402, of invoice type 07 or 08")
    Period.from_year_month(year_month)
    change = admin_pb2.BuildReportsRequest(
        year_month=year_month, invoice_type=TYPES[code], kind=KINDS[kind]
    )
    office.api.may(who, "BuildReports", change)
    fields = {"kind": kind, "type": code, "period": year_month}
    if not confirmed(request):
        return confirm_page(
            frame,
            "/reports/build",
            f"{kind} · {year_month} · {code}",
            [(frame.text("reports"), "—", frame.text("build"))],
            fields,
            "/reports",
        )
    reply = await office.api.call(who, "BuildReports", change)
    rows = [f"<tr>{cell(n, 'file')}{cell(frame.text('written'))}</tr>" for n in reply.written]
    rows += [f"<tr>{cell(n, 'file')}{cell(frame.text('unchanged'))}</tr>" for n in reply.unchanged]
    rows += [
        f"<tr>{cell(b, 'ban')}{cell(frame.text('held_back'))}</tr>" for b in reply.held_branches
    ]
    body = note(frame.text("done"), "done") + table(["", ""], rows, css="built")
    body += f'<p><a href="/reports">{e(frame.text("back"))}</a></p>'
    return html(page(frame, f"{kind} · {year_month} · {code}", body, "reports"))


# --- audit ----------------------------------------------------------------------------------


async def audit_page(request: web.Request) -> web.StreamResponse:
    office, frame = office_of(request), frame_of(request)
    who = request["principal"]
    after = request.query.get("after", "")
    if after and not after.isdigit():
        raise InvalidInput("after must be a sequence number")
    ask = (
        admin_pb2.ListAuditRequest(after_seq=int(after), limit=AUDIT_PAGE)
        if after
        else admin_pb2.ListAuditRequest(newest=True, limit=AUDIT_PAGE)
    )
    reply = await office.api.call(who, "ListAudit", ask)
    entries = list(reply.entries)
    banner = (
        note(frame.text("chain_ok"), "ok chain")
        if reply.chain_ok
        else note(frame.text("chain_broken"), "error chain")
    )
    rows = [
        f'<tr data-seq="{x.seq}">'
        + cell(x.seq, "seq")
        + cell(when(stamp(x.at), frame.lang), "at")
        + cell(x.actor, "actor")
        + cell(x.action, "action")
        + cell(short(x.details_json), "details")
        + "</tr>"
        for x in reversed(entries)  # newest first on the page
    ]
    links = []
    if entries and entries[0].seq > 1:
        older = max(0, entries[0].seq - 1 - AUDIT_PAGE)
        links.append(f'<a href="{frame.link("/audit", after=older)}">{e(frame.text("older"))}</a>')
    if entries and len(entries) == AUDIT_PAGE:
        links.append(
            f'<a href="{frame.link("/audit", after=entries[-1].seq)}">{e(frame.text("newer"))}</a>'
        )
    head = ["seq", "at", "actor", "action", "details"]
    body = (
        banner
        + table([e(frame.text(h)) for h in head], rows, css="audit")
        + f'<p class="pager">{" · ".join(links)}</p>'
    )
    return html(page(frame, frame.text("audit"), body, "audit"))


def short(details_json: str, limit: int = 160) -> str:
    try:
        text = json.dumps(json.loads(details_json), ensure_ascii=False, separators=(", ", ": "))
    except ValueError:
        text = details_json
    return text if len(text) <= limit else text[: limit - 1] + "…"
