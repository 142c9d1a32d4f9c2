"""Writes billing.invoice_periods: every cycle piece of every plan assignment, from the catalog.

An assignment's pieces depend on its row, its account's timezone, its plan's cycle and the
calendar code; the clock only decides how many have begun. So a night lays out again only
the assignments whose inputs changed or whose next piece has begun since (a few hundred of
10,000 on a monthly catalog), and keeps the stored pieces of the others
(billing.invoice_period_layouts records what each was laid out from). To lay out every
assignment again: `delete from billing.invoice_period_layouts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa

from dagster_project.lib.billing_cycles import (
    BillingCycleSpec,
    InvoicePeriod,
    cycles_table,
    periods_and_next_start,
)
from dagster_project.lib.code_version import code_version
from dagster_project.lib.invoicing.warehouse import (
    INVOICE_PERIOD_LAYOUTS_COLUMNS,
    ensure_billing_tables,
)

# Events may be dated up to a day after the run's clock (SEMANTICS 2), so periods are laid
# out that far; the invoice models keep those not yet begun only when they have events.
LOOKAHEAD = timedelta(days=1)

ASSIGNMENTS_SQL = """
select a.assignment_id, a.account_id, a.plan_id, a.effective_from, a.effective_until,
       acc.timezone, p.billing_interval, p.anchor_day, p.anchor_month, p.anchor_weekday,
       p.grace_period_days,
       cast(hash(a.assignment_id, a.account_id, a.plan_id, a.effective_from,
                 a.effective_until, acc.timezone, p.billing_interval, p.anchor_day,
                 p.anchor_month, p.anchor_weekday, p.grace_period_days) as varchar)
from catalog.plan_assignments a
join catalog.accounts acc using (account_id)
join catalog.price_plans p using (plan_id)
order by a.account_id, a.effective_from
"""


@dataclass(frozen=True)
class InvoicePeriodsSummary:
    periods: int
    laid_out: int  # assignments laid out this run (the others kept their stored pieces)


def _stored_layouts(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    """billing.invoice_period_layouts by assignment, while the periods it describes exist."""
    (has_periods,) = con.execute(
        "select count(*) from duckdb_tables() "
        "where schema_name = 'billing' and table_name = 'invoice_periods'"
    ).fetchone()
    if not has_periods:
        return {}
    return {
        row[0]: row[1:]
        for row in con.execute(
            f"select {', '.join(INVOICE_PERIOD_LAYOUTS_COLUMNS)} from billing.invoice_period_layouts"
        ).fetchall()
    }


def _lay_out(row: tuple, until: datetime) -> tuple[list[InvoicePeriod], datetime | None]:
    """The assignment's pieces begun before `until`, and where its next piece begins."""
    (assignment_id, account_id, plan_id, effective_from, effective_until, timezone) = row[:6]
    interval, anchor_day, anchor_month, anchor_weekday, grace_days = row[6:11]
    spec = BillingCycleSpec(
        interval=interval,
        anchor_day=anchor_day or 1,
        anchor_month=anchor_month or 1,
        anchor_weekday=anchor_weekday or 1,
        grace_period_days=grace_days or 0,
    )
    return periods_and_next_start(
        spec,
        until=until,
        account_id=account_id,
        assignment_id=assignment_id,
        plan_id=plan_id,
        timezone=timezone,
        effective_from=effective_from,
        effective_until=effective_until,
    )


def write_invoice_periods(con: duckdb.DuckDBPyConnection, as_of: datetime) -> InvoicePeriodsSummary:
    """Replace billing.invoice_periods with the pieces begun by as_of + LOOKAHEAD."""
    until = as_of + LOOKAHEAD
    version = code_version()
    ensure_billing_tables(con)
    stored = _stored_layouts(con)

    periods: list[InvoicePeriod] = []
    layouts: list[tuple] = []
    kept: list[str] = []
    seen: set[str] = set()
    for row in con.execute(ASSIGNMENTS_SQL).fetchall():
        assignment_id, inputs_hash = row[0], row[11]
        # Layouts and kept pieces are keyed by assignment id; the catalog validator rejects
        # a repeated id, so one here means the table was edited around it.
        if assignment_id in seen:
            raise ValueError(
                f"catalog.plan_assignments: assignment '{assignment_id}' appears more than "
                "once; invoice periods are laid out per assignment id"
            )
        seen.add(assignment_id)
        previous = stored.get(assignment_id)
        # The stored pieces are those begun before laid_out_until, and none begins from
        # there to next_period_start: they are this clock's pieces while the horizon lies
        # in between. A clock earlier than the layout's lays it out again.
        if (
            previous is not None
            and previous[:2] == (inputs_hash, version)
            and previous[2] <= until
            and (previous[3] is None or until <= previous[3])
        ):
            kept.append(assignment_id)
            layouts.append((assignment_id, *previous))
            continue
        pieces, next_start = _lay_out(row, until)
        periods.extend(pieces)
        layouts.append((assignment_id, inputs_hash, version, until, next_start))

    con.register("new_invoice_periods", cycles_table(periods))
    con.register("kept_assignments", pa.table({"assignment_id": kept}))
    columns = list(zip(*layouts, strict=True)) or [()] * len(INVOICE_PERIOD_LAYOUTS_COLUMNS)
    con.register(
        "new_layouts", pa.table(dict(zip(INVOICE_PERIOD_LAYOUTS_COLUMNS, columns, strict=True)))
    )
    kept_rows = (
        """union all by name
        select * exclude (finalized_through_record_seq) from billing.invoice_periods
        where assignment_id in (select assignment_id from kept_assignments)"""
        if kept
        else ""
    )
    try:
        con.begin()
        # Each period carries how far its invoice was finalized (the last record_seq it
        # billed), so the rating models keep late events out of finalized invoices
        # (PAST_GRACE_PERIOD).
        con.execute(
            f"""
            create or replace table billing.invoice_periods as
            select p.*, f.finalized_through_record_seq
            from (select * from new_invoice_periods {kept_rows}) p
            left join billing.finalized_invoices f
                using (account_id, assignment_id, period_start)
            order by p.account_id, p.period_start, p.assignment_id
            """
        )
        con.execute("delete from billing.invoice_period_layouts")
        con.execute("insert into billing.invoice_period_layouts select * from new_layouts")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        for view in ("new_invoice_periods", "kept_assignments", "new_layouts"):
            con.unregister(view)
    (count,) = con.execute("select count(*) from billing.invoice_periods").fetchone()
    return InvoicePeriodsSummary(periods=count, laid_out=len(layouts) - len(kept))
