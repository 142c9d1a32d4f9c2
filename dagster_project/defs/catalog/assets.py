"""Catalog assets: validate the pricing catalog and load it into the warehouse's catalog schema."""

import dagster as dg

from dagster_project.defs.resources import BillingSettingsResource, WarehouseResource
from dagster_project.lib.catalog import (
    CATALOG_TABLES,
    catalog_is_loaded,
    load_catalog,
    write_catalog_tables,
)

# One asset per catalog table, keyed as dbt's sources name them (["catalog", table]).
CATALOG_TABLE_SPECS = [
    dg.AssetSpec(["catalog", table], description=f"Catalog table catalog.{table}")
    for table in CATALOG_TABLES
]


@dg.multi_asset(
    name="pricing_catalog",
    group_name="catalog",
    specs=CATALOG_TABLE_SPECS,
    description="Validate the whole catalog folder (pricing.yaml and customer data), then "
    "replace the catalog tables in one transaction.",
)
def pricing_catalog(warehouse: WarehouseResource, billing: BillingSettingsResource):
    catalog_dir = billing.settings().catalog
    with warehouse.connect() as con:
        # Files, code and tables unchanged since the last load: nothing to parse or write.
        reloaded = not catalog_is_loaded(con, catalog_dir)
        if reloaded:
            # A broken catalog raises CatalogError with every problem listed, before anything
            # is written.
            write_catalog_tables(con, load_catalog(catalog_dir))
    for spec in CATALOG_TABLE_SPECS:
        yield dg.MaterializeResult(
            asset_key=spec.key, metadata={"catalog_dir": str(catalog_dir), "reloaded": reloaded}
        )
