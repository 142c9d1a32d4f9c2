"""Writes billing.invoice_periods: every cycle piece of every plan assignment, from the catalog."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from dagster_project.lib.billing_cycles import BillingCycleSpec, cycles_table, invoice_periods
from dagster_project.lib.invoicing.warehouse import ensure_billing_tables

# Events may be dated up to a day after the run's clock (SEMANTICS 2), so periods are laid
# out that far; the invoice models keep those not yet begun only when they have events.
LOOKAHEAD = timedelta(days=1)

ASSIGNMENTS_SQL = """
select a.assignment_id, a.account_id, a.plan_id, a.effective_from, a.effective_until,
       acc.timezone, p.billing_interval, p.anchor_day, p.anchor_month, p.anchor_weekday,
       p.grace_period_days
from catalog.plan_assignments a
join catalog.accounts acc using (account_id)
join catalog.price_plans p using (plan_id)
order by a.account_id, a.effective_from
"""


def write_invoice_periods(con: duckdb.DuckDBPyConnection, as_of: datetime) -> int:
    """Replace billing.invoice_periods; returns the number of periods."""
    periods = []
    for row in con.execute(ASSIGNMENTS_SQL).fetchall():
        (
            assignment_id,
            account_id,
            plan_id,
            effective_from,
            effective_until,
            timezone,
            interval,
            anchor_day,
            anchor_month,
            anchor_weekday,
            grace_days,
        ) = row
        spec = BillingCycleSpec(
            interval=interval,
            anchor_day=anchor_day or 1,
            anchor_month=anchor_month or 1,
            anchor_weekday=anchor_weekday or 1,
            grace_period_days=grace_days or 0,
        )
        periods.extend(
            invoice_periods(
                spec,
                account_id=account_id,
                assignment_id=assignment_id,
                plan_id=plan_id,
                timezone=timezone,
                effective_from=effective_from,
                effective_until=effective_until,
                until=as_of + LOOKAHEAD,
            )
        )
    table = cycles_table(periods)
    ensure_billing_tables(con)
    con.register("new_invoice_periods", table)
    # Each period carries how far its invoice was finalized (the last record_seq it billed),
    # so the rating models keep late events out of finalized invoices (PAST_GRACE_PERIOD).
    con.execute(
        """
        create or replace table billing.invoice_periods as
        select p.*, f.finalized_through_record_seq
        from new_invoice_periods p
        left join billing.finalized_invoices f
            using (account_id, assignment_id, period_start)
        """
    )
    con.unregister("new_invoice_periods")
    return table.num_rows
