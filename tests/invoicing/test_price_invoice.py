"""Worked examples of one invoice by hand: rule actions, rounding, adjustment, true-up."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from dagster_project.lib.invoicing import InvoiceLine, UsageLineInput, price_invoice, round_money
from tests.invoicing.builders import OPUS, PER_CENT, fee, invoice, rule, usage

D = Decimal

DISCOUNT = rule(
    "volume_discount",
    1,
    {"*": [{"var": "revenue.opus_input"}, "0.9"]},
    condition={">": [{"var": "revenue.opus_input"}, 1000]},
    target="revenue.opus_input",
    name="10% off Opus input above $1,000",
)
SUPPORT = rule(
    "support_addon",
    2,
    {"*": [{"var": "subtotal"}, "0.05"]},
    code="premium_support",
    description="Premium support (5%)",
)


def amounts(priced, line_type: str) -> list[Decimal]:
    return [line.amount for line in priced.lines if line.line_type == line_type]


def only(priced, line_type: str) -> InvoiceLine:
    (line,) = [line for line in priced.lines if line.line_type == line_type]
    return line


# ---------------------------------------------------------------- rule actions


def test_update_revenue_then_add_on_the_discounted_subtotal():
    priced = price_invoice(
        invoice(
            usage_lines=(usage("opus_input", 100010),),  # 100,010 × 0.01 = 1,000.10
            fixed=(fee("platform_fee", "99.00"),),
            rules=(DISCOUNT, SUPPORT),
        )
    )
    # discount: 1,000.10 × 0.9 = 900.09, delta 900.09 − 1,000.10 = −100.01
    # support: subtotal at full precision 900.09 + 99.00 = 999.09; × 0.05 = 49.9545 → 49.95
    assert amounts(priced, "USAGE") == [D("1000.10")]
    assert amounts(priced, "FIXED_FEE") == [D("99.00")]
    update = only(priced, "PRICING_RULE_UPDATE")
    assert (update.amount, update.rule_id, update.rate_card_id) == (
        D("-100.01"),
        "volume_discount",
        "opus_input",
    )
    addition = only(priced, "PRICING_RULE_ADDITION")
    assert (addition.amount, addition.code, addition.description) == (
        D("49.95"),
        "premium_support",
        "Premium support (5%)",
    )
    # 1,000.10 + 99.00 = 1,099.10; − 100.01 = 999.09; + 49.95 = 1,049.04
    assert priced.subtotal == D("1049.04")
    assert priced.minimum_commitment_true_up == 0
    assert not priced.needs_review
    logs = {log.rule_id: log.to_row() for log in priced.rule_logs}
    assert logs["volume_discount"]["outcome"] == "CONDITION_TRUE"
    assert logs["volume_discount"]["old_revenue"] == "1000.10"
    assert logs["volume_discount"]["new_revenue"] == "900.090"
    assert json.loads(logs["support_addon"]["variables"]) == {"subtotal": "999.090"}
    assert logs["support_addon"]["computation_result"] == "49.95450"


def test_update_usage_rerates_through_the_slabs():
    cap = rule(
        "cap_usage", 1, {"min": [{"var": "usage.opus_input"}, 10000001]}, target="usage.opus_input"
    )
    priced = price_invoice(
        invoice(usage_lines=(usage("opus_input", 25_000_000, pricing=OPUS),), rules=(cap,))
    )
    # 25,000,000 units: 15 + 9,000,000 × 0.000012 + 5 + 9.00 × 15 packages = 263.00
    # capped to 10,000,001: 128 + 9.00 × 1 package = 137.00; delta 137 − 263 = −126.00
    assert amounts(priced, "USAGE") == [D("263.00")]
    assert amounts(priced, "PRICING_RULE_UPDATE") == [D("-126.00")]
    assert priced.subtotal == D("137.00")
    (log,) = priced.rule_logs
    assert (log.old_usage, log.new_usage, log.old_revenue, log.new_revenue) == (
        D("25000000"),
        D("10000001"),
        D("263.000000"),
        D("137.00"),
    )


def test_add_appends_a_line_rounded_half_up():
    priced = price_invoice(
        invoice(
            usage_lines=(usage("api", 1000),),  # 10.00
            rules=(rule("onboarding", 1, "12.345", code="onboarding", description="Onboarding"),),
        )
    )
    # 12.345 is exactly half a cent above 12.34: half-up gives 12.35
    assert amounts(priced, "PRICING_RULE_ADDITION") == [D("12.35")]
    assert priced.subtotal == D("22.35")  # 10.00 + 12.35


def test_condition_false_applies_nothing_and_is_logged():
    priced = price_invoice(invoice(usage_lines=(usage("opus_input", 50000),), rules=(DISCOUNT,)))
    # revenue 500.00 is not > 1000: no line, subtotal unchanged
    assert amounts(priced, "PRICING_RULE_UPDATE") == []
    assert priced.subtotal == D("500.00")
    (log,) = priced.rule_logs
    assert log.outcome == "CONDITION_FALSE"
    assert (log.old_revenue, log.new_revenue) == (D("500.00"), None)
    assert not priced.needs_review


def test_update_to_the_same_amount_still_writes_a_zero_line():
    same = rule("no_op", 1, {"var": "revenue.api"}, target="revenue.api")
    priced = price_invoice(invoice(usage_lines=(usage("api", 100),), rules=(same,)))
    assert amounts(priced, "PRICING_RULE_UPDATE") == [D("0.00")]


def test_evaluation_errors_flag_the_invoice_and_other_rules_still_run():
    div0 = rule("div0", 1, {"/": [{"var": "subtotal"}, {"var": "usage.api"}]}, code="per_call")
    bad_condition = rule("text_math", 2, "1", condition={"-": ["abc", 1]}, code="never")
    priced = price_invoice(
        invoice(
            usage_lines=(usage("api", 0), usage("storage", 36300)),  # api 0.00, storage 363.00
            rules=(div0, bad_condition, SUPPORT_ON_STORAGE),
        )
    )
    outcomes = {log.rule_id: log.outcome for log in priced.rule_logs}
    assert outcomes == {
        "div0": "COMPUTATION_ERROR",
        "text_math": "CONDITION_ERROR",
        "support": "CONDITION_TRUE",
    }
    assert priced.needs_review
    assert len(priced.review_reasons) == 2
    assert priced.review_reasons[0].startswith("pricing rule 'div0' (order 1): COMPUTATION_ERROR")
    assert priced.review_reasons[1].startswith(
        "pricing rule 'text_math' (order 2): CONDITION_ERROR"
    )
    # Only the healthy rule added a line: 363.00 × 0.05 = 18.15; subtotal 363.00 + 18.15
    assert amounts(priced, "PRICING_RULE_ADDITION") == [D("18.15")]
    assert priced.subtotal == D("381.15")


SUPPORT_ON_STORAGE = rule("support", 3, {"*": [{"var": "revenue.storage"}, "0.05"]}, code="support")


def test_negative_usage_total_is_rated_zero_and_flagged():
    priced = price_invoice(invoice(usage_lines=(usage("api", -5),)))
    assert amounts(priced, "USAGE") == [D("0.00")]
    assert priced.needs_review
    assert "usage of rate card 'api' is negative (-5)" in priced.review_reasons[0]


# ---------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("currency", "amount", "expected"),
    [
        ("USD", "0.125", "0.13"),  # half a cent rounds up
        ("USD", "0.124999", "0.12"),
        ("USD", "-0.125", "-0.13"),  # a negative half rounds away from zero
        ("USD", "-0.004", "0.00"),  # no signed zero on an invoice
        ("JPY", "1234.5", "1235"),  # yen have no minor unit
        ("JPY", "1234.49", "1234"),
        ("KWD", "1.2345", "1.235"),  # three places for the dinar
        ("KWD", "-1.2345", "-1.235"),
        ("USD", "10000000000.005", "10000000000.01"),  # beyond 28 digits of context, still exact
    ],
)
def test_round_money(currency, amount, expected):
    rounded = round_money(D(amount), currency)
    assert rounded == D(expected)
    assert str(rounded) == expected


def test_each_line_is_rounded_once_and_the_subtotal_adds_the_rounded_lines():
    priced = price_invoice(
        invoice(
            usage_lines=(usage("a", "12.5", amount="0.125"), usage("b", "12.5", amount="0.125"))
        )
    )
    # 0.125 → 0.13 twice: the subtotal is 0.26, not round(0.25) = 0.25
    assert amounts(priced, "USAGE") == [D("0.13"), D("0.13")]
    assert priced.subtotal == D("0.26")


def test_update_line_is_round_of_the_delta():
    # old 1.004 (line 1.00), new 0.999: delta −0.005 rounds away from zero to −0.01,
    # where round(new) − round(old) would be 1.00 − 1.00 = 0.
    priced = price_invoice(
        invoice(
            usage_lines=(usage("a", 1, amount="1.004"),),
            rules=(rule("trim", 1, "0.999", target="revenue.a"),),
        )
    )
    assert amounts(priced, "USAGE") == [D("1.00")]
    assert amounts(priced, "PRICING_RULE_UPDATE") == [D("-0.01")]
    assert priced.subtotal == D("0.99")


def test_jpy_and_kwd_invoices():
    yen = price_invoice(
        invoice(
            currency="JPY",
            usage_lines=(usage("a", 1, amount="1500.5"),),
            fixed=(fee("f", "980.4"),),
        )
    )
    # 1,500.5 → 1,501; 980.4 → 980; subtotal 2,481
    assert [line.amount for line in yen.lines] == [D("1501"), D("980")]
    assert yen.subtotal == D("2481")
    dinar = price_invoice(
        invoice(currency="KWD", usage_lines=(usage("a", 1, amount="7.0005"),), commitment="10")
    )
    # 7.0005 → 7.001; true-up 10.000 − 7.001 = 2.999
    assert dinar.subtotal == D("7.001")
    assert dinar.minimum_commitment_true_up == D("2.999")


# ---------------------------------------------------------------- adjustment and true-up


def test_rules_below_zero_get_an_adjustment_and_a_review_flag():
    priced = price_invoice(
        invoice(
            usage_lines=(usage("api", 1000),),  # 10.00
            rules=(rule("goodwill", 1, "-25", code="goodwill", description="Goodwill"),),
            commitment="5.00",
        )
    )
    # 10.00 − 25.00 = −15.00 → ADJUSTMENT +15.00, subtotal 0; true-up 5.00 − 0 = 5.00
    assert amounts(priced, "PRICING_RULE_ADDITION") == [D("-25.00")]
    assert amounts(priced, "ADJUSTMENT") == [D("15.00")]
    assert priced.subtotal == D("0.00")
    assert priced.minimum_commitment_true_up == D("5.00")
    assert priced.needs_review
    assert "below zero (-15.00)" in priced.review_reasons[-1]


def test_true_up_with_a_cut_cycle_share():
    # New York November piece Nov 1-14: share 337/721 at 18 places (docs/billing-cycles.md)
    share = "0.467406380027739251"
    priced = price_invoice(
        invoice(
            usage_lines=(usage("api", 10000),),  # 100.00
            commitment="500.00",
            share=share,
        )
    )
    # 500.00 × 0.467406380027739251 = 233.7031900138696255 → 233.70; 233.70 − 100.00 = 133.70
    assert priced.minimum_commitment_true_up == D("133.70")
    line = only(priced, "MINIMUM_COMMITMENT_TRUE_UP")
    assert (line.amount, line.rate_card_id) == (D("133.70"), "commitment")


def test_no_true_up_line_when_the_commitment_is_met():
    priced = price_invoice(invoice(usage_lines=(usage("api", 60000),), commitment="500.00"))
    assert priced.minimum_commitment_true_up == 0
    assert amounts(priced, "MINIMUM_COMMITMENT_TRUE_UP") == []


def test_true_up_compares_with_the_rounded_lines():
    # Lines 0.125 + 0.125 round to 0.13 + 0.13 = 0.26; commitment 0.26 is met exactly,
    # though the unrounded amounts (0.25) fall a cent short.
    priced = price_invoice(
        invoice(
            usage_lines=(usage("a", 1, amount="0.125"), usage("b", 1, amount="0.125")),
            commitment="0.26",
        )
    )
    assert priced.minimum_commitment_true_up == 0


def test_creditable_amounts_net_of_update_lines_floored_at_zero():
    priced = price_invoice(
        invoice(
            usage_lines=(usage("b", 2000), usage("a", 3000)),  # b 20.00, a 30.00
            fixed=(fee("f", "10.00"),),
            rules=(
                rule("half_a", 1, {"*": [{"var": "revenue.a"}, "0.5"]}, target="revenue.a"),
                rule("b_negative", 2, "-5", target="revenue.b"),
            ),
        )
    )
    # a: 30.00 − 15.00 = 15.00; b: 20.00 − 25.00 = −5.00 → 0; f: 10.00; in line order a, b, f
    assert list(priced.creditable_amounts().items()) == [
        ("a", D("15.00")),
        ("b", D("0")),
        ("f", D("10.00")),
    ]


def test_floats_are_refused():
    with pytest.raises(TypeError, match="amount must be a Decimal"):
        UsageLineInput("a", "m", D(1), 0.1, PER_CENT)


def test_amounts_beyond_28_digits_stay_exact():
    # The default decimal context keeps 28 digits; a 33-digit amount must not be cut.
    big = "123456789012345678901234567890.125"
    priced = price_invoice(
        invoice(usage_lines=(usage("a", 1, amount=big),), fixed=(fee("f", "0.01"),))
    )
    # .125 rounds half-up to .13; plus the 0.01 fee
    assert priced.subtotal == D("123456789012345678901234567890.14")
