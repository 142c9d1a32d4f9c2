"""dbt models as Dagster assets: staging, metering and rating in the warehouse."""


import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.defs.resources import BillingSettingsResource
from dagster_project.lib.dbt import ensure_manifest, tallyhouse_dbt


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
