"""Every query behind the dashboards: cached, read-only, parameterized.

Pages only lay out; they call these functions with their filter values. Each function is
cached by Streamlit on its arguments plus the serving snapshot's version, so a new snapshot
(switched in by the nightly run, CONTRACT §2) is noticed on the next rerun and an old one
is never mixed into it. The app opens only the serving snapshot, read-only, one short
connection per query: it never holds the warehouse's lock.

Customer-facing functions (portal and widgets) take the token's accounts as a tuple and
filter on them in SQL with a bound parameter: `list_contains(?, account_id)`. No value a
user typed is ever spliced into SQL text.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from dagster_project.lib.serving import snapshot_version
from dagster_project.lib.tokens import Tenancy, load_tenancy
from dagster_project.lib.warehouse import warehouse_connection
from dagster_project.settings import Settings

PIPELINE_STATUSES = (
    "METERED",
    "NO_MATCHING_METERS",
    "ACCOUNT_NOT_FOUND",
    "NO_PRICE_PLAN",
    "SCHEMA_NOT_DEFINED",
    "INVALID",
    "DUPLICATE",
    "DUPLICATE_CONFLICT",
    "PAST_GRACE_PERIOD",
)
INVOICE_STATUSES = ("DRAFT", "DUE", "PAID")
# Revenue groupings: the label a page shows → the SQL expression (never user text).
REVENUE_DIMENSIONS = {
    "plan": "f.plan_id",
    "customer": "f.customer_id",
    "account": "f.account_id",
    "cycle": "strftime(f.period_start, '%Y-%m')",
}


class SnapshotMissing(Exception):
    """No run has published a snapshot yet."""


def serving_path() -> Path:
    return Settings.from_env().serving


def current_version() -> str:
    version = snapshot_version(serving_path())
    if version is None:
        raise SnapshotMissing(str(serving_path()))
    return version


def _query(sql: str, params: list | None = None) -> pd.DataFrame:
    with warehouse_connection(serving_path(), read_only=True) as con:
        table = con.sql(sql, params=params or []).to_arrow_table()
    # Arrow keeps DECIMAL columns as Python Decimals: money stays exact up to the screen.
    return table.to_pandas()


def snapshot_query(fn):
    """Cache `fn(version, *filters)` and call it with the served snapshot's version."""
    cached = st.cache_data(show_spinner=False, max_entries=512)(fn)

    @functools.wraps(fn)
    def call(*args, **kwargs):
        return cached(current_version(), *args, **kwargs)

    call.clear = cached.clear
    return call


def _accounts(accounts: tuple[str, ...]) -> list[str]:
    """The token's accounts as one bound list parameter; never empty (an empty list would be
    a bug upstream, and shows nothing rather than everything)."""
    if not accounts:
        raise ValueError("a customer query needs the token's accounts")
    return list(accounts)


def _some_accounts(accounts: tuple[str, ...] | None) -> list:
    """Parameters for `(? is null or list_contains(?, account_id))`: None means every
    account (finance pages only); a customer's tuple is never empty."""
    return [None, None] if accounts is None else [1, _accounts(accounts)]


def _range(start: date | None, end: date | None) -> list:
    return [start, start, end, end]


# ---------------------------------------------------------------- snapshot and tenancy


@snapshot_query
def snapshot_info(version: str) -> dict:
    frame = _query("select published_at, run_clock, served_tables from main.snapshot_info")
    return frame.iloc[0].to_dict() if len(frame) else {}


@snapshot_query
def has_table(version: str, schema: str, name: str) -> bool:
    frame = _query(
        "select count(*) as n from information_schema.tables "
        "where table_schema = ? and table_name = ?",
        [schema, name],
    )
    return int(frame["n"].iloc[0]) > 0


@snapshot_query
def tenancy(version: str) -> Tenancy:
    return load_tenancy(serving_path())


# ---------------------------------------------------------------- revenue (finance)


@snapshot_query
def revenue_by(
    version: str, dimension: str, period_from: date | None, period_to: date | None
) -> pd.DataFrame:
    """Invoiced amounts per plan, customer, account or cycle (month of period_start), per
    currency, for invoices whose period starts in [period_from, period_to]."""
    expression = REVENUE_DIMENSIONS[dimension]
    return _query(
        f"""select {expression} as {dimension}, f.currency,
                   count(*) as invoices,
                   sum(f.subtotal) as subtotal,
                   sum(f.minimum_commitment_true_up) as true_up,
                   sum(f.credits_applied) as credits,
                   sum(f.total) as total,
                   sum(f.amount_due) as amount_due
            from marts.fct_invoices as f
            where (? is null or cast(f.period_start as date) >= ?)
              and (? is null or cast(f.period_start as date) <= ?)
            group by all order by total desc, {dimension}""",
        _range(period_from, period_to),
    )


