"""Worked examples of credits by hand: order, reach, net amounts, carry-over, expiry, ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dagster_project.lib.invoicing import PriorState, build_invoices, credit_order
from tests.invoicing.builders import at, credit, fee, invoice, rule, usage

D = Decimal

# a 30.00, b 20.00 (usage), f 10.00 (fixed fee): subtotal 60.00
CARDS = {"usage_lines": (usage("a", 3000), usage("b", 2000)), "fixed": (fee("f", "10.00"),)}
AFTER_NOVEMBER = at("2026-12-02")  # the November invoice (no grace) is finalized
DURING_NOVEMBER = at("2026-11-20")


def run(invoices, credits, *, as_of=AFTER_NOVEMBER, prior=None):
    return build_invoices(invoices, credits, (), prior or PriorState(), as_of)


def credit_lines(result, invoice_id="inv_nov"):
    return [
        (row["credit_id"], row["amount"])
        for row in result.line_items
        if row["invoice_id"] == invoice_id and row["line_type"] == "CREDIT"
    ]


def invoice_row(result, invoice_id="inv_nov"):
    (row,) = [row for row in result.invoices if row["invoice_id"] == invoice_id]
    return row


def ledger(result, credit_id):
    return [
        (
            row["entry_type"],
            row["invoice_id"],
            row["amount"],
            row["balance_after"],
            row["occurred_at"],
        )
        for row in result.credit_ledger
        if row["credit_id"] == credit_id
    ]


def test_lower_priority_number_goes_first():
    result = run([invoice(**CARDS)], [credit("cr_1", 50, priority=2), credit("cr_2", 25)])
    # cr_2 (priority 1) first: a 25.00 of 30.00. cr_1 then: a 5.00 + b 20.00 + f 10.00 = 35.00
    assert credit_lines(result) == [("cr_2", D("-25.00")), ("cr_1", D("-35.00"))]
    assert invoice_row(result)["credits_applied"] == D("60.00")
    assert invoice_row(result)["total"] == D("0.00")


def test_same_priority_earliest_expiry_first_open_ended_last():
    credits = [
        credit("cr_open", 40),
        credit("cr_late", 25, until=date(2027, 6, 30)),
        credit("cr_soon", 25, until=date(2026, 12, 31)),
    ]
    assert [c.credit_id for c in sorted(credits, key=credit_order)] == [
        "cr_soon",
        "cr_late",
        "cr_open",
    ]
    result = run([invoice(**CARDS)], credits)
    # 60.00 to cover: cr_soon 25.00, cr_late 25.00, cr_open the last 10.00
    assert credit_lines(result) == [
        ("cr_soon", D("-25.00")),
        ("cr_late", D("-25.00")),
        ("cr_open", D("-10.00")),
    ]


def test_credit_id_breaks_a_full_tie():
    result = run([invoice(**CARDS)], [credit("cr_b", 40), credit("cr_a", 40)])
    # cr_a first: 40.00 (a 30.00 + b 10.00); cr_b: b 10.00 + f 10.00 = 20.00
    assert credit_lines(result) == [("cr_a", D("-40.00")), ("cr_b", D("-20.00"))]


def test_applies_to_limits_the_cards_a_credit_covers():
    result = run(
        [invoice(**CARDS)],
        [
            credit("cr_b", 100, applies_to=("b",)),
            credit("cr_fee", 100, priority=2, applies_to=("f",)),
        ],
    )
    # cr_b covers only b (20.00), cr_fee only f (10.00); a stays payable: total 30.00
    assert credit_lines(result) == [("cr_b", D("-20.00")), ("cr_fee", D("-10.00"))]
    assert invoice_row(result)["total"] == D("30.00")


def test_a_credit_covers_the_net_of_update_discounts():
    half = rule("half_a", 1, {"*": [{"var": "revenue.a"}, "0.5"]}, target="revenue.a")
    result = run([invoice(**CARDS, rules=(half,))], [credit("cr_a", 100, applies_to=("a",))])
    # a: 30.00 with an UPDATE of −15.00: net 15.00 is all the credit may cover
    # subtotal 30 − 15 + 20 + 10 = 45.00; total 45.00 − 15.00 = 30.00
    assert credit_lines(result) == [("cr_a", D("-15.00"))]
    row = invoice_row(result)
    assert (row["subtotal"], row["credits_applied"], row["total"]) == (
        D("45.00"),
        D("15.00"),
        D("30.00"),
    )


def test_a_credit_never_takes_a_line_below_zero():
    wipe = rule("over_discount", 1, "-5", target="revenue.a")  # a: 30.00 → −5.00
    result = run([invoice(**CARDS, rules=(wipe,))], [credit("cr_a", 100, applies_to=("a",))])
    # a's net: 30.00 − 35.00 = −5.00 → 0: nothing to cover, no CREDIT line
    assert credit_lines(result) == []
    assert invoice_row(result)["subtotal"] == D("25.00")  # 30 − 35 + 20 + 10


def test_credits_never_exceed_the_subtotal():
    discount = rule("loyalty", 1, "-20", code="loyalty")
    result = run([invoice(**CARDS, rules=(discount,))], [credit("cr_big", 1000)])
    # card nets 30 + 20 + 10 = 60.00, but the subtotal is 60 − 20 = 40.00: credit 40.00
    assert credit_lines(result) == [("cr_big", D("-40.00"))]
    assert invoice_row(result)["total"] == D("0.00")
    # 1,000.00 granted, 40.00 applied: 960.00 carries over
    assert result.prior_state.credits["cr_big"].balance == D("960.00")


def test_credits_do_not_cover_the_true_up():
    result = run([invoice(**CARDS, commitment="100.00")], [credit("cr_big", 1000)])
    # subtotal 60.00, true-up 40.00; the credit covers the 60.00 only: total 40.00
    row = invoice_row(result)
    assert (
        row["subtotal"],
        row["minimum_commitment_true_up"],
        row["credits_applied"],
        row["total"],
    ) == (D("60.00"), D("40.00"), D("60.00"), D("40.00"))


def test_unused_credit_carries_over_to_the_next_invoice():
    nov = invoice("inv_nov", **CARDS)
    dec = invoice("inv_dec", start="2026-12-01", end="2027-01-01", **CARDS)
    result = run([dec, nov], [credit("cr_1", 100)], as_of=at("2027-01-02"))
    # November takes 60.00 first (chronological), December the 40.00 left
    assert credit_lines(result, "inv_nov") == [("cr_1", D("-60.00"))]
    assert credit_lines(result, "inv_dec") == [("cr_1", D("-40.00"))]
    assert ledger(result, "cr_1") == [
        ("GRANTED", None, D("100.00"), D("100.00"), at("2026-01-01")),
        ("APPLIED", "inv_nov", D("-60.00"), D("40.00"), at("2026-12-01")),
        ("APPLIED", "inv_dec", D("-40.00"), D("0.00"), at("2027-01-01")),
    ]


def test_a_credit_is_usable_only_by_periods_overlapping_its_range():
    nov = invoice("inv_nov", **CARDS)
    dec = invoice("inv_dec", start="2026-12-01", end="2027-01-01", **CARDS)
    result = run(
        [nov, dec], [credit("cr_dec", 100, start=date(2026, 12, 1))], as_of=at("2027-01-02")
    )
    assert credit_lines(result, "inv_nov") == []
    assert credit_lines(result, "inv_dec") == [("cr_dec", D("-60.00"))]


def test_effective_days_are_local_days_of_the_account():
    # Until 2026-11-30 in New York ends at local midnight Dec 1 = 05:00Z. A UTC-dated period
    # starting at 2026-12-01T00:00Z still overlaps the last five hours; one at 06:00Z does not.
    grant = credit("cr_ny", 10, until=date(2026, 11, 30), timezone="America/New_York")
    assert grant.ends_at == at("2026-12-01T05:00")
    assert grant.covers(at("2026-12-01"), at("2027-01-01"))
    assert not grant.covers(at("2026-12-01T06:00"), at("2027-01-01"))


def test_draft_shows_its_credits_without_a_ledger_entry():
    result = run(
        [invoice(**CARDS)], [credit("cr_1", 100, until=date(2026, 11, 30))], as_of=DURING_NOVEMBER
    )
    assert invoice_row(result)["status"] == "DRAFT"
    assert credit_lines(result) == [("cr_1", D("-60.00"))]
    # Granted (its first day has come), nothing applied, not expired while the draft is open
    assert ledger(result, "cr_1") == [("GRANTED", None, D("100.00"), D("100.00"), at("2026-01-01"))]


def test_expired_entry_once_every_invoice_that_could_use_it_is_finalized():
    grant = credit("cr_1", 100, until=date(2026, 11, 30))
    nov = invoice(**CARDS, grace_days=3)  # falls due 2026-12-04
    still_in_grace = run([nov], [grant], as_of=at("2026-12-02"))
    # The range ended Dec 1, but November is still a DRAFT: no APPLIED, no EXPIRED yet
    assert [e[0] for e in ledger(still_in_grace, "cr_1")] == ["GRANTED"]

    later = run([nov], [grant], as_of=at("2026-12-05"), prior=still_in_grace.prior_state)
    # November finalized: APPLIED 60.00; then the 40.00 left expires, at the later of the
    # range's end (Dec 1) and the last entry (Dec 4)
    assert ledger(later, "cr_1") == [
        ("APPLIED", "inv_nov", D("-60.00"), D("40.00"), at("2026-12-04")),
        ("EXPIRED", None, D("-40.00"), D("0.00"), at("2026-12-04")),
    ]
    state = later.prior_state.credits["cr_1"]
    assert (state.granted, state.applied, state.expired, state.balance) == (
        D("100.00"),
        D("60.00"),
        D("40.00"),
        D("0.00"),
    )

    # A further run writes nothing more for it
    again = run([], [grant], as_of=at("2027-02-01"), prior=later.prior_state)
    assert ledger(again, "cr_1") == []


def test_finalized_invoices_of_earlier_runs_hold_their_credit():
    grant = credit("cr_1", 100)
    first = run([invoice("inv_nov", **CARDS)], [grant], as_of=AFTER_NOVEMBER)
    dec = invoice("inv_dec", start="2026-12-01", end="2027-01-01", **CARDS)
    # November is finalized: the next run gets only December, and the state of November's use
    second = run([dec], [grant], as_of=at("2027-01-02"), prior=first.prior_state)
    assert credit_lines(second, "inv_dec") == [("cr_1", D("-40.00"))]
    assert ledger(second, "cr_1") == [
        ("APPLIED", "inv_dec", D("-40.00"), D("0.00"), at("2027-01-01"))
    ]


def test_a_future_credit_is_not_granted_yet_and_leaves_no_state():
    result = run([invoice(**CARDS)], [credit("cr_next_year", 10, start=date(2027, 1, 1))])
    assert ledger(result, "cr_next_year") == []
    assert "cr_next_year" not in result.prior_state.credits


def test_a_credit_in_another_currency_is_not_used():
    result = run([invoice(**CARDS)], [credit("cr_eur", 100, currency="EUR")])
    assert credit_lines(result) == []


def test_a_grant_is_money_rounded_to_the_minor_unit():
    result = run([invoice(usage_lines=(usage("a", 10000),))], [credit("cr_odd", "10.005")])
    # 10.005 USD is granted as 10.01 (half-up, as every amount), and used as such
    assert ledger(result, "cr_odd")[0][2] == D("10.01")
    assert credit_lines(result) == [("cr_odd", D("-10.01"))]
