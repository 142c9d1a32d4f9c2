"""When the night runs: the nightly schedule (02:00 UTC unless TALLYHOUSE_NIGHTLY_CRON says)."""

import os

import dagster as dg

from dagster_project.defs.jobs import nightly_billing_job

nightly_billing_schedule = dg.ScheduleDefinition(
    name="nightly_billing_schedule",
    job=nightly_billing_job,
    cron_schedule=os.environ.get("TALLYHOUSE_NIGHTLY_CRON", "0 2 * * *"),
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Bill everyone: ingest, rate, invoice, finalize what fell due.",
)
