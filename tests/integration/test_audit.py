"""The weekly audit: the dbt tests tagged `audit` leave the nightly build and run in audit_job
(`tallyhouse audit`); together the two run every data test of the project, none twice."""

from __future__ import annotations

import json
import re

import dagster as dg
import duckdb
import pytest

from dagster_project.cli import UserError, build_parser, cmd_audit, run_audit
from dagster_project.lib.dbt import tallyhouse_dbt

pytestmark = pytest.mark.slow

# Counted by hand in the model YAML: stg_landing__event_records 6 (record_seq and raw_ref
# unique + not null, ingest_status not null + accepted values), int_event_records_resolved 5,
# int_event_meter_matches 2, int_event_revenue_attributions 6 (5 not null + the grain),
# fct_event_pipeline_log 6, fct_usage_daily 1 (the grain).
AUDIT_TESTS = 26
TEST_LINE = re.compile(r"\d+ of \d+ (?:PASS|FAIL|WARN|ERROR) (\S+) ")


def data_tests() -> dict[str, set[str]]:
    """Every data test of the project by name, with its tags."""
    manifest = json.loads(tallyhouse_dbt.manifest_path.read_text())
    return {
        node["name"]: set(node["tags"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
    }


def names_of_tests_run(log_text: str) -> list[str]:
    return TEST_LINE.findall(log_text)


def test_the_audit_takes_the_record_grain_tests_and_leaves_the_money_checks_nightly():
    tests = data_tests()
    audit = {name for name, tags in tests.items() if "audit" in tags}
    assert len(audit) == AUDIT_TESTS
    assert "unique_stg_landing__event_records_record_seq" in audit
    assert "unique_fct_event_pipeline_log_raw_ref" in audit
    # Dedupe (two ACCEPTED records of one event bill it twice) and conservation stay nightly.
    assert "unique_stg_landing__event_records_event_id" not in audit
    assert "primary_key_fct_invoices_invoice_id" not in audit
    assert not any(name.startswith("expression_is_true_fct_invoice") for name in audit)
    assert not any("relationships" in name for name in audit)
    assert all(
        any(model in name for model in ("stg_landing__", "int_event_", "fct_event_pipeline_log"))
        or name.startswith("expression_is_true_fct_usage_daily_not_exists")
        for name in audit
    )

    # Dagster: the nightly dbt steps declare no audit test as an asset check, so no check is
    # left unexecuted; the audit job and its schedule ship stopped, like the nightly one.
    from dagster_project.definitions import defs

    nightly = defs.resolve_job_def("nightly_billing_job")
    checks = {key.name for key in nightly.asset_layer.asset_graph.asset_check_keys}
    assert not checks & audit
    assert "unique_stg_landing__event_records_event_id" in checks
    schedule = defs.resolve_schedule_def("audit_schedule")
    assert schedule.job_name == "audit_job"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert build_parser().parse_args(["audit"]).handler is cmd_audit


def test_the_night_runs_every_other_test_and_the_audit_passes_on_a_billed_warehouse(
    billed_jsonl,
):
    tests = data_tests()
    audit = {name for name, tags in tests.items() if "audit" in tags}
    first_night = sorted((billed_jsonl.root / "logs").glob("nightly-*.log"))[0]
    ran = names_of_tests_run(first_night.read_text())
    # Nightly ∪ audit is every data test, and the night ran none of the audit's.
    assert len(ran) == len(set(ran)) == len(tests) - AUDIT_TESTS
    assert set(ran) == set(tests) - audit

    assert run_audit(billed_jsonl.settings) == AUDIT_TESTS
    audit_log = sorted((billed_jsonl.root / "logs").glob("audit-*.log"))[-1]
    assert set(names_of_tests_run(audit_log.read_text())) == audit


def test_an_audit_test_fails_when_its_invariant_is_broken(billed_jsonl, tmp_path):
    broken = billed_jsonl.copy(tmp_path / "broken")
    with duckdb.connect(str(broken.settings.warehouse)) as con:
        # One INVALID record received twice: record_seq and raw_ref no longer identify a record
        # (an INVALID one, so the nightly dedupe test on ACCEPTED event ids is not involved).
        con.execute(
            """insert into raw.event_records
               select * from raw.event_records
               where record_seq = (select min(record_seq) from raw.event_records
                                   where ingest_status = 'INVALID')"""
        )
    with pytest.raises(UserError) as failure:
        run_audit(broken.settings)
    message = str(failure.value)
    assert f"2 of {AUDIT_TESTS} audit test(s) failed" in message
    assert "unique_stg_landing__event_records_record_seq: fail, 1 row(s)" in message
    assert "unique_stg_landing__event_records_raw_ref: fail, 1 row(s)" in message
