"""dbt models as Dagster assets: staging, metering and rating in the warehouse."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.defs.resources import BillingSettingsResource, WarehouseResource
from dagster_project.lib.dbt import ensure_manifest, tallyhouse_dbt
from dagster_project.lib.invoice_periods import write_invoice_periods


@dbt_assets(manifest=ensure_manifest(), project=tallyhouse_dbt)
def tallyhouse_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, billing: BillingSettingsResource
):
    # dbt reads the run's clock from TALLYHOUSE_AS_OF (an env var, not a --vars value, so
    # dbt's partial parsing survives a new clock), and one fixed target path keeps the
    # parse cache between runs.
    os.environ["TALLYHOUSE_AS_OF"] = billing.clock().isoformat()
    invocation = dbt.cli(["build"], context=context, target_path=tallyhouse_dbt.target_path)
    yield from invocation.stream()


@dg.asset(
    key=["billing", "invoice_periods"],
    group_name="rating",
    deps=[["catalog", "plan_assignments"], ["catalog", "accounts"], ["catalog", "price_plans"]],
    description="Every billing cycle (or piece of one, when a plan assignment cuts it) of "
    "every plan assignment that has begun by the run's clock, in the account's timezone.",
)
def invoice_periods(
    warehouse: WarehouseResource, billing: BillingSettingsResource
) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        periods = write_invoice_periods(con, billing.clock())
    return dg.MaterializeResult(metadata={"periods": periods})
