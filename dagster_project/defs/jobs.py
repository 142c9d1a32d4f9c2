"""Jobs: the nightly billing job (every asset) and landing ingestion; in one process each,
because DuckDB takes one writer."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.rating.assets import dbt_audit_tests

nightly_billing_job = dg.define_asset_job(
    "nightly_billing_job",
    selection=dg.AssetSelection.all(),
    description="Ingest new landing files, load the catalog, meter, rate and invoice everyone.",
    executor_def=dg.in_process_executor,
)

landing_ingestion_job = dg.define_asset_job(
    "landing_ingestion_job",
    # The catalog is validated first, as in the nightly job (raw_events depends on it).
    selection=dg.AssetSelection.groups("catalog", "ingestion"),
    description="Ingest new landing files (launched by landing_files_sensor).",
    executor_def=dg.in_process_executor,
)


@dg.job(
    name="audit_job",
    description="The weekly audit: the dbt tests tagged audit, which the nightly build leaves "
    "out (record-grain structure of the event-level models), against the warehouse.",
    executor_def=dg.in_process_executor,
)
def audit_job():
    dbt_audit_tests()
