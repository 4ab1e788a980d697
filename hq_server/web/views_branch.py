"""A page per branch: its figures, its grants, its chart and forecast, and the operators'
edits (quota, enable / disable) behind a confirmation. A change reaches the agent at once:
the servicer wakes its config stream."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiohttp import web

from allocator import NotFound, Period
from allocator.forecast import hours_until
from hq_server.web import charts
from hq_server.web.app import Office, frame_of, html, office_of, redirect
from hq_server.web.html import Frame, cell, e, form, note, number_input, page, table
from hq_server.web.i18n import count, when
from hq_server.web.views_branches import MAX_QUOTA, ONLINE_WITHIN
from hq_server.web.views_common import (
    ask_text,
    confirm_page,
    confirmed,
    done_note,
    form_int,
    reason_text,
    run_out_text,
    stamp,
)
from protos.einvoice.v1 import admin_pb2, common_pb2
from runtime.principal import Principal


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/branches/{ban}", branch_page)
    router.add_post("/branches/{ban}/quota", set_quota)
    router.add_post("/branches/{ban}/enabled", set_enabled)


async def find_branch(office: Office, who: Principal, ban: str) -> admin_pb2.Branch:
    listed = await office.api.call(who, "ListBranches", admin_pb2.ListBranchesRequest())
    found = next((b for b in listed.branches if b.ban == ban), None)
    if found is None:
        raise NotFound(f"branch {ban[:8]} is not registered at this HQ")
    return found


async def branch_page(request: web.Request) -> web.StreamResponse:
    office, frame = office_of(request), frame_of(request)
    who = request["principal"]
    ban = request.match_info["ban"]
    now = office.now()
    period = Period.containing(now)
    ym = period.to_year_month()
    branch = await find_branch(office, who, ban)
    api = office.api
    usage = await api.call(who, "GetUsage", admin_pb2.GetUsageRequest(branch_ban=ban))
    grants = await api.call(
        who, "ListGrants", admin_pb2.ListGrantsRequest(branch_ban=ban, year_month=ym)
    )
    outlook = await api.call(who, "Forecast", admin_pb2.ForecastRequest(year_month=ym))
    mine = [b for b in outlook.branches if b.branch_ban == ban]
    types = sorted({g.invoice_type for g in grants.grants} | {b.invoice_type for b in mine}) or [
        common_pb2.INVOICE_TYPE_GENERAL
    ]
    u = usage.branches[0] if usage.branches else admin_pb2.BranchUsage()
    last = stamp(branch.last_report, branch.HasField("last_report"))
    online = last is not None and now - last <= ONLINE_WITHIN
    facts = [
        ("held", count(u.held)),
        ("burn", f"{u.burn_per_hour:,.1f}"),
        ("last_report", when(last, frame.lang)),
        ("agent", frame.text("online") if online else frame.text("offline")),
        ("quota", f"{branch.quota.booklets_per_request} / {branch.quota.booklets_per_period}"),
        ("booklets", f"{u.booklets_granted}"),
        ("issued", count(u.issued)),
        ("status", frame.text("enabled") if branch.enabled else frame.text("disabled")),
    ]
    parts = [
        done_note(request, frame),
        table(
            [e(frame.text(k)) for k, _ in facts],
            ["<tr>" + "".join(cell(v, k) for k, v in facts) + "</tr>"],
            css="figures",
        ),
    ]
    for kind in types:
        history = await api.call(
            who, "GetHistory", admin_pb2.GetHistoryRequest(branch_ban=ban, invoice_type=kind)
        )
        fc = next((b for b in mine if b.invoice_type == kind), None)
        parts.append(branch_chart(frame, history, fc, period, now))
        if fc is not None:
            parts.append(branch_forecast(frame, fc))
    parts.append(grants_table(frame, grants.grants))
    if api.allowed(who, "SetQuota"):
        parts.append(edit_forms(frame, branch))
    else:
        parts.append(note(frame.text("viewer_note")))
    title = f"{branch.name} ({branch.ban})"
    return html(page(frame, title, "".join(parts), "branches"))


def branch_chart(
    frame: Frame,
    history: admin_pb2.GetHistoryReply,
    fc: admin_pb2.BranchForecast | None,
    period: Period,
    now: datetime,
) -> str:
    issued = [(stamp(p.at), float(p.issued)) for p in history.points]
    held = [(stamp(p.at), float(p.held)) for p in history.points]
    lines = [
        charts.Line([(a, v) for a, v in held if a], "held", frame.text("held")),
        charts.Line([(a, v) for a, v in issued if a], "issued", frame.text("issued")),
    ]
    if fc is not None and lines[1].points:
        start = lines[1].points[-1]
        until = stamp(fc.current.at, fc.current.HasField("at"))
        reach = start[1] + fc.burn_per_hour * min(hours_until(until, now), 24 * 62)
        lines.append(
            charts.Line(
                charts.toward(start, until, period.end(), reach),
                "forecast",
                f"{frame.text('runs_out')} ({frame.text('current_burn')})",
            )
        )
    svg = charts.chart(
        lines,
        period.start(),
        period.end(),
        [charts.Mark(now, frame.text("now"), "now")],
        title=frame.text("issued_over_time"),
    )
    return f'<figure class="chart">{svg}</figure>'


def branch_forecast(frame: Frame, fc: admin_pb2.BranchForecast) -> str:
    rows = []
    for label, run, rate in (
        ("current_burn", fc.current, fc.burn_per_hour),
        ("seasonal_burn", fc.seasonal, fc.seasonal_per_hour),
    ):
        rows.append(
            "<tr>"
            + cell(frame.text(label))
            + cell(f"{rate:,.1f}", "burn")
            + cell(run_out_text(frame, run), "runs_out")
            + cell(reason_text(frame, run.reason), "reason")
            + cell(ask_text(frame, run), "ask_by")
            + "</tr>"
        )
    head = ["", "burn", "runs_out", "reason", "ask_mof_by"]
    return table([e(frame.text(h)) if h else "" for h in head], rows, css="forecast")


def grants_table(frame: Frame, grants: Sequence[admin_pb2.GrantState]) -> str:
    rows = []
    for g in grants:
        r = g.range
        rows.append(
            f'<tr data-grant="{e(g.grant_id)}">'
            + cell(f"{r.track}{r.begin:08d} – {r.track}{r.end:08d}", "range")
            + cell(g.booklets, "booklets")
            + cell(when(stamp(g.granted_at), frame.lang), "granted_at")
            + cell(count(g.issued), "issued")
            + cell(count(g.skipped), "blank")
            + cell(f"{r.track}{g.next_number:08d}", "next_number")
            + cell(frame.text("final") if g.final else "", "final")
            + "</tr>"
        )
    head = ["range", "booklets", "granted_at", "issued", "blank", "next_number", "final"]
    return table([e(frame.text(h)) for h in head], rows, css="grants", caption=frame.text("grants"))


def edit_forms(frame: Frame, branch: admin_pb2.Branch) -> str:
    quota = form(
        f"/branches/{branch.ban}/quota",
        frame,
        number_input("per_request", frame.text("per_request"), branch.quota.booklets_per_request, 1)
        + number_input("per_period", frame.text("per_period"), branch.quota.booklets_per_period),
        frame.text("set_quota"),
        name="quota",
    )
    toggle = form(
        f"/branches/{branch.ban}/enabled",
        frame,
        "",
        frame.text("disable") if branch.enabled else frame.text("enable"),
        {"enabled": "no" if branch.enabled else "yes"},
        name="enabled",
    )
    return f'<section class="edits">{quota}{toggle}</section>'


async def set_quota(request: web.Request) -> web.StreamResponse:
    office, frame = office_of(request), frame_of(request)
    who = request["principal"]
    ban = request.match_info["ban"]
    per_request = form_int(request, "per_request", 1, MAX_QUOTA)
    per_period = form_int(request, "per_period", 0, MAX_QUOTA)
    change = admin_pb2.SetQuotaRequest(
        ban=ban,
        quota=common_pb2.Quota(booklets_per_request=per_request, booklets_per_period=per_period),
    )
    office.api.may(who, "SetQuota", change)
    if not confirmed(request):
        branch = await find_branch(office, who, ban)
        old = branch.quota
        return confirm_page(
            frame,
            f"/branches/{ban}/quota",
            f"{branch.name} ({ban})",
            [
                (frame.text("per_request"), str(old.booklets_per_request), str(per_request)),
                (frame.text("per_period"), str(old.booklets_per_period), str(per_period)),
            ],
            {"per_request": per_request, "per_period": per_period},
            f"/branches/{ban}",
        )
    await office.api.call(who, "SetQuota", change)
    return redirect(f"/branches/{ban}?done=1")


async def set_enabled(request: web.Request) -> web.StreamResponse:
    office, frame = office_of(request), frame_of(request)
    who = request["principal"]
    ban = request.match_info["ban"]
    enable = request["form"].get("enabled") == "yes"
    method = "EnableBranch" if enable else "DisableBranch"
    change = (
        admin_pb2.EnableBranchRequest(ban=ban)
        if enable
        else admin_pb2.DisableBranchRequest(ban=ban)
    )
    office.api.may(who, method, change)
    if not confirmed(request):
        branch = await find_branch(office, who, ban)
        state = {True: frame.text("enabled"), False: frame.text("disabled")}
        return confirm_page(
            frame,
            f"/branches/{ban}/enabled",
            f"{branch.name} ({ban})",
            [(frame.text("status"), state[branch.enabled], state[enable])],
            {"enabled": "yes" if enable else "no"},
            f"/branches/{ban}",
        )
    await office.api.call(who, method, change)
    return redirect(f"/branches/{ban}?done=1")
