"""Serving: publish the marts to the read-only snapshot the dashboards read (CONTRACT §2)."""

import dagster as dg
from dagster_dbt import DagsterDbtTranslator
from dagster_dbt.dbt_manifest import validate_manifest

from dagster_project.defs.resources import BillingSettingsResource, WarehouseResource
from dagster_project.lib.dbt import ensure_manifest
from dagster_project.lib.serving import LINEAGE_TABLES, publish_snapshot

MARTS_FOLDER = "models/marts/"


def served_model_keys() -> list[dg.AssetKey]:
    """Every dbt model in the marts folder, read from the manifest, plus the lineage tables:
    a mart added later is published without touching this asset."""
    # dagster-dbt's reader, which keeps the parsed manifest: the dbt assets read the same file
    # (parsing the 1.4 MB manifest again took ~0.15 s of every command's start).
    manifest = validate_manifest(ensure_manifest())
    translator = DagsterDbtTranslator()
    keys = {
        translator.get_asset_key(node)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["original_file_path"].startswith(MARTS_FOLDER)
    }
    keys.update(dg.AssetKey([schema, name]) for schema, name in LINEAGE_TABLES)
    return sorted(keys, key=lambda key: key.to_user_string())


@dg.asset(
    key=["serving", "snapshot"],
    group_name="serving",
    deps=served_model_keys(),
    description="Copy every mart (and the revenue attributions behind invoice lines) into a "
    "new DuckDB file and switch it in atomically over TALLYHOUSE_SERVING: the dashboards read "
    "only this snapshot, so a run in progress or a failed run never changes what they show. "
    "Tables unchanged since the last snapshot are kept from it instead of copied again.",
)
def serving_snapshot(
    warehouse: WarehouseResource, billing: BillingSettingsResource
) -> dg.MaterializeResult:
    serving_path = billing.settings().serving
    with warehouse.connect(writes=False) as con:
        published = publish_snapshot(con, serving_path, run_clock=billing.clock())
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published.path)),
            "tables": len(published.tables),
            # The others were kept from the last snapshot, or (logs) given only their new rows.
            "tables copied": len(published.copied),
            "logs appended to": len(published.appended),
            "published_at": published.published_at.isoformat(),
        }
    )
