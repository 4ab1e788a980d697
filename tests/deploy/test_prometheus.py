"""deploy/prometheus and deploy/grafana: every notifier condition has an alert, and every
expression names only metrics the servers export (promtool checks them too, where installed)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path

import grpc
import pytest
import yaml
from prometheus_client import CollectorRegistry

from allocator import InvoiceType, Period
from branch_agent.buffer.burn import BurnMeter
from branch_agent.buffer.state import BufferState
from branch_agent.hq.client import HqHealth
from branch_agent.ledger.store import LedgerSnapshot
from branch_agent.metrics import AgentCollector, AgentMetrics, AgentSources
from branch_agent.model import AgentConfig
from hq_server.alert_state import AlertState
from hq_server.metrics import HqCollector
from notifier.config import Thresholds
from notifier.model import Kind
from protos.einvoice.v1 import admin_pb2, common_pb2
from tests.branch_agent.test_metrics import Refills, grant
from tests.conftest import ManualClock
from tests.hq_server.test_branch_api import GENERAL, request, setup_pool
from tests.hq_server.test_metrics import NOW, MeteredHq

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
METRIC = re.compile(r"\beinv_[a-z0-9_]+")
NOT_OURS = {"up"}  # Prometheus' own, per target


def rules() -> list[dict[str, object]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    board = json.loads((DEPLOY / "grafana" / "einv.json").read_text())
    return [t["expr"] for p in board["panels"] for t in p.get("targets", [])]


async def hq_names(metered: MeteredHq) -> set[str]:
    """Every sample an HQ exports once it has pools of the last and this period."""
    await setup_pool(metered)  # type: ignore[arg-type]
    previous = Period.containing(NOW).previous().to_year_month()
    await metered.admin.AddAssignment(
        admin_pb2.AddAssignmentRequest(
            year_month=previous,
            invoice_type=GENERAL,
            range=common_pb2.TrackRange(track="ZZ", begin=0, end=49),
        )
    )
    await metered.branch.RequestRange(request("04595257", "n1"))
    with pytest.raises(grpc.aio.AioRpcError):  # a refusal, counted by its reason
        await metered.branch.RequestRange(request("22099131", "n2"))
    names = {name for name, _ in await metered.scrape()}

    class OnEtcd:  # the shape of EtcdCoordinator the collector asks about
        def token(self) -> int:
            return 7

        def has_session(self) -> bool:
            return True

    metered.app.coordinator = OnEtcd()  # type: ignore[assignment]
    collector = HqCollector(metered.app, Thresholds(), AlertState())
    names |= {s.name for family in collector.collect() for s in family.samples}
    return names


def agent_names() -> set[str]:
    clock = ManualClock(NOW)
    period = Period.containing(NOW)
    grants = (grant("a", period, 0, 99, 0, 1), grant("b", period.next(), 100, 149, 100, 2))
    state = BufferState(LedgerSnapshot(grants, {}, AgentConfig(), 0))
    metrics = AgentMetrics()
    sources = AgentSources(
        "04595257",
        (InvoiceType.GENERAL,),
        state,
        BurnMeter(NOW),
        HqHealth(clock),
        Refills(set()),
        clock,
        lambda: 0,
    )
    registry = CollectorRegistry()
    registry.register(AgentCollector(sources))
    asyncio.run(asyncio.sleep(0))
    families = [*metrics.registry.collect(), *registry.collect()]
    return {s.name for family in families for s in family.samples}


@pytest.fixture
async def exported(metered: MeteredHq) -> set[str]:
    return await hq_names(metered) | await asyncio.to_thread(agent_names)


def test_every_condition_the_notifier_mails_about_has_one_alert() -> None:
    kinds = [rule["labels"].get("kind") for rule in rules()]  # type: ignore[union-attr]
    assert sorted(k for k in kinds if k) == sorted(kind.value for kind in Kind)
    for rule in rules():
        assert rule["labels"]["severity"] in ("warning", "critical"), rule  # type: ignore[index]
        assert rule["annotations"]["summary"], rule  # type: ignore[index]


def test_every_expression_names_exported_metrics(exported: set[str]) -> None:
    exprs = [str(rule["expr"]) for rule in rules()] + dashboard_exprs()
    named = {m for expr in exprs for m in METRIC.findall(expr)}
    assert named, "no metric found in the expressions"
    assert named - exported == set()
    # And the dashboard shows every family the servers export (but the info and self-cost).
    families = {re.sub(r"_(bucket|count|sum|total|gcount|gsum|created)$", "", n) for n in exported}
    shown = {re.sub(r"_(bucket|count|sum|total)$", "", m) for m in named}
    hidden = {"einv_hq_info", "einv_agent_info", "einv_hq_metrics_read_seconds"}
    assert families - shown - hidden == set()


def test_deploy_readme_documents_every_family(exported: set[str]) -> None:
    names = {n for n in exported if not n.endswith("_created")}  # prometheus_client's own
    families = {re.sub(r"_(bucket|count|sum|gcount|gsum)$", "", n) for n in names}
    text = (DEPLOY / "README.md").read_text()
    assert {f for f in families if f"`{f}`" not in text} == set()


def test_the_scrape_config_loads_the_rules_and_names_the_jobs_they_use() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    used = {j for rule in rules() for j in re.findall(r'job="([^"]+)"', str(rule["expr"]))}
    assert used and used <= jobs


def test_promtool_checks_and_unit_tests_the_rules() -> None:
    assert shutil.which("promtool"), (
        "promtool is missing: scripts/setup installs Debian's prometheus"
    )
    for args in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"]):
        done = subprocess.run(
            ["promtool", *args], cwd=RULES.parent, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
