"""End to end: invoices from generated events, reruns, finalization and late events."""

from __future__ import annotations

import json

import duckdb
import pytest

from dagster_project.cli import run_nightly
from dagster_project.settings import parse_as_of

from .conftest import BilledWarehouse, bill, late_event

pytestmark = pytest.mark.slow


def query(warehouse, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_invoice_adds_up_to_its_rounded_lines(billed_jsonl):
    mismatches = query(
        billed_jsonl.settings.warehouse,
        """
        select i.invoice_id, i.total, sum(l.amount)
        from marts.fct_invoices i join marts.fct_invoice_line_items l using (invoice_id)
        group by i.invoice_id, i.total having i.total <> sum(l.amount)
        """,
    )
    assert mismatches == []
    invoices = query(
        billed_jsonl.settings.warehouse, "select count(*), min(total) from marts.fct_invoices"
    )
    assert invoices[0][0] > 0 and invoices[0][1] >= 0


def test_pipeline_log_statuses_match_the_generator(billed_jsonl):
    got = dict(
        query(
            billed_jsonl.settings.warehouse,
            "select status, count(*) from marts.fct_event_pipeline_log group by all",
        )
    )
    expected = dict(billed_jsonl.manifest.expected_status_counts)
    clean = expected.pop("clean")
    assert got.pop("METERED", 0) + got.pop("NO_MATCHING_METERS", 0) == clean
    assert got == expected


def test_usage_lines_equal_the_revenue_attributed_to_their_events(billed_jsonl):
    """Every cent traceable: a usage line's unrounded amount is its events' revenue."""
    rows = query(
        billed_jsonl.settings.warehouse,
        """
        select r.invoice_id, r.rate_card_id, r.amount, coalesce(sum(a.attributed_amount), 0)
        from intermediate.int_rated_usage r
        left join intermediate.int_event_revenue_attributions a
          on a.invoice_id = r.invoice_id and a.rate_card_id = r.rate_card_id
        group by all having r.amount <> coalesce(sum(a.attributed_amount), 0)
        """,
    )
    assert rows == []


@pytest.fixture(scope="module")
def past_grace(tmp_path_factory) -> BilledWarehouse:
    """Billed on the recommended night, then a night well past every November grace period
    (November invoices fall due); each test changes a copy."""
    billed = bill(
        tmp_path_factory.mktemp("past_grace"), accounts=8, events=1500, seed=3, fmt="jsonl"
    )
    settings = billed.settings.with_overrides(as_of=parse_as_of("2026-12-15T02:00:00Z"))
    run_nightly(settings)
    return BilledWarehouse(billed.root, settings, billed.manifest)


def test_finalized_invoices_never_change_and_late_events_are_past_grace(past_grace, tmp_path):
    settings = past_grace.copy(tmp_path / "copy").settings
    finalized = query(
        settings.warehouse,
        "select * from billing.finalized_invoices order by invoice_id",
    )
    assert finalized, "November invoices are finalized"
    finalized_lines = query(
        settings.warehouse,
        "select * from billing.finalized_invoice_line_items order by line_item_id",
    )
    # A late event for a finalized November cycle arrives the next night.
    late, _ = late_event(settings.warehouse)
    (settings.landing / "zz-late.jsonl").write_text(json.dumps(late) + "\n")
    run_nightly(settings.with_overrides(as_of=parse_as_of("2026-12-16T02:00:00Z")))

    assert (
        query(settings.warehouse, "select * from billing.finalized_invoices order by invoice_id")
        == finalized
    )
    assert (
        query(
            settings.warehouse,
            "select * from billing.finalized_invoice_line_items order by line_item_id",
        )
        == finalized_lines
    )
    status, revenue = query(
        settings.warehouse,
        "select status, revenue from marts.fct_event_pipeline_log where event_id = 'late-event-1'",
    )[0]
    assert status == "PAST_GRACE_PERIOD"
    assert revenue == 0


def test_a_catalog_change_reprices_open_cycles_only(past_grace, tmp_path):
    """Incremental models keep finalized invoices' rows; open invoices follow the catalog."""
    import yaml

    settings = past_grace.copy(tmp_path / "copy").settings
    frozen_sql = """
        select m.* from intermediate.int_event_meter_matches m
        join billing.finalized_invoices f using (invoice_id) order by all
    """
    frozen_matches = query(settings.warehouse, frozen_sql)
    frozen_revenue = query(
        settings.warehouse,
        """select record_seq, revenue from marts.fct_event_pipeline_log
           where invoice_id in (select invoice_id from billing.finalized_invoices)
           order by record_seq""",
    )
    meter_id = query(
        settings.warehouse,
        """select meter_id from intermediate.int_event_meter_matches
           group by meter_id order by count(*) desc limit 1""",
    )[0][0]
    assert frozen_matches

    # The busiest meter stops matching anything; a December event for it arrives.
    pricing = settings.catalog / "pricing.yaml"
    catalog = yaml.safe_load(pricing.read_text())
    meter = next(m for m in catalog["usage_meters"] if m["id"] == meter_id)
    meter["filter"] = {"==": [1, 0]}
    pricing.write_text(yaml.safe_dump(catalog, sort_keys=False))
    run_nightly(settings.with_overrides(as_of=parse_as_of("2026-12-16T02:00:00Z")))

    assert query(settings.warehouse, frozen_sql) == frozen_matches
    assert (
        query(
            settings.warehouse,
            """select record_seq, revenue from marts.fct_event_pipeline_log
               where invoice_id in (select invoice_id from billing.finalized_invoices)
               order by record_seq""",
        )
        == frozen_revenue
    )
    open_matches = query(
        settings.warehouse,
        f"""select count(*) from intermediate.int_event_meter_matches m
            where meter_id = '{meter_id}'
              and invoice_id not in (select invoice_id from billing.finalized_invoices)""",
    )[0][0]
    assert open_matches == 0
