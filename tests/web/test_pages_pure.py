"""The pages' pure parts: the branch rows and their order, the chart's forecast line, the
password prompt of einv-admin users."""

from __future__ import annotations

import argparse
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from admin_cli.users import read_password
from allocator import InvalidInput
from hq_server.web import charts
from hq_server.web.views_branches import rows_of, sort_rows
from protos.einvoice.v1 import admin_pb2, common_pb2

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def stamp(at: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(at)
    return value


def branch(ban: str, name: str, reported: datetime | None) -> admin_pb2.Branch:
    made = admin_pb2.Branch(
        ban=ban,
        name=name,
        enabled=True,
        quota=common_pb2.Quota(booklets_per_request=2, booklets_per_period=9),
    )
    if reported is not None:
        made.last_report.CopyFrom(stamp(reported))
    return made


def outlook(
    ban: str, held: int, burn: float, hours: float | None, kind: int = 1
) -> admin_pb2.BranchForecast:
    run = admin_pb2.RunOut(reason="pool" if hours is not None else "never")
    if hours is not None:
        run.at.CopyFrom(stamp(NOW + timedelta(hours=hours)))
    return admin_pb2.BranchForecast(
        branch_ban=ban,
        invoice_type=kind,
        held=held,
        burn_per_hour=burn,
        current=run,
        booklets_granted=3,
    )


def test_rows_sum_the_pools_and_take_the_earliest_run_out() -> None:
    rows = rows_of(
        [branch("04595257", "b", NOW - timedelta(seconds=30)), branch("12345675", "a", None)],
        [outlook("04595257", 100, 10.0, 20.0), outlook("04595257", 50, 5.0, 4.0, kind=2)],
        NOW,
    )
    first, second = rows
    assert (first.held, first.burn, first.hours, first.booklets, first.online) == (
        150,
        15.0,
        4.0,
        6,
        True,
    )
    assert (second.held, second.hours, second.reason, second.online) == (
        0,
        math.inf,
        "never",
        False,
    )
    assert [r.ban for r in sort_rows(rows, "hours", False)] == ["04595257", "12345675"]
    assert [r.ban for r in sort_rows(rows, "name", False)] == ["12345675", "04595257"]
    assert [r.ban for r in sort_rows(rows, "last_report", True)] == ["04595257", "12345675"]


def test_the_forecast_line_is_cut_at_the_end_of_the_chart() -> None:
    end = NOW + timedelta(hours=10)
    assert charts.toward((NOW, 0.0), NOW + timedelta(hours=5), end, 100.0) == [
        (NOW, 0.0),
        (NOW + timedelta(hours=5), 100.0),
    ]
    assert charts.toward((NOW, 0.0), NOW + timedelta(hours=20), end, 100.0) == [
        (NOW, 0.0),
        (end, 50.0),
    ]
    assert charts.toward((NOW, 7.0), None, end, 100.0) == [(NOW, 7.0)]
    svg = charts.chart([charts.Line([(NOW, 1.0)], "issued", "<b>")], NOW, end, title='"x"')
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "&quot;x&quot;" in svg


def test_a_password_comes_from_a_file_or_a_terminal_never_an_argument(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("a long enough secret\nignored\n")
    args = argparse.Namespace(name="alice", password_file=secret)
    assert read_password(args) == "a long enough secret"
    secret.write_text("")
    with pytest.raises(InvalidInput, match="no password"):
        read_password(args)
    with pytest.raises(InvalidInput, match="--password-file"):  # pytest's stdin is no terminal
        read_password(argparse.Namespace(name="alice", password_file=None))
