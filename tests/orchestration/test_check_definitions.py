"""The asset checks the nightly job runs: which table each guards, and which block."""

from __future__ import annotations

# (asset, check) → blocking
EXPECTED = {
    ("intermediate/int_rated_usage", "usage_rated_under_a_plan"): True,
    ("billing/finalized_invoices", "invoice_equals_sum_of_lines"): True,
    ("billing/finalized_invoices", "no_negative_totals"): True,
    ("billing/draft_invoices", "invoice_equals_sum_of_lines"): True,
    ("billing/draft_invoices", "no_negative_totals"): True,
    ("marts/fct_event_pipeline_log", "records_conserved"): True,
    ("marts/fct_event_pipeline_log", "metered_revenue_invoiced"): True,
    ("marts/fct_event_pipeline_log", "late_usage"): False,
    ("marts/fct_pricing_rule_log", "rule_errors"): False,
}


def test_billing_checks_are_defined_with_their_blocking_flags():
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    specs = {
        (key.asset_key.to_user_string(), key.name): graph.get_check_spec(key)
        for key in graph.asset_check_keys
    }
    ours = {k: specs[k].blocking for k in EXPECTED if k in specs}
    assert ours == EXPECTED
    # dbt's tests are asset checks too (dagster-dbt), e.g. the pipeline log's conservation.
    dbt_checks = {k for k in specs if k not in EXPECTED}
    assert ("marts/fct_invoices", "primary_key_fct_invoices_invoice_id") in dbt_checks


def test_the_nightly_job_runs_every_check():
    from dagster_project.definitions import defs

    job = defs.resolve_job_def("nightly_billing_job")
    in_job = {
        (k.asset_key.to_user_string(), k.name) for k in job.asset_layer.asset_graph.asset_check_keys
    }
    assert set(EXPECTED) <= in_job
