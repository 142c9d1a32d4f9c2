"""Invoicing: pricing rules, rounding, credits and wallet over the rated lines (pure Python)."""

import dagster as dg

from dagster_project.defs.resources import BillingSettingsResource, WarehouseResource
from dagster_project.lib.invoicing.warehouse import BILLING_TABLES, write_invoices

INVOICING_OUTPUTS = [
    dg.AssetSpec(
        ["billing", table],
        deps=[
            ["intermediate", "int_rated_usage"],
            ["intermediate", "int_fixed_fee_lines"],
            ["intermediate", "int_invoices"],
        ],
    )
    for table in BILLING_TABLES
]


@dg.multi_asset(
    name="priced_invoices",
    group_name="invoicing",
    specs=INVOICING_OUTPUTS,
    description="Apply each plan's pricing rules (compiled once per plan) to every open "
    "invoice, round each line once, true up commitments, burn credits, draw wallets; "
    "store finalized invoices once and forever, replace the drafts of every account whose "
    "inputs or due moments changed since they were priced.",
)
def priced_invoices(warehouse: WarehouseResource, billing: BillingSettingsResource):
    with warehouse.connect() as con:
        summary = write_invoices(con, billing.clock())
    for spec in INVOICING_OUTPUTS:
        yield dg.MaterializeResult(
            asset_key=spec.key,
            metadata={
                "draft_invoices": summary.drafts,
                "finalized_this_run": summary.finalized_now,
                "finalized_before": summary.finalized_before,
                "needs_review": summary.needs_review,
                "accounts_priced": len(summary.priced_accounts),
            },
        )
