"""When the night runs: the nightly schedule (02:00 UTC unless TALLYHOUSE_NIGHTLY_CRON says),
and the weekly audit (Sundays 04:00 UTC unless TALLYHOUSE_AUDIT_CRON says)."""

import os

import dagster as dg

from dagster_project.defs.jobs import audit_job, nightly_billing_job


def _utc_schedule(name: str, job, cron_setting: str, default_cron: str, description: str):
    """A UTC schedule whose cron an operator may override; it ships stopped (started in the
    Dagster UI, docs/operations.md)."""
    return dg.ScheduleDefinition(
        name=name,
        job=job,
        cron_schedule=os.environ.get(cron_setting, default_cron),
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=description,
    )


nightly_billing_schedule = _utc_schedule(
    "nightly_billing_schedule",
    nightly_billing_job,
    "TALLYHOUSE_NIGHTLY_CRON",
    "0 2 * * *",
    "Bill everyone: ingest, rate, invoice, finalize what fell due.",
)

# Sundays 04:00 UTC, after the night; the run queue and the warehouse's run lock keep it off
# a night that is still running.
audit_schedule = _utc_schedule(
    "audit_schedule",
    audit_job,
    "TALLYHOUSE_AUDIT_CRON",
    "0 4 * * 0",
    "Run the dbt tests the nightly build leaves out (the weekly audit).",
)
