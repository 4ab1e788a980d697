"""A real HQ process serving the back office over HTTPS, real agent processes under POS traffic,
and Debian's Chromium driven by selenium (nothing downloads a browser: SE_OFFLINE, the system
chromedriver). Everything runs on loopback ports; every process is stopped by its PID."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import create_engine

from allocator import TAIPEI, Period
from demo.procs import Proc, free_port, hq_args
from demo.run import add_pool
from demo.trust import Certs
from hq_server.schema import metadata
from protos.einvoice.v1 import pos_pb2, pos_pb2_grpc
from tests.conftest import BRANCH_BANS, HEAD_BAN
from tests.e2e import pos
from tests.e2e.conftest import Cluster, add_branch

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PASSWORD = "correct horse battery"
USERS = {"alice": "operator", "vera": "viewer"}
WAIT = 10.0  # bound on every wait for a page or a condition


@dataclass
class Office(Cluster):
    """The e2e cluster's HQ with the back office on, and the browser's view of it."""

    web_address: str = ""
    history_minutes: float = 0.02  # samples for the charts every 1.2 s
    traffic: list[threading.Thread] = field(default_factory=list)
    stop_traffic: threading.Event = field(default_factory=threading.Event)
    tallies: list[pos.Tally] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://{self.web_address}"

    def start_hq(self) -> Any:
        self.hq_address = f"127.0.0.1:{free_port()}"
        self.web_address = f"127.0.0.1:{free_port()}"
        (self.root / "turnkey").mkdir(exist_ok=True)  # Turnkey's folder exists before HQ starts
        self.hq = Proc(
            "hq",
            [
                *hq_args(HEAD_BAN, self.db_url, self.hq_address, self.certs.folder),
                "--web-listen",
                self.web_address,
                "--turnkey-root",
                str(self.root / "turnkey"),
                "--history-minutes",
                str(self.history_minutes),
            ],
            self.root / "hq.log",
            "back office on",
        ).start()
        return self.admin()

    def einv_admin(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "admin_cli", "--hq", self.hq_address]
        return subprocess.run(
            [*command, *self.certs.admin_args(), *args],
            capture_output=True,
            text=True,
            timeout=60,
            input=stdin,
            check=True,
        )

    def add_web_user(self, name: str, role: str) -> None:
        secret = self.root / f"{name}.pw"
        secret.write_text(PASSWORD + "\n")
        secret.chmod(0o600)
        self.einv_admin("users", "add", name, "--role", role, "--password-file", str(secret))

    def pos_traffic(self, ban: str, terminals: int = 2, pause: float = 0.2) -> None:
        """POS terminals taking numbers from the agent until stopped."""
        address = self.agent_addresses[ban]

        def run() -> None:
            async def loop() -> None:
                while not self.stop_traffic.is_set():
                    self.tallies.append(await pos.load(address, terminals, 5, pause, ban))

            asyncio.run(loop())

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.traffic.append(thread)

    def pause_traffic(self) -> None:
        self.stop_traffic.set()
        for thread in self.traffic:
            thread.join(timeout=WAIT)
        self.traffic.clear()
        self.stop_traffic = threading.Event()

    def status(self, ban: str) -> pos_pb2.AgentStatus:
        async def ask() -> pos_pb2.AgentStatus:
            async with grpc.aio.insecure_channel(self.agent_addresses[ban]) as ch:
                return await pos_pb2_grpc.PosServiceStub(ch).Status(
                    pos_pb2.StatusRequest(), timeout=5
                )

        return asyncio.run(ask())

    def snapshot(self) -> dict[str, list[Any]]:
        """Every HQ table's rows (the same comparison as tests/hq_server/test_bad_input)."""
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return {
                    t.name: sorted(map(tuple, conn.execute(t.select()).all()), key=repr)
                    for t in metadata.sorted_tables
                }
        finally:
            engine.dispose()


