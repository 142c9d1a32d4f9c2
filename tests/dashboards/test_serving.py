"""The serving snapshot: published whole or not at all, switched atomically, noticed by the app."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from decimal import Decimal

import dagster as dg
import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagster_project.lib.serving import ServingError, publish_snapshot, snapshot_version

from .conftest import metrics, open_page, token

CLOCK = datetime(2026, 11, 21, tzinfo=UTC)
# A log table whose new rows come after the served ones by k (serving's APPEND_ONLY).
LOG = {("marts", "fct_log"): "k"}
LOG_ROWS = "select * from marts.fct_log order by all"


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


def _query(path, sql: str) -> list[tuple]:
    """One query's rows from a snapshot file, opened read-only and closed again."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _served(path) -> dict[str, list[tuple]]:
    """Every served table of a snapshot file, with its sorted rows."""
    # One open for all the tables: the property test calls this after every night.
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where schema_name <> 'main' order by 1"
        ).fetchall()
        return {n: con.execute(f"select * from {n} order by all").fetchall() for (n,) in names}


def _blocks(path) -> tuple[int, int]:
    """A DuckDB file's free and used blocks."""
    (blocks,) = _query(path, "select free_blocks, used_blocks from pragma_database_size()")
    return blocks


def test_a_second_publish_keeps_unchanged_tables_and_copies_changed_ones(tmp_path):
    serving = tmp_path / "serving.duckdb"
    con = _warehouse(tmp_path / "warehouse.duckdb")
    first = publish_snapshot(con, serving, run_clock=CLOCK)
    assert set(first.copied) == set(first.tables)  # no snapshot yet: everything copied

    later = datetime(2026, 11, 22, tzinfo=UTC)
    again = publish_snapshot(con, serving, run_clock=later)
    assert again.copied == ()
    assert _query(serving, "select run_clock from main.snapshot_info") == [(later,)]

    con.execute("update marts.fct_invoices set total = 12.00")
    changed = publish_snapshot(con, serving, run_clock=later)
    # The view reads the invoices, but its rows (invoice ids) did not change.
    assert changed.copied == ("marts.fct_invoices",)
    assert _served(serving)["marts.fct_invoices"] == [("inv_1", Decimal("12"))]

    # Columns changed, rows not (an empty table, retyped by a new release): copied again.
    con.execute("delete from intermediate.int_event_revenue_attributions")
    publish_snapshot(con, serving, run_clock=later)
    con.execute("drop table intermediate.int_event_revenue_attributions")
    con.execute("create table intermediate.int_event_revenue_attributions (event_id integer)")
    retyped = publish_snapshot(con, serving, run_clock=later)
    assert retyped.copied == ("intermediate.int_event_revenue_attributions",)
    assert _query(
        serving, "select data_type from information_schema.columns where column_name = 'event_id'"
    ) == [("INTEGER",)]


def test_a_mart_no_longer_in_the_warehouse_leaves_the_snapshot(tmp_path):
    serving = tmp_path / "serving.duckdb"
    con = _warehouse(tmp_path / "warehouse.duckdb")
    con.execute("create table marts.fct_retired as select 1 as x")
    publish_snapshot(con, serving, run_clock=CLOCK)
    assert "marts.fct_retired" in _served(serving)
    con.execute("drop table marts.fct_retired")
    publish_snapshot(con, serving, run_clock=CLOCK)
    assert "marts.fct_retired" not in _served(serving)


def test_a_snapshot_without_hashes_or_with_half_free_space_is_rewritten_whole(tmp_path):
    serving = tmp_path / "serving.duckdb"
    con = _warehouse(tmp_path / "warehouse.duckdb")
    publish_snapshot(con, serving, run_clock=CLOCK)
    # An older release's snapshot: no table hashes.
    old = duckdb.connect(str(serving))
    old.execute("drop table main.snapshot_tables")
    old.close()
    assert set(publish_snapshot(con, serving, run_clock=CLOCK).copied) == {
        "marts.fct_invoices",
        "marts.rpt_late_usage",
        "intermediate.int_event_revenue_attributions",
    }
    # A table copied again leaves its old blocks free (DuckDB reuses them for the next copy);
    # when a mart shrinks, more of the file is free than used, and the next publish writes a
    # compact file.
    con.execute("create table marts.fct_big as select random() as x from range(2000000)")
    publish_snapshot(con, serving, run_clock=CLOCK)
    con.execute("create or replace table marts.fct_big as select 1.0 as x")
    assert publish_snapshot(con, serving, run_clock=CLOCK).copied == ("marts.fct_big",)
    free, used = _blocks(serving)
    assert free > used
    whole = publish_snapshot(con, serving, run_clock=CLOCK)
    assert len(whole.copied) == 4
    assert _blocks(serving)[0] == 0
    assert _served(serving)["marts.fct_big"] == [(Decimal("1.0"),)]


