"""Property tests of the invoice builder's invariants over random invoices, credits and wallets."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.lib.catalog.currencies import minor_units
from dagster_project.lib.invoicing import (
    PriorState,
    build_invoices,
    price_invoice,
    prior_state_from_ledgers,
    round_money,
)
from rule_engine import Slab, UsagePricing
from tests.invoicing.builders import at, credit, fee, invoice, rule, topup, usage

D = Decimal
SUBTOTAL_LINES = {
    "USAGE",
    "FIXED_FEE",
    "PRICING_RULE_UPDATE",
    "PRICING_RULE_ADDITION",
    "ADJUSTMENT",
}
CARDS = ("u1", "u2", "f1")
# u2 has a floor, a second slab and packages, so re-rating it is not a plain multiplication.
U2 = UsagePricing(
    "TIERED",
    (Slab(D(0), D("0.0375")), Slab(D(1000), D("2.5"), package_size=D(7), flat_fee=D("1.111"))),
    minimum=D("3.3333"),
)
RULES = {
    "discount": rule("discount", 1, {"*": [{"var": "revenue.u1"}, "0.873"]}, target="revenue.u1"),
    "cap_u2": rule("cap_u2", 2, {"min": [{"var": "usage.u2"}, 1500]}, target="usage.u2"),
    "fee_cut": rule("fee_cut", 3, {"-": [{"var": "revenue.f1"}, "333.3333"]}, target="revenue.f1"),
    "support": rule("support", 4, {"*": [{"var": "subtotal"}, "0.0517"]}, code="support"),
    "goodwill": rule("goodwill", 5, "-250.5555", code="goodwill"),
    "div0": rule("div0", 6, {"/": [{"var": "subtotal"}, 0]}, code="div0"),
}


def decimals(low: int, high: int, places: int):
    return st.integers(low, high).map(lambda n: D(n).scaleb(-places))


@st.composite
def invoice_inputs(draw, account_id: str, currency: str, months: int):
    invoices = []
    first = draw(st.integers(9, 12))
    for n in range(months):
        month = first + n
        start = date(2026 + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        end_month = month + 1
        end = date(2026 + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
        share = draw(st.sampled_from(["1", "0.5", "0.467406380027739251"]))
        chosen = draw(st.lists(st.sampled_from(sorted(RULES)), unique=True, max_size=4))
        commitment = draw(st.none() | decimals(0, 500_000, 3))
        invoices.append(
            invoice(
                f"inv_{account_id}_{n}",
                account_id=account_id,
                currency=currency,
                start=start.isoformat(),
                end=end.isoformat(),
                grace_days=draw(st.integers(0, 5)),
                usage_lines=(
                    usage(
                        "u1",
                        draw(decimals(-10, 100_000, 0)),
                        amount=draw(decimals(0, 200_000_000, 6)),
                    ),
                    usage("u2", draw(decimals(-5, 3_000, 1)), pricing=U2),
                ),
                fixed=(fee("f1", draw(decimals(0, 50_000, 2)), share),),
                rules=tuple(RULES[name] for name in sorted(chosen)),
                commitment=commitment,
                share=share,
            )
        )
    return invoices


@st.composite
def scenarios(draw):
    currency = draw(st.sampled_from(["USD", "JPY", "KWD"]))
    accounts = ["acc_a", "acc_b"][: draw(st.integers(1, 2))]
    invoices = []
    for account_id in accounts:
        invoices += draw(invoice_inputs(account_id, currency, draw(st.integers(1, 4))))
    credits = []
    for n in range(draw(st.integers(0, 5))):
        start = date(2026, 9, 1) + timedelta(days=draw(st.integers(0, 180)))
        length = draw(st.none() | st.integers(0, 120))
        credits.append(
            credit(
                f"cr_{n}",
                draw(decimals(1, 300_000, 3)),
                priority=draw(st.integers(1, 3)),
                account_id=draw(st.sampled_from(accounts)),
                start=start,
                until=None if length is None else start + timedelta(days=length),
                applies_to=tuple(draw(st.lists(st.sampled_from(CARDS), unique=True, max_size=2))),
                currency=currency,
                timezone=draw(st.sampled_from(["UTC", "America/New_York"])),
            )
        )
    moves = []
    for n in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["TOPUP", "ADJUSTMENT"]))
        amount = draw(decimals(1, 200_000, 3) if kind == "TOPUP" else decimals(-90_000, 90_000, 3))
        when = at("2026-09-01") + timedelta(hours=draw(st.integers(0, 24 * 300)))
        moves.append(
            topup(
                f"wt_{n}",
                amount,
                when.isoformat()[:16],
                account_id=draw(st.sampled_from(accounts)),
                kind=kind,
                currency=currency,
            )
        )
    first = at("2026-09-15") + timedelta(hours=draw(st.integers(0, 24 * 200)))
    second = first + timedelta(hours=draw(st.integers(0, 24 * 120)))
    return invoices, credits, moves, first, second


def check_run(result, invoices, credits) -> None:
    by_id = {inp.invoice_id: inp for inp in invoices}
    lines = defaultdict(list)
    for line in result.line_items:
        lines[line["invoice_id"]].append(line)
    currency = invoices[0].currency if invoices else "USD"
    for row in result.invoices:
        own = lines[row["invoice_id"]]
        # Every amount is a rounded line, and the invoice adds its lines up to the cent
        for line in own:
            assert line["amount"] == round_money(line["amount"], currency)
        subtotal = sum((x["amount"] for x in own if x["line_type"] in SUBTOTAL_LINES), D(0))
        true_up = sum(
            (x["amount"] for x in own if x["line_type"] == "MINIMUM_COMMITMENT_TRUE_UP"), D(0)
        )
        credit_total = sum((x["amount"] for x in own if x["line_type"] == "CREDIT"), D(0))
        assert row["subtotal"] == subtotal >= 0
        assert row["minimum_commitment_true_up"] == true_up >= 0
        assert row["credits_applied"] == -credit_total
        assert row["total"] == subtotal + true_up + credit_total >= 0
        assert row["credits_applied"] <= row["subtotal"]
        for column in (
            "subtotal",
            "minimum_commitment_true_up",
            "credits_applied",
            "total",
            "wallet_applied",
            "amount_paid",
            "amount_due",
        ):
            # Shown at the currency's scale: 2 places for USD even at zero, never -0
            assert row[column].as_tuple().exponent == -minor_units(currency), column
            assert not row[column].is_signed()
        assert 0 <= row["wallet_applied"] <= row["total"]
        assert row["amount_due"] == row["total"] - row["wallet_applied"] - row["amount_paid"]
        assert (row["status"] == "PAID") == (
            row["finalized_at"] is not None and row["amount_due"] == 0
        )
        # A credit covers at most the net of the cards it applies to; all of them together
        # at most the net of every card
        net = price_invoice(by_id[row["invoice_id"]]).creditable_amounts()
        grants = {c.credit_id: c for c in credits}
        for x in own:
            if x["line_type"] == "CREDIT":
                grant = grants[x["credit_id"]]
                assert -x["amount"] <= sum(v for k, v in net.items() if grant.applies_to_card(k))
        assert row["credits_applied"] <= sum(net.values())
    ids = [line["line_item_id"] for line in result.line_items]
    assert len(ids) == len(set(ids))


def check_ledgers(credit_rows, wallet_rows, credits, all_credit_lines) -> None:
    for grant in credits:
        entries = [r for r in credit_rows if r["credit_id"] == grant.credit_id]
        by_type = defaultdict(lambda: D(0))
        running = D(0)
        for entry in entries:
            running += entry["amount"]
            assert entry["balance_after"] == running >= 0
            by_type[entry["entry_type"]] += entry["amount"]
        granted, applied, expired = by_type["GRANTED"], -by_type["APPLIED"], -by_type["EXPIRED"]
        assert granted in (0, round_money(grant.amount, grant.currency))
        assert [e["entry_type"] for e in entries].count("GRANTED") <= 1
        assert granted - applied - expired == running
        assert [e["entry_type"] for e in entries].count("EXPIRED") <= 1
        # Shown (drafts) and applied (finalized) uses never exceed the grant
        used = -sum((a for cid, a in all_credit_lines if cid == grant.credit_id), D(0))
        assert used <= round_money(grant.amount, grant.currency)
    running_by_account = defaultdict(lambda: D(0))
    for entry in wallet_rows:
        running_by_account[entry["account_id"]] += entry["amount"]
        assert entry["balance_after"] == running_by_account[entry["account_id"]]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_invariants_hold_for_one_run(scenario):
    invoices, credits, moves, as_of, _ = scenario
    result = build_invoices(invoices, credits, moves, PriorState(), as_of)
    check_run(result, invoices, credits)
    credit_lines = [
        (x["credit_id"], x["amount"]) for x in result.line_items if x["line_type"] == "CREDIT"
    ]
    check_ledgers(result.credit_ledger, result.wallet_ledger, credits, credit_lines)
    assert (
        prior_state_from_ledgers(result.credit_ledger, result.wallet_ledger) == result.prior_state
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.randoms(use_true_random=False))
def test_building_twice_gives_identical_rows_whatever_the_input_order(scenario, rnd: random.Random):
    invoices, credits, moves, as_of, _ = scenario
    first = build_invoices(invoices, credits, moves, PriorState(), as_of)
    shuffled = [list(x) for x in (invoices, credits, moves)]
    for items in shuffled:
        rnd.shuffle(items)
    second = build_invoices(*shuffled, PriorState(), as_of)
    assert first == second


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_two_runs_reconcile_and_finalized_invoices_keep_their_credit(scenario):
    invoices, credits, moves, first_as_of, second_as_of = scenario
    first = build_invoices(invoices, credits, moves, PriorState(), first_as_of)
    finalized = {r["invoice_id"] for r in first.invoices if r["status"] != "DRAFT"}
    # The next run gets only what is still open, and the state the first run left
    still_open = [inp for inp in invoices if inp.invoice_id not in finalized]
    second = build_invoices(still_open, credits, moves, first.prior_state, second_as_of)
    check_run(second, still_open, credits)
    credit_rows = [*first.credit_ledger, *second.credit_ledger]
    wallet_rows = [*first.wallet_ledger, *second.wallet_ledger]
    # Credit lines that stand: finalized in the first run, shown or finalized in the second
    final_lines = [
        (x["credit_id"], x["amount"])
        for x in (
            *(x for x in first.line_items if x["invoice_id"] in finalized),
            *second.line_items,
        )
        if x["line_type"] == "CREDIT"
    ]
    check_ledgers(credit_rows, wallet_rows, credits, final_lines)
    assert prior_state_from_ledgers(credit_rows, wallet_rows) == second.prior_state
    # Each entry is written once across runs
    entry_ids = [r["entry_id"] for r in credit_rows] + [r["entry_id"] for r in wallet_rows]
    assert len(entry_ids) == len(set(entry_ids))
    # Wallet: what finalized invoices drew is what the ledger's APPLIED entries say
    drawn = sum(
        (
            r["wallet_applied"]
            for r in (*first.invoices, *second.invoices)
            if r["status"] != "DRAFT"
        ),
        D(0),
    )
    assert drawn == -sum((r["amount"] for r in wallet_rows if r["entry_type"] == "APPLIED"), D(0))