def seed(office: Office) -> None:
    """A pool of this period, three branches (the first two with agents), two web users."""
    admin = office.start_hq()
    year_month = Period.containing(datetime.now(TAIPEI)).to_year_month()
    add_pool(admin, year_month, "AB", 0, 49_999)
    add_branch(admin, BRANCH_BANS[0], per_request=1, per_period=2, low_water=80)
    add_branch(admin, BRANCH_BANS[1], per_request=2, per_period=40, low_water=50)
    add_branch(admin, BRANCH_BANS[2], per_request=2, per_period=40, low_water=50)
    for name, role in USERS.items():
        office.add_web_user(name, role)


@pytest.fixture
def office(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Office]:
    """Parametrize indirectly with a number to sample the history that many minutes apart."""
    made = Office(tmp_path, Certs.create(tmp_path))
    made.history_minutes = getattr(request, "param", made.history_minutes)
    try:
        seed(made)
        yield made
    finally:
        made.pause_traffic()
        made.stop_all()


def spki_pin(cert_path: Path) -> str:
    """Chromium trusts the HQ's own key (--ignore-certificate-errors-spki-list): the test
    browser has no CA store of ours, and the pin is narrower than ignoring every error."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@dataclass
class Browser:
    driver: webdriver.Chrome
    base: str
    shots: Path
    count: int = 0

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)
        self.wait_loaded()

    def login(self, user: str, password: str = PASSWORD) -> None:
        self.open("/login")
        self.driver.find_element(By.NAME, "user").send_keys(user)
        self.driver.find_element(By.NAME, "password").send_keys(password)
        self.click("form.login button")

    def click(self, selector: str) -> None:
        """Click what submits a form or follows a link, and wait for the next page."""
        leaving = self.mark_page()
        self.driver.find_element(By.CSS_SELECTOR, selector).click()
        self.wait_left(leaving)

    def mark_page(self) -> str:
        """Tag the page's window so that `wait_left` can tell when another page replaced it."""
        token = uuid.uuid4().hex
        self.driver.execute_script("window.einvLeaving = arguments[0]", token)
        return token

    def wait_left(self, token: str) -> None:
        """The page tagged `token` is replaced (a new document has a new window), and the next
        one has loaded. A window, not an element: asking Chromium whether an element of a page
        being torn down is stale can fail with "Node ... does not belong to the document"."""
        WebDriverWait(self.driver, WAIT, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script("return window.einvLeaving") != token,
            "the next page",
        )
        self.wait_loaded()

    def wait_loaded(self) -> None:
        WebDriverWait(self.driver, WAIT).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )

    def read(self, selector: str, attribute: str | None = None) -> str:
        """An element's text (or attribute) once it is there; a page still being replaced
        (a stale element) is read again, never reported as a failure of the page."""
        ignored = (StaleElementReferenceException, NoSuchElementException)

        def value(driver: Any) -> str | None:
            element = driver.find_element(By.CSS_SELECTOR, selector)
            return element.text if attribute is None else element.get_attribute(attribute)

        found = WebDriverWait(self.driver, WAIT, ignored_exceptions=ignored).until(
            lambda d: (v := value(d)) is not None and (v,)
        )
        return found[0]

    def console_errors(self) -> list[dict[str, Any]]:
        return [e for e in self.driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]

    def shot(self, name: str) -> Path:
        self.count += 1
        path = self.shots / f"{self.count:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def cells(self, selector: str) -> dict[str, str]:
        """data-k -> text of the cells under `selector`."""
        row = self.driver.find_element(By.CSS_SELECTOR, selector)
        return {
            c.get_attribute("data-k"): c.text
            for c in row.find_elements(By.CSS_SELECTOR, "[data-k]")
        }

    def wait_for(self, check: Callable[[], bool], what: str, limit: float = WAIT) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out after {limit} s waiting for {what}")


@pytest.fixture
def browser(office: Office, tmp_path: Path) -> Iterator[Browser]:
    os.environ["SE_OFFLINE"] = "true"  # selenium-manager never fetches a driver or a browser
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-', dir=tmp_path)}",
        f"--ignore-certificate-errors-spki-list={spki_pin(office.certs.folder / 'hq.crt')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        yield Browser(driver, office.url, shots)
    finally:
        driver.quit()