def test_a_log_gets_only_its_new_rows_while_its_served_rows_are_unchanged(tmp_path):
    serving = tmp_path / "serving.duckdb"
    con = _warehouse(tmp_path / "warehouse.duckdb")
    con.execute("create table marts.fct_log as select range as k, 'x' as v from range(3)")
    publish_snapshot(con, serving, run_clock=CLOCK, append_only=LOG)

    # New rows after the served ones: only they are copied.
    con.execute("insert into marts.fct_log values (3, 'y'), (4, 'y')")
    appended = publish_snapshot(con, serving, run_clock=CLOCK, append_only=LOG)
    assert (appended.appended, appended.copied) == (("marts.fct_log",), ())
    assert _served(serving)["marts.fct_log"] == con.execute(LOG_ROWS).fetchall()

    # A null k among new rows: the served copy is no longer the rows up to its last k.
    con.execute("insert into marts.fct_log values (null, 'z'), (5, 'z')")
    with_null = publish_snapshot(con, serving, run_clock=CLOCK, append_only=LOG)
    assert (with_null.appended, with_null.copied) == ((), ("marts.fct_log",))
    assert _served(serving)["marts.fct_log"] == con.execute(LOG_ROWS).fetchall()

    # A served row changed, or a new row before the last served one: copied whole.
    for edit in (
        "update marts.fct_log set v = 'changed' where k = 0",
        "insert into marts.fct_log values (2, 'late')",
    ):
        con.execute(edit)
        again = publish_snapshot(con, serving, run_clock=CLOCK, append_only=LOG)
        assert (again.appended, again.copied) == ((), ("marts.fct_log",)), edit
        assert _served(serving)["marts.fct_log"] == con.execute(LOG_ROWS).fetchall()


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["fct_a", "fct_b", "fct_c"]),
            st.sampled_from(
                ["insert", "insert_early", "insert_null", "delete", "update", "recreate", "drop"]
            ),
        ),
        max_size=12,
    )
)
def test_the_snapshot_always_equals_the_warehouse_marts(tmp_path_factory, edits):
    """Whatever the nights change, table by table, the published snapshot holds exactly the
    warehouse's served tables and rows, as a snapshot written whole would; fct_a is a log
    whose new rows are appended (APPEND_ONLY) when its served rows are unchanged."""
    folder = tmp_path_factory.mktemp("nights")
    serving = folder / "serving.duckdb"
    con = _warehouse(folder / "warehouse.duckdb")
    for name in ("fct_a", "fct_b", "fct_c"):
        con.execute(f"create table marts.{name} as select range as k, 'x' as v from range(3)")
    log = {("marts", "fct_a"): "k"}
    publish_snapshot(con, serving, run_clock=CLOCK, append_only=log)
    for night, (name, edit) in enumerate(edits):
        exists = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'marts' and table_name = ?",
            [name],
        ).fetchone()[0]
        if edit == "drop" and exists:
            con.execute(f"drop table marts.{name}")
        elif edit == "recreate" or not exists:  # other columns' types: 'x' became 1.5
            con.execute(f"create or replace table marts.{name} as select {night} as k, 1.5 as v")
        elif edit.startswith("insert"):
            # After the last k (a log's new row), before the first, or with no k.
            k = {"insert": "coalesce(max(k), 0) + 1", "insert_early": "coalesce(min(k), 0) - 1"}
            con.execute(
                f"insert into marts.{name} select {k.get(edit, 'null')}, any_value(v) "
                f"from marts.{name}"
            )
        elif edit == "delete":
            con.execute(f"delete from marts.{name} where k = (select min(k) from marts.{name})")
        else:
            con.execute(f"update marts.{name} set k = k + 100")
        publish_snapshot(con, serving, run_clock=CLOCK, append_only=log)
        whole = folder / f"whole-{night}.duckdb"
        publish_snapshot(con, whole, run_clock=CLOCK)  # no previous file: written whole
        assert _served(serving) == _served(whole)
