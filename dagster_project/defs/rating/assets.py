"""Rating: invoice periods (Python calendar) and the dbt models that meter and rate usage."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.defs.resources import BillingSettingsResource, WarehouseResource
from dagster_project.lib.dbt import dbt_target_path, ensure_manifest, tallyhouse_dbt
from dagster_project.lib.invoice_periods import write_invoice_periods

# Marts built from what the invoicing asset writes run in a second dbt step (dbt → Python → dbt).
INVOICING_MODELS = "tag:invoicing"


def run_dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, clock):
    # dbt reads the run's clock from TALLYHOUSE_AS_OF (an env var, not a --vars value, so
    # dbt's partial parsing survives a new clock), and one fixed target path keeps the
    # parse cache between runs.
    os.environ["TALLYHOUSE_AS_OF"] = clock.isoformat()
    # dbt's unit tests check model logic on fixed inputs, not the night's data: the test suite
    # runs them (tests/rating/test_dbt_unit_tests.py), the nightly build does not.
    invocation = dbt.cli(
        ["build", "--exclude-resource-type", "unit_test"],
        context=context,
        target_path=dbt_target_path(),
    )
    yield from invocation.stream()


@dbt_assets(
    manifest=ensure_manifest(),
    project=tallyhouse_dbt,
    exclude=INVOICING_MODELS,
    name="rating_models",
)
def rating_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, billing: BillingSettingsResource
):
    yield from run_dbt_build(context, dbt, billing.clock())


@dbt_assets(
    manifest=ensure_manifest(),
    project=tallyhouse_dbt,
    select=INVOICING_MODELS,
    name="invoice_marts",
)
def invoice_marts(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, billing: BillingSettingsResource
):
    yield from run_dbt_build(context, dbt, billing.clock())


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
