"""The whole nightly, run once on DuckDB and once on Spark, bills the same to the cent.

`make test-spark` (not `make test`): needs the `spark` extra (dbt-spark, PySpark) and Java 17+.
The same generated dataset goes through the real Dagster graph twice: on DuckDB, and with
TALLYHOUSE_TARGET=spark, where every dbt model runs on a local Spark (dbt-spark, a child
process per dbt step) and every Python asset reads Spark's tables and publishes its own as
Parquet through the warehouse resource (lib/engines/spark.py). Every mart, the served
snapshot and the rating tables must be equal row for row, to the last of the 12 decimal
places. docs/scale-out.md says what this does not cover yet.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import pytest

pytest.importorskip("pyspark")
pytest.importorskip("dbt.adapters.spark")

from dagster_project.lib.engines.spark import attach_models  # noqa: E402
from tests.integration.conftest import bill  # noqa: E402

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# "Tens of thousands of events": every rate-card kind, rules, credits, bad and late records
# come from the generator's catalog and planted faults.
ACCOUNTS = int(os.environ.get("TALLYHOUSE_SPARK_TEST_ACCOUNTS", "60"))
EVENTS = int(os.environ.get("TALLYHOUSE_SPARK_TEST_EVENTS", "20000"))

# The rating tables below the marts, as each engine's dbt built them.
RATING_TABLES = [
    "intermediate.int_event_records_resolved",
    "intermediate.int_event_meter_matches",
    "intermediate.int_usage_by_cycle",
    "intermediate.int_rated_usage",
    "intermediate.int_fixed_fee_lines",
    "intermediate.int_invoices",
    "intermediate.int_event_revenue_attributions",
]
# The payment workflow's logs carry wall-clock times and the sandbox's random ids: compared
# on what the workflow decided, not when.
WORKFLOW_COLUMNS = {
    "marts.fct_workflow_runs": [
        "run_id",
        "invoice_id",
        "idempotency_key",
        "amount",
        "currency",
        "status",
        "attempts",
        "failed_action",
    ],
    "marts.fct_workflow_action_logs": ["log_id", "run_id", "action", "try_number", "status"],
}


def _normal(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, dict):
        return tuple(sorted((k, _normal(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    return value


def _rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> list[tuple]:
    listed = ", ".join(f'"{c}"' for c in columns)
    rows = con.execute(f"select {listed} from {table}").fetchall()
    return sorted((tuple(_normal(v) for v in row) for row in rows), key=repr)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    return [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
    ]


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    saved_env = dict(os.environ)
    os.environ["TZ"] = "UTC"
    time.tzset()
    root = tmp_path_factory.mktemp("cross_engine")
    timings = {}
    billed = {}
    for target in ("duckdb", "spark"):
        started = time.monotonic()
        billed[target] = bill(
            root / target, accounts=ACCOUNTS, events=EVENTS, seed=23, fmt="jsonl", target=target
        )
        timings[target] = time.monotonic() - started
    os.environ.clear()
    os.environ.update(saved_env)
    print(
        f"\ncross-engine: {EVENTS} events, {ACCOUNTS} accounts; nightly on DuckDB "
        f"{timings['duckdb']:.0f} s, on Spark {timings['spark']:.0f} s"
    )
    on_duckdb = duckdb.connect(str(billed["duckdb"].settings.warehouse), read_only=True)
    # Spark's own tables, read from its Parquet files as the Python assets read them.
    on_spark = duckdb.connect()
    attach_models(on_spark, billed["spark"].settings.spark_dir)
    served = {
        target: duckdb.connect(str(billed[target].settings.serving), read_only=True)
        for target in billed
    }
    for con in (on_duckdb, on_spark, *served.values()):
        con.execute("SET TimeZone = 'UTC'")
    yield billed, on_duckdb, on_spark, served
    for con in (on_duckdb, on_spark, *served.values()):
        con.close()


@pytest.mark.parametrize("table", RATING_TABLES)
def test_spark_rates_as_duckdb(engines, table):
    _, on_duckdb, on_spark, _ = engines
    columns = _columns(on_duckdb, table)
    assert columns, table
    expected = _rows(on_duckdb, table, columns)
    assert expected, f"{table} is empty: nothing compared"
    assert _rows(on_spark, table, columns) == expected


def test_spark_serves_what_duckdb_serves(engines):
    # The served snapshot is every mart (invoices, lines, pipeline log, rule log, ledgers,
    # usage, dims, reports) plus the revenue attributions: built on Spark, it must be the
    # same table for table, row for row.
    _, _, _, served = engines
    tables = [
        f"{schema}.{name}"
        for schema, name in served["duckdb"]
        .execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_name <> 'snapshot_info' order by 1, 2"
        )
        .fetchall()
    ]
    assert len(tables) >= 18
    assert {
        "marts.fct_invoices",
        "marts.fct_invoice_line_items",
        "marts.fct_event_pipeline_log",
    } <= set(tables)
    differing = []
    for table in tables:
        columns = WORKFLOW_COLUMNS.get(table) or _columns(served["duckdb"], table)
        if _rows(served["spark"], table, columns) != _rows(served["duckdb"], table, columns):
            differing.append(table)
    assert differing == []


def test_the_dataset_exercises_what_the_engines_must_agree_on(engines):
    # Not a trivially equal comparison: tiered and volume cards are rated, invoices carry money,
    # records end in several pipeline statuses, and Spark's amounts keep 12 places.
    billed, _, on_spark, served = engines
    models = {
        r[0]
        for r in on_spark.execute(
            "select distinct pricing_model from intermediate.int_rated_usage"
        ).fetchall()
    }
    assert {"TIERED", "VOLUME"} <= models
    statuses = {
        r[0]
        for r in served["spark"]
        .execute("select distinct status from marts.fct_event_pipeline_log")
        .fetchall()
    }
    assert {"METERED", "DUPLICATE", "INVALID", "ACCOUNT_NOT_FOUND"} <= statuses, statuses
    total = served["spark"].execute("select sum(total) from marts.fct_invoices").fetchall()[0][0]
    assert isinstance(total, Decimal) and total > 0
    fractional = on_spark.execute(
        "select count(*) from intermediate.int_event_revenue_attributions "
        "where attributed_amount <> round(attributed_amount, 2)"
    ).fetchall()[0][0]
    assert fractional > 0, "no sub-cent attribution: the 12 places were not exercised"
    # On Spark the models are Spark's: the assets' DuckDB store holds views onto Spark's
    # Parquet files there, never tables dbt built in DuckDB.
    store = duckdb.connect(str(billed["spark"].settings.warehouse), read_only=True)
    kinds = store.execute(
        "select distinct table_type from information_schema.tables "
        "where table_schema in ('intermediate', 'marts')"
    ).fetchall()
    store.close()
    assert kinds == [("VIEW",)]
