"""The pools page: per period and invoice type, assigned / granted / issued / blank / free,
the chart of numbers over time with the pool's forecast, and each range's status (operators
change it after a confirmation)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from allocator import NotFound, Period, RangeStatus
from allocator.forecast import order_cutoff
from hq_server.web import charts
from hq_server.web.app import frame_of, html, office_of, redirect
from hq_server.web.html import Frame, cell, e, form, note, page, table
from hq_server.web.i18n import booklets, count, when
from hq_server.web.views_common import (
    ask_text,
    confirm_page,
    confirmed,
    done_note,
    period_of,
    run_out_text,
    stamp,
)
from protos.einvoice.v1 import admin_pb2, common_pb2
from runtime.messages import STATUS_TO_PB

STATUS_FROM_PB = {code: status for status, code in STATUS_TO_PB.items()}
TYPE_CODE = {common_pb2.INVOICE_TYPE_GENERAL: "07", common_pb2.INVOICE_TYPE_SPECIAL: "08"}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/pools", pools_page)
    router.add_post("/ranges/{id}/status", range_status)


async def pools_page(request: web.Request) -> web.StreamResponse:
    office, frame = office_of(request), frame_of(request)
    who = request["principal"]
    now = office.now()
    period = period_of(request, now)
    ym = period.to_year_month()
    api = office.api
    pools = await api.call(who, "ListPools", admin_pb2.ListPoolsRequest(year_month=ym))
    tracks = await api.call(who, "Reconcile", admin_pb2.ReconcileRequest(year_month=ym))
    current = period.contains(now)
    outlook = (
        await api.call(who, "Forecast", admin_pb2.ForecastRequest(year_month=ym))
        if current
        else None
    )
    may_change = api.allowed(who, "SetRangeStatus")
    parts = [done_note(request, frame), period_links(frame, period)]
    if not may_change:
        parts.append(note(frame.text("viewer_note")))
    if not pools.pools:
        parts.append(note("—"))
    for pool in pools.pools:
        code = TYPE_CODE[pool.invoice_type]
        issued = sum(t.issued for t in tracks.tracks if t.invoice_type == pool.invoice_type)
        blank = sum(t.blank for t in tracks.tracks if t.invoice_type == pool.invoice_type)
        forecast = (
            next((p for p in outlook.pools if p.invoice_type == pool.invoice_type), None)
            if outlook
            else None
        )
        history = await api.call(
            who,
            "GetHistory",
            admin_pb2.GetHistoryRequest(year_month=ym, invoice_type=pool.invoice_type),
        )
        parts.append(
            pool_section(frame, pool, code, issued, blank, forecast, history, period, now)
            + ranges_table(frame, pool, may_change)
        )
    return html(page(frame, frame.text("pools"), "".join(parts), "pools"))


def period_links(frame: Frame, period: Period) -> str:
    prev, nxt = period.previous().to_year_month(), period.next().to_year_month()
    return (
        f'<p class="periods">{e(frame.text("period"))} <strong data-k="period">'
        f"{e(period.to_year_month())}</strong> ({when(period.start(), frame.lang)[:10]} – "
        f"{when(period.end(), frame.lang)[:10]}) · "
        f'<a href="{frame.link("/pools", period=prev)}">{e(prev)}</a> · '
        f'<a href="{frame.link("/pools", period=nxt)}">{e(nxt)}</a></p>'
    )


def pool_section(
    frame: Frame,
    pool: admin_pb2.Pool,
    code: str,
    issued: int,
    blank: int,
    forecast: admin_pb2.PoolForecast | None,
    history: admin_pb2.GetHistoryReply,
    period: Period,
    now: datetime,
) -> str:
    figures = [
        ("assigned", pool.assigned),
        ("granted", pool.granted),
        ("issued", issued),
        ("blank", blank),
        ("free", pool.free),
    ]
    head = [e(frame.text(k)) for k, _ in figures]
    row = "".join(
        f'<td data-k="{k}" data-numbers="{v}">{booklets(v)} {e(frame.text("booklets"))}'
        f"<small>{count(v)} {e(frame.text('numbers'))}</small></td>"
        for k, v in figures
    )
    state = frame.text("closed") if pool.closed else frame.text("open")
    title = f"{pool.year_month} · {code} · {state}"
    body = table(head, [f"<tr>{row}</tr>"], css="figures")
    body += chart_of(frame, pool, history, forecast, period, now)
    if forecast is not None:
        body += forecast_table(frame, forecast)
    key = f"{pool.year_month}-{code}"
    return f'<section class="pool" data-pool="{e(key)}"><h2>{e(title)}</h2>{body}</section>'


def chart_of(
    frame: Frame,
    pool: admin_pb2.Pool,
    history: admin_pb2.GetHistoryReply,
    forecast: admin_pb2.PoolForecast | None,
    period: Period,
    now: datetime,
) -> str:
    points = [(stamp(p.at), p) for p in history.points]
    issued = [(at, float(p.issued)) for at, p in points if at]
    granted = [(at, float(p.held)) for at, p in points if at]
    lines = [
        charts.Line(granted, "held", frame.text("granted")),
        charts.Line(issued, "issued", frame.text("issued")),
    ]
    if forecast is not None and granted:
        run = forecast.current
        until = stamp(run.at, run.HasField("at"))
        lines.append(
            charts.Line(
                charts.toward(granted[-1], until, period.end(), float(pool.assigned)),
                "forecast",
                f"{frame.text('runs_out')} ({frame.text('current_burn')})",
            )
        )
        season = stamp(forecast.seasonal.at, forecast.seasonal.HasField("at"))
        lines.append(
            charts.Line(
                charts.toward(granted[-1], season, period.end(), float(pool.assigned)),
                "seasonal",
                f"{frame.text('runs_out')} ({frame.text('seasonal_burn')})",
            )
        )
    marks = [
        charts.Mark(now, frame.text("now"), "now"),
        charts.Mark(order_cutoff(period), frame.text("mof_cutoff"), "cutoff"),
    ]
    svg = charts.chart(
        lines,
        period.start(),
        period.end(),
        marks,
        ceiling=float(pool.assigned),
        ceiling_label=frame.text("assigned"),
        title=frame.text("issued_over_time"),
    )
    caption = e(frame.text("history_note"))
    return f'<figure class="chart">{svg}<figcaption>{caption}</figcaption></figure>'


def forecast_table(frame: Frame, forecast: admin_pb2.PoolForecast) -> str:
    rows = [
        "<tr>"
        + cell(frame.text("current_burn"))
        + cell(f"{forecast.burn_per_hour:,.1f}", "burn")
        + cell(run_out_text(frame, forecast.current), "runs_out")
        + cell(ask_text(frame, forecast.current), "ask_by")
        + "</tr>",
        "<tr>"
        + cell(frame.text("seasonal_burn"))
        + cell("")
        + cell(run_out_text(frame, forecast.seasonal), "runs_out_seasonal")
        + cell(ask_text(frame, forecast.seasonal), "ask_by_seasonal")
        + "</tr>",
    ]
    head = ["", frame.text("burn"), frame.text("runs_out"), frame.text("ask_mof_by")]
    cutoff = when(stamp(forecast.mof_cutoff), frame.lang)
    extra = "" if forecast.seasonal_known else note(frame.text("seasonal_unknown"))
    return (
        table([e(h) for h in head], rows, css="forecast")
        + note(f"{frame.text('mof_cutoff')}: {cutoff}. {frame.text('mof_note')}")
        + extra
    )


def ranges_table(frame: Frame, pool: admin_pb2.Pool, may_change: bool) -> str:
    rows = []
    for a in pool.assignments:
        status = STATUS_FROM_PB[a.status].value
        r = a.range
        text = f"{r.track}{r.begin:08d} – {r.track}{r.end:08d}"
        control = ""
        if may_change:
            options = "".join(
                f'<option value="{s.value}"{" selected" if s.value == status else ""}>'
                f"{e(frame.text(s.value))}</option>"
                for s in RangeStatus
            )
            control = form(
                f"/ranges/{a.assignment_id}/status",
                frame,
                f'<select name="status">{options}</select>',
                frame.text("change"),
                css="inline",
            )
        rows.append(
            f'<tr data-range="{a.assignment_id}">'
            + cell(text)
            + cell(f"{a.booklets:,}", "booklets")
            + cell(frame.text(status), "status")
            + cell(booklets(a.granted), "granted")
            + cell(booklets(a.free), "free")
            + f"<td>{control}</td></tr>"
        )
    head = [frame.text(k) for k in ("range", "booklets", "status", "granted", "free")] + [""]
    return table([e(h) for h in head], rows, css="ranges", caption=frame.text("ranges"))


async def range_status(request: web.Request) -> web.StreamResponse:
    office, frame = office_of(request), frame_of(request)
    who = request["principal"]
    assignment_id = int(request.match_info["id"])
    status = RangeStatus(str(request["form"].get("status", "")))
    change = admin_pb2.SetRangeStatusRequest(
        assignment_id=assignment_id, status=STATUS_TO_PB[status]
    )
    office.api.may(who, "SetRangeStatus", change)
    if not confirmed(request):
        pools = await office.api.call(who, "ListPools", admin_pb2.ListPoolsRequest())
        found = next(
            (a for p in pools.pools for a in p.assignments if a.assignment_id == assignment_id),
            None,
        )
        if found is None:
            raise NotFound(f"no range with id {assignment_id}")
        r = found.range
        what = f"{r.track}{r.begin:08d} – {r.track}{r.end:08d} ({found.year_month})"
        old = frame.text(STATUS_FROM_PB[found.status].value)
        return confirm_page(
            frame,
            f"/ranges/{assignment_id}/status",
            what,
            [(frame.text("status"), old, frame.text(status.value))],
            {"status": status.value},
            f"/pools?period={found.year_month}",
        )
    reply = await office.api.call(who, "SetRangeStatus", change)
    return redirect(f"/pools?period={reply.year_month}&done=1")
