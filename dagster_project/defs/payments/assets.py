"""Payments: collect every DUE invoice through the payment provider (collect_payment)."""

import dagster as dg

from dagster_project.defs.payments.resources import PaymentProviderResource
from dagster_project.defs.resources import BillingSettingsResource, WarehouseResource
from dagster_project.lib.payments import PAYMENT_TABLES, collect_due_invoices

PAYMENT_OUTPUTS = [
    dg.AssetSpec(["billing", table], deps=[["billing", "finalized_invoices"]])
    for table in PAYMENT_TABLES
]


@dg.multi_asset(
    name="payment_collection",
    group_name="payments",
    specs=PAYMENT_OUTPUTS,
    description="Run collect_payment for every DUE invoice with an amount due: a new run, or "
    "the next attempt of one that failed or was cut short, resumed at its first action not "
    "done. One invoice's failure is logged on its run and never fails the job.",
)
def payment_collection(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    billing: BillingSettingsResource,
    payments: PaymentProviderResource,
):
    # Read the drill and the mapping first: a bad setting stops the run before any call.
    faults = payments.fault_injector()
    methods = payments.payment_method_map()
    with warehouse.connect() as con:
        summary = collect_due_invoices(
            con,
            payments.open(con),
            paid_at=billing.clock(),
            faults=faults,
            retry=payments.retry_policy(),
            payment_methods=methods,
            log=context.log,
        )
    metadata = {
        "provider": payments.provider_name(),
        "collected": summary.collected,
        "failed": summary.failed,
        "pending": summary.pending,
        "attempted": summary.attempted,
        "collected_by_currency": summary.paid_total_by_currency,
    }
    for spec in PAYMENT_OUTPUTS:
        yield dg.MaterializeResult(asset_key=spec.key, metadata=metadata)
