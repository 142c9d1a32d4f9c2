"""Rating checks: rated usage is gated before the invoicing step prices it."""

import dagster as dg

from dagster_project.defs.resources import WarehouseResource
from dagster_project.lib.checks import Finding, usage_rated_under_a_plan


def check_result(finding: Finding, severity=dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    """A finding as Dagster shows it: the invariant, how many rows break it, a few of them."""
    return dg.AssetCheckResult(
        passed=finding.passed,
        severity=severity,
        description=finding.describe(),
        metadata={
            "violations": finding.failures,
            "examples": dg.MetadataValue.json(finding.examples),
            **finding.counts,
        },
    )


@dg.asset_check(
    asset=dg.AssetKey(["intermediate", "int_rated_usage"]),
    name="usage_rated_under_a_plan",
    blocking=True,
    description="Every rated usage row belongs to an existing invoice, under that invoice's "
    "plan, through one of the plan's rate cards. Blocks invoicing.",
)
def usage_rated_under_a_plan_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(writes=False) as con:
        return check_result(usage_rated_under_a_plan(con))


RATING_CHECKS = [usage_rated_under_a_plan_check]
