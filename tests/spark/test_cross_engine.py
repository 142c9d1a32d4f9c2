"""The same dbt models on Spark and on DuckDB give the same rating, invoices and pipeline log.

`make test-spark` (not `make test`): needs the `spark` extra (dbt-spark, PySpark) and Java 17+.
The whole nightly runs on DuckDB (real Dagster graph); the Python assets' tables go to
Spark as Parquet; every dbt model runs again on a local Spark session; every mart and
rating table must be equal row for row, to the last of the 12 decimal places.
docs/scale-out.md says what this does not cover yet.
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

from dagster_project.lib.engines.spark import (  # noqa: E402
    dbt_on_spark,
    export_sources,
    register_sources,
    spark_session,
)
from tests.integration.conftest import bill  # noqa: E402

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# "Tens of thousands of events": every rate-card kind, rules, credits, bad and late records
# come from the generator's catalog and planted faults.
ACCOUNTS = int(os.environ.get("TALLYHOUSE_SPARK_TEST_ACCOUNTS", "60"))
EVENTS = int(os.environ.get("TALLYHOUSE_SPARK_TEST_EVENTS", "20000"))

# (schema.table) compared row for row; the rating tables are computed by Spark itself.
COMPARED = [
    "marts.fct_invoices",
    "marts.fct_invoice_line_items",
    "marts.fct_event_pipeline_log",
    "marts.fct_usage_daily",
    "intermediate.int_event_records_resolved",
    "intermediate.int_event_meter_matches",
    "intermediate.int_usage_by_cycle",
    "intermediate.int_rated_usage",
    "intermediate.int_fixed_fee_lines",
    "intermediate.int_event_revenue_attributions",
]


def _normal(value):
    if isinstance(value, datetime):
        # DuckDB gives aware UTC instants; PySpark naive ones in the process's zone (UTC).
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dict):
        return tuple(sorted((k, _normal(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    return value


def _sorted_rows(rows) -> list[tuple]:
    return sorted((tuple(_normal(v) for v in row) for row in rows), key=repr)


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    os.environ["TZ"] = "UTC"
    time.tzset()
    root = tmp_path_factory.mktemp("cross_engine")
    started = time.monotonic()
    billed = bill(root, accounts=ACCOUNTS, events=EVENTS, seed=23, fmt="jsonl")
    duckdb_seconds = time.monotonic() - started
    spark_dir = root / "spark"  # metastore and tables: a throwaway folder
    started = time.monotonic()
    tables = export_sources(billed.settings.warehouse, spark_dir / "sources")
    spark = spark_session(spark_dir)
    register_sources(spark, spark_dir / "sources", tables)
    dbt_on_spark(["run"], spark_dir=spark_dir, as_of=billed.settings.as_of)
    spark_seconds = time.monotonic() - started
    print(
        f"\ncross-engine: {EVENTS} events, {ACCOUNTS} accounts; nightly on DuckDB "
        f"{duckdb_seconds:.0f} s; export + dbt run on local Spark {spark_seconds:.0f} s"
    )
    con = duckdb.connect(str(billed.settings.warehouse), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    yield billed, con, spark
    con.close()


@pytest.mark.parametrize("table", COMPARED)
def test_spark_equals_duckdb(engines, table):
    _, con, spark = engines
    columns = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            table.split("."),
        ).fetchall()
    ]
    assert columns, table
    listed = ", ".join(f"`{c}`" for c in columns)
    on_duckdb = _sorted_rows(
        con.execute(
            f"select {', '.join(chr(34) + c + chr(34) for c in columns)} from {table}"
        ).fetchall()
    )
    on_spark = _sorted_rows(spark.sql(f"select {listed} from {table}").collect())
    assert len(on_spark) == len(on_duckdb), table
    for d_row, s_row in zip(on_duckdb, on_spark, strict=True):
        assert dict(zip(columns, s_row, strict=True)) == dict(zip(columns, d_row, strict=True)), (
            table
        )


def test_the_dataset_exercises_what_the_engines_must_agree_on(engines):
    # Not a trivially equal comparison: tiered and volume cards are rated, invoices carry money,
    # records end in several pipeline statuses and Spark's units are exact to 12 places.
    _, con, spark = engines
    models = {
        r[0]
        for r in spark.sql(
            "select distinct r.pricing_model from intermediate.int_rated_usage r"
        ).collect()
    }
    assert {"TIERED", "VOLUME"} <= models
    statuses = {
        r[0]
        for r in spark.sql("select distinct status from marts.fct_event_pipeline_log").collect()
    }
    assert {"METERED", "DUPLICATE", "INVALID", "ACCOUNT_NOT_FOUND"} <= statuses, statuses
    total = spark.sql("select sum(total) from marts.fct_invoices").collect()[0][0]
    assert total > 0
    assert isinstance(total, Decimal)
    assert con.execute("select sum(total) from marts.fct_invoices").fetchall()[0][0] == total
