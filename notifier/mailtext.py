"""Mail text: Traditional Chinese first, then English, in one plain-text mail.

Each kind carries the figures a person acts on (branch BAN and name, track, remaining numbers,
burn rate, forecast run-out in Taipei time) and what to do about it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from allocator import TAIPEI
from notifier.model import Fact, Kind

MISSING = "—"


@dataclass(frozen=True, slots=True)
class KindText:
    zh_title: str
    en_title: str
    tail: str  # names what the alert is about, in the subject
    zh_lines: tuple[str, ...]
    en_lines: tuple[str, ...]
    zh_todo: str
    en_todo: str


_BRANCH_ZH = "分店：{name}（統一編號 {ban}）"
_BRANCH_EN = "Branch: {name} (BAN {ban})"
_POOL_ZH = "期別：{year_month}，發票類別：{type_zh}"
_POOL_EN = "Period: {year_month}, invoice type: {type_en}"

TEXTS: Mapping[Kind, KindText] = {
    Kind.POOL_LOW: KindText(
        "總公司配號池即將用完",
        "HQ number pool running low",
        "{year_month} {invoice_type}",
        (
            _POOL_ZH,
            "可配號碼：{free} 張（字軌 {tracks}）；暫停或停用的區間另有 {free_held_back} 張",
            "各分店合計用量：每小時 {burn_per_hour} 張",
            "預計用完：{runout_at}（約 {days_left} 天後；門檻 {threshold_days} 天）",
            "本期結束：{period_end}",
        ),
        (
            _POOL_EN,
            "Free numbers: {free} (tracks {tracks}); {free_held_back} more in paused or "
            "disabled ranges",
            "All branches together use {burn_per_hour} numbers an hour",
            "Forecast to run out: {runout_at} (in about {days_left} days; threshold "
            "{threshold_days} days)",
            "Period ends: {period_end}",
        ),
        "向財政部申請更多字軌號碼並匯入（einv-admin import-e0501 E0501.xml），"
        "或重新啟用暫停的區間。",
        "Obtain more tracks from the MOF and import them (einv-admin import-e0501 E0501.xml), or "
        "re-enable a paused range.",
    ),
    Kind.BRANCH_STUCK: KindText(
        "分店無法補號",
        "Branch cannot be refilled",
        "{ban} {name}",
        (
            _BRANCH_ZH,
            _POOL_ZH,
            "原因：{reason_zh}",
            "分店剩餘號碼：{held} 張（字軌 {track}；低水位 {low_water_count} 張）",
            "本期已配：{booklets} 本，配額 {booklets_per_period} 本",
            "分店用量：每小時 {burn_per_hour} 張；預計用完：{runout_at}",
            "總公司可配號碼：{pool_free} 張",
        ),
        (
            _BRANCH_EN,
            _POOL_EN,
            "Reason: {reason_en}",
            "Numbers left at the branch: {held} (track {track}; low-water mark {low_water_count})",
            "Granted this period: {booklets} booklets of a quota of {booklets_per_period}",
            "Branch use: {burn_per_hour} numbers an hour; forecast to run out: {runout_at}",
            "Free numbers at HQ: {pool_free}",
        ),
        "{todo_zh}",
        "{todo_en}",
    ),
    Kind.BRANCH_SILENT: KindText(
        "分店失去聯繫",
        "Branch silent",
        "{ban} {name}",
        (
            _BRANCH_ZH,
            "最後聯繫：{last_heard}（{silent_minutes} 分鐘前；門檻 {threshold_minutes} 分鐘）",
            "分店持有未用號碼：{held} 張",
        ),
        (
            _BRANCH_EN,
            "Last heard from: {last_heard} ({silent_minutes} minutes ago; threshold "
            "{threshold_minutes} minutes)",
            "Unused numbers held by the branch: {held}",
        ),
        "檢查門市代理程式（einv-agent）是否執行中、能否連到總公司；門市若已停業，請停用分店。",
        "Check that the store's agent (einv-agent) runs and can reach HQ; if the store has "
        "closed, disable the branch.",
    ),
    Kind.CLOCK_SKEW: KindText(
        "分店時鐘偏差",
        "Branch clock is off",
        "{ban} {name}",
        (
            _BRANCH_ZH,
            "代理程式時間：{agent_time}；總公司時間：{report_at}",
            "偏差：{skew_seconds} 秒（門檻 {threshold_seconds} 秒）",
        ),
        (
            _BRANCH_EN,
            "Agent clock: {agent_time}; HQ clock: {report_at}",
            "Off by {skew_seconds} seconds (threshold {threshold_seconds} seconds)",
        ),
        "校正門市電腦時間（啟用 NTP 校時）：期別交界時，時鐘不準可能開出錯誤期別的發票號碼。",
        "Fix the store computer's clock (enable NTP): near a period boundary a wrong clock can "
        "issue a number of the wrong period.",
    ),
    Kind.PERIOD_NOT_IMPORTED: KindText(
        "字軌號碼尚未匯入",
        "Period's ranges not imported",
        "{year_month} {invoice_type}",
        (_POOL_ZH, "期別開始：{starts_at}（{days_left} 天後；負數表示已開始）"),
        (_POOL_EN, "Period starts: {starts_at} (in {days_left} days; negative: already started)"),
        "在財政部電子發票整合服務平台取號，下載 E0501 後匯入"
        "（einv-admin import-e0501 E0501.xml）。",
        "Request the period's tracks on the MOF e-invoice platform, download the E0501 and "
        "import it (einv-admin import-e0501 E0501.xml).",
    ),
    Kind.E0402_DUE: KindText(
        "空白未使用字軌（E0402）尚未確認",
        "Blank-number report (E0402) not confirmed",
        "{year_month} {invoice_type}",
        (
            _POOL_ZH,
            "申報期限：{deadline}（剩 {days_left} 天；負數表示已逾期）",
            "目前狀態：{state_zh} {detail}",
        ),
        (
            _POOL_EN,
            "Deadline: {deadline} ({days_left} days left; negative: overdue)",
            "Status: {state_en} {detail}",
        ),
        "關帳並產生、上傳 E0402（einv-admin reports E0402 --period {year_month}），"
        "確認 Turnkey 回報成功。逾期未申報可處新臺幣 1,500 至 15,000 元罰鍰。",
        "Close the period and hand its E0402 to Turnkey "
        "(einv-admin reports E0402 --period {year_month}), and check that Turnkey reports "
        "success. A late report can be fined NT$1,500 to 15,000.",
    ),
    Kind.E0402_FAILED: KindText(
        "E0402 上傳失敗",
        "E0402 failed at Turnkey",
        "{year_month} {invoice_type}",
        (_POOL_ZH, "申報期限：{deadline}（剩 {days_left} 天）", "錯誤：{detail}"),
        (_POOL_EN, "Deadline: {deadline} ({days_left} days left)", "Error: {detail}"),
        "查看 Turnkey 的錯誤訊息，修正後於期限前重新上傳。",
        "Read the Turnkey error, correct it and upload again before the deadline.",
    ),
    Kind.E0402_HELD_BACK: KindText(
        "分店未列入 E0402",
        "Branch held back from the E0402",
        "{ban} {name}",
        (_BRANCH_ZH, _POOL_ZH, "原因：{reason}"),
        (_BRANCH_EN, _POOL_EN, "Reason: {reason}"),
        "請門市代理程式上線並回報最後用量，或由總公司確認後重新產生 E0402。",
        "Bring the store's agent online so it reports its final usage, or confirm at HQ, then "
        "generate the E0402 again.",
    ),
}

REASONS = {
    "pool_empty": ("總公司配號池已無可配本數", "the HQ pool has no free booklet left"),
    "quota_reached": ("本期配額已用完", "the branch has used its booklet quota for the period"),
    "ranges_paused": (
        "剩餘號碼都在暫停或停用的區間",
        "the numbers left are all in paused or disabled ranges",
    ),
    "not_imported": ("本期字軌尚未匯入", "no MOF ranges are imported for this period"),
}
ACTIONS = {
    "pool_empty": (
        "匯入更多財政部配號（einv-admin import-e0501 E0501.xml）。",
        "Import more MOF ranges (einv-admin import-e0501 E0501.xml).",
    ),
    "quota_reached": (
        "提高分店本期配額（einv-admin quota-set BAN）。",
        "Raise the branch's quota for the period (einv-admin quota-set BAN).",
    ),
    "ranges_paused": (
        "重新啟用區間（einv-admin range-status ID enabled）或匯入新區間。",
        "Re-enable a range (einv-admin range-status ID enabled) or import a new one.",
    ),
    "not_imported": (
        "匯入本期配號（einv-admin import-e0501 E0501.xml）。",
        "Import this period's ranges (einv-admin import-e0501 E0501.xml).",
    ),
}
STATES = {
    "not_closed": ("總公司尚未關帳", "the period is not closed at HQ"),
    "closed": ("已關帳，尚未確認財政部已接收", "closed; MOF receipt not confirmed"),
    "submitted": ("已交 Turnkey，尚無結果", "handed to Turnkey, no result yet"),
    "failed": ("Turnkey 回報錯誤", "failed at Turnkey"),
}
TYPES = {"07": ("07 一般稅額", "07 general tax"), "08": ("08 特種稅額", "08 special tax")}
DATETIME_FACTS = {
    "runout_at",
    "period_end",
    "last_heard",
    "agent_time",
    "report_at",
    "starts_at",
    "deadline",
}


class _View(dict[str, str]):
    """Facts as display text; a fact that is missing or unknown shows as a dash."""

    def __missing__(self, key: str) -> str:
        return MISSING


def when(value: str | datetime | None) -> str:
    """An instant in Taipei time, to the minute."""
    if value is None:
        return MISSING
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return instant.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M") + " (UTC+8)"


def display(facts: Mapping[str, Fact]) -> _View:
    view = _View()
    for key, value in facts.items():
        if key in DATETIME_FACTS:
            view[key] = when(value if isinstance(value, str) else None)
        elif value is None or value == "":
            view[key] = MISSING
        elif isinstance(value, int | float) and not isinstance(value, bool):
            view[key] = f"{value:,}"
        else:
            view[key] = str(value)
    type_zh, type_en = TYPES.get(str(facts.get("invoice_type")), (MISSING, MISSING))
    view["type_zh"], view["type_en"] = type_zh, type_en
    reason = str(facts.get("reason", ""))
    view["reason_zh"], view["reason_en"] = REASONS.get(reason, (view["reason"],) * 2)
    view["todo_zh"], view["todo_en"] = ACTIONS.get(reason, (MISSING, MISSING))
    state = str(facts.get("state", ""))
    view["state_zh"], view["state_en"] = STATES.get(state, (view["state"],) * 2)
    if view["detail"] == MISSING:
        view["detail"] = ""
    return view


@dataclass(frozen=True, slots=True)
class Occasion:
    """Which mail of a condition this is."""

    event: str  # open | reminder | resolved
    key: str
    first_seen: datetime
    number: int = 0  # the reminder's count
    resolved_at: datetime | None = None


def event_labels(occasion: Occasion) -> tuple[str, str]:
    if occasion.event == "reminder":
        return f"提醒（第 {occasion.number} 次）", f"Reminder #{occasion.number}"
    if occasion.event == "resolved":
        return "已解除", "Resolved"
    return "新警示", "New alert"


def subject_of(kind: Kind, facts: Mapping[str, Fact], occasion: Occasion) -> str:
    text, view = TEXTS[kind], display(facts)
    zh, en = event_labels(occasion)
    tail = text.tail.format_map(view)
    return f"[einv] {zh}：{text.zh_title} / {en}: {text.en_title} — {tail}"


def render(kind: Kind, facts: Mapping[str, Fact], occasion: Occasion) -> tuple[str, str]:
    """(subject, body) of one mail about a condition."""
    text, view = TEXTS[kind], display(facts)
    zh_event, en_event = event_labels(occasion)
    zh = [f"{zh_event}：{text.zh_title}", ""]
    en = [f"{en_event}: {text.en_title}", ""]
    if occasion.event == "resolved":
        zh.append(f"此狀況已於 {when(occasion.resolved_at)} 解除；以下是最後一次看到的數字。")
        en.append(f"This cleared at {when(occasion.resolved_at)}; the figures are the last seen.")
    zh += [line.format_map(view) for line in text.zh_lines]
    en += [line.format_map(view) for line in text.en_lines]
    if occasion.event != "resolved":
        zh += ["", "處理方式：" + text.zh_todo.format_map(view)]
        en += ["", "What to do: " + text.en_todo.format_map(view)]
        zh.append(f"確認收到（停止提醒）：einv-admin alerts ack {occasion.key}")
        en.append(f"Acknowledge (stops reminders): einv-admin alerts ack {occasion.key}")
    zh.append(f"警示代碼：{occasion.key}（首次發現 {when(occasion.first_seen)}）")
    en.append(f"Alert key: {occasion.key} (first seen {when(occasion.first_seen)})")
    body = "\n".join([*zh, "", "-" * 40, "", *en, ""])
    return subject_of(kind, facts, occasion), body


@dataclass(frozen=True, slots=True)
class DigestLine:
    kind: Kind
    key: str
    facts: Mapping[str, Fact]
    first_seen: datetime
    acknowledged_by: str | None = None


def render_digest(
    now: datetime,
    open_alerts: Sequence[DigestLine],
    resolved: Sequence[DigestLine],
    undelivered: int,
) -> tuple[str, str]:
    """The admins' daily summary: what is open, what cleared in the last day, mail trouble."""
    day = now.astimezone(TAIPEI).strftime("%Y-%m-%d")
    subject = (
        f"[einv] 每日摘要 Daily digest {day}: {len(open_alerts)} 項待處理 open, "
        f"{len(resolved)} 項已解除 resolved"
    )
    lines = [f"電子發票配號每日摘要 / e-invoice allocation daily digest, {day}", ""]
    lines.append(f"待處理警示 / Open alerts: {len(open_alerts)}")
    lines += [_digest_line(item) for item in open_alerts] or ["  (無 / none)"]
    lines += ["", f"過去 24 小時已解除 / Resolved in the last 24 hours: {len(resolved)}"]
    lines += [_digest_line(item) for item in resolved] or ["  (無 / none)"]
    if undelivered:
        lines += [
            "",
            f"尚未送達的郵件 / Mails not yet delivered: {undelivered} "
            "(einv-admin alerts list 顯示錯誤 / shows the errors)",
        ]
    return subject, "\n".join([*lines, ""])


def _digest_line(item: DigestLine) -> str:
    text = TEXTS[item.kind]
    tail = text.tail.format_map(display(item.facts))
    ack = f"; 已確認 acknowledged by {item.acknowledged_by}" if item.acknowledged_by else ""
    return (
        f"  - {text.zh_title} / {text.en_title}: {tail} "
        f"[{item.key}] since {when(item.first_seen)}{ack}"
    )
