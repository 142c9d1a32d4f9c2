"""Three nights of the whole nightly, on DuckDB and on Spark, bill the same to the cent.

`make test-spark` (not `make test`): needs the `spark` extra (dbt-spark, PySpark) and Java 17+.
The same generated dataset goes through the real Dagster graph on DuckDB, and with
TALLYHOUSE_TARGET=spark, where every dbt model runs on a local Spark (dbt-spark, a child
process per dbt step) and every Python asset reads Spark's tables and publishes its own as
Parquet through the warehouse resource (lib/engines/spark.py). The first night is past
November's grace period (November is finalized); the second brings a late event for a
finalized cycle and an event for an open one, and a meter's filter changes; the third brings
a late event on another closed day of that cycle. The incremental models keep finalized rows
and recompute open ones, on Spark by replacing the 'open' partition of each and appending to
the 'final' one (macros/incremental.sql). Every served table and the rating tables must be
equal row for row, to the last of the 12 decimal places. docs/scale-out.md says what this
does not cover yet.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import pytest
import yaml

pytest.importorskip("pyspark")
pytest.importorskip("dbt.adapters.spark")

from dagster_project.cli import run_nightly  # noqa: E402
from dagster_project.lib.engines.spark import attach_models, schema_dir  # noqa: E402
from dagster_project.settings import Settings, parse_as_of  # noqa: E402
from tests.integration.conftest import bill, event_like_record, late_event  # noqa: E402

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# "Tens of thousands of events": every rate-card kind, rules, credits, bad and late records
# come from the generator's catalog and planted faults.
ACCOUNTS = int(os.environ.get("TALLYHOUSE_SPARK_TEST_ACCOUNTS", "60"))
EVENTS = int(os.environ.get("TALLYHOUSE_SPARK_TEST_EVENTS", "20000"))
# Past every November grace period, then the next night.
FIRST_NIGHT = parse_as_of("2026-12-15T02:00:00Z")
SECOND_NIGHT = parse_as_of("2026-12-16T02:00:00Z")
THIRD_NIGHT = parse_as_of("2026-12-17T02:00:00Z")

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
# The incremental models; on Spark each is partitioned by rating_window (open / final).
INCREMENTAL_MODELS = [
    "intermediate.int_event_records_resolved",
    "intermediate.int_event_meter_matches",
    "intermediate.int_usage_by_cycle",
    "intermediate.int_event_revenue_attributions",
    "marts.fct_event_pipeline_log",
    "marts.fct_usage_daily",
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


def _partition(settings: Settings, model: str, window: str):
    schema, name = model.split(".")
    return schema_dir(settings.spark_dir, schema) / name / f"rating_window={window}"


def _final_files(settings: Settings) -> dict[str, dict[str, tuple[int, int]]]:
    """The Parquet files of each incremental model's 'final' partition: name -> size, mtime."""
    files = {}
    for model in INCREMENTAL_MODELS:
        folder = _partition(settings, model, "final")
        files[model] = {
            f.name: (f.stat().st_size, f.stat().st_mtime_ns) for f in folder.glob("*.parquet")
        }
    return files


def _second_night_input(settings: Settings) -> tuple[str, str]:
    """The second night's changes, the same for both engines: a late event for the finalized
    November cycle with the most revenue, an event of today for the same account (an open
    December cycle), and the busiest meter's filter made to match nothing. Returns the
    meter id and the invoice the late event belongs to."""
    late, invoice_id = late_event(settings.warehouse)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        meter_id = con.execute(
            "select meter_id from marts.fct_usage_daily group by meter_id "
            "order by sum(events) desc, meter_id limit 1"
        ).fetchall()[0][0]
    today = dict(late, id="open-cycle-event-1", timestamp="2026-12-15T12:00:00+00:00")
    (settings.landing / "zz-second-night.jsonl").write_text(
        json.dumps(late) + "\n" + json.dumps(today) + "\n"
    )
    pricing = settings.catalog / "pricing.yaml"
    catalog = yaml.safe_load(pricing.read_text())
    next(m for m in catalog["usage_meters"] if m["id"] == meter_id)["filter"] = {"==": [1, 0]}
    pricing.write_text(yaml.safe_dump(catalog, sort_keys=False))
    return meter_id, invoice_id


