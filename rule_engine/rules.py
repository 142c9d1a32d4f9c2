"""Pricing rules (SEMANTICS rules 11-12): compile, apply in order, and a trace of every evaluation."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, localcontext
from typing import Literal

from rule_engine.logic import check_logic, evaluate, load_logic, logic_variables
from rule_engine.operators import LogicError, js_string, truthy
from rule_engine.slabs import EXACT

__all__ = [
    "ACTION_TYPES",
    "OUTCOMES",
    "RULE_VARIABLES",
    "CompiledRule",
    "InvoiceFacts",
    "PricedLine",
    "RuleApplication",
    "RuleCompileError",
    "RuleLine",
    "RuleLog",
    "RuleSpec",
    "apply_pricing_rules",
    "compile_rules",
    "rule_variables",
]

ActionType = Literal["UPDATE", "ADD"]
Outcome = Literal["CONDITION_TRUE", "CONDITION_FALSE", "CONDITION_ERROR", "COMPUTATION_ERROR"]

ACTION_TYPES = ("UPDATE", "ADD")
OUTCOMES = ("CONDITION_TRUE", "CONDITION_FALSE", "CONDITION_ERROR", "COMPUTATION_ERROR")
# The invoice-level variables; usage.<card> and revenue.<card> come from the plan's cards.
RULE_VARIABLES = (
    "subtotal",
    "account.id",
    "account.currency",
    "cycle.start",
    "cycle.end",
    "cycle.days",
)
LINE_TYPES = ("USAGE", "FIXED_FEE")
UPDATE_LINE = "PRICING_RULE_UPDATE"
ADDITION_LINE = "PRICING_RULE_ADDITION"

_ZERO = Decimal(0)
# json.dumps(..., sort_keys=True, separators=(",", ":")) without building an encoder per
# call: one rule log row per rule per invoice.
_VARIABLES_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class RuleSpec:
    """One pricing rule as the catalog states it; logic may be JSON text or a parsed tree."""

    rule_id: str
    rule_name: str | None
    rule_order: int
    condition: object  # None = always applies
    computation: object
    action_type: ActionType
    target: str | None = None  # UPDATE: "revenue.<card>" or "usage.<card>"
    code: str | None = None  # ADD: the line's code
    description: str | None = None  # ADD: the line's description


@dataclass(frozen=True)
class CompiledRule:
    """A rule that passed compile: logic with exact Decimals, what it reads, where it writes."""

    rule_id: str
    rule_name: str | None
    rule_order: int
    condition: object
    computation: object
    action_type: ActionType
    target: str | None
    code: str | None
    description: str | None
    condition_variables: tuple[str, ...]
    computation_variables: tuple[str, ...]

    @property
    def target_kind(self) -> str | None:
        """'usage' or 'revenue' for UPDATE, None for ADD."""
        return self.target.partition(".")[0] if self.target else None

    @property
    def target_card(self) -> str | None:
        return self.target.partition(".")[2] if self.target else None


@dataclass(frozen=True)
class PricedLine:
    """A rated USAGE or FIXED_FEE line: the card's usage and its unrounded revenue."""

    rate_card_id: str
    line_type: Literal["USAGE", "FIXED_FEE"]
    usage: Decimal
    revenue: Decimal


@dataclass(frozen=True)
class InvoiceFacts:
    """The invoice-level variables: account.*, cycle.* (cycle.days is the piece's length)."""

    account_id: str
    currency: str
    cycle_start: str  # ISO-8601; compared as text in rules
    cycle_end: str
    cycle_days: Decimal


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True)
class RuleLine:
    """A line a rule put on the invoice; `amount` is unrounded (rounded once by the builder)."""

    rule_id: str
    line_type: Literal["PRICING_RULE_UPDATE", "PRICING_RULE_ADDITION"]
    rate_card_id: str | None  # the updated card (UPDATE); None for ADD
    code: str | None  # the ADD action's code; None for UPDATE
    description: str
    amount: Decimal


@dataclass(frozen=True)
class RuleLog:
    """One rule evaluated on one invoice: a row of fct_pricing_rule_log without its ids."""

    rule_id: str
    rule_name: str | None
    rule_order: int
    outcome: Outcome
    variables: Mapping[str, object]  # every variable the rule read → its value (JSON-ready)
    computation_result: Decimal | None
    action_type: ActionType
    target: str | None
    old_usage: Decimal | None
    new_usage: Decimal | None
    old_revenue: Decimal | None
    new_revenue: Decimal | None
    error_message: str | None

    def to_row(self) -> dict[str, object]:
        """JSON-serialisable dict: Decimals as exact plain strings, variables as JSON text."""
        return {
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "rule_order": self.rule_order,
            "outcome": self.outcome,
            "variables": _VARIABLES_JSON.encode(dict(self.variables)),
            "computation_result": _text(self.computation_result),
            "action_type": self.action_type,
            "target": self.target,
            "old_usage": _text(self.old_usage),
            "new_usage": _text(self.new_usage),
            "old_revenue": _text(self.old_revenue),
            "new_revenue": _text(self.new_revenue),
            "error_message": self.error_message,
        }


