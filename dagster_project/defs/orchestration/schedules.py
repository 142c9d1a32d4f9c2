"""When the night runs: the nightly schedule (02:00 UTC unless TALLYHOUSE_NIGHTLY_CRON says),
and the weekly audit (Sundays 04:00 UTC unless TALLYHOUSE_AUDIT_CRON says)."""

import os

import dagster as dg

from dagster_project.defs.jobs import audit_job, nightly_billing_job

nightly_billing_schedule = dg.ScheduleDefinition(
    name="nightly_billing_schedule",
    job=nightly_billing_job,
    cron_schedule=os.environ.get("TALLYHOUSE_NIGHTLY_CRON", "0 2 * * *"),
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Bill everyone: ingest, rate, invoice, finalize what fell due.",
)

audit_schedule = dg.ScheduleDefinition(
    name="audit_schedule",
    job=audit_job,
    # Sundays 04:00 UTC, after the night; the run queue and the warehouse's run lock keep it
    # off a night that is still running.
    cron_schedule=os.environ.get("TALLYHOUSE_AUDIT_CRON", "0 4 * * 0"),
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Run the dbt tests the nightly build leaves out (the weekly audit).",
)
