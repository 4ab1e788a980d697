"""WEB: the back office's branches page for 10,000 branches, next to the admin API's own calls.

The HQ is a real process (`python -m hq_server serve --web-listen`, plain HTTP on loopback
here: TLS is not what is measured) on a seeded SQLite file: 10,000 branches, each holding a
grant of this period partly used and two usage samples an hour apart (a burn rate). One web
user logs in over HTTP; then the page (sorted by hours to empty, the default, and a deep page
sorted by burn) is fetched, and, over gRPC from the same process, ListBranches of the same
branches and Forecast (current burn only): the two calls the page makes in-process; GetUsage
(the same figures as einv-admin usage shows them) is timed too. Each is timed `repeat` times;
the figure is the median wall time, and the page's own Server-Timing (render in the server).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import re
import statistics
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from sqlalchemy import insert, update

from bench.figures import Figure, Goal, Results, ms
from bench.seed import POOL_RANGE, TRACK, BranchPlan, seed_hq
from bench.servers import HEAD_BAN, Server, loopback
from demo.cluster import valid_bans
from demo.procs import Proc, running
from hq_server.schema import assignments, grants, usage_samples
from hq_server.store import Store
from hq_server.web import passwords, users
from protos.einvoice.v1 import admin_pb2, admin_pb2_grpc
from runtime.principal import Role

GOAL_MS = 1000.0
PLAN = BranchPlan(per_request=2, per_period=40)
USER, PASSWORD = "bench", "bench password 1"


@dataclass(frozen=True, slots=True)
class Sizes:
    branches: int
    repeat: int


FULL = Sizes(branches=10_000, repeat=7)
SMOKE = Sizes(branches=200, repeat=2)


def run(root: Path, sizes: Sizes, results: Results) -> list[Figure]:
    root.mkdir(parents=True, exist_ok=True)
    database = root / "hq.db"
    bans = valid_bans(sizes.branches)
    period = seed_hq(f"sqlite:///{database}", bans, PLAN)
    seed_usage(f"sqlite:///{database}", bans, period.to_year_month())
    with web_hq(root, f"sqlite:///{database}") as (hq, web):
        figures = measure(hq, web, sizes)
    results.note(
        f"WEB: {sizes.branches:,} branches with a grant and a burn each; page and calls timed "
        f"{sizes.repeat} times, medians; plain HTTP on loopback"
    )
    return figures


def seed_usage(db_url: str, bans: Sequence[str], year_month: str) -> None:
    """Each branch holds one booklet of this period, partly used, and burns (two samples)."""
    store = Store(db_url)
    now = datetime.now(UTC)
    try:
        token = store.take_office("bench-seed", now)
        rows, samples = [], []
        for i, ban in enumerate(bans):
            begin = i * 50
            used = 5 + i % 40
            rows.append(
                {
                    "id": f"bench-{i}",
                    "request_id": f"bench-{i}",
                    "branch_ban": ban,
                    "assignment_id": 1,
                    "year_month": year_month,
                    "invoice_type": "07",
                    "track": TRACK.code,
                    "begin": begin,
                    "end": begin + 49,
                    "booklets": 1,
                    "granted_at": now - timedelta(hours=2),
                    "fencing_token": token,
                    "next_number": begin + used,
                    "final": False,
                }
            )
            samples += [
                {"ban": ban, "at": now - timedelta(hours=1), "issued_total": 0},
                {"ban": ban, "at": now, "issued_total": used},
            ]

        def work(conn):  # type: ignore[no-untyped-def]
            conn.execute(insert(grants), rows)
            conn.execute(insert(usage_samples), samples)
            conn.execute(
                update(assignments)
                .where(assignments.c.id == 1)
                .values(granted_numbers=len(rows) * 50, granted_high=len(rows) * 50 - 1)
            )
            digest = passwords.hash_password(PASSWORD)
            users.add_user(conn, now, "bench", USER, Role.VIEWER, digest)

        assert POOL_RANGE.count > len(rows) * 50
        store.write_sync(token, work)
    finally:
        store.close()


@contextlib.contextmanager
def web_hq(root: Path, db_url: str) -> Iterator[tuple[Server, str]]:
    address, web = loopback(), loopback()
    args = ["-m", "hq_server", "serve", "--head-ban", HEAD_BAN, "--db", db_url, "--insecure"]
    args += ["--listen", address, "--web-listen", web]
    proc = Proc("hq", args, root / "hq.log", "back office on")
    with running(proc.start()):
        yield Server(address, proc.pid), f"http://{web}"


def login(base: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/login", timeout=30).read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None, "no CSRF token on the login page"
    data = urllib.parse.urlencode(
        {"csrf": csrf.group(1), "user": USER, "password": PASSWORD, "next": "/branches"}
    ).encode()
    opener.open(base + "/login", data=data, timeout=30).read()
    return opener


@dataclass(frozen=True, slots=True)
class Timed:
    seconds: list[float]
    size: int
    server_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def time_page(opener: urllib.request.OpenerDirector, url: str, repeat: int) -> Timed:
    seconds, server = [], []
    size = 0
    for _ in range(repeat):
        start = time.perf_counter()
        with opener.open(url, timeout=60) as reply:
            body = reply.read()
            timing = reply.headers.get("Server-Timing", "")
        seconds.append(time.perf_counter() - start)
        assert b'data-k="page"' in body, f"{url} did not render the branches page"
        size = len(body)
        found = re.search(r"dur=([0-9.]+)", timing)
        server.append(float(found.group(1)) if found else 0.0)
    return Timed(seconds, size, server)


def time_call(call: Callable[[], object], repeat: int) -> Timed:
    seconds = []
    size = 0
    for _ in range(repeat):
        start = time.perf_counter()
        reply = call()
        seconds.append(time.perf_counter() - start)
        size = reply.ByteSize()  # type: ignore[attr-defined]
    return Timed(seconds, size, [])


def measure(hq: Server, base: str, sizes: Sizes) -> list[Figure]:
    opener = login(base)
    time_page(opener, base + "/branches", 1)  # warm: the first request makes the session key
    page = time_page(opener, base + "/branches", sizes.repeat)
    deep = time_page(
        opener,
        base + f"/branches?sort=burn&dir=desc&page={max(1, sizes.branches // 200)}",
        sizes.repeat,
    )
    with grpc.insecure_channel(
        hq.address, options=[("grpc.max_receive_message_length", 64 << 20)]
    ) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        listed = time_call(
            lambda: admin.ListBranches(admin_pb2.ListBranchesRequest(), timeout=60), sizes.repeat
        )
        outlook = time_call(
            lambda: admin.Forecast(admin_pb2.ForecastRequest(current_only=True), timeout=60),
            sizes.repeat,
        )
        usage = time_call(
            lambda: admin.GetUsage(admin_pb2.GetUsageRequest(), timeout=60), sizes.repeat
        )
    floors = {
        f"ListBranches of the same {sizes.branches:,} (gRPC)": ms(listed.median),
        "ListBranches + Forecast (the page's two calls)": ms(listed.median + outlook.median),
        "GetUsage of the same branches": ms(usage.median),
    }
    return [
        Figure(
            "web.branches_page_ms",
            f"WEB branches page, {sizes.branches:,} branches, first page (100)",
            ms(page.median),
            "ms",
            floors,
            Goal(f"< {GOAL_MS:.0f} ms", ms(page.median) < GOAL_MS),
        ),
        Figure(
            "web.branches_render_ms",
            "WEB branches page, time in the server (Server-Timing)",
            statistics.median(page.server_ms),
            "ms",
            floors,
        ),
        Figure(
            "web.branches_sorted_ms",
            "WEB branches page sorted by burn, a deep page",
            ms(deep.median),
            "ms",
            floors,
            Goal(f"< {GOAL_MS:.0f} ms", ms(deep.median) < GOAL_MS),
        ),
        Figure(
            "web.branches_page_kb",
            "WEB branches page size",
            page.size / 1024,
            "KiB",
            {f"ListBranches reply, {sizes.branches:,} branches": listed.size / 1024},
        ),
    ]