@dataclass(frozen=True)
class RuleApplication:
    """The invoice after its rules: final card lines, rule lines, the trace, review flags."""

    lines: tuple[PricedLine, ...]  # input order, usage/revenue as the rules left them
    rule_lines: tuple[RuleLine, ...]
    logs: tuple[RuleLog, ...]
    needs_review: bool
    review_reasons: tuple[str, ...] = field(default=())

    @property
    def usage(self) -> dict[str, Decimal]:
        return {line.rate_card_id: line.usage for line in self.lines}

    @property
    def revenue(self) -> dict[str, Decimal]:
        return {line.rate_card_id: line.revenue for line in self.lines}

    @property
    def subtotal(self) -> Decimal:
        """Unrounded: the original card lines plus every rule line (= revenues + additions)."""
        with localcontext(EXACT):
            additions = sum(
                (r.amount for r in self.rule_lines if r.line_type == ADDITION_LINE), _ZERO
            )
            return sum((line.revenue for line in self.lines), _ZERO) + additions


def _text(value: Decimal | None) -> str | None:
    # Plain notation keeps every digit and never an exponent: 1E+3 → "1000".
    return None if value is None else format(value, "f")


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


# ---------------------------------------------------------------- compile


class RuleCompileError(ValueError):
    """Every problem of a plan's rules at once, each naming its rule."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"{len(self.problems)} pricing rule problem(s):\n"
            + "\n".join(f"- {p}" for p in self.problems)
        )


def rule_variables(usage_cards: Iterable[str], fixed_fee_cards: Iterable[str]) -> set[str]:
    """Every variable a rule of a plan with these cards may read."""
    cards = set(usage_cards) | set(fixed_fee_cards)
    return {f"{kind}.{card}" for card in cards for kind in ("usage", "revenue")} | set(
        RULE_VARIABLES
    )


def _hint(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def compile_rules(
    rules: list[RuleSpec], *, usage_cards: set[str], fixed_fee_cards: set[str]
) -> list[CompiledRule]:
    """Check a plan's rules statically and return them in order; RuleCompileError lists all problems."""
    allowed = rule_variables(usage_cards, fixed_fee_cards)
    targets = {f"revenue.{card}" for card in set(usage_cards) | set(fixed_fee_cards)}
    targets |= {f"usage.{card}" for card in usage_cards}
    problems: list[str] = []
    compiled: list[CompiledRule] = []

    ids = [rule.rule_id for rule in rules]
    for rule_id in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"rule '{rule_id}': duplicate rule id ({ids.count(rule_id)} rules)")
    orders = [rule.rule_order for rule in rules]
    for order in sorted({o for o in orders if orders.count(o) > 1}):
        sharing = ", ".join(f"'{r.rule_id}'" for r in rules if r.rule_order == order)
        problems.append(f"rules {sharing} share order {order}: their order would be ambiguous")

    for rule in rules:
        where = f"rule '{rule.rule_id}'"
        logic: dict[str, object] = {}
        reads: dict[str, tuple[str, ...]] = {}
        for name in ("condition", "computation"):
            raw = getattr(rule, name)
            if raw is None:
                if name == "computation":
                    problems.append(f"{where}: computation is required")
                logic[name], reads[name] = None, ()
                continue
            try:
                tree = load_logic(raw)  # numbers become exact Decimals, even from YAML floats
            except LogicError as exc:
                problems.append(f"{where}: {name}: {exc}")
                logic[name], reads[name] = None, ()
                continue
            problems.extend(f"{where}: {name}: {text}" for text in check_logic(tree))
            variables = tuple(sorted(logic_variables(tree)))
            for variable in variables:
                if variable not in allowed:
                    shown = variable if variable else '"" (the whole data)'
                    problems.append(
                        f"{where}: {name}: unknown variable '{shown}'{_hint(variable, allowed)}"
                    )
            logic[name], reads[name] = tree, variables
        problems.extend(_action_problems(rule, where, targets, set(fixed_fee_cards)))
        compiled.append(
            CompiledRule(
                rule_id=rule.rule_id,
                rule_name=rule.rule_name,
                rule_order=rule.rule_order,
                condition=logic["condition"],
                computation=logic["computation"],
                action_type=rule.action_type,
                target=rule.target,
                code=rule.code,
                description=rule.description,
                condition_variables=reads["condition"],
                computation_variables=reads["computation"],
            )
        )
    if problems:
        raise RuleCompileError(problems)
    return sorted(compiled, key=lambda rule: (rule.rule_order, rule.rule_id))


