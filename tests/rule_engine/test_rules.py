"""Tests of pricing rules: compile checks, each action, ordering, errors and the trace."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rule_engine import load_logic
from rule_engine.rules import (
    CompiledRule,
    InvoiceFacts,
    PricedLine,
    RuleApplication,
    RuleCompileError,
    RuleSpec,
    apply_pricing_rules,
    compile_rules,
    rule_variables,
)
from rule_engine.slabs import Slab, UsagePricing, rate_usage

D = Decimal

PRICINGS = {
    # CONTRACT §1.2 example: 0..1M at 0.000015, 1M..10M at 0.000012 + 5 flat, 9.00 per 1M above.
    "opus_input": UsagePricing(
        "TIERED",
        (
            Slab(D("0"), D("0.000015")),
            Slab(D("1000000"), D("0.000012"), flat_fee=D("5.00")),
            Slab(D("10000000"), D("9.00"), package_size=D("1000000")),
        ),
    ),
    "api_requests": UsagePricing("TIERED", (Slab(D("0"), D("0.01")),)),
}
USAGE_CARDS = set(PRICINGS)
FIXED_FEE_CARDS = {"platform_fee"}
INVOICE = InvoiceFacts(
    "acc_acme", "USD", "2026-11-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00", D("30")
)


def rerate(card_id: str, usage: Decimal) -> Decimal:
    return rate_usage(usage, PRICINGS[card_id])


def lines(
    opus_usage: str = "25000000",
    api_usage: str = "100",
    fee: str = "99.00",
    opus_revenue: str | None = None,
) -> list[PricedLine]:
    opus = D(opus_usage)
    return [
        PricedLine(
            "opus_input",
            "USAGE",
            opus,
            D(opus_revenue) if opus_revenue else rerate("opus_input", opus),
        ),
        PricedLine("api_requests", "USAGE", D(api_usage), rerate("api_requests", D(api_usage))),
        PricedLine("platform_fee", "FIXED_FEE", D(1), D(fee)),
    ]


def update(
    rule_id: str,
    order: int,
    target: str,
    computation: object,
    condition: object = None,
    name: str | None = None,
) -> RuleSpec:
    return RuleSpec(rule_id, name, order, condition, computation, "UPDATE", target)


def add(
    rule_id: str,
    order: int,
    computation: object,
    condition: object = None,
    code: str | None = "addon",
    description: str | None = "An add-on",
) -> RuleSpec:
    return RuleSpec(rule_id, None, order, condition, computation, "ADD", None, code, description)


def compile_(*specs: RuleSpec) -> list[CompiledRule]:
    return compile_rules(list(specs), usage_cards=USAGE_CARDS, fixed_fee_cards=FIXED_FEE_CARDS)


def run(*specs: RuleSpec, priced: list[PricedLine] | None = None) -> RuleApplication:
    return apply_pricing_rules(
        compile_(*specs), priced if priced is not None else lines(), INVOICE, rerate
    )


def read(log) -> dict[str, object]:
    """A log's variables with numbers compared by value (their scale is the rating's)."""
    return {
        k: D(v) if k.startswith(("usage.", "revenue.", "subtotal", "cycle.days")) else v
        for k, v in log.variables.items()
    }


def problems_of(*specs: RuleSpec) -> list[str]:
    with pytest.raises(RuleCompileError) as info:
        compile_(*specs)
    assert str(len(info.value.problems)) in str(info.value)
    return info.value.problems


# ---------------------------------------------------------------- compile


def test_compile_sorts_by_order_and_loads_exact_decimals() -> None:
    compiled = compile_(
        add("second", 2, '{"*": [{"var": "subtotal"}, 0.05]}'),  # JSON text
        update(
            "first",
            1,
            "revenue.opus_input",
            {"*": [{"var": "revenue.opus_input"}, 0.9]},
            condition={">": [{"var": "revenue.opus_input"}, 1000]},
        ),  # YAML floats
    )
    assert [r.rule_id for r in compiled] == ["first", "second"]
    first, second = compiled
    assert first.computation == {"*": [{"var": "revenue.opus_input"}, D("0.9")]}
    assert second.computation == {"*": [{"var": "subtotal"}, D("0.05")]}
    assert first.condition_variables == ("revenue.opus_input",)
    assert second.computation_variables == ("subtotal",)
    assert (first.target_kind, first.target_card) == ("revenue", "opus_input")
    assert second.target_kind is None


def test_allowed_variables() -> None:
    assert rule_variables({"a"}, {"f"}) == {
        "usage.a",
        "revenue.a",
        "usage.f",
        "revenue.f",
        "subtotal",
        "account.id",
        "account.currency",
        "cycle.start",
        "cycle.end",
        "cycle.days",
    }


def test_every_variable_kind_compiles() -> None:
    reads = [
        "usage.platform_fee",
        "revenue.platform_fee",
        "usage.api_requests",
        "subtotal",
        "account.id",
        "account.currency",
        "cycle.start",
        "cycle.end",
        "cycle.days",
    ]
    compile_(add("all", 1, {"+": [{"var": name} for name in reads]}))


def test_unknown_variables_suggest_the_closest() -> None:
    problems = problems_of(
        update(
            "typo",
            1,
            "revenue.opus_input",
            {"var": "revenue.opus_inptu"},
            condition={">": [{"var": "subtotl"}, 0]},
        ),
        add("foreign", 2, {"var": "attributes.input_tokens"}),
    )
    assert problems == [
        "rule 'typo': condition: unknown variable 'subtotl' (did you mean 'subtotal'?)",
        "rule 'typo': computation: unknown variable 'revenue.opus_inptu' "
        "(did you mean 'revenue.opus_input'?)",
        "rule 'foreign': computation: unknown variable 'attributes.input_tokens'",
    ]


def test_whole_data_variable_is_rejected() -> None:
    (problem,) = problems_of(add("whole", 1, {"var": ""}))
    assert "rule 'whole'" in problem and "whole data" in problem


def test_logic_problems_are_reported() -> None:
    (problem,) = problems_of(add("bad_op", 1, {"mul": [{"var": "subtotal"}, 2]}))
    assert problem == (
        "rule 'bad_op': computation: unsupported JSON Logic operator 'mul' (did you mean '*'?)"
    )
    (problem,) = problems_of(add("bad_json", 1, "{not json"))
    assert problem.startswith("rule 'bad_json': computation: invalid JSON Logic text")


def test_update_targets() -> None:
    problems = problems_of(
        update("fee_usage", 1, "usage.platform_fee", 2),
        update("typo", 2, "revenue.opus_inpt", 2),
        update("nowhere", 3, "discount", 2),
        update("none", 4, None, 2),  # type: ignore[arg-type]
    )
    assert problems == [
        "rule 'fee_usage': target 'usage.platform_fee': a FIXED_FEE card's usage cannot be "
        "updated (update revenue.platform_fee)",
        "rule 'typo': target 'revenue.opus_inpt' is not revenue.<rate card> or "
        "usage.<usage rate card> of this plan (did you mean 'revenue.opus_input'?)",
        "rule 'nowhere': target 'discount' is not revenue.<rate card> or usage.<usage rate card> "
        "of this plan",
        "rule 'none': an UPDATE action needs a target (revenue.<rate card> or usage.<rate card>)",
    ]
    # revenue of a fixed fee and usage of a usage card are fine
    compile_(update("a", 1, "revenue.platform_fee", 1), update("b", 2, "usage.opus_input", 1))


def test_all_problems_at_once() -> None:
    problems = problems_of(
        add("dup", 1, 1),
        add("dup", 2, 1),
        add("same_order", 2, 1),
        RuleSpec("no_code", None, 3, None, 1, "ADD"),
        RuleSpec("no_computation", None, 4, None, None, "ADD", code="c"),
        RuleSpec("add_target", None, 5, None, 1, "ADD", "revenue.opus_input", "c"),
        RuleSpec("kind", None, 6, None, 1, "UPDAT", "revenue.opus_input"),  # type: ignore[arg-type]
    )
    assert problems == [
        "rule 'dup': duplicate rule id (2 rules)",
        "rules 'dup', 'same_order' share order 2: their order would be ambiguous",
        "rule 'no_code': an ADD action needs a code",
        "rule 'no_computation': computation is required",
        "rule 'add_target': an ADD action has no target (got 'revenue.opus_input')",
        "rule 'kind': action type 'UPDAT' is not UPDATE or ADD (did you mean 'UPDATE'?)",
    ]


def test_no_rules() -> None:
    assert compile_() == []
    result = run()
    assert result.logs == () and result.rule_lines == () and not result.needs_review
    assert result.lines == tuple(lines())


# ---------------------------------------------------------------- actions


def test_update_revenue_is_exact() -> None:
    # CONTRACT example rule: 10% off Opus input above $1,000; 1000.10 × 0.9 = 900.09 exactly.
    result = run(
        update(
            "volume_discount",
            1,
            "revenue.opus_input",
            {"*": [{"var": "revenue.opus_input"}, 0.9]},
            condition={">": [{"var": "revenue.opus_input"}, 1000]},
            name="10% off Opus input above $1,000",
        ),
        priced=lines(opus_revenue="1000.10"),
    )
    assert result.revenue["opus_input"] == D("900.09")
    assert result.usage["opus_input"] == D("25000000")  # usage untouched
    (line,) = result.rule_lines
    assert (line.rule_id, line.line_type, line.rate_card_id, line.code) == (
        "volume_discount",
        "PRICING_RULE_UPDATE",
        "opus_input",
        None,
    )
    assert line.amount == D("-100.01")
    assert line.description == "10% off Opus input above $1,000"
    (log,) = result.logs
    assert log.outcome == "CONDITION_TRUE"
    assert log.computation_result == D("900.09")
    assert dict(log.variables) == {"revenue.opus_input": "1000.10"}
    assert (log.old_usage, log.new_usage) == (D("25000000"), D("25000000"))
    assert (log.old_revenue, log.new_revenue) == (D("1000.10"), D("900.09"))
    assert log.error_message is None and not result.needs_review


def test_update_usage_rerates_through_slabs() -> None:
    # Cap billable Opus input at 10,000,001 units: 263 (25M) becomes 137 (128 + one package).
    result = run(
        update("cap", 1, "usage.opus_input", {"min": [{"var": "usage.opus_input"}, 10000001]})
    )
    assert result.usage["opus_input"] == D("10000001")
    assert result.revenue["opus_input"] == D("137")
    (line,) = result.rule_lines
    assert line.rate_card_id == "opus_input" and line.amount == D("-126")  # 137 − 263
    (log,) = result.logs
    assert (log.old_usage, log.new_usage, log.old_revenue, log.new_revenue) == (
        D("25000000"),
        D("10000001"),
        D("263"),
        D("137"),
    )


def test_update_revenue_of_fixed_fee() -> None:
    result = run(update("fee_waiver", 1, "revenue.platform_fee", 0))
    assert result.revenue["platform_fee"] == 0
    assert result.usage["platform_fee"] == 1
    assert result.rule_lines[0].amount == D("-99.00")


def test_update_with_no_change_still_makes_a_line() -> None:
    result = run(update("noop", 1, "revenue.platform_fee", {"var": "revenue.platform_fee"}))
    (line,) = result.rule_lines
    assert line.amount == 0


def test_add_appends_a_line() -> None:
    result = run(
        add(
            "support",
            1,
            {"*": [{"var": "subtotal"}, "0.05"]},
            code="premium_support",
            description="Premium support (5%)",
        )
    )
    # subtotal = 263 + 1.00 + 99.00 = 363.00; 5% = 18.15
    (line,) = result.rule_lines
    assert (line.rule_id, line.line_type, line.rate_card_id, line.code, line.description) == (
        "support",
        "PRICING_RULE_ADDITION",
        None,
        "premium_support",
        "Premium support (5%)",
    )
    assert line.amount == D("18.1500")
    (log,) = result.logs
    assert read(log) == {"subtotal": D("363")}
    assert log.old_revenue is log.new_revenue is log.old_usage is log.new_usage is None
    assert result.subtotal == D("381.15")
    assert result.revenue == {
        "opus_input": D("263"),
        "api_requests": D("1.00"),
        "platform_fee": D("99.00"),
    }


def test_add_negative_is_a_discount() -> None:
    result = run(add("loyalty", 1, -50, code="loyalty", description="Loyalty discount"))
    assert result.rule_lines[0].amount == D("-50")
    assert result.subtotal == D("313.00")
    assert not result.needs_review


def test_add_description_defaults_to_the_rule() -> None:
    spec = RuleSpec("credit_back", "Goodwill credit", 1, None, -1, "ADD", None, "goodwill", None)
    assert run(spec).rule_lines[0].description == "Goodwill credit"


def test_negative_subtotal_is_just_applied() -> None:
    # Bringing the subtotal back to zero (ADJUSTMENT) is the invoice builder's job.
    result = run(add("huge_discount", 1, {"-": [0, {"+": [{"var": "subtotal"}, 1000]}]}))
    assert result.rule_lines[0].amount == D("-1363.00")
    assert result.subtotal == D("-1000.00")
    assert not result.needs_review


# ---------------------------------------------------------------- order, conditions


def test_rules_see_the_effects_of_earlier_rules() -> None:
    result = run(
        add("support", 2, {"*": [{"var": "subtotal"}, "0.05"]}),
        update("discount", 1, "revenue.opus_input", {"*": [{"var": "revenue.opus_input"}, 0.5]}),
        update("after", 3, "revenue.api_requests", {"var": "revenue.opus_input"}),
    )
    assert [log.rule_id for log in result.logs] == ["discount", "support", "after"]
    discount, support, after = result.logs
    assert read(discount) == {"revenue.opus_input": D("263")}
    # 131.5 + 1.00 + 99.00 = 231.50: the discount is in the subtotal; 5% = 11.575
    assert read(support) == {"subtotal": D("231.5")}
    assert result.rule_lines[1].amount == D("11.5750")
    assert read(after) == {"revenue.opus_input": D("131.5")}
    assert result.revenue["api_requests"] == D("131.5")
    assert result.subtotal == D("131.5") * 2 + D("99.00") + D("11.575")


def test_usage_update_is_seen_by_the_next_rule() -> None:
    result = run(
        update("cap", 1, "usage.opus_input", 1000000),
        add("echo", 2, {"+": [{"var": "revenue.opus_input"}, {"var": "usage.opus_input"}]}),
    )
    assert result.rule_lines[1].amount == D("1000015")  # 15 + 1,000,000


def test_condition_false_applies_nothing() -> None:
    result = run(
        update(
            "discount",
            1,
            "revenue.opus_input",
            {"var": "cycle.days"},
            condition={">": [{"var": "revenue.opus_input"}, 1000]},
        )
    )
    (log,) = result.logs
    assert log.outcome == "CONDITION_FALSE"
    assert read(log) == {"revenue.opus_input": D("263")}  # the computation was not read
    assert log.computation_result is None
    assert (log.old_revenue, log.new_revenue, log.old_usage, log.new_usage) == (
        D("263"),
        None,
        D("25000000"),
        None,
    )
    assert result.rule_lines == () and result.lines == tuple(lines())
    assert not result.needs_review


@pytest.mark.parametrize("condition", [0, "", None, [], False])
def test_falsy_conditions(condition: object) -> None:
    spec = add("falsy", 1, 1, condition={"if": [True, condition, 1]})
    assert run(spec).logs[0].outcome == "CONDITION_FALSE"


def test_invoice_variables() -> None:
    result = run(
        add(
            "fx",
            1,
            {
                "if": [
                    {
                        "and": [
                            {"==": [{"var": "account.currency"}, "USD"]},
                            {"==": [{"var": "account.id"}, "acc_acme"]},
                            {"<": [{"var": "cycle.start"}, "2026-11-15"]},
                            {">": [{"var": "cycle.end"}, "2026-11-15"]},
                        ]
                    },
                    {"*": [{"var": "cycle.days"}, "1.5"]},
                    0,
                ]
            },
        )
    )
    (log,) = result.logs
    assert result.rule_lines[0].amount == D("45.0")
    assert dict(log.variables) == {
        "account.currency": "USD",
        "account.id": "acc_acme",
        "cycle.days": "30",
        "cycle.end": "2026-12-01T00:00:00+00:00",
        "cycle.start": "2026-11-01T00:00:00+00:00",
    }


def test_prorated_fixed_fee_usage_is_visible() -> None:
    priced = lines()
    priced[2] = PricedLine("platform_fee", "FIXED_FEE", D("0.5"), D("49.50"))
    result = run(add("half", 1, {"var": "usage.platform_fee"}), priced=priced)
    assert result.rule_lines[0].amount == D("0.5")


# ---------------------------------------------------------------- errors


def test_computation_error_is_logged_and_flagged_and_others_run() -> None:
    result = run(
        add("before", 1, 1),
        add("div0", 2, {"/": [{"var": "subtotal"}, {"var": "usage.api_requests"}]}),
        add("after", 3, 2),
        priced=lines(api_usage="0"),
    )
    before, div0, after = result.logs
    assert (before.outcome, div0.outcome, after.outcome) == (
        "CONDITION_TRUE",
        "COMPUTATION_ERROR",
        "CONDITION_TRUE",
    )
    assert "division" in div0.error_message and "zero" in div0.error_message
    assert div0.computation_result is None
    assert read(div0) == {"subtotal": D("363"), "usage.api_requests": D("0")}
    assert [line.rule_id for line in result.rule_lines] == ["before", "after"]
    assert result.needs_review
    (reason,) = result.review_reasons
    assert "div0" in reason and "COMPUTATION_ERROR" in reason


def test_condition_error() -> None:
    result = run(
        update(
            "bad_condition",
            1,
            "revenue.opus_input",
            0,
            condition={">": [{"%": [1, {"var": "usage.api_requests"}]}, 0]},
        ),
        priced=lines(api_usage="0"),
    )
    (log,) = result.logs
    assert log.outcome == "CONDITION_ERROR"
    assert log.error_message and log.new_revenue is None
    assert result.rule_lines == () and result.revenue["opus_input"] == D("263")
    assert result.needs_review and "bad_condition" in result.review_reasons[0]


@pytest.mark.parametrize(
    ("computation", "described"),
    [
        ({"==": [1, 1]}, "a boolean (true)"),
        ({"cat": ["1", "2"]}, 'a string ("12")'),
        ({"var": "account.id"}, 'a string ("acc_acme")'),
        ({"if": [False, 1]}, "null"),
        ([1, 2], "a list ([1,2])"),
        ({"-": ["abc", 1]}, None),  # a LogicError from the operator itself
    ],
)
def test_non_numeric_results_are_computation_errors(
    computation: object, described: str | None
) -> None:
    result = run(update("nan", 1, "revenue.opus_input", computation))
    (log,) = result.logs
    assert log.outcome == "COMPUTATION_ERROR"
    if described:
        assert log.error_message == f"the computation gave {described}, not a number"
    assert result.rule_lines == () and result.revenue["opus_input"] == D("263")
    assert result.needs_review


def test_rerate_failure_is_a_computation_error() -> None:
    def broken(card_id: str, usage: Decimal) -> Decimal:
        raise ValueError("no slabs for this card")

    compiled = compile_(update("cap", 1, "usage.opus_input", 5), add("after", 2, 1))
    result = apply_pricing_rules(compiled, lines(), INVOICE, broken)
    assert [log.outcome for log in result.logs] == ["COMPUTATION_ERROR", "CONDITION_TRUE"]
    assert "no slabs" in result.logs[0].error_message
    assert result.usage["opus_input"] == D("25000000") and result.needs_review


def test_negative_usage_update_is_applied_and_flagged() -> None:
    result = run(update("refund", 1, "usage.api_requests", -10))
    assert result.usage["api_requests"] == D("-10")
    assert result.revenue["api_requests"] == 0  # negative usage rates as 0
    assert result.rule_lines[0].amount == D("-1.00")
    assert result.logs[0].outcome == "CONDITION_TRUE"
    assert result.needs_review and "negative" in result.review_reasons[0]


def test_lines_must_match_the_rules() -> None:
    compiled = compile_(update("cap", 1, "usage.opus_input", 5))
    with pytest.raises(ValueError, match="no line for rate card 'opus_input'"):
        apply_pricing_rules(compiled, lines()[1:], INVOICE, rerate)
    with pytest.raises(ValueError, match="more than one line"):
        apply_pricing_rules(compiled, lines() + lines()[:1], INVOICE, rerate)


# ---------------------------------------------------------------- trace


def test_log_rows_are_json_ready_and_exact() -> None:
    result = run(
        update(
            "discount",
            1,
            "revenue.opus_input",
            {"*": [{"var": "revenue.opus_input"}, 0.9]},
            name="Ten percent",
        ),
        add("div0", 2, {"/": [1, 0]}),
        priced=lines(opus_revenue="1000.10"),
    )
    rows = [log.to_row() for log in result.logs]
    json.dumps(rows)  # serialisable as is
    assert rows[0] == {
        "rule_id": "discount",
        "rule_name": "Ten percent",
        "rule_order": 1,
        "outcome": "CONDITION_TRUE",
        "variables": '{"revenue.opus_input":"1000.10"}',
        "computation_result": "900.090",
        "action_type": "UPDATE",
        "target": "revenue.opus_input",
        "old_usage": "25000000",
        "new_usage": "25000000",
        "old_revenue": "1000.10",
        "new_revenue": "900.090",
        "error_message": None,
    }
    assert D(rows[0]["computation_result"]) == D("900.09")
    assert rows[1]["outcome"] == "COMPUTATION_ERROR" and rows[1]["variables"] == "{}"
    assert rows[1]["computation_result"] is None and rows[1]["error_message"]


def test_exponent_decimals_are_logged_in_plain_digits() -> None:
    result = run(add("big", 1, {"*": [{"var": "cycle.days"}, D("1E+3")]}))
    assert result.logs[0].to_row()["computation_result"] == "30000"


# ---------------------------------------------------------------- properties

FACTORS = st.decimals(
    min_value=D("-2"), max_value=D("2"), places=4, allow_nan=False, allow_infinity=False
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["UPDATE", "ADD"]),
            st.sampled_from(["opus_input", "api_requests", "platform_fee"]),
            FACTORS,
        ),
        max_size=6,
    )
)
def test_subtotal_is_card_lines_plus_rule_lines(steps: list[tuple[str, str, Decimal]]) -> None:
    specs = []
    for i, (kind, card, factor) in enumerate(steps):
        computation = {
            "*": [
                {"var": f"revenue.{card}" if kind == "UPDATE" else "subtotal"},
                load_logic(str(factor)),
            ]
        }
        specs.append(
            update(f"r{i}", i, f"revenue.{card}", computation)
            if kind == "UPDATE"
            else add(f"r{i}", i, computation)
        )
    base = lines()
    result = run(*specs, priced=base)
    # SEMANTICS rule 12: the original lines plus every rule line (UPDATE lines are deltas).
    assert result.subtotal == sum((line.revenue for line in base), D(0)) + sum(
        (line.amount for line in result.rule_lines), D(0)
    )
    assert [log.outcome for log in result.logs] == ["CONDITION_TRUE"] * len(steps)
