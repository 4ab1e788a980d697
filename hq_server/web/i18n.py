"""The back office's texts in Traditional Chinese and English, and how dates and numbers read.

`?lang=zh-TW` or `?lang=en` switches (remembered in a cookie); without either, the browser's
Accept-Language decides, and Traditional Chinese is the default.
"""

from __future__ import annotations

from datetime import datetime

from allocator import TAIPEI

LANGS = ("zh-TW", "en")
DEFAULT = "zh-TW"
COOKIE = "einv_lang"

TEXTS: dict[str, tuple[str, str]] = {
    # (Traditional Chinese, English)
    "app": ("電子發票字軌管理後台", "E-invoice back office"),
    "pools": ("字軌池", "Pools"),
    "branches": ("分店", "Branches"),
    "forecast": ("預測與模擬", "Forecast & what-if"),
    "alerts": ("警示", "Alerts"),
    "reports": ("期限與申報", "Deadlines & reports"),
    "audit": ("稽核紀錄", "Audit log"),
    "login": ("登入", "Log in"),
    "logout": ("登出", "Log out"),
    "user": ("使用者", "User name"),
    "password": ("密碼", "Password"),
    "bad_login": ("使用者名稱或密碼錯誤", "Wrong user name or password"),
    "locked": (
        "帳號已鎖定，請稍後再試或請管理員重設密碼",
        "Account locked: try later, or ask an admin to set a new password",
    ),
    "attempts_left": ("剩餘嘗試次數", "attempts left before the lock-out"),
    "period": ("期別", "Period"),
    "type": ("發票類別", "Invoice type"),
    "assigned": ("配號", "Assigned"),
    "granted": ("已配給分店", "Granted"),
    "issued": ("已開立", "Issued"),
    "blank": ("空白", "Blank"),
    "free": ("未配", "Free"),
    "booklets": ("本", "booklets"),
    "numbers": ("號", "numbers"),
    "closed": ("已結束", "closed"),
    "open": ("進行中", "open"),
    "ranges": ("字軌區段", "Ranges"),
    "range": ("區段", "Range"),
    "status": ("狀態", "Status"),
    "enabled": ("啟用", "enabled"),
    "paused": ("暫停", "paused"),
    "disabled": ("停用", "disabled"),
    "change": ("變更", "Change"),
    "issued_over_time": ("已開立號碼走勢與預測", "Numbers issued over time, and the forecast"),
    "runs_out": ("預計用罄", "Runs out"),
    "runs_out_seasonal": ("預計用罄（季節性）", "Runs out (seasonal)"),
    "lasts": ("足夠本期", "lasts the period"),
    "never": ("無消耗", "not in sight"),
    "ask_mof_by": ("最晚向財政部申請", "Ask the MOF by"),
    "too_late": ("已來不及追加", "too late for extra booklets"),
    "mof_cutoff": ("追加申請截止", "MOF cut-off"),
    "mof_note": (
        "財政部追加字軌最多需 5 個工作天，且須於雙月 20 日前申請。",
        "Extra booklets from the MOF take up to 5 working days and must be asked for before "
        "the 20th of the even month.",
    ),
    "ban": ("統一編號", "BAN"),
    "name": ("名稱", "Name"),
    "held": ("剩餘號碼", "Stock left"),
    "burn": ("每小時用量", "Burn / h"),
    "hours_left": ("可用時數", "Hours to empty"),
    "last_report": ("最後回報", "Last report"),
    "agent": ("分店代理程式", "Agent"),
    "online": ("線上", "online"),
    "offline": ("離線", "offline"),
    "quota": ("配額", "Quota"),
    "per_request": ("每次本數", "booklets per request"),
    "per_period": ("每期本數", "booklets per period"),
    "reason": ("原因", "Cause"),
    "reason_held": ("自有存量", "its own stock"),
    "reason_quota": ("配額用完", "its quota"),
    "reason_pool": ("字軌池用完", "the pool"),
    "reason_never": ("—", "—"),
    "page": ("頁", "Page"),
    "prev": ("上一頁", "Previous"),
    "next": ("下一頁", "Next"),
    "search": ("搜尋", "Search"),
    "of": ("共", "of"),
    "grants": ("配號紀錄", "Grants"),
    "granted_at": ("配號時間", "Granted at"),
    "next_number": ("下一號", "Next number"),
    "final": ("已結算", "final"),
    "enable": ("啟用分店", "Enable the branch"),
    "disable": ("停用分店", "Disable the branch"),
    "set_quota": ("設定配額", "Set the quota"),
    "confirm": ("確認", "Confirm"),
    "cancel": ("取消", "Cancel"),
    "confirm_title": ("請確認變更", "Please confirm the change"),
    "before": ("變更前", "Before"),
    "after": ("變更後", "After"),
    "done": ("已完成變更，並已即時通知分店", "Done: the agents were told at once"),
    "viewer_note": ("您的角色為檢視者：僅能瀏覽", "Your role is viewer: you may look, not change"),
    "what_if": ("模擬變更", "What if"),
    "what_if_quota": ("調整分店每期配額", "Change a branch's quota per period"),
    "what_if_move": ("從一家分店移撥配額給另一家", "Move quota from one branch to another"),
    "from_branch": ("移出分店", "From branch"),
    "to_branch": ("移入分店", "To branch"),
    "preview": ("預覽", "Preview"),
    "apply": ("套用", "Apply"),
    "preview_note": (
        "預覽不會變更任何資料，按「套用」才會生效。",
        "A preview changes nothing until you apply it.",
    ),
    "applied": ("已套用", "Applied"),
    "who_changes": ("受影響的分店與字軌池", "Who runs out when, before and after"),
    "current_burn": ("目前用量", "current burn"),
    "seasonal_burn": ("季節性用量", "seasonal burn"),
    "seasonal_unknown": (
        "尚無一週歷史：季節性用量以近四週平均計，尚無每週起伏",
        "Under a week of history: the seasonal burn is the average of up to four weeks, "
        "without a weekly shape yet",
    ),
    "kind": ("類型", "Kind"),
    "about": ("內容", "About"),
    "since": ("開始", "Since"),
    "acknowledged": ("已確認", "Acknowledged"),
    "ack": ("確認警示", "Acknowledge"),
    "no_alerts": ("目前沒有警示", "No alerts"),
    "show_resolved": ("包含已解除", "include resolved"),
    "deadline": ("期限", "Deadline"),
    "days_left": ("剩餘天數", "Days left"),
    "e0402_due": ("E0402 空白字軌申報", "E0402 blank reports due"),
    "nothing_due": ("沒有待申報項目", "Nothing due"),
    "build": ("產生並交付 Turnkey", "Build and hand to Turnkey"),
    "written": ("已寫入", "written"),
    "unchanged": ("已交付過", "already handed over"),
    "held_back": ("暫緩（缺最終回報）", "held back (final report missing)"),
    "chain_ok": ("雜湊鏈驗證通過", "Hash chain verified"),
    "chain_broken": ("雜湊鏈驗證失敗！", "Hash chain BROKEN!"),
    "seq": ("序號", "Seq"),
    "at": ("時間", "At"),
    "actor": ("執行者", "Who"),
    "action": ("動作", "Action"),
    "details": ("內容", "Details"),
    "older": ("較舊", "Older"),
    "newer": ("較新", "Newer"),
    "refused": ("不允許此操作", "Refused"),
    "error": ("錯誤", "Error"),
    "not_found": ("找不到", "Not found"),
    "now": ("現在", "now"),
    "period_end": ("期末", "period end"),
    "role": ("角色", "Role"),
    "back": ("返回", "Back"),
    "total": ("合計", "Total"),
    "history_note": (
        "每個取樣間隔記錄一點；最後一點為現在",
        "One point per sampling interval; the last is now",
    ),
}


def pick(query: str | None, cookie: str | None, accept: str | None) -> str:
    for given in (query, cookie):
        if given in LANGS:
            return str(given)
    if accept and accept.strip().lower().startswith("en"):
        return "en"
    return DEFAULT


def t(lang: str, key: str) -> str:
    zh, en = TEXTS[key]
    return en if lang == "en" else zh


def when(at: datetime | None, lang: str = DEFAULT) -> str:
    """An instant in Taipei time, to the minute."""
    if at is None:
        return "—"
    return at.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M")


def count(value: float) -> str:
    return f"{value:,.0f}"


def booklets(numbers: int) -> str:
    """Numbers as booklets of 50 (one decimal when not whole)."""
    whole, rest = divmod(numbers, 50)
    return f"{whole:,}" if rest == 0 else f"{numbers / 50:,.1f}"
