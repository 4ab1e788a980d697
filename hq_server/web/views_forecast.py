"""Forecast and what-if: when each pool and branch runs out, at the current and the seasonal
burn, against the MOF's lead time and cut-off; a what-if of a quota change or of moving quota
between branches shows who runs out when before anything changes, and an operator applies it
with one click (SetQuota for each branch it changes, each audited)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web

from allocator import InvalidInput, Period
from hq_server.web.app import frame_of, html, office_of, redirect
from hq_server.web.html import Frame, cell, e, form, note, page, table
from hq_server.web.i18n import count, when
from hq_server.web.views_common import ask_text, done_note, reason_text, run_out_text, stamp
from hq_server.web.views_pools import TYPE_CODE
from protos.einvoice.v1 import admin_pb2, common_pb2

SHOWN = 100
FAR = 10**12


@dataclass(frozen=True, slots=True)
class Tried:
    """The what-if of the query string (or form): quota changes and moves."""

    quotas: tuple[tuple[str, int], ...] = ()
    moves: tuple[tuple[str, str, int], ...] = ()

    @property
    def empty(self) -> bool:
        return not self.quotas and not self.moves

    def request(self, year_month: str) -> admin_pb2.ForecastRequest:
        return admin_pb2.ForecastRequest(
            year_month=year_month,
            quota_changes=[
                admin_pb2.QuotaChange(ban=b, booklets_per_period=q) for b, q in self.quotas
            ],
            moves=[
                admin_pb2.BookletMove(from_ban=a, to_ban=b, booklets=n) for a, b, n in self.moves
            ],
        )

    def fields(self) -> dict[str, object]:
        found: dict[str, object] = {}
        if self.quotas:
            found |= {"quota_ban": self.quotas[0][0], "quota": self.quotas[0][1]}
        if self.moves:
            giver, taker, n = self.moves[0]
            found |= {"move_from": giver, "move_to": taker, "move_n": n}
        return found


def tried_of(values: object) -> Tried:
    get = values.get  # type: ignore[attr-defined]
    quotas: tuple[tuple[str, int], ...] = ()
    moves: tuple[tuple[str, str, int], ...] = ()
    if str(get("quota_ban", "")).strip():
        quotas = ((str(get("quota_ban")).strip(), whole(get("quota", ""), "quota")),)
    if str(get("move_from", "")).strip() or str(get("move_to", "")).strip():
        moves = (
            (
                str(get("move_from", "")).strip(),
                str(get("move_to", "")).strip(),
                whole(get("move_n", ""), "booklets"),
            ),
        )
    return Tried(quotas, moves)


def whole(text: object, name: str) -> int:
    value = str(text).strip()
    if not value.isdigit() or int(value) > 100_000:
        raise InvalidInput(f"{name} must be a whole number from 0 to 100000")
    return int(value)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/forecast", forecast_page)
    router.add_post("/forecast/apply", apply)


async def forecast_page(request: web.Request) -> web.StreamResponse:
    office, frame = office_of(request), frame_of(request)
    who = request["principal"]
    now = office.now()
    ym = Period.containing(now).to_year_month()
    tried = tried_of(request.query)
    base = await office.api.call(who, "Forecast", admin_pb2.ForecastRequest(year_month=ym))
    parts = [done_note(request, frame), note(frame.text("mof_note"))]
    parts.append(pools_table(frame, base.pools))
    parts.append(what_if_forms(frame, tried))
    if not tried.empty:
        after = await office.api.call(who, "Forecast", tried.request(ym))
        parts.append(preview(frame, base, after, tried, office.api.allowed(who, "SetQuota")))
    parts.append(branches_table(frame, base.branches))
    return html(page(frame, frame.text("forecast"), "".join(parts), "forecast"))


def pools_table(frame: Frame, pools: Sequence[admin_pb2.PoolForecast]) -> str:
    rows = [
        f'<tr data-pool="{e(p.year_month)}-{TYPE_CODE[p.invoice_type]}">'
        + cell(f"{p.year_month} · {TYPE_CODE[p.invoice_type]}")
        + cell(count(p.free), "free")
        + cell(f"{p.burn_per_hour:,.1f}", "burn")
        + cell(run_out_text(frame, p.current), "runs_out")
        + cell(ask_text(frame, p.current), "ask_by")
        + cell(run_out_text(frame, p.seasonal), "runs_out_seasonal")
        + cell(ask_text(frame, p.seasonal), "ask_by_seasonal")
        + cell(when(stamp(p.mof_cutoff), frame.lang), "cutoff")
        + "</tr>"
        for p in pools
    ]
    head = [
        "pools",
        "free",
        "burn",
        "runs_out",
        "ask_mof_by",
        "runs_out_seasonal",
        "ask_mof_by",
        "mof_cutoff",
    ]
    return table([e(frame.text(h)) for h in head], rows, css="forecast pools")


def soonest(b: admin_pb2.BranchForecast) -> tuple[int, str]:
    return (b.current.at.seconds if b.current.HasField("at") else FAR, b.branch_ban)


def branches_table(frame: Frame, branches: Sequence[admin_pb2.BranchForecast]) -> str:
    ordered = sorted(branches, key=soonest)[:SHOWN]
    rows = [branch_row(frame, b) for b in ordered]
    head = ["ban", "held", "quota", "burn", "runs_out", "reason", "runs_out_seasonal", "ask_mof_by"]
    caption = (
        f"{frame.text('branches')} ({min(len(branches), SHOWN)} {frame.text('of')} {len(branches)})"
    )
    return table([e(frame.text(h)) for h in head], rows, css="forecast branches", caption=caption)


def branch_row(frame: Frame, b: admin_pb2.BranchForecast) -> str:
    return (
        f'<tr data-ban="{e(b.branch_ban)}">'
        + f'<td data-k="ban"><a href="/branches/{e(b.branch_ban)}">{e(b.branch_ban)}</a></td>'
        + cell(count(b.held), "held")
        + cell(f"{b.booklets_per_period}", "quota")
        + cell(f"{b.burn_per_hour:,.1f}", "burn")
        + cell(run_out_text(frame, b.current), "runs_out")
        + cell(reason_text(frame, b.current.reason), "reason")
        + cell(run_out_text(frame, b.seasonal), "runs_out_seasonal")
        + cell(ask_text(frame, b.current), "ask_by")
        + "</tr>"
    )


def what_if_forms(frame: Frame, tried: Tried) -> str:
    quota_ban, quota = tried.quotas[0] if tried.quotas else ("", "")
    giver, taker, n = tried.moves[0] if tried.moves else ("", "", "")

    def box(name: str, label: str, value: object, kind: str = "text") -> str:
        return (
            f'<label>{e(label)} <input type="{kind}" name="{name}" value="{e(value)}" '
            f"{'min=0 ' if kind == 'number' else ''}required></label>"
        )

    quota_form = (
        '<form method="get" action="/forecast" name="what_if_quota">'
        f"<h3>{e(frame.text('what_if_quota'))}</h3>"
        + box("quota_ban", frame.text("ban"), quota_ban)
        + box("quota", frame.text("per_period"), quota, "number")
        + f"<button>{e(frame.text('preview'))}</button></form>"
    )
    move_form = (
        '<form method="get" action="/forecast" name="what_if_move">'
        f"<h3>{e(frame.text('what_if_move'))}</h3>"
        + box("move_from", frame.text("from_branch"), giver)
        + box("move_to", frame.text("to_branch"), taker)
        + box("move_n", frame.text("booklets"), n, "number")
        + f"<button>{e(frame.text('preview'))}</button></form>"
    )
    title = e(frame.text("what_if"))
    return f'<section class="what-if"><h2>{title}</h2>{quota_form}{move_form}</section>'


def preview(
    frame: Frame,
    base: admin_pb2.ForecastReply,
    after: admin_pb2.ForecastReply,
    tried: Tried,
    may_apply: bool,
) -> str:
    before = {(b.branch_ban, b.invoice_type): b for b in base.branches}
    rows = []
    for b in sorted(after.branches, key=soonest):
        old = before.get((b.branch_ban, b.invoice_type))
        if old is None or (not b.changed and old.current == b.current):
            continue
        rows.append(
            f'<tr data-ban="{e(b.branch_ban)}" class="changed">'
            + cell(b.branch_ban, "ban")
            + cell(f"{old.booklets_per_period} → {b.booklets_per_period}", "quota")
            + cell(run_out_text(frame, old.current), "before")
            + cell(run_out_text(frame, b.current), "after")
            + cell(reason_text(frame, b.current.reason), "reason")
            + "</tr>"
        )
    pools_before = {p.invoice_type: p for p in base.pools}
    for p in after.pools:
        old_pool = pools_before.get(p.invoice_type)
        if old_pool is None:
            continue
        rows.append(
            f'<tr data-pool="{e(p.year_month)}-{TYPE_CODE[p.invoice_type]}">'
            + cell(f"{frame.text('pools')} {p.year_month} · {TYPE_CODE[p.invoice_type]}")
            + cell("")
            + cell(run_out_text(frame, old_pool.current), "before")
            + cell(run_out_text(frame, p.current), "after")
            + cell(ask_text(frame, p.current), "ask_by")
            + "</tr>"
        )
    head = ["ban", "quota", "before", "after", "reason"]
    body = table(
        [e(frame.text(h)) for h in head], rows, css="preview", caption=frame.text("who_changes")
    )
    body += note(frame.text("preview_note"), "note preview-note")
    if may_apply:
        body += form(
            "/forecast/apply",
            frame,
            "",
            frame.text("apply"),
            tried.fields(),
            css="apply",
            name="apply",
        )
    else:
        body += note(frame.text("viewer_note"))
    return (
        f'<section class="preview" id="preview"><h2>{e(frame.text("preview"))}</h2>{body}</section>'
    )


async def apply(request: web.Request) -> web.StreamResponse:
    """SetQuota for every branch the what-if changes (per request kept), each audited."""
    office = office_of(request)
    who = request["principal"]
    tried = tried_of(request["form"])
    if tried.empty:
        raise InvalidInput("nothing to apply: preview a what-if first")
    listed = await office.api.call(who, "ListBranches", admin_pb2.ListBranchesRequest())
    quotas = {b.ban: b.quota for b in listed.branches}
    targets: dict[str, int] = {}
    for ban, per_period in tried.quotas:
        targets[ban] = per_period
    for giver, taker, n in tried.moves:
        if giver == taker:
            raise InvalidInput("a move takes booklets from one branch for another one")
        for ban in (giver, taker):
            if ban not in quotas:
                raise InvalidInput(f"branch {ban[:8]!r} is not registered at this HQ")
        targets[giver] = max(0, targets.get(giver, quotas[giver].booklets_per_period) - n)
        targets[taker] = targets.get(taker, quotas[taker].booklets_per_period) + n
    changes = []
    for ban, per_period in targets.items():
        if ban not in quotas:
            raise InvalidInput(f"branch {ban[:8]!r} is not registered at this HQ")
        change = admin_pb2.SetQuotaRequest(
            ban=ban,
            quota=common_pb2.Quota(
                booklets_per_request=quotas[ban].booklets_per_request,
                booklets_per_period=per_period,
            ),
        )
        office.api.may(who, "SetQuota", change)
        changes.append(change)
    for change in changes:  # all were allowed and valid: now make them
        await office.api.call(who, "SetQuota", change)
    return redirect("/forecast?done=1")