@snapshot_query
def revenue_by_meter(
    version: str, period_from: date | None, period_to: date | None
) -> pd.DataFrame:
    """Usage lines per meter (rounded line amounts), per currency."""
    return _query(
        """select l.meter_id, f.currency, count(*) as lines, sum(l.quantity) as quantity,
                  sum(l.amount) as amount
           from marts.fct_invoice_line_items as l
           join marts.fct_invoices as f on f.invoice_id = l.invoice_id
           where l.line_type = 'USAGE'
             and (? is null or cast(f.period_start as date) >= ?)
             and (? is null or cast(f.period_start as date) <= ?)
           group by all order by amount desc, l.meter_id""",
        _range(period_from, period_to),
    )


@snapshot_query
def invoice_period_bounds(
    version: str, accounts: tuple[str, ...] | None = None
) -> tuple[date | None, date | None]:
    """The days the invoices cover, first period start to last period end (exclusive, so
    minus a day): of every invoice (finance) or of `accounts`. A filter on period start
    over this range takes every invoice, and usage over it every day billed."""
    frame = _query(
        "select cast(min(period_start) as date) as lo, "
        "cast(max(period_end) as date) - 1 as hi "
        "from marts.fct_invoices where ? is null or list_contains(?, account_id)",
        _some_accounts(accounts),
    )
    lo, hi = frame["lo"].iloc[0], frame["hi"].iloc[0]
    return (None if pd.isna(lo) else lo, None if pd.isna(hi) else hi)


# ---------------------------------------------------------------- invoices


_INVOICE_COLUMNS = """f.invoice_id, f.account_id, f.customer_id, f.plan_id, f.currency,
    f.period_start, f.period_end, f.status, f.subtotal, f.minimum_commitment_true_up,
    f.credits_applied, f.total, f.wallet_applied, f.amount_paid, f.amount_due,
    f.finalized_at, f.needs_review, f.review_reasons"""


@snapshot_query
def invoice_status_counts(version: str) -> pd.DataFrame:
    return _query(
        """select status, currency, count(*) as invoices, sum(total) as total,
                  sum(amount_due) as amount_due
           from marts.fct_invoices group by all order by status, currency"""
    )


@snapshot_query
def invoices(
    version: str,
    statuses: tuple[str, ...],
    customer_id: str | None = None,
    period_from: date | None = None,
    period_to: date | None = None,
) -> pd.DataFrame:
    """Finance: every invoice, filtered by status, customer and period start."""
    return _query(
        f"""select {_INVOICE_COLUMNS} from marts.fct_invoices as f
            where list_contains(?, f.status)
              and (? is null or f.customer_id = ?)
              and (? is null or cast(f.period_start as date) >= ?)
              and (? is null or cast(f.period_start as date) <= ?)
            order by f.period_start desc, f.account_id""",
        [list(statuses), customer_id, customer_id, *_range(period_from, period_to)],
    )


@snapshot_query
def customer_invoices(version: str, accounts: tuple[str, ...]) -> pd.DataFrame:
    """Portal: the invoices of the token's accounts only."""
    return _query(
        f"""select {_INVOICE_COLUMNS} from marts.fct_invoices as f
            where list_contains(?, f.account_id)
            order by f.period_start desc, f.account_id""",
        [_accounts(accounts)],
    )


