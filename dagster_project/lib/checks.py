"""Billing invariants as plain SQL over the warehouse, one function per invariant.

Each returns a `Finding`: how many rows break the invariant and a few of them, named so an
operator can find them. The Dagster asset checks (defs/*/checks.py) wrap these functions;
tests run them against tampered copies of a billed warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

EXAMPLES = 5


@dataclass(frozen=True)
class Finding:
    """The rows that break one invariant (none: the invariant holds)."""

    invariant: str
    failures: int
    examples: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.failures == 0

    def describe(self) -> str:
        if self.passed:
            return f"{self.invariant}: holds"
        shown = "; ".join(self.examples)
        return f"{self.invariant}: {self.failures} violation(s), e.g. {shown}"


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.execute(f"select count(*) from ({sql})").fetchall()[0][0]


def _examples(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    return [row[0] for row in con.execute(f"{sql} limit {EXAMPLES}").fetchall()]


def _finding(con, invariant: str, violations_sql: str, example_sql: str, **counts) -> Finding:
    """violations_sql selects the violating rows; example_sql selects one text per row."""
    failures = _count(con, violations_sql)
    examples = _examples(con, example_sql) if failures else []
    return Finding(invariant, failures, examples, counts)


# ---------------------------------------------------------------- conservation


def records_conserved(con: duckdb.DuckDBPyConnection) -> Finding:
    """Every ingested record appears in the pipeline log exactly once (CONTRACT §2)."""
    records_in = con.execute("select count(*) from raw.event_records").fetchall()[0][0]
    log_rows = con.execute("select count(*) from marts.fct_event_pipeline_log").fetchall()[0][0]
    # A record missing from the log, logged twice, or logged but never ingested.
    broken = """
        select r.record_seq, r.raw_ref, 'missing from the pipeline log' as problem
        from raw.event_records r
        anti join marts.fct_event_pipeline_log l using (record_seq)
        union all
        select record_seq, any_value(raw_ref), 'logged ' || count(*) || ' times'
        from marts.fct_event_pipeline_log group by record_seq having count(*) > 1
        union all
        select l.record_seq, l.raw_ref, 'in the pipeline log but never ingested'
        from marts.fct_event_pipeline_log l
        anti join raw.event_records r using (record_seq)
    """
    finding = _finding(
        con,
        f"records in ({records_in}) = pipeline log rows ({log_rows})",
        broken,
        f"select raw_ref || ': ' || problem from ({broken}) order by record_seq",
        records_in=records_in,
        pipeline_log_rows=log_rows,
    )
    if finding.passed and records_in != log_rows:  # defensive: counts must agree as well
        return Finding(finding.invariant, abs(records_in - log_rows), [], finding.counts)
    return finding


# ---------------------------------------------------------------- invoices


def invoices_equal_their_lines(
    con: duckdb.DuckDBPyConnection,
    invoices: str = "marts.fct_invoices",
    lines: str = "marts.fct_invoice_line_items",
) -> Finding:
    """total = the sum of the invoice's lines (usage, fees, rules, true-up, credits,
    adjustment), to the cent: a wrong total is a wrong invoice."""
    broken = f"""
        select i.invoice_id, i.total, coalesce(sum(l.amount), 0) as lines_total
        from {invoices} i
        left join {lines} l using (invoice_id)
        group by i.invoice_id, i.total
        having i.total <> coalesce(sum(l.amount), 0)
    """
    return _finding(
        con,
        f"every invoice in {invoices} equals the sum of its lines",
        broken,
        f"""select invoice_id || ' total ' || cast(total as varchar) || ' but lines sum to '
                   || cast(lines_total as varchar) from ({broken}) order by invoice_id""",
    )


def no_negative_totals(con: duckdb.DuckDBPyConnection, invoices: str = "marts.fct_invoices"):
    broken = f"""
        select invoice_id, total, amount_due from {invoices}
        where total < 0 or amount_due < 0 or subtotal + minimum_commitment_true_up
              - credits_applied < 0
    """
    return _finding(
        con,
        f"no invoice in {invoices} has a negative total or amount due",
        broken,
        f"""select invoice_id || ' total ' || cast(total as varchar) || ', amount due '
                   || cast(amount_due as varchar) from ({broken}) order by invoice_id""",
    )


# ---------------------------------------------------------------- rating


def usage_rated_under_a_plan(con: duckdb.DuckDBPyConnection) -> Finding:
    """Every rated usage row belongs to an invoice that exists, under that invoice's plan,
    through a rate card of that plan."""
    broken = """
        select u.invoice_id, u.plan_id, u.rate_card_id,
               case when i.invoice_id is null then 'no such invoice'
                    when u.plan_id is null then 'no plan'
                    when u.plan_id <> i.plan_id then 'invoice is on plan ' || i.plan_id
                    else 'rate card not in the plan' end as problem
        from intermediate.int_rated_usage u
        left join intermediate.int_invoices i using (invoice_id)
        left join catalog.rate_cards c
            on c.plan_id = u.plan_id and c.rate_card_id = u.rate_card_id
        where i.invoice_id is null or u.plan_id is null or u.plan_id <> i.plan_id
              or c.rate_card_id is null
    """
    return _finding(
        con,
        "no usage is rated without its invoice's plan",
        broken,
        f"""select coalesce(invoice_id, '?') || ' / ' || coalesce(rate_card_id, '?') || ': '
                   || problem from ({broken}) order by invoice_id""",
    )


def metered_revenue_invoiced(con: duckdb.DuckDBPyConnection) -> Finding:
    """A METERED record whose revenue was computed sits on an invoice that exists: revenue
    nobody bills is lost money."""
    broken = """
        select l.raw_ref, l.event_id, l.invoice_id
        from marts.fct_event_pipeline_log l
        left join marts.fct_invoices i using (invoice_id)
        where l.status = 'METERED' and l.revenue_computed and i.invoice_id is null
    """
    return _finding(
        con,
        "every METERED record with computed revenue sits on an invoice",
        broken,
        f"""select raw_ref || ' (event ' || coalesce(event_id, '?') || ') on invoice '
                   || coalesce(invoice_id, 'none') from ({broken}) order by raw_ref""",
    )


# ---------------------------------------------------------------- warnings


def rule_errors(con: duckdb.DuckDBPyConnection) -> Finding:
    """Pricing rules that raised (the invoice was billed without them): finance should look."""
    broken = """
        select invoice_id, rule_id, outcome, error_message from marts.fct_pricing_rule_log
        where outcome in ('CONDITION_ERROR', 'COMPUTATION_ERROR')
    """
    return _finding(
        con,
        "no pricing rule raised an error",
        broken,
        f"""select invoice_id || ' rule ' || rule_id || ': ' || outcome || ' '
                   || coalesce(error_message, '') from ({broken}) order by invoice_id, rule_id""",
    )


def late_usage(con: duckdb.DuckDBPyConnection) -> Finding:
    """Records that arrived after their invoice was finalized (PAST_GRACE_PERIOD): never
    billed; the basis for a manual adjustment."""
    broken = """
        select raw_ref, event_id, invoice_id from marts.fct_event_pipeline_log
        where status = 'PAST_GRACE_PERIOD'
    """
    return _finding(
        con,
        "no usage arrived after its invoice was finalized",
        broken,
        f"""select raw_ref || ' for finalized invoice ' || coalesce(invoice_id, '?')
            from ({broken}) order by raw_ref""",
    )
