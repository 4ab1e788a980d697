"""The branches: one sortable, paginated list (of 10,000 branches one page of 100 is rendered;
the sort needs every branch's forecast, which the admin API's Forecast gives in one call).
A page per branch is views_branch's."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from allocator.forecast import hours_until
from hq_server.web.app import frame_of, html, office_of
from hq_server.web.html import Frame, cell, e, page, raw_cell, table
from hq_server.web.i18n import count, when
from hq_server.web.views_common import (
    done_note,
    stamp,
)
from protos.einvoice.v1 import admin_pb2

PAGE_SIZE = 100
ONLINE_WITHIN = timedelta(minutes=2)  # agents report every 10 s by default
SORTS = ("ban", "name", "held", "burn", "hours", "last_report", "online", "quota", "booklets")
MAX_QUOTA = 100_000


@dataclass(frozen=True, slots=True)
class BranchRow:
    ban: str
    name: str
    enabled: bool
    held: int
    burn: float
    hours: float  # to empty, by the forecast (inf: not in sight)
    reason: str
    last_report: datetime | None
    online: bool
    per_request: int
    per_period: int
    booklets: int


def rows_of(
    branches: Sequence[admin_pb2.Branch],
    outlook: Sequence[admin_pb2.BranchForecast],
    now: datetime,
) -> list[BranchRow]:
    """A row per branch: its quota from ListBranches, its stock, burn and run-out from the
    forecast (summed over the pools it draws from; the earliest run-out)."""
    parts: dict[str, list[admin_pb2.BranchForecast]] = {}
    for f in outlook:
        parts.setdefault(f.branch_ban, []).append(f)
    rows = []
    for b in branches:
        mine = parts.get(b.ban, [])
        last = stamp(b.last_report, b.HasField("last_report"))
        ends = [(hours_until(stamp(f.current.at, f.current.HasField("at")), now), f) for f in mine]
        hours, first = min(ends, key=lambda item: item[0], default=(math.inf, None))
        rows.append(
            BranchRow(
                b.ban,
                b.name,
                b.enabled,
                sum(f.held for f in mine),
                sum(f.burn_per_hour for f in mine),
                hours,
                first.current.reason if first is not None else "never",
                last,
                last is not None and now - last <= ONLINE_WITHIN,
                b.quota.booklets_per_request,
                b.quota.booklets_per_period,
                sum(f.booklets_granted for f in mine),
            )
        )
    return rows


def sort_rows(rows: list[BranchRow], key: str, descending: bool) -> list[BranchRow]:
    def value(row: BranchRow) -> object:
        if key == "last_report":
            return row.last_report.timestamp() if row.last_report else -math.inf
        if key == "quota":
            return row.per_period
        if key == "burn":
            return row.burn
        return getattr(row, key)

    return sorted(rows, key=lambda r: (value(r), r.ban), reverse=descending)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/branches", branches_page)


async def branches_page(request: web.Request) -> web.StreamResponse:
    office, frame = office_of(request), frame_of(request)
    who = request["principal"]
    now = office.now()
    listed = await office.api.call(who, "ListBranches", admin_pb2.ListBranchesRequest())
    outlook = await office.api.call(who, "Forecast", admin_pb2.ForecastRequest(current_only=True))
    key = request.query.get("sort", "hours")
    key = key if key in SORTS else "hours"
    descending = request.query.get("dir", "asc") == "desc"
    wanted = request.query.get("q", "").strip().lower()
    rows = rows_of(listed.branches, outlook.branches, now)
    if wanted:
        rows = [r for r in rows if wanted in r.ban or wanted in r.name.lower()]
    rows = sort_rows(rows, key, descending)
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    number = min(max(1, int(request.query.get("page", "1") or 1)), pages)
    shown = rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    body = (
        done_note(request, frame)
        + search_form(frame, wanted, key, descending)
        + list_table(frame, shown, key, descending, wanted, number)
        + pager(frame, number, pages, len(rows), key, descending, wanted)
    )
    return html(page(frame, frame.text("branches"), body, "branches"))


def search_form(frame: Frame, wanted: str, key: str, descending: bool) -> str:
    return (
        f'<form method="get" action="/branches" class="search"><input type="search" name="q" '
        f'value="{e(wanted)}" placeholder="{e(frame.text("ban"))} / {e(frame.text("name"))}">'
        f'<input type="hidden" name="sort" value="{e(key)}">'
        f'<input type="hidden" name="dir" value="{"desc" if descending else "asc"}">'
        f"<button>{e(frame.text('search'))}</button></form>"
    )


COLUMNS = (
    ("ban", "ban"),
    ("name", "name"),
    ("held", "held"),
    ("burn", "burn"),
    ("hours", "hours_left"),
    ("last_report", "last_report"),
    ("online", "agent"),
    ("quota", "quota"),
    ("booklets", "booklets"),
)


def list_table(
    frame: Frame, rows: list[BranchRow], key: str, descending: bool, wanted: str, number: int
) -> str:
    heads = []
    for sort, label in COLUMNS:
        flip = "asc" if sort == key and descending else ("desc" if sort == key else "asc")
        arrow = (" ▼" if descending else " ▲") if sort == key else ""
        link = frame.link("/branches", sort=sort, dir=flip, q=wanted)
        heads.append(f'<a href="{link}" data-sort="{sort}">{e(frame.text(label))}{arrow}</a>')
    body = [row_html(frame, r) for r in rows]
    return table(heads, body, css="branches")


def row_html(frame: Frame, r: BranchRow) -> str:
    hours = "∞" if math.isinf(r.hours) else f"{r.hours:,.1f}"
    state = frame.text("online") if r.online else frame.text("offline")
    name = f'<a href="/branches/{e(r.ban)}">{e(r.name)}</a>'
    if not r.enabled:
        name += f' <span class="tag">{e(frame.text("disabled"))}</span>'
    return (
        f'<tr data-ban="{e(r.ban)}" class="{"off" if not r.enabled else ""}">'
        + raw_cell(f'<a href="/branches/{e(r.ban)}">{e(r.ban)}</a>', "ban")
        + raw_cell(name, "name")
        + cell(count(r.held), "held")
        + cell(f"{r.burn:,.1f}", "burn")
        + cell(hours, "hours", "low" if r.hours < 24 else "")
        + cell(when(r.last_report, frame.lang), "last_report")
        + cell(state, "online", "online" if r.online else "offline")
        + cell(f"{r.per_request} / {r.per_period}", "quota")
        + cell(r.booklets, "booklets")
        + "</tr>"
    )


def pager(
    frame: Frame, number: int, pages: int, total: int, key: str, descending: bool, wanted: str
) -> str:
    def link(n: int, label: str) -> str:
        target = frame.link(
            "/branches", sort=key, dir="desc" if descending else "asc", q=wanted, page=n
        )
        return f'<a href="{target}" rel="{label}">{e(frame.text(label))}</a>'

    parts = [f'<span data-k="page">{frame.text("page")} {number} / {pages}</span>']
    parts.append(f'<span data-k="total">{frame.text("total")} {total:,}</span>')
    if number > 1:
        parts.insert(0, link(number - 1, "prev"))
    if number < pages:
        parts.append(link(number + 1, "next"))
    return f'<p class="pager">{" · ".join(parts)}</p>'
