"""Rating through the real models (SEMANTICS 9-10, 17-18), one hand-worked case per row.

Every case was billed by one nightly run (conftest.rated); these tests only query the
warehouse. Expected values are the hand-worked numbers of cases.py; rule_engine.rate_usage
is a second opinion on each usage amount, not the source of the expectations.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from rule_engine.slabs import Slab, UsagePricing, rate_usage

from .cases import CASES, FEE_CASES, PLANS, Case
from .conftest import dbt_ok

pytestmark = pytest.mark.slow


LINE_SQL = """
select r.quantity, r.amount, r.rounded_amount, r.invoice_id
from intermediate.int_rated_usage r
join staging.stg_billing__invoice_periods p using (invoice_id)
where r.account_id = ? and r.rate_card_id = ? and p.period_start = cast(? as timestamptz)
"""


def nov_line(con, account: str, card: str, start: str = "2026-11-01") -> tuple:
    rows = con.execute(LINE_SQL, [account, card, f"{start} 00:00:00+00"]).fetchall()
    assert len(rows) == 1, f"{account}/{card}: expected one line, got {rows}"
    return rows[0]


def reference_amount(case: Case, quantity: Decimal) -> Decimal:
    card = next(c for c in PLANS[case.plan][1] if c["id"] == case.card)
    pricing = UsagePricing(
        card["pricing_model"],
        tuple(
            Slab(s["start_after"], s["rate"], s.get("flat_fee"), s.get("package_size"))
            for s in card["slabs"]
        ),
        card.get("minimum"),
        card.get("maximum"),
    )
    return rate_usage(quantity, pricing)


@pytest.mark.parametrize("case", CASES, ids=[c.case_id for c in CASES])
def test_usage_line_amount(warehouse, case: Case):
    quantity, amount, rounded, _ = nov_line(warehouse, f"acc_{case.case_id}", case.card)
    assert quantity == Decimal(case.quantity), case.how
    assert amount == Decimal(case.amount), case.how
    assert amount == reference_amount(case, quantity), "SQL and rule_engine disagree"
    if case.rounded is not None:
        assert rounded == Decimal(case.rounded), case.how


ATTRIBUTED = [c for c in CASES if c.attributions]


@pytest.mark.parametrize("case", ATTRIBUTED, ids=[c.case_id for c in ATTRIBUTED])
def test_event_attributions(warehouse, case: Case):
    _, amount, _, invoice_id = nov_line(warehouse, f"acc_{case.case_id}", case.card)
    rows = dict(
        warehouse.execute(
            "select event_id, attributed_amount from intermediate.int_event_revenue_attributions "
            "where invoice_id = ? and rate_card_id = ?",
            [invoice_id, case.card],
        ).fetchall()
    )
    expected = {f"{case.case_id}-{n:02d}": Decimal(v) for n, v in case.attributions.items()}
    assert rows == expected, case.how
    assert sum(rows.values()) == amount  # SEMANTICS 18: exactly the line's amount


def test_every_line_is_attributed_exactly(warehouse):
    mismatches = warehouse.execute("""
        select r.invoice_id, r.rate_card_id, r.amount, sum(a.attributed_amount)
        from intermediate.int_rated_usage r
        left join intermediate.int_event_revenue_attributions a using (invoice_id, rate_card_id)
        where r.events > 0
        group by all
        having sum(a.attributed_amount) is distinct from r.amount
    """).fetchall()
    assert mismatches == []


@pytest.mark.parametrize(
    "account,start,card,line_type,quantity,amount,commitment,how",
    FEE_CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in FEE_CASES],
)
def test_fixed_fee_and_commitment(
    warehouse, account, start, card, line_type, quantity, amount, commitment, how
):
    if line_type == "USAGE":
        got_quantity, got_amount, _, _ = nov_line(warehouse, account, card, start)
        assert (got_quantity, got_amount) == (Decimal(quantity), Decimal(amount)), how
        return
    rows = warehouse.execute(
        """
        select f.line_type, f.quantity, f.amount, f.commitment_amount
        from intermediate.int_fixed_fee_lines f
        join staging.stg_billing__invoice_periods p using (invoice_id)
        where f.account_id = ? and f.rate_card_id = ? and p.period_start = cast(? as timestamptz)
    """,
        [account, card, f"{start} 00:00:00+00"],
    ).fetchall()
    assert len(rows) == 1, rows
    got_type, got_quantity, got_amount, got_commitment = rows[0]
    assert got_type == line_type
    assert got_quantity == Decimal(quantity), how
    assert got_amount == Decimal(amount), how
    assert got_commitment == (None if commitment is None else Decimal(commitment)), how


def test_a_plan_changing_twice_in_a_cycle_gives_three_invoices(warehouse):
    rows = warehouse.execute("""
        select distinct p.period_start, p.period_end, r.plan_id
        from intermediate.int_rated_usage r
        join staging.stg_billing__invoice_periods p using (invoice_id)
        where r.account_id = 'acc_change' and p.period_start < timestamptz '2026-12-01 00:00:00+00'
        order by 1
    """).fetchall()
    assert [(str(s.date()), str(e.date()), plan) for s, e, plan in rows] == [
        ("2026-11-01", "2026-11-11", "fee_a"),
        ("2026-11-11", "2026-11-21", "fee_b"),
        ("2026-11-21", "2026-12-01", "fee_a"),
    ]


def test_invoices_exist_at_zero_and_future_ones_only_with_usage(warehouse):
    # A begun cycle without usage has its line at 0 ...
    assert nov_line(warehouse, "acc_t_zero", "u")[:2] == (Decimal(0), Decimal(0))
    # ... a cycle not yet begun (December, at the 30 Nov clock) has no invoice ...
    assert (
        warehouse.execute(
            "select count(*) from intermediate.int_rated_usage r "
            "join staging.stg_billing__invoice_periods p using (invoice_id) "
            "where r.account_id = 'acc_t_zero' and p.period_start >= timestamptz '2026-12-01 00:00:00+00'"
        ).fetchone()[0]
        == 0
    )
    assert (
        warehouse.execute(
            "select count(*) from billing.invoice_periods where account_id = 'acc_t_zero' "
            "and period_start >= timestamptz '2026-12-01 00:00:00+00'"
        ).fetchone()[0]
        == 1
    ), "the lookahead lays December out; the models must drop it"
    # ... unless it already has usage: an event dated within a day of the clock.
    assert nov_line(warehouse, "acc_future", "u", "2026-12-01")[:2] == (Decimal(4), Decimal(4))
    fixed = warehouse.execute(
        "select count(*) from intermediate.int_fixed_fee_lines f "
        "join staging.stg_billing__invoice_periods p using (invoice_id) "
        "where f.account_id = 'acc_fee_uncut' and p.period_start >= timestamptz '2026-12-01 00:00:00+00'"
    ).fetchone()[0]
    assert fixed == 0


def test_usage_daily_aggregates_per_local_day(warehouse):
    rows = warehouse.execute("""
        select account_id, meter_id, cast(usage_date as varchar), units, events
        from marts.fct_usage_daily
        where account_id in ('acc_agg_max', 'acc_attr_tiered', 'acc_agg_unique',
                             'acc_agg_latest_tie', 'acc_agg_count')
        order by 1, 3
    """).fetchall()
    assert rows == [
        ("acc_agg_count", "m_count", "2026-11-02", Decimal(3), 3),
        ("acc_agg_latest_tie", "m_latest", "2026-11-02", Decimal(100), 1),
        ("acc_agg_latest_tie", "m_latest", "2026-11-20", Decimal(4), 2),
        ("acc_agg_latest_tie", "m_latest", "2026-11-25", Decimal(0), 1),
        ("acc_agg_max", "m_max", "2026-11-02", Decimal(7), 4),
        ("acc_agg_unique", "m_unique", "2026-11-02", Decimal(3), 5),
        ("acc_attr_tiered", "m_sum", "2026-11-02", Decimal(6), 1),
        ("acc_attr_tiered", "m_sum", "2026-11-03", Decimal(10), 2),
    ]


MONEY_COLUMNS = {
    "intermediate.int_rated_usage": ["quantity", "slab_amount", "amount", "rounded_amount"],
    "intermediate.int_fixed_fee_lines": [
        "share",
        "quantity",
        "unit_amount",
        "amount",
        "rounded_amount",
        "commitment_amount",
    ],
    "intermediate.int_event_revenue_attributions": [
        "meter_value",
        "event_units",
        "attributed_amount",
    ],
    "marts.fct_usage_daily": ["units"],
}


@pytest.mark.parametrize("table", sorted(MONEY_COLUMNS))
def test_money_and_quantity_columns_are_decimal(warehouse, table):
    types = {name: kind for name, kind, *_ in warehouse.execute(f"describe {table}").fetchall()}
    for column in MONEY_COLUMNS[table]:
        assert types[column].startswith("DECIMAL("), f"{table}.{column} is {types[column]}"
    floats = {c: t for c, t in types.items() if t in ("DOUBLE", "FLOAT", "REAL")}
    assert floats == {}, f"{table} has floating-point columns"


# The money macros on their own, compiled by dbt and run on DuckDB: (expression, expected).
MACRO_CASES = [
    ("round_money(\"cast('1.005' as decimal(38,12))\", 2)", "1.01"),
    ("round_money(\"cast('-1.005' as decimal(38,12))\", 2)", "-1.01"),
    ("round_money(\"cast('1.004999999999' as decimal(38,12))\", 2)", "1.00"),
    ("round_money(\"cast('-0.5' as decimal(38,12))\", 0)", "-1"),
    ("round_money(\"cast('2.0005' as decimal(38,12))\", 3)", "2.001"),
    (
        "exact_multiply(\"cast('1000000000' as decimal(38,12))\", \"cast('10.00' as decimal(38,12))\")",
        "10000000000",
    ),
    (
        "exact_multiply(\"cast('0.000000000001' as decimal(38,12))\", \"cast('0.5' as decimal(38,12))\")",
        "0.000000000001",
    ),
    (
        "exact_multiply(\"cast('-0.000000000001' as decimal(38,12))\", \"cast('0.4' as decimal(38,12))\")",
        "0",
    ),
    (
        "exact_multiply(\"cast('12345678901234.5' as decimal(38,12))\", \"cast('1000000' as decimal(38,12))\")",
        "12345678901234500000",
    ),
    (
        "packages(\"cast('2051.021' as decimal(38,12))\", \"cast('0.001' as decimal(38,12))\")",
        "2051021",
    ),
    ("packages(\"cast('0' as decimal(38,12))\", \"cast('10' as decimal(38,12))\")", "0"),
    ("prorate(\"cast('100' as decimal(38,12))\", 1, 3)", "33.333333333333"),
    ("prorate(\"cast('200' as decimal(38,12))\", 1, 3)", "66.666666666667"),
    ("prorate(\"cast('-200' as decimal(38,12))\", 1, 3)", "-66.666666666667"),
    (
        "apportion(\"cast('200' as decimal(38,12))\", \"cast('1' as decimal(38,12))\", \"cast('3' as decimal(38,12))\")",
        "66.666666666666",
    ),
    (
        "apportion(\"cast('-200' as decimal(38,12))\", \"cast('1' as decimal(38,12))\", \"cast('3' as decimal(38,12))\")",
        "-66.666666666666",
    ),
    (
        "apportion(\"cast('5' as decimal(38,12))\", \"cast('1' as decimal(38,12))\", \"cast('0' as decimal(38,12))\")",
        "0",
    ),
    # 10^13 × 1/3: 3,333,333,333,333.333333333333… cut toward zero.
    (
        "apportion(\"cast('10000000000000' as decimal(38,12))\", \"cast('1' as decimal(38,12))\", \"cast('3' as decimal(38,12))\")",
        "3333333333333.333333333333",
    ),
    # 2 of 3 trillion units: the limbs of the long division are all used.
    (
        "apportion(\"cast('9' as decimal(38,12))\", \"cast('2000000000000' as decimal(38,12))\", \"cast('3000000000000' as decimal(38,12))\")",
        "6",
    ),
]


def test_money_macros(rated, tmp_path):
    select = ",\n".join(f"{{{{ {expr} }}}} as c{i}" for i, (expr, _) in enumerate(MACRO_CASES))
    # A scratch warehouse: the billed one is held open (read-only) by the other tests.
    compiled = dbt_ok(
        "compile",
        "--quiet",
        "--inline",
        f"select {select}",
        TALLYHOUSE_WAREHOUSE=str(tmp_path / "scratch.duckdb"),
    ).stdout
    row = duckdb.connect().execute(compiled).fetchone()
    got = {expr: value for (expr, _), value in zip(MACRO_CASES, row, strict=True)}
    assert got == {expr: Decimal(expected) for expr, expected in MACRO_CASES}