def _action_problems(
    rule: RuleSpec, where: str, targets: set[str], fixed_fee_cards: set[str]
) -> list[str]:
    if rule.action_type == "ADD":
        problems = []
        if not rule.code:
            problems.append(f"{where}: an ADD action needs a code")
        if rule.target is not None:
            problems.append(f"{where}: an ADD action has no target (got '{rule.target}')")
        return problems
    if rule.action_type != "UPDATE":
        return [
            f"{where}: action type '{rule.action_type}' is not UPDATE or ADD"
            f"{_hint(str(rule.action_type), ACTION_TYPES)}"
        ]
    target = rule.target
    if not target:
        return [
            f"{where}: an UPDATE action needs a target (revenue.<rate card> or usage.<rate card>)"
        ]
    if target in targets:
        return []
    kind, _, card = target.partition(".")
    if kind == "usage" and card in fixed_fee_cards:
        return [
            f"{where}: target '{target}': a FIXED_FEE card's usage cannot be updated "
            f"(update revenue.{card})"
        ]
    return [
        f"{where}: target '{target}' is not revenue.<rate card> or usage.<usage rate card> "
        f"of this plan{_hint(target, targets)}"
    ]


# ---------------------------------------------------------------- apply


class _Invoice:
    """The mutable state rules work on: each card's usage and revenue, the lines added so far."""

    def __init__(self, lines: list[PricedLine], invoice: InvoiceFacts) -> None:
        self.lines = {line.rate_card_id: line for line in lines}
        self.invoice = invoice
        self.rule_lines: list[RuleLine] = []

    def subtotal(self) -> Decimal:
        # Current line amounts: card lines with their UPDATE deltas folded in, plus additions.
        with localcontext(EXACT):
            additions = sum(
                (r.amount for r in self.rule_lines if r.line_type == ADDITION_LINE), _ZERO
            )
            return sum((line.revenue for line in self.lines.values()), _ZERO) + additions

    def data(self) -> dict[str, object]:
        return {
            "usage": {card: line.usage for card, line in self.lines.items()},
            "revenue": {card: line.revenue for card, line in self.lines.items()},
            "subtotal": self.subtotal(),
            "account": {"id": self.invoice.account_id, "currency": self.invoice.currency},
            "cycle": {
                "start": self.invoice.cycle_start,
                "end": self.invoice.cycle_end,
                "days": self.invoice.cycle_days,
            },
        }


def _lookup(data: Mapping[str, object], path: str) -> object:
    current: object = data
    for key in path.split("."):
        if not isinstance(current, Mapping) or key not in current:
            return None
        current = current[key]
    return current


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, str):
        return f"a string ({json.dumps(value)})"
    if isinstance(value, (list, tuple)):
        return f"a list ([{js_string(list(value))}])"
    if isinstance(value, dict):
        return "an object"
    return repr(value)


def _check_lines(rules: list[CompiledRule], lines: list[PricedLine]) -> None:
    # A missing or duplicated card line is the caller's bug, not a rule's: fail loudly.
    seen: dict[str, PricedLine] = {}
    for line in lines:
        if line.rate_card_id in seen:
            raise ValueError(f"rate card '{line.rate_card_id}' has more than one line")
        if line.line_type not in LINE_TYPES:
            raise ValueError(
                f"line of '{line.rate_card_id}' has line_type {line.line_type!r}, "
                "not USAGE or FIXED_FEE"
            )
        seen[line.rate_card_id] = line
    for rule in rules:
        names = [*rule.condition_variables, *rule.computation_variables]
        names += [rule.target] if rule.target else []
        for name in names:
            kind, _, card = name.partition(".")
            if kind in ("usage", "revenue") and card not in seen:
                raise ValueError(
                    f"rule '{rule.rule_id}' uses '{name}' but the invoice has no "
                    f"line for rate card '{card}'"
                )
        if rule.target_kind == "usage" and seen[rule.target_card].line_type != "USAGE":
            raise ValueError(f"rule '{rule.rule_id}' updates '{rule.target}' of a FIXED_FEE card")


