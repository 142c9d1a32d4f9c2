"""Ingestion assets: new landing files into the ingestion log (landing.event_records)."""

import dagster as dg

from dagster_project.defs.catalog.assets import CATALOG_TABLE_SPECS
from dagster_project.defs.resources import BillingSettingsResource, WarehouseResource
from dagster_project.lib.ingestion import ingest_landing

EVENT_RECORDS = dg.AssetKey(["landing", "event_records"])
LANDING_FILES = dg.AssetKey(["landing", "landing_files"])
# Ingest only after the catalog validated: a broken catalog stops the run before anything
# is written.
AFTER_CATALOG = [spec.key for spec in CATALOG_TABLE_SPECS]


@dg.multi_asset(
    name="raw_events",
    group_name="ingestion",
    specs=[
        dg.AssetSpec(
            EVENT_RECORDS,
            deps=AFTER_CATALOG,
            description="Every record of every new, complete landing file, parsed, validated "
            "and deduplicated, with its ingestion status (raw.event_records).",
        ),
        dg.AssetSpec(
            LANDING_FILES,
            deps=AFTER_CATALOG,
            description="Every landing file ingested or rejected, by content hash "
            "(raw.landing_files).",
        ),
    ],
)
def raw_events(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    billing: BillingSettingsResource,
):
    settings = billing.settings()
    with warehouse.connect() as con:
        summary = ingest_landing(con, settings.landing, received_at=settings.clock())
    for name, reason in summary.files_rejected.items():
        context.log.warning(f"rejected landing file {name}: {reason}")
    yield dg.MaterializeResult(
        asset_key=EVENT_RECORDS,
        metadata={
            "records": summary.records,
            **{f"records_{status.lower()}": n for status, n in summary.records_by_status.items()},
        },
    )
    yield dg.MaterializeResult(
        asset_key=LANDING_FILES,
        metadata={
            "files_ingested": len(summary.files_ingested),
            "files_rejected": len(summary.files_rejected),
            "files_already_ingested": len(summary.files_already_ingested),
            "files_ignored": len(summary.files_ignored),
        },
    )
