"""Invoicing checks: a wrong invoice never reaches the marts (or a customer)."""

import dagster as dg

from dagster_project.defs.rating.checks import check_result
from dagster_project.defs.resources import WarehouseResource
from dagster_project.lib.checks import (
    invoices_equal_their_lines,
    late_usage,
    metered_revenue_invoiced,
    no_negative_totals,
    records_conserved,
    rule_errors,
)


def _stored_invoice_checks(stored: str) -> list[dg.AssetChecksDefinition]:
    """The two invoice checks over one stored table (finalized or draft), blocking the
    invoice marts: a total that is not the sum of its lines, or negative, is never shown."""
    invoices = f"billing.{stored}_invoices"
    lines = f"billing.{stored}_invoice_line_items"
    key = dg.AssetKey(["billing", f"{stored}_invoices"])

    @dg.asset_check(
        asset=key,
        name="invoice_equals_sum_of_lines",
        blocking=True,
        additional_deps=[dg.AssetKey(["billing", f"{stored}_invoice_line_items"])],
        description=f"Every {stored} invoice's total equals the sum of its lines.",
    )
    def equals_lines(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(writes=False) as con:
            return check_result(invoices_equal_their_lines(con, invoices, lines))

    @dg.asset_check(
        asset=key,
        name="no_negative_totals",
        blocking=True,
        description=f"No {stored} invoice has a negative total or amount due.",
    )
    def not_negative(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(writes=False) as con:
            return check_result(no_negative_totals(con, invoices))

    return [equals_lines, not_negative]


PIPELINE_LOG = dg.AssetKey(["marts", "fct_event_pipeline_log"])


@dg.asset_check(
    asset=PIPELINE_LOG,
    name="records_conserved",
    blocking=True,
    description="Records in = pipeline log rows: every ingested record is logged exactly once.",
)
def records_conserved_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(writes=False) as con:
        return check_result(records_conserved(con))


@dg.asset_check(
    asset=PIPELINE_LOG,
    name="metered_revenue_invoiced",
    blocking=True,
    additional_deps=[dg.AssetKey(["marts", "fct_invoices"])],
    description="No METERED record with computed revenue sits outside every invoice.",
)
def metered_revenue_invoiced_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(writes=False) as con:
        return check_result(metered_revenue_invoiced(con))


@dg.asset_check(
    asset=PIPELINE_LOG,
    name="late_usage",
    description="Usage that arrived after its invoice was finalized (warning: never billed).",
)
def late_usage_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(writes=False) as con:
        return check_result(late_usage(con), dg.AssetCheckSeverity.WARN)


@dg.asset_check(
    asset=dg.AssetKey(["marts", "fct_pricing_rule_log"]),
    name="rule_errors",
    description="Pricing rules that raised an error (warning: the invoice went out without them).",
)
def rule_errors_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(writes=False) as con:
        return check_result(rule_errors(con), dg.AssetCheckSeverity.WARN)


INVOICING_CHECKS = [
    *_stored_invoice_checks("finalized"),
    *_stored_invoice_checks("draft"),
    records_conserved_check,
    metered_revenue_invoiced_check,
    late_usage_check,
    rule_errors_check,
]
