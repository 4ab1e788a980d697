"""The back office in a real headless Chromium against a real HQ process and real agents under
POS traffic: login, figures equal to the admin API's, roles decided by the authorization table,
a quota change reaching an agent at once, a what-if that changes nothing until applied, the
lock-out, and no console error on any page."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from protos.einvoice.v1 import admin_pb2, common_pb2
from tests.conftest import BRANCH_BANS
from tests.web.conftest import WAIT, Browser, Office

pytestmark = pytest.mark.slow
A, B, C = BRANCH_BANS
PAGES = [
    "/pools",
    "/branches",
    "/branches?sort=held&dir=desc",
    f"/branches/{B}",
    "/forecast",
    f"/forecast?quota_ban={B}&quota=10",
    f"/forecast?move_from={B}&move_to={A}&move_n=3",
    "/alerts",
    "/alerts?all=1",
    "/reports",
    "/audit",
    "/pools?lang=zh-TW",
    "/branches?lang=en",
]


def run_agents(office: Office) -> None:
    for ban in (A, B):
        office.start_agent(ban)
        office.pos_traffic(ban)


def settled(office: Office) -> admin_pb2.ForecastReply:
    """The branches' figures once the agents' reports have caught up (two equal readings a
    report apart): the forecast the branches page shows, as the admin API gives it."""
    admin = office.admin()
    last = None
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        now = admin.call("Forecast", admin_pb2.ForecastRequest(current_only=True))
        figures = [
            (b.branch_ban, b.held, b.booklets_granted, b.burn_per_hour) for b in now.branches
        ]
        if figures == last:
            return now
        last = figures
        time.sleep(1.5)
    raise AssertionError("the agents' usage reports did not settle")


def test_login_every_page_without_console_errors_and_figures_equal_the_api(
    office: Office, browser: Browser
) -> None:
    run_agents(office)
    browser.login("alice")
    browser.wait_for(lambda: "/pools" in browser.driver.current_url, "the pools page")
    cookie = browser.driver.get_cookie("einv_session")
    assert cookie is not None and cookie["httpOnly"] and cookie["secure"]
    assert cookie["sameSite"] == "Strict"
    time.sleep(2)  # a few history samples and reports under traffic
    for path in PAGES:
        browser.open(path)
        assert browser.read("main h1")
        assert not browser.driver.find_elements(By.CSS_SELECTOR, "p.error"), path
        assert browser.console_errors() == [], path
        browser.shot(path.strip("/").replace("/", "-").replace("?", "-")[:40])
        if path == "/audit":
            assert browser.driver.find_elements(By.CSS_SELECTOR, "p.ok.chain")  # verified
        if path == "/pools?lang=zh-TW":
            assert "字軌池" in browser.driver.title
            browser.open("/branches")  # the language is remembered
            assert browser.driver.title.startswith("分店")
    office.pause_traffic()
    outlook = settled(office)
    branches = office.admin().call("ListBranches", admin_pb2.ListBranchesRequest())
    usage = office.admin().call("GetUsage", admin_pb2.GetUsageRequest())
    browser.open("/branches")
    assert {b.branch_ban for b in outlook.branches} == {A, B}  # C never drew
    for b in outlook.branches:
        shown = browser.cells(f'tr[data-ban="{b.branch_ban}"]')
        assert shown["held"] == f"{b.held:,}", b.branch_ban
        assert shown["booklets"] == str(b.booklets_granted)
        assert shown["burn"] == f"{b.burn_per_hour:,.1f}"
        hours = (b.current.at.ToSeconds() - time.time()) / 3600
        assert abs(float(shown["hours"].replace(",", "")) - hours) < 0.1
    for u in usage.branches:  # einv-admin usage's figures agree with the page's
        shown = browser.cells(f'tr[data-ban="{u.branch_ban}"]')
        assert (shown["held"], shown["booklets"]) == (f"{u.held:,}", str(u.booklets_granted))
    for b in branches.branches:
        shown = browser.cells(f'tr[data-ban="{b.ban}"]')
        assert shown["quota"] == f"{b.quota.booklets_per_request} / {b.quota.booklets_per_period}"
    assert browser.cells(f'tr[data-ban="{A}"]')["online"] == "online"
    assert browser.cells(f'tr[data-ban="{C}"]')["online"] == "offline"
    pools = office.admin().call("ListPools", admin_pb2.ListPoolsRequest())
    accounts = office.admin().call("Reconcile", admin_pb2.ReconcileRequest())
    browser.open(f"/pools?period={pools.pools[0].year_month}")
    section = f'section[data-pool="{pools.pools[0].year_month}-07"] table.figures'
    numbers = {
        c.get_attribute("data-k"): int(c.get_attribute("data-numbers"))
        for c in browser.driver.find_elements(By.CSS_SELECTOR, f"{section} td[data-k]")
    }
    assert numbers == {
        "assigned": pools.pools[0].assigned,
        "granted": pools.pools[0].granted,
        "free": pools.pools[0].free,
        "issued": sum(t.issued for t in accounts.tracks),
        "blank": sum(t.blank for t in accounts.tracks),
    }
    assert numbers["issued"] > 0  # the agents did sell
    browser.shot("pools-settled")
    assert browser.console_errors() == []


def post_as_page(browser: Browser, action: str, fields: dict[str, str]) -> str:
    """Submit a form the page did not offer (as a crafted one would), with the session's own
    CSRF token; returns the status the server answered with."""
    leaving = browser.mark_page()
    browser.driver.execute_script(
        """
        const [action, fields] = arguments;
        const form = document.createElement('form');
        form.method = 'post'; form.action = action;
        const csrf = document.querySelector('input[name=csrf]').value;
        for (const [k, v] of Object.entries({...fields, csrf})) {
          const input = document.createElement('input');
          input.type = 'hidden'; input.name = k; input.value = v; form.appendChild(input);
        }
        document.body.appendChild(form); form.submit();
        """,
        action,
        fields,
    )
    browser.wait_left(leaving)
    return browser.read("p.error", "data-status")


@pytest.mark.parametrize("office", [60.0], indirect=True)  # no sample during the test
def test_a_viewer_is_refused_every_edit_and_no_table_changes(
    office: Office, browser: Browser
) -> None:
    browser.login("vera")
    browser.wait_for(lambda: "/pools" in browser.driver.current_url, "the pools page")
    browser.open(f"/branches/{B}")
    assert not browser.driver.find_elements(By.CSS_SELECTOR, "form[name=quota]")
    assert "viewer" in browser.read("main")
    before = office.snapshot()
    edits = [
        (f"/branches/{B}/quota", {"per_request": "2", "per_period": "99", "confirm": "yes"}),
        (f"/branches/{B}/quota", {"per_request": "2", "per_period": "99"}),
        (f"/branches/{B}/enabled", {"enabled": "no", "confirm": "yes"}),
        ("/ranges/1/status", {"status": "paused", "confirm": "yes"}),
        ("/forecast/apply", {"quota_ban": B, "quota": "99"}),
        ("/alerts/ack", {"key": f"branch_silent:{B}"}),
    ]
    for action, fields in edits:
        browser.open(f"/branches/{B}")
        assert post_as_page(browser, action, fields) == "403", action
        assert "operator" in browser.read("p.error")
    browser.shot("viewer-refused")
    assert office.snapshot() == before
    # A forged form without the session's CSRF token is refused for anyone.
    browser.open(f"/branches/{B}")
    browser.driver.execute_script("document.querySelector('input[name=csrf]').value = 'x'")
    browser.click("form.inline button")  # log out, with a forged token
    assert "CSRF" in browser.read("p.error")
    assert office.snapshot() == before


def test_an_operators_quota_change_reaches_the_agent_within_a_second(
    office: Office, browser: Browser
) -> None:
    run_agents(office)
    browser.wait_for(
        lambda: "quota" in office.status(A).last_refill_error.lower(),
        "branch A's agent to reach its quota (2 booklets)",
        limit=30,
    )
    browser.login("alice")
    browser.open(f"/branches/{A}")
    quota = browser.driver.find_element(By.CSS_SELECTOR, "form[name=quota]")
    field = quota.find_element(By.NAME, "per_period")
    field.clear()
    field.send_keys("20")
    browser.click("form[name=quota] button")
    assert [c.text for c in browser.driver.find_elements(By.CSS_SELECTOR, "td[data-k=after]")] == [
        "1",
        "20",
    ]
    browser.shot("quota-confirm")
    assert "quota" in office.status(A).last_refill_error.lower()  # nothing changed yet
    held_before = office.status(A).remaining + len(office.status(A).next_ranges) * 50
    browser.driver.find_element(By.CSS_SELECTOR, "form[name=confirm] button").click()

    def refilled() -> bool:
        status = office.status(A)
        return status.last_refill_error == "" and (
            status.remaining + len(status.next_ranges) * 50 > held_before
        )

    browser.wait_for(refilled, "the agent's next refill")
    seen = time.time()
    browser.wait_for(lambda: "done=1" in browser.driver.current_url, "the branch page")
    browser.shot("quota-done")
    audit = office.admin().call("ListAudit", admin_pb2.ListAuditRequest(newest=True, limit=50))
    [changed] = [e for e in audit.entries if e.action == "set_quota"]
    assert changed.actor == "web:alice (operator)"
    # From HQ's commit of the change (the audit entry is written in its transaction) to the
    # agent's Status showing the refill it allowed: the page's own load is not the agent's.
    took = seen - changed.at.ToNanoseconds() / 1e9
    print(f"quota change to the agent's refill: {took * 1000:.0f} ms")
    assert 0 < took < 1.0, took
    # A range's status, from the pools page, behind the same confirmation.
    browser.open("/pools")
    Select(browser.driver.find_element(By.CSS_SELECTOR, "tr[data-range] select")).select_by_value(
        "paused"
    )
    browser.click('form[action$="/status"] button')
    assert [c.text for c in browser.driver.find_elements(By.CSS_SELECTOR, "td[data-k=after]")] == [
        "paused"
    ]
    pools = office.admin().call("ListPools", admin_pb2.ListPoolsRequest())
    assert pools.pools[0].assignments[0].status == common_pb2.RANGE_STATUS_ENABLED  # not yet
    browser.click("form[name=confirm] button")
    pools = office.admin().call("ListPools", admin_pb2.ListPoolsRequest())
    assert pools.pools[0].assignments[0].status == common_pb2.RANGE_STATUS_PAUSED
    assert browser.cells("tr[data-range]")["status"] == "paused"
    browser.shot("range-paused")
    assert browser.console_errors() == []


def quotas(office: Office) -> list[tuple[str, int, int]]:
    listed = office.admin().call("ListBranches", admin_pb2.ListBranchesRequest())
    return [
        (b.ban, b.quota.booklets_per_request, b.quota.booklets_per_period) for b in listed.branches
    ]


def web_entries(office: Office) -> list[str]:
    audit = office.admin().call("ListAudit", admin_pb2.ListAuditRequest(newest=True, limit=200))
    return [e.action for e in audit.entries if e.actor.startswith("web:")]


def test_a_what_if_preview_changes_nothing_until_applied(office: Office, browser: Browser) -> None:
    run_agents(office)
    browser.login("alice")
    browser.open("/forecast")
    before = quotas(office)
    what_if = browser.driver.find_element(By.CSS_SELECTOR, "form[name=what_if_move]")
    what_if.find_element(By.NAME, "move_from").send_keys(B)
    what_if.find_element(By.NAME, "move_to").send_keys(A)
    what_if.find_element(By.NAME, "move_n").send_keys("5")
    browser.click("form[name=what_if_move] button")
    rows = {
        r.get_attribute("data-ban"): r.find_element(By.CSS_SELECTOR, "[data-k=quota]").text
        for r in browser.driver.find_elements(By.CSS_SELECTOR, "section.preview tr[data-ban]")
    }
    assert rows == {A: "2 → 7", B: "40 → 35"}
    browser.shot("what-if-preview")
    browser.driver.refresh()  # a preview is a GET: loading it again changes nothing either
    # einv-admin asks the same what-if of the same API (and changes nothing either).
    shown = office.einv_admin("forecast", "--move", f"{B}:{A}:5").stdout
    assert f"branch {A} (what-if)" in shown and f"branch {B} (what-if)" in shown
    assert quotas(office) == before and web_entries(office) == []
    browser.click("form[name=apply] button")
    assert "done=1" in browser.driver.current_url
    after = dict((ban, per_period) for ban, _, per_period in quotas(office))
    assert (after[A], after[B], after[C]) == (7, 35, 40)
    assert web_entries(office) == ["set_quota", "set_quota"]
    browser.shot("what-if-applied")
    # Deadlines and reports: an operator hands this period's E0401 to Turnkey, confirmed.
    browser.open("/reports")
    browser.click('form[action="/reports/build"] button')  # the first: E0401, this period
    assert [c.text for c in browser.driver.find_elements(By.CSS_SELECTOR, "td[data-k=after]")]
    browser.click("form[name=confirm] button")
    files = [c.text for c in browser.driver.find_elements(By.CSS_SELECTOR, "td[data-k=file]")]
    assert sorted(f.split("_")[2] for f in files) == [A, B], files  # one per branch
    assert all(list((office.root / "turnkey").rglob(f)) for f in files)
    assert web_entries(office)[-1] == "handoff_e0401"
    browser.shot("e0401-handed-over")
    sent = office.admin().call("ListReports", admin_pb2.ListReportsRequest())
    assert sorted(d.name for d in sent.documents) == sorted(files)
    browser.open("/reports")
    row = browser.cells(f'tr[data-pool="{sent.documents[0].year_month}-07"]')
    assert row["e0401"] == f"{len(files)} {sent.documents[0].state}"  # "2 written"
    assert row["e0402"] == "—"
    assert browser.console_errors() == []


def test_a_wrong_password_is_refused_and_the_fifth_locks_the_account(
    office: Office, browser: Browser
) -> None:
    for attempt in range(1, 5):
        browser.login("alice", "not the password")
        message = browser.read("p.error")
        assert message == "Wrong user name or password", attempt
        assert browser.driver.get_cookie("einv_session") is None
    browser.login("alice", "not the password")  # the fifth
    assert "locked" in browser.read("p.error")
    browser.login("alice")  # the right password no longer helps
    assert "locked" in browser.read("p.error")
    assert browser.driver.get_cookie("einv_session") is None
    browser.shot("locked")
    users = office.admin().call("ListUsers", admin_pb2.ListUsersRequest())
    alice = next(u for u in users.users if u.name == "alice")
    assert alice.failed_attempts == 5 and alice.HasField("locked_until")
    audit = office.admin().call("ListAudit", admin_pb2.ListAuditRequest(newest=True))
    assert ("web:alice (operator)", "web_user_locked") in [
        (e.actor, e.action) for e in audit.entries
    ]
    office.einv_admin("users", "passwd", "alice", "--password-file", str(office.root / "alice.pw"))
    browser.login("alice")
    browser.wait_for(lambda: "/pools" in browser.driver.current_url, "the pools page")
    browser.login("nobody-here", "whatever it is")  # an unknown user reads the same
    assert browser.read("p.error") == ("Wrong user name or password")
