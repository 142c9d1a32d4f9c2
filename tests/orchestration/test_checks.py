"""Every asset check holds on a correctly billed warehouse and fails on its planted fault.

The faults are planted in copies of one billed warehouse (tiny_billing: invoices 22.34,
15.00, 13.00, 10.00 and two drafts of 10.00), so no case runs dbt; one end-to-end case
shows that a blocking check failure stops the steps downstream of it in a real job run.
"""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from dagster_project.cli import UserError, run_nightly
from dagster_project.lib import checks
from dagster_project.lib.run_lock import WarehouseBusy, warehouse_run_lock

OCTOBER_A = "account_id = 'acc_a' and period_start = '2026-10-01 00:00:00+00'"
# acc_b's October usage line (every invoice has one, at 0 without usage).
OCTOBER_B_RATED = """invoice_id in (select invoice_id from intermediate.int_invoices
                   where account_id = 'acc_b' and period_start = '2026-10-01 00:00:00+00')"""


@pytest.fixture
def tampered(tiny_billed, tmp_path):
    """A writable copy of the billed warehouse."""
    settings = tiny_billed.copy(tmp_path)
    con = duckdb.connect(str(settings.warehouse))
    con.execute("SET TimeZone = 'UTC'")
    yield con
    con.close()


def test_every_check_holds_on_a_correct_run(tiny_billed):
    con = duckdb.connect(str(tiny_billed.warehouse), read_only=True)
    try:
        findings = [
            checks.records_conserved(con),
            checks.invoices_equal_their_lines(con),
            checks.invoices_equal_their_lines(
                con, "billing.finalized_invoices", "billing.finalized_invoice_line_items"
            ),
            checks.no_negative_totals(con),
            checks.usage_rated_under_a_plan(con),
            checks.metered_revenue_invoiced(con),
            checks.rule_errors(con),
            checks.late_usage(con),
        ]
    finally:
        con.close()
    assert [f.describe() for f in findings if not f.passed] == []
    # 4 records in, 4 pipeline log rows.
    assert findings[0].counts == {"records_in": 4, "pipeline_log_rows": 4}


def test_a_record_missing_from_the_pipeline_log_breaks_conservation(tampered):
    tampered.execute("delete from marts.fct_event_pipeline_log where event_id = 'evt-a-2'")
    finding = checks.records_conserved(tampered)
    assert finding.failures == 1
    assert finding.examples == ["events-1.jsonl:2: missing from the pipeline log"]
    assert finding.counts == {"records_in": 4, "pipeline_log_rows": 3}


def test_a_record_logged_twice_breaks_conservation(tampered):
    tampered.execute(
        "insert into marts.fct_event_pipeline_log "
        "select * from marts.fct_event_pipeline_log where event_id = 'evt-b-1'"
    )
    finding = checks.records_conserved(tampered)
    assert finding.examples == ["events-1.jsonl:3: logged 2 times"]


def test_a_total_that_is_not_the_sum_of_its_lines_fails(tampered):
    tampered.execute(f"update billing.finalized_invoices set total = 23.34 where {OCTOBER_A}")
    finding = checks.invoices_equal_their_lines(
        tampered, "billing.finalized_invoices", "billing.finalized_invoice_line_items"
    )
    assert finding.failures == 1
    assert finding.examples[0].endswith("total 23.340000000000 but lines sum to 22.340000000000")


def test_a_missing_line_fails_the_sum(tampered):
    # acc_b's October invoice: 5.00 usage + 10.00 fee; without the fee the lines sum to 5.00.
    # The stored lines: marts.fct_invoice_line_items is a view over them.
    tampered.execute(
        """delete from billing.finalized_invoice_line_items where line_type = 'FIXED_FEE'
           and invoice_id in (select invoice_id from marts.fct_invoices
                              where account_id = 'acc_b' and period_start = '2026-10-01')"""
    )
    finding = checks.invoices_equal_their_lines(tampered)
    assert finding.failures == 1
    assert "total 15.000000000000 but lines sum to 5.000000000000" in finding.examples[0]


def test_a_negative_total_fails(tampered):
    tampered.execute(
        "update billing.draft_invoices set total = -10, amount_due = -10 where account_id = 'acc_b'"
    )
    finding = checks.no_negative_totals(tampered, "billing.draft_invoices")
    assert finding.failures == 1
    assert finding.examples[0].endswith("total -10.000000000000, amount due -10.000000000000")


