"""The serving snapshot: published whole or not at all, switched atomically, noticed by the app."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from dagster_project.lib.serving import ServingError, publish_snapshot, snapshot_version

from .conftest import metrics, open_page, token

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)


def _warehouse(path, total: str = "9.39"):
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create schema intermediate")
    con.execute(
        f"create table marts.fct_invoices as select 'inv_1' as invoice_id, {total}::decimal(38,12) as total"
    )
    con.execute("create view marts.rpt_late_usage as select invoice_id from marts.fct_invoices")
    con.execute(
        "create table intermediate.int_event_revenue_attributions as select 'evt' as event_id"
    )
    con.execute("create table intermediate.int_rated_usage as select 1 as not_served")
    return con


def test_publish_copies_marts_views_and_lineage_and_nothing_else(tmp_path):
    con = _warehouse(tmp_path / "warehouse.duckdb")
    published = publish_snapshot(con, tmp_path / "serving.duckdb", run_clock=CLOCK)
    assert set(published.tables) == {
        "marts.fct_invoices",
        "marts.rpt_late_usage",
        "intermediate.int_event_revenue_attributions",
    }
    con.close()
    served = duckdb.connect(str(tmp_path / "serving.duckdb"), read_only=True)
    # The view arrives as a table: the snapshot never points back into the warehouse.
    assert served.execute(
        "select table_type from information_schema.tables where table_name = 'rpt_late_usage'"
    ).fetchall() == [("BASE TABLE",)]
    assert served.execute("select total from marts.fct_invoices").fetchall() == [(Decimal("9.39"),)]
    assert served.execute("select run_clock from main.snapshot_info").fetchall() == [(CLOCK,)]
    served.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "warehouse.duckdb"]


def test_a_reader_keeps_its_version_while_a_new_one_is_switched_in(tmp_path):
    serving = tmp_path / "serving.duckdb"
    con = _warehouse(tmp_path / "warehouse.duckdb")
    publish_snapshot(con, serving, run_clock=CLOCK)
    first = snapshot_version(serving)
    reader = duckdb.connect(str(serving), read_only=True)
    con.execute("update marts.fct_invoices set total = 12.00")
    publish_snapshot(con, serving, run_clock=CLOCK)
    assert snapshot_version(serving) != first
    # The open reader still sees the whole old version; a new reader sees the new one.
    assert reader.execute("select total from marts.fct_invoices").fetchall() == [(Decimal("9.39"),)]
    reader.close()
    fresh = duckdb.connect(str(serving), read_only=True)
    assert fresh.execute("select total from marts.fct_invoices").fetchall() == [(Decimal("12"),)]
    fresh.close()


def test_a_failed_publish_leaves_the_served_snapshot_untouched(tmp_path):
    serving = tmp_path / "serving.duckdb"
    con = _warehouse(tmp_path / "warehouse.duckdb")
    publish_snapshot(con, serving, run_clock=CLOCK)
    before = snapshot_version(serving)
    # A mart that cannot be read (its table vanished mid-run): the copy fails half-way.
    con.execute("create table marts.zz_scratch as select 1 as x")
    con.execute("create view marts.zz_broken as select * from marts.zz_scratch")
    con.execute("drop table marts.zz_scratch")
    con.execute("update marts.fct_invoices set total = 99.00")
    with pytest.raises(ServingError, match="the previous snapshot is still served"):
        publish_snapshot(con, serving, run_clock=CLOCK)
    assert snapshot_version(serving) == before
    # No half-written file left behind (the warehouse's own WAL aside).
    assert [p.name for p in tmp_path.iterdir() if "serving" in p.name] == ["serving.duckdb"]
    served = duckdb.connect(str(serving), read_only=True)
    assert served.execute("select total from marts.fct_invoices").fetchall() == [(Decimal("9.39"),)]
    served.close()


def test_an_empty_warehouse_publishes_nothing(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    with pytest.raises(ServingError, match="no tables in schema 'marts'"):
        publish_snapshot(con, tmp_path / "serving.duckdb", run_clock=CLOCK)
    assert not (tmp_path / "serving.duckdb").exists()


def test_the_serving_asset_runs_after_every_mart():
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    serving = dg.AssetKey(["serving", "snapshot"])
    parents = graph.get(serving).parent_keys
    marts = {key for key in graph.get_all_asset_keys() if key.path[0] == "marts"}
    # Every mart, including the ones added after this asset was written (payments, dims).
    assert {
        dg.AssetKey(["marts", name])
        for name in (
            "fct_invoices",
            "fct_usage_daily",
            "rpt_late_usage",
            "dim_accounts",
            "fct_workflow_runs",
        )
    } <= marts
    assert marts <= parents
    # Nothing runs after it.
    assert not graph.get(serving).child_keys
    job = defs.resolve_job_def("nightly_billing_job")
    assert serving in job.asset_layer.executable_asset_keys


@pytest.mark.slow
def test_the_app_notices_a_new_snapshot(app_env, tmp_path, monkeypatch):
    serving = tmp_path / "serving.duckdb"
    shutil.copy(app_env.serving, serving)
    monkeypatch.setenv("TALLYHOUSE_SERVING", str(serving))
    at = open_page("app_pages/widget_cost.py", token("widget", "cust_a", accounts=["acc_a2"]))
    assert metrics(at) == {"Cost incurred (USD)": "10.30 USD"}
    # The next run bills acc_a2 one more dollar: publish it as the run would.
    staged = tmp_path / "next.duckdb"
    shutil.copy(app_env.serving, staged)
    con = duckdb.connect(str(staged))
    con.execute("update marts.fct_invoices set total = total + 1 where account_id = 'acc_a2'")
    publish_snapshot(con, serving, run_clock=CLOCK)
    con.close()
    at.run()
    assert metrics(at) == {"Cost incurred (USD)": "11.30 USD"}
