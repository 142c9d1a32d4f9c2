"""The worked example of docs/invoices.md, step by step, so the page and the code agree."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dagster_project.lib.invoicing import PriorState, build_invoices
from tests.invoicing.builders import at, credit, fee, invoice, rule, topup, usage

D = Decimal


def test_docs_invoices_worked_example():
    november = invoice(
        "inv_nov",
        account_id="acc_acme",
        grace_days=3,  # falls due 2026-12-04
        usage_lines=(usage("api_calls", 100010),),  # 100,010 calls × 0.01 = 1,000.10
        fixed=(fee("platform_fee", "99.00"),),
        rules=(
            rule(
                "volume_discount",
                1,
                {"*": [{"var": "revenue.api_calls"}, "0.9"]},
                condition={">": [{"var": "revenue.api_calls"}, 1000]},
                target="revenue.api_calls",
                name="10% off API calls above $1,000",
            ),
            rule(
                "support_addon",
                2,
                {"*": [{"var": "subtotal"}, "0.05"]},
                code="premium_support",
                description="Premium support (5%)",
            ),
        ),
        commitment="1200.00",
    )
    credits = [
        credit(
            "cr_welcome",
            "150.00",
            account_id="acc_acme",
            start=date(2026, 11, 1),
            until=date(2026, 11, 30),
            applies_to=("platform_fee",),
        ),
        credit("cr_promo", "2000.00", priority=2, account_id="acc_acme", start=date(2026, 10, 1)),
    ]
    moves = [topup("wt_1", "150.00", "2026-11-20", account_id="acc_acme")]
    run = build_invoices([november], credits, moves, PriorState(), at("2026-12-05"))

    lines = [
        (x["line_type"], x["rate_card_id"] or x["code"] or x["credit_id"], x["amount"])
        for x in run.line_items
    ]
    assert lines == [
        ("USAGE", "api_calls", D("1000.10")),
        ("FIXED_FEE", "platform_fee", D("99.00")),
        ("PRICING_RULE_UPDATE", "api_calls", D("-100.01")),  # 900.09 − 1,000.10
        ("PRICING_RULE_ADDITION", "premium_support", D("49.95")),  # 999.09 × 0.05 = 49.9545
        ("MINIMUM_COMMITMENT_TRUE_UP", "commitment", D("150.96")),  # 1,200.00 − 1,049.04
        ("CREDIT", "cr_welcome", D("-99.00")),  # the platform fee, all of it
        ("CREDIT", "cr_promo", D("-900.09")),  # api_calls net of its discount
    ]
    (row,) = run.invoices
    assert {
        k: row[k]
        for k in (
            "status",
            "subtotal",
            "minimum_commitment_true_up",
            "credits_applied",
            "total",
            "wallet_applied",
            "amount_paid",
            "amount_due",
            "finalized_at",
        )
    } == {
        "status": "DUE",
        "subtotal": D("1049.04"),  # 1,000.10 + 99.00 − 100.01 + 49.95
        "minimum_commitment_true_up": D("150.96"),
        "credits_applied": D("999.09"),  # 99.00 + 900.09
        "total": D("200.91"),  # 1,049.04 + 150.96 − 999.09
        "wallet_applied": D("150.00"),
        "amount_paid": D("0.00"),
        "amount_due": D("50.91"),  # 200.91 − 150.00
        "finalized_at": at("2026-12-04"),
    }
    assert [
        (x["credit_id"], x["entry_type"], x["amount"], x["balance_after"])
        for x in run.credit_ledger
    ] == [
        ("cr_promo", "GRANTED", D("2000.00"), D("2000.00")),
        ("cr_promo", "APPLIED", D("-900.09"), D("1099.91")),
        ("cr_welcome", "GRANTED", D("150.00"), D("150.00")),
        ("cr_welcome", "APPLIED", D("-99.00"), D("51.00")),
        ("cr_welcome", "EXPIRED", D("-51.00"), D("0.00")),
    ]
    assert [(x["entry_type"], x["amount"], x["balance_after"]) for x in run.wallet_ledger] == [
        ("TOPUP", D("150.00"), D("150.00")),
        ("APPLIED", D("-150.00"), D("0.00")),
    ]