def test_usage_rated_under_another_plan_fails(tampered):
    tampered.execute(
        f"update intermediate.int_rated_usage set plan_id = 'enterprise' where {OCTOBER_B_RATED}"
    )
    finding = checks.usage_rated_under_a_plan(tampered)
    assert finding.failures == 1
    assert finding.examples[0].endswith("token_usage: invoice is on plan basic")


def test_usage_rated_for_an_invoice_that_does_not_exist_fails(tampered):
    tampered.execute(
        f"update intermediate.int_rated_usage set invoice_id = 'inv_nowhere' where {OCTOBER_B_RATED}"
    )
    finding = checks.usage_rated_under_a_plan(tampered)
    assert finding.examples == ["inv_nowhere / token_usage: no such invoice"]


def test_metered_revenue_on_no_invoice_fails(tampered):
    tampered.execute(
        "update marts.fct_event_pipeline_log set invoice_id = null where event_id = 'evt-a-3'"
    )
    finding = checks.metered_revenue_invoiced(tampered)
    assert finding.examples == ["events-1.jsonl:4 (event evt-a-3) on invoice none"]


def test_rule_errors_and_late_usage_are_reported(tampered):
    invoice_id = tampered.execute(
        f"select invoice_id from marts.fct_invoices where {OCTOBER_A}"
    ).fetchall()[0][0]
    tampered.execute(
        "insert into billing.finalized_pricing_rule_log (log_id, invoice_id, rule_id, outcome, "
        "error_message) values ('rl_x', ?, 'promo', 'COMPUTATION_ERROR', 'division by zero')",
        [invoice_id],
    )
    tampered.execute(
        "update marts.fct_event_pipeline_log set status = 'PAST_GRACE_PERIOD' "
        "where event_id = 'evt-a-2'"
    )
    errors = checks.rule_errors(tampered)
    assert errors.examples == [f"{invoice_id} rule promo: COMPUTATION_ERROR division by zero"]
    late = checks.late_usage(tampered)
    assert late.failures == 1
    assert late.examples == [f"events-1.jsonl:2 for finalized invoice {invoice_id}"]


def _outcome(result: dg.ExecutionResult) -> dict[str, str]:
    steps = {}
    for event in result.all_events:
        if event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            steps[event.step_key] = event.event_type_value
    return steps


@pytest.mark.slow
def test_a_failed_blocking_check_stops_the_invoice_marts(tiny_billed, tmp_path, monkeypatch):
    """A stored invoice whose total is not the sum of its lines never reaches the marts."""
    settings = tiny_billed.copy(tmp_path)
    con = duckdb.connect(str(settings.warehouse))
    con.execute(f"update billing.finalized_invoices set total = 23.34 where {OCTOBER_A}")
    con.close()
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    from dagster_project.definitions import defs

    job = defs.resolve_job_def("nightly_billing_job")
    # The invoicing step and the marts built from it (no dbt runs when the check blocks).
    selection = [
        key
        for key in defs.resolve_asset_graph().get_all_asset_keys()
        if key.path[0] == "billing" and key.path[1] != "invoice_periods"
    ] + [dg.AssetKey(["marts", "fct_invoices"])]
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=selection, raise_on_error=False
    )
    assert not result.success
    steps = _outcome(result)
    assert steps["priced_invoices"] == "STEP_SUCCESS"
    assert steps["billing__finalized_invoices_invoice_equals_sum_of_lines"] == "STEP_FAILURE"
    assert "invoice_marts" not in steps or steps["invoice_marts"] == "STEP_SKIPPED"
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    shown = con.execute(
        f"select cast(total as varchar) from marts.fct_invoices where {OCTOBER_A}"
    ).fetchall()
    con.close()
    assert shown == [("22.340000000000",)]  # the marts still show the last good run


def test_a_second_run_on_a_busy_warehouse_refuses_clearly(tiny_billed, tmp_path):
    settings = tiny_billed.copy(tmp_path)
    with warehouse_run_lock(settings.warehouse, purpose="the first run"):
        with pytest.raises(UserError, match="Another run is using the warehouse") as error:
            run_nightly(settings)
        assert "the first run" in str(error.value)
        with pytest.raises(WarehouseBusy):
            with warehouse_run_lock(settings.warehouse, purpose="a third"):
                pass
    # Released: the lock is free again.
    with warehouse_run_lock(settings.warehouse, purpose="later"):
        pass
