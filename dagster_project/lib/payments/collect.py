"""The nightly collection: every DUE invoice with something left to pay gets one attempt."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import duckdb

from dagster_project.lib.gc_pause import gc_paused

from .engine import DueInvoice, PaymentWorkflow, RetryPolicy
from .faults import FaultInjector
from .providers import DEFAULT_PAYMENT_METHOD, PaymentProvider
from .store import WorkflowStore

PAYMENT_METHODS_SETTING = "TALLYHOUSE_PAYMENT_METHODS"

# Finalized DUE invoices whose run has not succeeded; an invoice whose amount_due was 0
# when it fell due is PAID already (invoicing) and never starts a run.
DUE_INVOICES_SQL = """
select f.invoice_id, f.account_id, f.customer_id, c.customer_name,
       c.email as customer_email, f.currency, f.amount_due
from billing.finalized_invoices f
left join catalog.customers c using (customer_id)
left join billing.workflow_runs r
       on r.invoice_id = f.invoice_id and r.workflow = 'collect_payment'
where f.status = 'DUE' and f.amount_due > 0 and coalesce(r.status, '') <> 'SUCCEEDED'
order by f.finalized_at, f.invoice_id
"""


def parse_payment_methods(text: str | None) -> dict[str, str]:
    """`customer_id=payment_method` pairs separated by commas (a drill plants a declining
    customer with `cus_x=pm_card_chargeCustomerFail`); others pay with pm_card_visa."""
    methods = {}
    for entry in (text or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        customer, sep, method = (part.strip() for part in entry.partition("="))
        if not sep or not customer or not method.startswith("pm_"):
            raise ValueError(f"{PAYMENT_METHODS_SETTING}: {entry!r} is not 'customer_id=pm_...'")
        methods[customer] = method
    return methods


@dataclass(frozen=True)
class CollectionSummary:
    collected: int  # runs that succeeded tonight
    failed: int  # runs that gave up tonight (resumed next night)
    pending: int  # DUE invoices still unpaid after tonight
    attempted: int
    paid_total_by_currency: dict[str, str]


def due_invoices(
    con: duckdb.DuckDBPyConnection, payment_methods: dict[str, str]
) -> list[DueInvoice]:
    store = WorkflowStore(con)
    return [
        DueInvoice(
            invoice_id=r["invoice_id"],
            account_id=r["account_id"],
            customer_id=r["customer_id"],
            customer_name=r["customer_name"],
            customer_email=r["customer_email"] or None,
            currency=r["currency"],
            amount_due=r["amount_due"],
            payment_method=payment_methods.get(r["customer_id"], DEFAULT_PAYMENT_METHOD),
        )
        for r in store.rows(DUE_INVOICES_SQL)
    ]


def collect_due_invoices(
    con: duckdb.DuckDBPyConnection,
    provider: PaymentProvider,
    *,
    paid_at: datetime,
    faults: FaultInjector | None = None,
    retry: RetryPolicy | None = None,
    payment_methods: dict[str, str] | None = None,
    log=None,
) -> CollectionSummary:
    with gc_paused():
        return _collect_due_invoices(con, provider, paid_at, faults, retry, payment_methods, log)


def _collect_due_invoices(
    con, provider, paid_at, faults, retry, payment_methods, log
) -> CollectionSummary:
    store = WorkflowStore(con)
    workflow = PaymentWorkflow(
        store=store,
        provider=provider,
        faults=faults or FaultInjector(),
        retry=retry or RetryPolicy(),
        paid_at=paid_at,
    )
    outcomes = Counter()
    paid: Counter = Counter()
    invoices = due_invoices(con, payment_methods or {})
    for invoice, outcome in zip(invoices, workflow.collect_all(invoices), strict=True):
        outcomes[outcome.status] += 1
        if outcome.status == "SUCCEEDED":
            paid[invoice.currency] += invoice.amount_due
        elif log is not None:
            log.warning(
                f"collect_payment for invoice {invoice.invoice_id} FAILED at "
                f"{outcome.failed_action} (attempt {outcome.attempt}): {outcome.reason}"
            )
    return CollectionSummary(
        collected=outcomes["SUCCEEDED"],
        failed=outcomes["FAILED"],
        pending=len(due_invoices(con, {})),
        attempted=len(invoices),
        paid_total_by_currency={c: format(a, "f") for c, a in sorted(paid.items())},
    )