def apply_pricing_rules(
    rules: list[CompiledRule],
    lines: list[PricedLine],
    invoice: InvoiceFacts,
    rerate: Callable[[str, Decimal], Decimal],
) -> RuleApplication:
    """Run compiled rules in order on one invoice; evaluation errors are logged, never raised.

    `rerate(card_id, usage)` gives a usage card's unrounded revenue for a new usage (the caller
    builds it on `rate_usage`). Raises ValueError only when `lines` do not match the rules.
    """
    ordered = sorted(rules, key=lambda rule: (rule.rule_order, rule.rule_id))
    _check_lines(ordered, lines)
    state = _Invoice(list(lines), invoice)
    logs: list[RuleLog] = []
    reasons: list[str] = []
    for rule in ordered:
        log, reason = _apply_one(rule, state, rerate)
        logs.append(log)
        if reason:
            reasons.append(reason)
    final = tuple(state.lines[line.rate_card_id] for line in lines)
    return RuleApplication(
        lines=final,
        rule_lines=tuple(state.rule_lines),
        logs=tuple(logs),
        needs_review=bool(reasons),
        review_reasons=tuple(reasons),
    )


def _apply_one(
    rule: CompiledRule, state: _Invoice, rerate: Callable[[str, Decimal], Decimal]
) -> tuple[RuleLog, str | None]:
    data = state.data()
    card = state.lines.get(rule.target_card) if rule.target_card else None
    old_usage = card.usage if card else None
    old_revenue = card.revenue if card else None
    read = dict.fromkeys(rule.condition_variables)

    def log(
        outcome: Outcome,
        *,
        result: Decimal | None = None,
        new_usage: Decimal | None = None,
        new_revenue: Decimal | None = None,
        error: str | None = None,
    ) -> RuleLog:
        variables = {name: _json_value(_lookup(data, name)) for name in read}
        return RuleLog(
            rule_id=rule.rule_id,
            rule_name=rule.rule_name,
            rule_order=rule.rule_order,
            outcome=outcome,
            variables=variables,
            computation_result=result,
            action_type=rule.action_type,
            target=rule.target,
            old_usage=old_usage,
            new_usage=new_usage,
            old_revenue=old_revenue,
            new_revenue=new_revenue,
            error_message=error,
        )

    def failed(outcome: Outcome, error: str) -> tuple[RuleLog, str]:
        reason = (
            f"pricing rule '{rule.rule_id}' (order {rule.rule_order}): {outcome}: {error}; "
            "the rule was not applied"
        )
        return log(outcome, error=error), reason

    if rule.condition is not None:
        try:
            passed = evaluate(rule.condition, data)
        except (LogicError, ArithmeticError, RecursionError) as exc:
            return failed("CONDITION_ERROR", str(exc) or type(exc).__name__)
        if not truthy(passed):
            return log("CONDITION_FALSE"), None

    read.update(dict.fromkeys(rule.computation_variables))
    try:
        result = evaluate(rule.computation, data)
    except (LogicError, ArithmeticError, RecursionError) as exc:
        return failed("COMPUTATION_ERROR", str(exc) or type(exc).__name__)
    if not isinstance(result, Decimal) or not result.is_finite():
        return failed(
            "COMPUTATION_ERROR", f"the computation gave {_describe(result)}, not a number"
        )

    if rule.action_type == "ADD":
        description = rule.description or rule.rule_name or rule.rule_id
        state.rule_lines.append(
            RuleLine(rule.rule_id, ADDITION_LINE, None, rule.code, description, result)
        )
        return log("CONDITION_TRUE", result=result), None

    assert card is not None and rule.target_card is not None  # guaranteed by _check_lines
    review: str | None = None
    if rule.target_kind == "revenue":
        new_usage, new_revenue = card.usage, result
    else:
        new_usage = result
        try:
            new_revenue = rerate(card.rate_card_id, new_usage)
        except (LogicError, ArithmeticError, ValueError, TypeError) as exc:
            return failed(
                "COMPUTATION_ERROR",
                f"re-rating {rule.target} at {format(new_usage, 'f')} failed: {exc}",
            )
        if not isinstance(new_revenue, Decimal) or not new_revenue.is_finite():
            return failed(
                "COMPUTATION_ERROR",
                f"re-rating {rule.target} gave {new_revenue!r}, not a finite Decimal",
            )
        if new_usage < 0:
            review = (
                f"pricing rule '{rule.rule_id}' (order {rule.rule_order}) set "
                f"{rule.target} to a negative usage ({format(new_usage, 'f')})"
            )
    with localcontext(EXACT):
        delta = new_revenue - card.revenue
    state.lines[card.rate_card_id] = replace(card, usage=new_usage, revenue=new_revenue)
    description = rule.rule_name or rule.rule_id
    state.rule_lines.append(
        RuleLine(rule.rule_id, UPDATE_LINE, card.rate_card_id, None, description, delta)
    )
    return log(
        "CONDITION_TRUE", result=result, new_usage=new_usage, new_revenue=new_revenue
    ), review