@snapshot_query
def invoice_lines(
    version: str, invoice_id: str, accounts: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """The lines of one invoice; with `accounts`, only if the invoice is one of theirs."""
    return _query(
        """select l.line_item_id, l.line_type, l.rate_card_id, l.meter_id, l.rule_id,
                  l.credit_id, l.code, l.quantity, l.unit_amount, l.amount, l.description
           from marts.fct_invoice_line_items as l
           join marts.fct_invoices as f on f.invoice_id = l.invoice_id
           where l.invoice_id = ? and (? is null or list_contains(?, f.account_id))
           order by l.line_item_id""",
        [invoice_id, *_some_accounts(accounts)],
    )


@snapshot_query
def line_events(version: str, invoice_id: str, rate_card_id: str) -> pd.DataFrame:
    """Finance drill-down: the events behind one usage line and the share each carries."""
    return _query(
        """select a.event_id, p.event_timestamp, p.account_id, a.event_units,
                  a.is_contributor, a.attributed_amount, p.raw_ref, p.status
           from intermediate.int_event_revenue_attributions as a
           left join marts.fct_event_pipeline_log as p on p.record_seq = a.record_seq
           where a.invoice_id = ? and a.rate_card_id = ?
           order by p.event_timestamp, a.event_id""",
        [invoice_id, rate_card_id],
    )


@snapshot_query
def line_rules(
    version: str, invoice_id: str, rate_card_id: str | None, rule_id: str | None
) -> pd.DataFrame:
    """The rule evaluations that touched one line: the rule that wrote it (PRICING_RULE_*
    lines), or the rules whose target is the line's rate card (revenue.X or usage.X)."""
    return _query(
        """select rule_order, rule_id, rule_name, outcome, action_type, target,
                  computation_result, old_revenue, new_revenue, old_usage, new_usage, variables
           from marts.fct_pricing_rule_log
           where invoice_id = ?
             and (rule_id = ? or target = 'revenue.' || ? or target = 'usage.' || ?)
           order by rule_order, rule_id""",
        [invoice_id, rule_id, rate_card_id, rate_card_id],
    )


@snapshot_query
def rule_log(version: str, invoice_id: str) -> pd.DataFrame:
    """Finance drill-down: every pricing rule evaluated on one invoice, with its variables."""
    return _query(
        """select rule_order, rule_id, rule_name, outcome, action_type, target,
                  computation_result, old_revenue, new_revenue, old_usage, new_usage,
                  variables, error_message
           from marts.fct_pricing_rule_log where invoice_id = ? order by rule_order, rule_id""",
        [invoice_id],
    )


# ---------------------------------------------------------------- events (finance)


@snapshot_query
def events(
    version: str,
    event_id: str | None = None,
    account_id: str | None = None,
    statuses: tuple[str, ...] = (),
    limit: int = 200,
) -> pd.DataFrame:
    """Pipeline log rows by exact event id and/or account, optionally of some statuses."""
    return _query(
        """select event_id, raw_ref, received_at, event_timestamp, schema_name, account_id,
                  customer_id, status, status_reason, matched_meter_ids, plan_id, cycle_start,
                  cycle_end, invoice_id, revenue, revenue_computed
           from marts.fct_event_pipeline_log
           where (? is null or event_id = ?)
             and (? is null or account_id = ?)
             and (len(?) = 0 or list_contains(?, status))
           order by received_at desc, raw_ref
           limit ?""",
        [event_id, event_id, account_id, account_id, list(statuses), list(statuses), int(limit)],
    )


@snapshot_query
def explain(version: str, event_id: str) -> list[str]:
    """`tallyhouse explain` in words, read from the snapshot (one paragraph per record)."""
    from dagster_project.cli import explain_event

    return explain_event(serving_path(), event_id)


@snapshot_query
def pipeline_status_counts(version: str) -> pd.DataFrame:
    return _query(
        """select status, count(*) as records, any_value(status_reason) as example_reason
           from marts.fct_event_pipeline_log group by status order by records desc, status"""
    )


@snapshot_query
def late_usage(version: str) -> pd.DataFrame:
    return _query(
        """select event_id, account_id, customer_id, event_timestamp, received_at, invoice_id,
                  matched_meter_ids, status_reason
           from marts.rpt_late_usage order by received_at desc, event_id"""
    )


# ---------------------------------------------------------------- payment workflow (finance)


@snapshot_query
def workflow_runs(version: str, statuses: tuple[str, ...] = ()) -> pd.DataFrame:
    return _query(
        """select * from marts.fct_workflow_runs
           where len(?) = 0 or list_contains(?, status)
           order by started_at desc, run_id""",
        [list(statuses), list(statuses)],
    )


@snapshot_query
def workflow_actions(version: str, run_id: str) -> pd.DataFrame:
    return _query(
        "select * from marts.fct_workflow_action_logs where run_id = ? "
        "order by attempt, started_at",
        [run_id],
    )


# ---------------------------------------------------------------- credits and wallets


@snapshot_query
def credit_ledger(version: str, accounts: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Credit movements, oldest first; `accounts` None = every account (finance)."""
    return _query(
        """select c.occurred_at, c.account_id, c.credit_id, c.entry_type, c.invoice_id,
                  c.amount, c.balance_after, a.currency,
                  sum(c.amount) over (
                      partition by a.currency order by c.occurred_at, c.entry_id
                  ) as running_balance
           from marts.fct_credit_ledger as c
           left join marts.dim_accounts as a on a.account_id = c.account_id
           where ? is null or list_contains(?, c.account_id)
           order by c.occurred_at, c.entry_id""",
        _some_accounts(accounts),
    )


@snapshot_query
def credit_summary(version: str, accounts: tuple[str, ...]) -> pd.DataFrame:
    """Per currency: granted, applied, expired and available credit of the accounts."""
    return _query(
        """select a.currency,
                  sum(case when c.entry_type = 'GRANTED' then c.amount else 0 end) as granted,
                  -sum(case when c.entry_type = 'APPLIED' then c.amount else 0 end) as applied,
                  -sum(case when c.entry_type = 'EXPIRED' then c.amount else 0 end) as expired,
                  sum(c.amount) as available
           from marts.fct_credit_ledger as c
           join marts.dim_accounts as a on a.account_id = c.account_id
           where list_contains(?, c.account_id)
           group by a.currency order by a.currency""",
        [_accounts(accounts)],
    )


@snapshot_query
def wallet_ledger(version: str, accounts: tuple[str, ...] | None = None) -> pd.DataFrame:
    return _query(
        """select w.occurred_at, w.account_id, w.entry_type, w.invoice_id, w.amount,
                  w.balance_after, a.currency
           from marts.fct_wallet_ledger as w
           left join marts.dim_accounts as a on a.account_id = w.account_id
           where ? is null or list_contains(?, w.account_id)
           order by w.occurred_at, w.entry_id""",
        _some_accounts(accounts),
    )


@snapshot_query
def wallet_balances(version: str, accounts: tuple[str, ...]) -> pd.DataFrame:
    """Per account: the wallet balance now (sum of its movements)."""
    return _query(
        """select a.account_id, a.account_name, a.currency,
                  coalesce(sum(w.amount), 0) as balance
           from marts.dim_accounts as a
           left join marts.fct_wallet_ledger as w on w.account_id = a.account_id
           where list_contains(?, a.account_id)
           group by all order by a.account_id""",
        [_accounts(accounts)],
    )


# ---------------------------------------------------------------- catalog (portal)


@snapshot_query
def customer(version: str, customer_id: str) -> dict:
    frame = _query(
        "select customer_id, customer_name, email from marts.dim_customers where customer_id = ?",
        [customer_id],
    )
    return frame.iloc[0].to_dict() if len(frame) else {}


@snapshot_query
def customer_ids(version: str) -> list[str]:
    return _query("select customer_id from marts.dim_customers order by 1")["customer_id"].tolist()


@snapshot_query
def accounts(version: str, accounts: tuple[str, ...]) -> pd.DataFrame:
    return _query(
        """select account_id, account_name, currency, timezone from marts.dim_accounts
           where list_contains(?, account_id) order by account_id""",
        [_accounts(accounts)],
    )


@snapshot_query
def plan_schedule(version: str, accounts: tuple[str, ...], today: date) -> pd.DataFrame:
    """The accounts' plan assignments with when each is in force relative to `today`."""
    return _query(
        """select account_id, account_name, plan_id, plan_name, currency, effective_from,
                  effective_until,
                  case when effective_until is not null and effective_until < ? then 'past'
                       when effective_from > ? then 'upcoming'
                       else 'current' end as timing
           from marts.dim_plan_assignments
           where list_contains(?, account_id)
           order by account_id, effective_from""",
        [today, today, _accounts(accounts)],
    )


@snapshot_query
def price_plans(version: str, plan_ids: tuple[str, ...]) -> pd.DataFrame:
    return _query(
        """select plan_id, plan_name, currency, billing_interval, anchor_day, anchor_month,
                  anchor_weekday, grace_period_days
           from marts.dim_price_plans where list_contains(?, plan_id) order by plan_id""",
        [list(plan_ids)],
    )


@snapshot_query
def rate_cards(version: str, plan_ids: tuple[str, ...]) -> pd.DataFrame:
    return _query(
        """select plan_id, rate_card_id, card_position, rate_card_type, meter_id, meter_name,
                  aggregation, pricing_model, amount, proration, minimum_amount, maximum_amount
           from marts.dim_rate_cards where list_contains(?, plan_id)
           order by plan_id, card_position, rate_card_id""",
        [list(plan_ids)],
    )


@snapshot_query
def rate_card_slabs(version: str, plan_ids: tuple[str, ...]) -> pd.DataFrame:
    return _query(
        """select plan_id, rate_card_id, slab_index, start_after, rate, flat_fee, package_size
           from marts.dim_rate_card_slabs where list_contains(?, plan_id)
           order by plan_id, rate_card_id, slab_index""",
        [list(plan_ids)],
    )


# ---------------------------------------------------------------- usage and cost (portal, widgets)


@snapshot_query
def usage_bounds(version: str, accounts: tuple[str, ...] | None) -> tuple[date | None, date | None]:
    frame = _query(
        "select min(usage_date) as lo, max(usage_date) as hi from marts.fct_usage_daily "
        "where ? is null or list_contains(?, account_id)",
        _some_accounts(accounts),
    )
    lo, hi = frame["lo"].iloc[0], frame["hi"].iloc[0]
    return (None if pd.isna(lo) else lo, None if pd.isna(hi) else hi)


@snapshot_query
def usage_daily(
    version: str, accounts: tuple[str, ...] | None, start: date | None, end: date | None
) -> pd.DataFrame:
    """Units per meter and local day over the accounts (None: all; days in [start, end])."""
    return _query(
        """select d.usage_date, d.meter_id, coalesce(m.meter_name, d.meter_id) as meter_name,
                  m.aggregation, sum(d.units) as units, sum(d.events) as events
           from marts.fct_usage_daily as d
           left join marts.dim_usage_meters as m on m.meter_id = d.meter_id
           where (? is null or list_contains(?, d.account_id))
             and (? is null or d.usage_date >= ?) and (? is null or d.usage_date <= ?)
           group by all order by d.usage_date, d.meter_id""",
        [*_some_accounts(accounts), *_range(start, end)],
    )


@snapshot_query
def usage_by_meter(
    version: str, accounts: tuple[str, ...] | None, start: date | None, end: date | None
) -> pd.DataFrame:
    """Usage per meter over the range: COUNT and SUM meters add their days up, MAX meters
    take the largest day, LATEST meters the last day's value; UNIQUE_COUNT meters show the
    largest daily count (distinct values across days are counted on the invoice)."""
    return _query(
        """with days as (
               select d.account_id, d.meter_id, d.usage_date, d.units, d.events, m.meter_name,
                      m.aggregation
               from marts.fct_usage_daily as d
               left join marts.dim_usage_meters as m on m.meter_id = d.meter_id
               where (? is null or list_contains(?, d.account_id))
                 and (? is null or d.usage_date >= ?) and (? is null or d.usage_date <= ?)
           ),
           per_account as (
               select meter_id, any_value(meter_name) as meter_name,
                      any_value(aggregation) as aggregation, account_id,
                      case any_value(aggregation)
                          when 'MAX' then max(units)
                          when 'UNIQUE_COUNT' then max(units)
                          when 'LATEST' then arg_max(units, usage_date)
                          else sum(units) end as units,
                      sum(events) as events
               from days group by meter_id, account_id
           )
           select meter_id, coalesce(any_value(meter_name), meter_id) as meter_name,
                  any_value(aggregation) as aggregation,
                  case any_value(aggregation) when 'MAX' then max(units)
                       when 'UNIQUE_COUNT' then max(units) else sum(units) end as units,
                  sum(events) as events
           from per_account group by meter_id order by meter_id""",
        [*_some_accounts(accounts), *_range(start, end)],
    )


@snapshot_query
def cost_by_cycle(
    version: str, accounts: tuple[str, ...], start: date | None, end: date | None
) -> pd.DataFrame:
    """Cost incurred: invoice totals of the accounts per billing cycle (period start in
    [start, end]), per currency; drafts show the cost so far."""
    return _query(
        """select cast(period_start as date) as cycle_start, cast(period_end as date) as cycle_end,
                  currency, count(*) as invoices, bool_or(status = 'DRAFT') as open_cycle,
                  sum(subtotal) as subtotal, sum(minimum_commitment_true_up) as true_up,
                  sum(credits_applied) as credits, sum(total) as total
           from marts.fct_invoices
           where list_contains(?, account_id)
             and (? is null or cast(period_start as date) >= ?)
             and (? is null or cast(period_start as date) <= ?)
           group by all order by cycle_start, currency""",
        [_accounts(accounts), *_range(start, end)],
    )
