"""dbt models as Dagster assets: staging, metering and rating in the warehouse."""


import json

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.defs.resources import BillingSettingsResource
from dagster_project.lib.dbt import ensure_manifest, tallyhouse_dbt


@dbt_assets(manifest=ensure_manifest(), project=tallyhouse_dbt)
def tallyhouse_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, billing: BillingSettingsResource
):
    # dbt gets the run's clock as a var, so re-running with the same --as-of reproduces it.
    dbt_vars = {"as_of": billing.clock().isoformat()}
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()
