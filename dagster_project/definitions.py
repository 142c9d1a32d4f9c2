"""Tallyhouse's Dagster definitions: thin; each domain lives in defs/<domain>/."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.catalog.assets import pricing_catalog
from dagster_project.defs.ingestion.assets import raw_events
from dagster_project.defs.invoicing.assets import priced_invoices
from dagster_project.defs.invoicing.checks import INVOICING_CHECKS
from dagster_project.defs.jobs import audit_job, landing_ingestion_job, nightly_billing_job
from dagster_project.defs.orchestration.schedules import audit_schedule, nightly_billing_schedule
from dagster_project.defs.orchestration.sensors import landing_files_sensor
from dagster_project.defs.payments.assets import payment_collection
from dagster_project.defs.payments.resources import PaymentProviderResource
from dagster_project.defs.rating.assets import invoice_marts, invoice_periods, rating_models
from dagster_project.defs.rating.checks import RATING_CHECKS
from dagster_project.defs.resources import (
    BillingSettingsResource,
    TallyhouseDbtResource,
    WarehouseResource,
)
from dagster_project.defs.serving.assets import serving_snapshot
from dagster_project.lib.dbt import tallyhouse_dbt

defs = dg.Definitions(
    assets=[
        pricing_catalog,
        raw_events,
        invoice_periods,
        rating_models,
        priced_invoices,
        payment_collection,
        invoice_marts,
        serving_snapshot,
    ],
    # Blocking checks stop the steps downstream of a wrong table (docs/operations.md).
    asset_checks=[*RATING_CHECKS, *INVOICING_CHECKS],
    jobs=[nightly_billing_job, landing_ingestion_job, audit_job],
    schedules=[nightly_billing_schedule, audit_schedule],
    sensors=[landing_files_sensor],
    resources={
        "warehouse": WarehouseResource(),
        "billing": BillingSettingsResource(),
        "dbt": TallyhouseDbtResource(project_dir=tallyhouse_dbt),
        "payments": PaymentProviderResource(),
    },
    # DuckDB allows one writing process per file: every step runs in the run's own process,
    # including runs launched from the UI.
    executor=dg.in_process_executor,
)
