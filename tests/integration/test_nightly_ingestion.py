"""End to end: generated landing files through the nightly job, checked against the generator's manifest."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from dagster_project.cli import run_nightly
from tests.commands import tallyhouse_run

from .conftest import bill

pytestmark = pytest.mark.slow


def statuses_by_raw_ref(warehouse: Path) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select raw_ref, status from marts.fct_event_pipeline_log").fetchall()
    return dict(rows)


def test_every_planted_record_gets_the_status_the_generator_expects(billed_jsonl):
    got = statuses_by_raw_ref(billed_jsonl.settings.warehouse)
    manifest = billed_jsonl.manifest
    assert len(got) == manifest.records_total  # conservation: every record once
    planted = billed_jsonl.planted_records()
    assert planted, "the generator planted bad records"
    for row in planted:
        assert got[row["raw_ref"]] == row["expected_status"], row
    counts: dict[str, int] = {}
    for status in got.values():
        counts[status] = counts.get(status, 0) + 1
    expected = dict(manifest.expected_status_counts)
    # A clean record is METERED or NO_MATCHING_METERS, depending on the meter filters.
    clean = expected.pop("clean")
    assert counts.pop("METERED", 0) + counts.pop("NO_MATCHING_METERS", 0) == clean
    assert counts == expected


def test_a_second_night_with_the_same_files_changes_nothing(billed_jsonl):
    settings = billed_jsonl.settings
    before = statuses_by_raw_ref(settings.warehouse)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        files_before = con.execute("select count(*) from raw.landing_files").fetchall()
        invoices_before = invoices_and_lines(con)
    run_nightly(settings.with_overrides(as_of=settings.as_of + timedelta(hours=1)))
    assert statuses_by_raw_ref(settings.warehouse) == before
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.landing_files").fetchall() == files_before
        # Nothing new and nothing fell due within the hour: every invoice and line as before.
        assert invoices_and_lines(con) == invoices_before


def invoices_and_lines(con) -> tuple[list[tuple], list[tuple]]:
    return (
        con.execute("select * from marts.fct_invoices order by invoice_id").fetchall(),
        con.execute("select * from marts.fct_invoice_line_items order by line_item_id").fetchall(),
    )


def test_parquet_landing_files_bill_like_jsonl(tmp_path):
    billed = bill(tmp_path, accounts=10, events=1500, seed=5, fmt="parquet")
    got = statuses_by_raw_ref(billed.settings.warehouse)
    assert len(got) == billed.manifest.records_total
    for row in billed.planted_records():
        assert got[row["raw_ref"]] == row["expected_status"], row


def test_a_broken_catalog_stops_the_run_before_anything_is_written(tmp_path, billed_jsonl):
    catalog = tmp_path / "catalog"
    import shutil

    shutil.copytree(billed_jsonl.settings.catalog, catalog)
    pricing = catalog / "pricing.yaml"
    text = pricing.read_text()
    # Two problems at once: an unknown JSON Logic operator and an unknown meter schema.
    text = text.replace('"*"', '"mul"', 1).replace("event_schema: ", "event_schema: x_", 1)
    pricing.write_text(text)
    warehouse = tmp_path / "warehouse.duckdb"
    result = subprocess.run(
        tallyhouse_run(catalog, billed_jsonl.settings.landing, warehouse, "2026-12-05T00:00:00Z"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    message = " ".join(result.stderr.split())
    assert "pricing.yaml" in message
    assert "unsupported JSON Logic operator 'mul'" in message
    assert "unknown event_schema 'x_" in message
    assert "Traceback" not in result.stderr
    # Nothing billed: the catalog asset failed before any table was written.
    if warehouse.exists():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            tables = con.execute(
                "select count(*) from information_schema.tables where table_schema = 'catalog'"
            ).fetchall()[0][0]
        assert tables == 0


def test_dagster_definitions_validate():
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-m",
            "dagster_project.definitions",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_explain_says_why_an_event_was_or_was_not_billed(billed_jsonl):
    from dagster_project.cli import explain_event

    warehouse = billed_jsonl.settings.warehouse
    with duckdb.connect(str(warehouse), read_only=True) as con:
        metered, invoice_id = con.execute(
            """select event_id, invoice_id from marts.fct_event_pipeline_log
               where status = 'METERED' and revenue_computed order by record_seq limit 1"""
        ).fetchall()[0]
        unknown_account = con.execute(
            """select event_id from marts.fct_event_pipeline_log
               where status = 'ACCOUNT_NOT_FOUND' order by record_seq limit 1"""
        ).fetchall()[0][0]
    (billed,) = explain_event(warehouse, metered)
    assert "METERED" in billed and invoice_id in billed
    (refused,) = explain_event(warehouse, unknown_account)
    assert "ACCOUNT_NOT_FOUND" in refused and "no account or alias" in refused
    assert explain_event(warehouse, "evt-'; drop table x; --") == []
