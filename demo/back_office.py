"""The back office with something to show: one HQ, three stores under POS traffic, on a fast
simulated clock (two hours a second), so the charts and forecasts have days of history.

    .venv/bin/python -m demo.back_office                 # prints the URL and a login; Ctrl-C
    .venv/bin/python -m demo.back_office --screenshot docs/back-office.png

Real processes on loopback, started and stopped by PID; HTTPS with the demo CA (the browser
must trust its ca.crt, or, for the screenshot, Chromium trusts the HQ's key by its SPKI hash).
The screenshot needs selenium (the test extras) and Debian's chromium and chromium-driver.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import grpc

from allocator import TAIPEI
from demo.procs import Proc, agent_args, free_port, hq_args, running, sim_args
from demo.run import add_branch, add_pool
from demo.trust import Certs
from protos.einvoice.v1 import admin_pb2, pos_pb2, pos_pb2_grpc

HEAD_BAN = "22099131"
SIM_START = datetime(2026, 11, 2, 8, 0, tzinfo=TAIPEI)
SIM_SPEED = 7200.0  # two simulated hours a second
WARM_UP = 40.0  # real seconds of traffic before the screenshot: about three days
USER, PASSWORD = "demo", "demo passphrase 2026"
# (BAN, name, booklets per request, per period, POS think time in seconds)
STORES = (
    ("04595257", "Taipei Main St.", 2, 20, 0.05),
    ("12345675", "Taichung Station", 2, 20, 0.08),
    ("10458575", "Kaohsiung Harbour", 1, 20, 0.15),
)


def start_hq(root: Path, certs: Certs, epoch: float) -> tuple[Proc, str, str]:
    grpc_address, web_address = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    args = hq_args(HEAD_BAN, f"sqlite:///{root}/hq.db", grpc_address, certs.folder)
    args += ["--web-listen", web_address, "--history-minutes", "0.01"]
    args += sim_args(SIM_START, epoch, SIM_SPEED)
    hq = Proc("hq", args, root / "hq.log", "back office on").start()
    return hq, grpc_address, web_address


def setup(certs: Certs, address: str) -> None:
    admin = certs.admin([address])
    add_pool(admin, "11512", "AB", 0, 2_499)
    for ban, name, per_request, per_period, _ in STORES:
        add_branch(admin, ban, name, per_request, per_period, low_water=40, low_water_minutes=30)
    admin.call(
        "AddUser",
        admin_pb2.AddUserRequest(name=USER, role=admin_pb2.USER_ROLE_OPERATOR, password=PASSWORD),
    )


def start_agent(root: Path, certs: Certs, hq: str, ban: str, epoch: float) -> tuple[Proc, str]:
    data, address = root / ban, f"127.0.0.1:{free_port()}"
    certs.enroll(certs.admin([hq]), hq, ban, data)
    # Reports every 0.1 s: twelve simulated minutes, so the 2-hour burn window holds several.
    args = agent_args(hq, ban, data, address, 0.1) + sim_args(SIM_START, epoch, SIM_SPEED)
    return Proc(f"agent {ban}", args, root / f"agent-{ban}.log", "serving POS").start(), address


async def traffic(addresses: list[tuple[str, float]], stop: threading.Event) -> None:
    async def till(address: str, pause: float) -> None:
        async with grpc.aio.insecure_channel(address) as channel:
            pos = pos_pb2_grpc.PosServiceStub(channel)
            while not stop.is_set():
                with contextlib.suppress(grpc.aio.AioRpcError):
                    await pos.NextNumbers(
                        pos_pb2.NextNumbersRequest(count=1, terminal_id="till-1"), timeout=5
                    )
                await asyncio.sleep(pause)

    await asyncio.gather(*(till(a, p) for a, p in addresses))


def screenshot(root: Path, certs: Certs, url: str, path: str, out: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    os.environ["SE_OFFLINE"] = "true"
    cert = x509.load_pem_x509_certificate((certs.folder / "hq.crt").read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pin = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1200,940",
                 f"--user-data-dir={root / 'chromium'}",
                 f"--ignore-certificate-errors-spki-list={pin}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(executable_path="/usr/bin/chromedriver"), options=options
    )
    try:
        driver.get(url + "/login?lang=en")
        driver.find_element(By.NAME, "user").send_keys(USER)
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        time.sleep(1)
        driver.get(url + path)
        driver.save_screenshot(str(out))
    finally:
        driver.quit()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.back_office", description=__doc__)
    parser.add_argument("--screenshot", type=Path, help="save a PNG of a page, then stop")
    parser.add_argument(
        "--page", default="/pools", help="the page of the screenshot (default: %(default)s)"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="einv-back-office-"))
    certs = Certs.create(root)
    epoch = time.time() + 3
    hq, grpc_address, web_address = start_hq(root, certs, epoch)
    with running(hq):
        setup(certs, grpc_address)
        agents = [start_agent(root, certs, grpc_address, s[0], epoch) for s in STORES]
        with running(*(proc for proc, _ in agents)):
            url = f"https://{web_address}"
            print(f"back office: {url}/ (user {USER}, password {PASSWORD!r}; CA {certs.ca_cert})")
            addresses = [(address, s[4]) for (_, address), s in zip(agents, STORES, strict=True)]
            stop = threading.Event()
            tills = threading.Thread(target=lambda: asyncio.run(traffic(addresses, stop)))
            tills.start()
            try:
                if args.screenshot:  # while the tills still sell: the burn is the current one
                    time.sleep(WARM_UP)
                    screenshot(root, certs, url, args.page, args.screenshot)
                    print(f"written: {args.screenshot}")
                else:
                    with contextlib.suppress(KeyboardInterrupt):
                        while tills.is_alive():
                            time.sleep(1)
            finally:
                stop.set()
                tills.join(timeout=30)
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