def _third_night_input(settings: Settings) -> None:
    """A late event on a closed day that the second night left alone: a copy of the first
    metered record of a finalized invoice (on Spark its day's usage row is in 'final')."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        record_seq, timestamp = con.execute(
            "select record_seq, event_timestamp from marts.fct_event_pipeline_log "
            "where status = 'METERED' "
            "and invoice_id in (select invoice_id from billing.finalized_invoices) "
            "order by record_seq limit 1"
        ).fetchall()[0]
        event = event_like_record(con, record_seq, "late-event-2", timestamp)
    (settings.landing / "zz-third-night.jsonl").write_text(json.dumps(event) + "\n")


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    saved_env = dict(os.environ)
    os.environ["TZ"] = "UTC"
    time.tzset()
    root = tmp_path_factory.mktemp("cross_engine")
    timings, settings, finalized_after_first = {}, {}, {}
    for target in ("duckdb", "spark"):
        started = time.monotonic()
        billed = bill(
            root / target,
            accounts=ACCOUNTS,
            events=EVENTS,
            seed=23,
            fmt="jsonl",
            target=target,
            as_of=FIRST_NIGHT,
        )
        settings[target] = billed.settings
        timings[f"{target} first"] = time.monotonic() - started
        finalized_after_first[target] = _finalized(settings[target].serving)
        changed = _second_night_input(settings[target])
        started = time.monotonic()
        run_nightly(settings[target].with_overrides(as_of=SECOND_NIGHT))
        timings[f"{target} second"] = time.monotonic() - started
        if target == "spark":
            second_final_files = _final_files(settings[target])
        _third_night_input(settings[target])
        started = time.monotonic()
        run_nightly(settings[target].with_overrides(as_of=THIRD_NIGHT))
        timings[f"{target} third"] = time.monotonic() - started
    final_files = (second_final_files, _final_files(settings["spark"]))
    os.environ.clear()
    os.environ.update(saved_env)
    print(
        f"\ncross-engine: {EVENTS} events, {ACCOUNTS} accounts; "
        + ", ".join(f"{name} night {seconds:.0f} s" for name, seconds in timings.items())
    )
    on_duckdb = duckdb.connect(str(settings["duckdb"].warehouse), read_only=True)
    # Spark's own tables, read from its Parquet files as the Python assets read them.
    on_spark = duckdb.connect()
    attach_models(on_spark, settings["spark"].spark_dir)
    served = {
        target: duckdb.connect(str(settings[target].serving), read_only=True) for target in settings
    }
    for con in (on_duckdb, on_spark, *served.values()):
        con.execute("SET TimeZone = 'UTC'")
    yield {
        "settings": settings,
        "on_duckdb": on_duckdb,
        "on_spark": on_spark,
        "served": served,
        "finalized_after_first": finalized_after_first,
        "changed": changed,
        "final_files": final_files,
    }
    for con in (on_duckdb, on_spark, *served.values()):
        con.close()


def _finalized(serving) -> list[tuple]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        # What finalization froze (payment may still move DUE to PAID on a later night).
        return con.execute(
            "select invoice_id, period_start, period_end, subtotal, minimum_commitment_true_up, "
            "credits_applied, total, wallet_applied, finalized_at from marts.fct_invoices "
            "where status <> 'DRAFT' order by invoice_id"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("table", RATING_TABLES)
def test_spark_rates_as_duckdb(engines, table):
    on_duckdb, on_spark = engines["on_duckdb"], engines["on_spark"]
    columns = _columns(on_duckdb, table)
    assert columns, table
    expected = _rows(on_duckdb, table, columns)
    assert expected, f"{table} is empty: nothing compared"
    assert _rows(on_spark, table, columns) == expected


def test_spark_serves_what_duckdb_serves(engines):
    # The served snapshot is every mart (invoices, lines, pipeline log, rule log, ledgers,
    # usage, dims, reports) plus the revenue attributions: built on Spark, it must be the
    # same table for table, row for row.
    served = engines["served"]
    tables = [
        f"{schema}.{name}"
        for schema, name in served["duckdb"]
        .execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_name not in ('snapshot_info', 'snapshot_tables') order by 1, 2"
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


def test_the_second_night_on_spark_keeps_finalized_invoices_and_bills_only_open_cycles(engines):
    settings = engines["settings"]["spark"]
    meter_id, late_invoice = engines["changed"]
    first = engines["finalized_after_first"]["spark"]
    assert first, "the first night finalized November"
    after = {row[0]: row for row in _finalized(settings.serving)}
    # Finalized on the first night and never changed by the second.
    assert [after.get(row[0]) for row in first] == first
    assert late_invoice in after
    events = {
        event_id: (status, revenue)
        for event_id, status, revenue in engines["served"]["spark"]
        .execute(
            "select event_id, status, revenue from marts.fct_event_pipeline_log "
            "where event_id in ('late-event-1', 'open-cycle-event-1')"
        )
        .fetchall()
    }
    assert events["late-event-1"] == ("PAST_GRACE_PERIOD", Decimal(0))
    assert events["open-cycle-event-1"][0] != "PAST_GRACE_PERIOD"
    # The meter that stopped matching keeps its finalized matches (kept rows) and has none
    # in open cycles (recomputed under the new filter).
    matched = [
        invoice_id
        for (invoice_id,) in engines["on_spark"]
        .execute(
            "select invoice_id from intermediate.int_event_meter_matches where meter_id = ?",
            [meter_id],
        )
        .fetchall()
    ]
    assert matched, "the busiest meter had finalized matches"
    assert [i for i in matched if i not in after] == []


def test_the_dataset_exercises_what_the_engines_must_agree_on(engines):
    # Not a trivially equal comparison: tiered and volume cards are rated, invoices carry money,
    # records end in several pipeline statuses, and Spark's amounts keep 12 places.
    on_spark, served = engines["on_spark"], engines["served"]["spark"]
    models = {
        r[0]
        for r in on_spark.execute(
            "select distinct pricing_model from intermediate.int_rated_usage"
        ).fetchall()
    }
    assert {"TIERED", "VOLUME"} <= models
    statuses = {
        r[0]
        for r in served.execute(
            "select distinct status from marts.fct_event_pipeline_log"
        ).fetchall()
    }
    assert {"METERED", "DUPLICATE", "INVALID", "ACCOUNT_NOT_FOUND", "PAST_GRACE_PERIOD"} <= (
        statuses
    ), statuses
    total = served.execute("select sum(total) from marts.fct_invoices").fetchall()[0][0]
    assert isinstance(total, Decimal) and total > 0
    fractional = on_spark.execute(
        "select count(*) from intermediate.int_event_revenue_attributions "
        "where attributed_amount <> round(attributed_amount, 2)"
    ).fetchall()[0][0]
    assert fractional > 0, "no sub-cent attribution: the 12 places were not exercised"
    # On Spark the models are Spark's: the assets' DuckDB store holds views onto Spark's
    # Parquet files there, never tables dbt built in DuckDB.
    store = duckdb.connect(str(engines["settings"]["spark"].warehouse), read_only=True)
    kinds = store.execute(
        "select distinct table_type from information_schema.tables "
        "where table_schema in ('intermediate', 'marts')"
    ).fetchall()
    store.close()
    assert kinds == [("VIEW",)]


def test_spark_replaces_the_open_partition_and_keeps_the_final_one(engines):
    settings = engines["settings"]["spark"]
    before, after = engines["final_files"]  # after the second night, after the third
    finalized = {row[0] for row in _finalized(settings.serving)}
    for model in INCREMENTAL_MODELS:
        assert before[model], f"{model}: the second night moved no finalized row to 'final'"
        final = _partition(settings, model, "final")
        opened = _partition(settings, model, "open")
        assert any(opened.glob("*.parquet")), f"{model}: no open rows after the third night"
        if model != "marts.fct_usage_daily":
            invoices = {
                invoice
                for (invoice,) in duckdb.execute(
                    f"select distinct invoice_id from read_parquet('{final}/*.parquet', "
                    "hive_partitioning = false)"
                ).fetchall()
            }
            # Only rows of finalized invoices (or of records that never get one) are final.
            assert invoices - {None} <= finalized, model
    # No row of these reopened: the third night appended to 'final' (the rows that stopped
    # being open) and never rewrote what was there.
    for model in INCREMENTAL_MODELS[:-1]:
        assert before[model].items() <= after[model].items(), model
    # The third night's late event reopened a closed day of daily usage: 'final' was
    # rewritten without it, and the day recomputed with the event counted (the served daily
    # usage equals DuckDB's, test_spark_serves_what_duckdb_serves).
    daily = "marts.fct_usage_daily"
    assert not before[daily].items() <= after[daily].items()
    assert after[daily]
