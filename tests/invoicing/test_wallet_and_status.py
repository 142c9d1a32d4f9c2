"""Worked examples of the wallet, statuses and the rows of a run, by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dagster_project.lib.invoicing import PriorState, build_invoices, prior_state_from_ledgers
from tests.invoicing.builders import at, credit, fee, invoice, rule, topup, usage

D = Decimal

NOV = invoice("inv_nov", usage_lines=(usage("a", 6000),))  # 60.00, falls due 2026-12-01
DEC = invoice(
    "inv_dec", start="2026-12-01", end="2027-01-01", usage_lines=(usage("a", 5000),)
)  # 50.00, falls due 2027-01-01

INVOICE_COLUMNS = [
    "invoice_id",
    "account_id",
    "customer_id",
    "plan_id",
    "assignment_id",
    "currency",
    "period_start",
    "period_end",
    "status",
    "subtotal",
    "minimum_commitment_true_up",
    "credits_applied",
    "total",
    "wallet_applied",
    "amount_paid",
    "amount_due",
    "finalized_at",
    "needs_review",
    "review_reasons",
]
LINE_COLUMNS = [
    "line_item_id",
    "invoice_id",
    "line_type",
    "rate_card_id",
    "meter_id",
    "rule_id",
    "credit_id",
    "code",
    "quantity",
    "unit_amount",
    "amount",
    "description",
]


def run(invoices, transactions=(), *, as_of, prior=None, credits=()):
    return build_invoices(invoices, credits, transactions, prior or PriorState(), as_of)


def row(result, invoice_id):
    (found,) = [r for r in result.invoices if r["invoice_id"] == invoice_id]
    return found


def money(result, invoice_id):
    r = row(result, invoice_id)
    return r["status"], r["total"], r["wallet_applied"], r["amount_due"]


def wallet(result):
    return [
        (
            e["entry_type"],
            e["transaction_id"] or e["invoice_id"],
            e["amount"],
            e["balance_after"],
            e["occurred_at"],
        )
        for e in result.wallet_ledger
    ]


def test_top_up_before_the_invoice_falls_due_pays_it():
    result = run([NOV], [topup("wt_1", 100, "2026-11-15")], as_of=at("2026-12-02"))
    # balance 100.00 before Dec 1; draws min(100.00, 60.00) = 60.00; amount_due 0 → PAID
    assert money(result, "inv_nov") == ("PAID", D("60.00"), D("60.00"), D("0.00"))
    assert wallet(result) == [
        ("TOPUP", "wt_1", D("100.00"), D("100.00"), at("2026-11-15")),
        ("APPLIED", "inv_nov", D("-60.00"), D("40.00"), at("2026-12-01")),
    ]
    assert row(result, "inv_nov")["finalized_at"] == at("2026-12-01")


def test_top_up_after_the_invoice_fell_due_applies_to_the_next_one():
    # Dec 1 00:00 is the moment November fell due: not "before" it, so it is December's
    result = run([NOV, DEC], [topup("wt_1", 100, "2026-12-01")], as_of=at("2027-01-02"))
    assert money(result, "inv_nov") == ("DUE", D("60.00"), D("0.00"), D("60.00"))
    assert money(result, "inv_dec") == ("PAID", D("50.00"), D("50.00"), D("0.00"))
    assert wallet(result) == [
        ("TOPUP", "wt_1", D("100.00"), D("100.00"), at("2026-12-01")),
        ("APPLIED", "inv_dec", D("-50.00"), D("50.00"), at("2027-01-01")),
    ]


def test_at_one_instant_the_draw_comes_before_the_top_up_it_did_not_see():
    moves = [topup("wt_1", 100, "2026-11-15"), topup("wt_2", 30, "2026-12-01")]
    result = run([NOV], moves, as_of=at("2026-12-02"))
    # November draws 60.00 of the 100.00 (wt_2 is not before Dec 1); balance 40 then 70
    assert wallet(result) == [
        ("TOPUP", "wt_1", D("100.00"), D("100.00"), at("2026-11-15")),
        ("APPLIED", "inv_nov", D("-60.00"), D("40.00"), at("2026-12-01")),
        ("TOPUP", "wt_2", D("30.00"), D("70.00"), at("2026-12-01")),
    ]


def test_negative_adjustment_reduces_the_balance_and_a_negative_balance_draws_nothing():
    moves = [topup("wt_1", 100, "2026-11-10"), topup("wt_2", -70, "2026-11-11", kind="ADJUSTMENT")]
    result = run([NOV], moves, as_of=at("2026-12-02"))
    # 100.00 − 70.00 = 30.00: draws 30.00 of 60.00, 30.00 still due
    assert money(result, "inv_nov") == ("DUE", D("60.00"), D("30.00"), D("30.00"))

    overdrawn = run(
        [NOV],
        [topup("wt_1", 100, "2026-11-10"), topup("wt_2", -150, "2026-11-11", kind="ADJUSTMENT")],
        as_of=at("2026-12-02"),
    )
    # 100.00 − 150.00 = −50.00: max(−50.00, 0) = 0 drawn
    assert money(overdrawn, "inv_nov") == ("DUE", D("60.00"), D("0.00"), D("60.00"))
    assert wallet(overdrawn)[-1] == (
        "ADJUSTMENT",
        "wt_2",
        D("-150.00"),
        D("-50.00"),
        at("2026-11-11"),
    )


def test_draft_shows_the_wallet_it_would_draw_without_drawing():
    result = run([NOV, DEC], [topup("wt_1", 80, "2026-11-15")], as_of=at("2026-11-20"))
    # November would draw 60.00; December (also a draft) the 20.00 left, not 80.00 again
    assert money(result, "inv_nov") == ("DRAFT", D("60.00"), D("60.00"), D("0.00"))
    assert money(result, "inv_dec") == ("DRAFT", D("50.00"), D("20.00"), D("30.00"))
    assert row(result, "inv_nov")["finalized_at"] is None
    # The top-up is in the ledger; no APPLIED entry for drafts
    assert wallet(result) == [("TOPUP", "wt_1", D("80.00"), D("80.00"), at("2026-11-15"))]
    assert result.prior_state.wallets["acc_1"].drawn == 0


def test_zero_invoice_is_paid_as_soon_as_it_falls_due():
    empty = invoice("inv_nov", usage_lines=(usage("a", 0),))
    assert money(run([empty], as_of=at("2026-12-01")), "inv_nov") == (
        "PAID",
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )
    assert money(run([empty], as_of=at("2026-11-30")), "inv_nov")[0] == "DRAFT"


def test_wallet_draws_the_total_after_credits_and_true_up():
    inp = invoice("inv_nov", usage_lines=(usage("a", 6000),), commitment="100.00")
    result = run(
        [inp],
        [topup("wt_1", 500, "2026-11-01")],
        as_of=at("2026-12-02"),
        credits=[credit("cr_1", 25)],
    )
    # subtotal 60.00 + true-up 40.00 − credit 25.00 = 75.00 drawn from the wallet
    assert money(result, "inv_nov") == ("PAID", D("75.00"), D("75.00"), D("0.00"))


def test_second_run_continues_the_wallet_from_the_prior_state():
    moves = [topup("wt_1", 100, "2026-11-15"), topup("wt_2", 30, "2026-12-10")]
    first = run([NOV, DEC], moves[:1], as_of=at("2026-12-02"))
    # December is a draft: it would draw the 40.00 left
    assert money(first, "inv_dec") == ("DRAFT", D("50.00"), D("40.00"), D("10.00"))
    second = run([DEC], moves, as_of=at("2027-01-02"), prior=first.prior_state)
    # 100 + 30 = 130 before Jan 1, minus 60 drawn by November: 70 → draws 50.00
    assert money(second, "inv_dec") == ("PAID", D("50.00"), D("50.00"), D("0.00"))
    assert wallet(second) == [
        ("TOPUP", "wt_2", D("30.00"), D("70.00"), at("2026-12-10")),
        ("APPLIED", "inv_dec", D("-50.00"), D("20.00"), at("2027-01-01")),
    ]
    both = prior_state_from_ledgers(
        [*first.credit_ledger, *second.credit_ledger], [*first.wallet_ledger, *second.wallet_ledger]
    )
    assert both == second.prior_state


def test_rows_have_the_contract_columns_and_stable_ids():
    inp = invoice(
        "inv_nov",
        usage_lines=(usage("a", 6000),),
        fixed=(fee("f", "10.00"),),
        rules=(
            rule("half_a", 1, {"*": [{"var": "revenue.a"}, "0.5"]}, target="revenue.a"),
            rule("support", 2, "5", code="support"),
        ),
        commitment="200.00",
    )
    result = run([inp], as_of=at("2026-12-02"), credits=[credit("cr_1", 10)])
    (inv,) = result.invoices
    assert list(inv) == INVOICE_COLUMNS
    assert all(list(line)[:2] == LINE_COLUMNS[:2] for line in result.line_items)
    assert all(set(LINE_COLUMNS) <= set(line) for line in result.line_items)
    assert [line["line_type"] for line in result.line_items] == [
        "USAGE",
        "FIXED_FEE",
        "PRICING_RULE_UPDATE",
        "PRICING_RULE_ADDITION",
        "MINIMUM_COMMITMENT_TRUE_UP",
        "CREDIT",
    ]
    # 60 + 10 − 30 + 5 = 45.00; true-up 200 − 45 = 155.00; credit 10.00; total 190.00
    assert (
        inv["subtotal"],
        inv["minimum_commitment_true_up"],
        inv["credits_applied"],
        inv["total"],
    ) == (D("45.00"), D("155.00"), D("10.00"), D("190.00"))
    ids = [line["line_item_id"] for line in result.line_items]
    assert len(set(ids)) == len(ids)
    again = run([inp], as_of=at("2026-12-02"), credits=[credit("cr_1", 10)])
    assert [line["line_item_id"] for line in again.line_items] == ids
    assert [log["rule_id"] for log in result.rule_logs] == ["half_a", "support"]
    assert all(
        log["invoice_id"] == "inv_nov" and log["log_id"].startswith("rl_")
        for log in result.rule_logs
    )


def test_an_invoice_id_twice_is_a_caller_bug():
    with pytest.raises(ValueError, match="twice"):
        run([NOV, NOV], as_of=at("2026-12-02"))


@pytest.mark.parametrize(("currency", "zero"), [("USD", "0.00"), ("JPY", "0"), ("KWD", "0.000")])
def test_every_amount_is_at_the_currency_scale_even_at_zero(currency, zero):
    empty = invoice("inv_nov", currency=currency, usage_lines=(usage("a", 0),))
    (inv,) = run([empty], as_of=at("2026-12-02")).invoices
    for column in (
        "subtotal",
        "minimum_commitment_true_up",
        "credits_applied",
        "total",
        "wallet_applied",
        "amount_paid",
        "amount_due",
    ):
        assert str(inv[column]) == zero, column  # never "0" or "-0" in a USD column
