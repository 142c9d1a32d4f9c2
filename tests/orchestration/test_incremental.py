"""A night's work grows with the new records and the open cycles, not with history: the
night after six closed months writes no more rows for closed cycles than the night after
one. Rows written are read from the incremental models themselves: DuckDB keeps a kept
row's rowid and gives appended rows new ones, so (with the table not recreated, same
table_oid) a row of a closed cycle that was written this night is one whose (rowid,
content) was not there before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import pytest

from dagster_project.cli import run_nightly
from dagster_project.settings import Settings
from tests.orchestration.tiny_billing import write_catalog, write_events

FINALIZED = "invoice_id in (select invoice_id from billing.finalized_invoices)"
# Per incremental model: its schema, and which of its rows belong to closed cycles.
INCREMENTAL_MODELS = {
    "int_event_meter_matches": ("intermediate", FINALIZED),
    "int_usage_by_cycle": ("intermediate", FINALIZED),
    "int_event_revenue_attributions": ("intermediate", FINALIZED),
    "int_event_records_resolved": ("intermediate", FINALIZED),
    # The log names the invoice of RESOLVED records only: read the record's cycle instead.
    "fct_event_pipeline_log": (
        "marts",
        "record_seq in (select record_seq from intermediate.int_event_records_resolved "
        f"where {FINALIZED})",
    ),
    # Every month before December is finalized by 5 December (the accounts are on UTC).
    "fct_usage_daily": ("marts", "usage_date < date '2026-12-01'"),
}


@dataclass(frozen=True)
class ModelState:
    table_oid: int
    max_rowid: int
    closed_rows: frozenset  # (rowid, content) of rows of finalized invoices


def model_states(warehouse) -> dict[str, ModelState]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        states = {}
        for model, (schema, closed_rows) in INCREMENTAL_MODELS.items():
            oid = con.execute(
                "select table_oid from duckdb_tables() where schema_name = ? and table_name = ?",
                [schema, model],
            ).fetchall()[0][0]
            max_rowid = con.execute(
                f"select coalesce(max(rowid), -1) from {schema}.{model}"
            ).fetchall()[0][0]
            closed = con.execute(
                f"""select rowid, md5(cast(t as varchar)) from {schema}.{model} t
                    where {closed_rows}"""
            ).fetchall()
            states[model] = ModelState(oid, max_rowid, frozenset(closed))
        return states
    finally:
        con.close()


def rows_written(before: dict[str, ModelState], after: dict[str, ModelState]) -> dict:
    """Per model: rows written for closed cycles, and rows written in all."""
    written = {}
    for model in INCREMENTAL_MODELS:
        b, a = before[model], after[model]
        assert a.table_oid == b.table_oid, f"{model} was recreated, not run incrementally"
        closed_written = len(a.closed_rows - b.closed_rows) + len(b.closed_rows - a.closed_rows)
        written[model] = (closed_written, a.max_rowid - b.max_rowid)
    return written


def month_starts(first: date, months: int) -> list[date]:
    return [
        date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
        for i in range(months)
    ]


def history(root, months: int) -> Settings:
    """Two accounts on `basic` since the first of `months` closed months before December
    2026, each with usage every month; billed as of 2026-12-05 (all of them finalized)."""
    starts = month_starts(date(2026, 12 - months, 1), months)
    catalog = write_catalog(root / "catalog", since=str(starts[0]))
    events = [
        (f"evt-{acc}-{m:%Y%m}-{n}", f"{m:%Y-%m}-1{n}T10:00:00Z", acc, 100 * n)
        for m in starts
        for acc in ("acc_a", "acc_b")
        for n in (1, 2)
    ]
    write_events(root / "landing", events)
    settings = Settings.from_env({}).with_overrides(
        catalog=catalog,
        landing=root / "landing",
        warehouse=root / "warehouse.duckdb",
        serving=root / "serving.duckdb",
        as_of=datetime(2026, 12, 5, 2, tzinfo=UTC),
    )
    run_nightly(settings)
    return settings


def next_night(settings: Settings) -> dict:
    """The following night: one new file of December usage, the clock a day later."""
    write_events(
        settings.landing,
        [
            ("evt-dec-a", "2026-12-05T09:00:00Z", "acc_a", 700),
            ("evt-dec-b", "2026-12-05T09:30:00Z", "acc_b", 300),
        ],
        name="events-dec.jsonl",
    )
    before = model_states(settings.warehouse)
    run_nightly(settings.with_overrides(as_of=datetime(2026, 12, 6, 2, tzinfo=UTC)))
    return rows_written(before, model_states(settings.warehouse))


@pytest.mark.slow
def test_the_night_after_six_closed_months_writes_no_more_closed_rows_than_after_one(tmp_path):
    one = history(tmp_path / "one_month", 1)
    six = history(tmp_path / "six_months", 6)
    # The six-month history holds six times the closed rows (4 matches a month, …).
    # 2 accounts × 2 events a month, each on its own day, one meter: 4 records, 4 log rows,
    # 4 daily usage rows a month.
    states_one, states_six = model_states(one.warehouse), model_states(six.warehouse)
    for model in (
        "int_event_meter_matches",
        "int_event_records_resolved",
        "fct_event_pipeline_log",
        "fct_usage_daily",
    ):
        closed = (len(states_one[model].closed_rows), len(states_six[model].closed_rows))
        assert closed == (4, 24), (model, closed)

    after_one = next_night(one)
    after_six = next_night(six)
    for model in INCREMENTAL_MODELS:
        assert after_six[model][0] <= after_one[model][0], (model, after_one, after_six)
        assert after_six[model][0] == 0, (model, after_six)
    # Not vacuous: the night did write the new December usage (2 events → 2 meter matches),
    # the same number whatever the history.
    assert after_one["int_event_meter_matches"][1] == after_six["int_event_meter_matches"][1] == 2
    # …and 2 resolved records, 2 log rows, 2 daily usage rows (acc_a and acc_b on 5 December).
    for model in ("int_event_records_resolved", "fct_event_pipeline_log", "fct_usage_daily"):
        assert after_one[model][1] == after_six[model][1] == 2, (model, after_one, after_six)
