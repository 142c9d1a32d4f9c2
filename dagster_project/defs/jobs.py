"""The nightly billing job: every asset, in one process (DuckDB takes one writer)."""

from __future__ import annotations

import dagster as dg

nightly_billing_job = dg.define_asset_job(
    "nightly_billing_job",
    selection=dg.AssetSelection.all(),
    description="Ingest new landing files, load the catalog, meter, rate and invoice everyone.",
    executor_def=dg.in_process_executor,
)
