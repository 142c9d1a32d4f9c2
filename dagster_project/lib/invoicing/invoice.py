"""Prices one invoice (SEMANTICS 11-13, 17): pricing rules, lines rounded once, adjustment, true-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from dagster_project.lib.catalog.currencies import minor_units
from rule_engine import (
    CompiledRule,
    InvoiceFacts,
    PricedLine,
    RuleLog,
    UsagePricing,
    apply_pricing_rules,
    negative_usage_reason,
    rate_usage,
)

from .money import ZERO, at_scale, exact, exact_sum, round_money, to_decimal

__all__ = [
    "LINE_TYPES",
    "FixedFeeLineInput",
    "InvoiceInput",
    "InvoiceLine",
    "PricedInvoice",
    "UsageLineInput",
    "price_invoice",
    "utc",
]

LineType = Literal[
    "USAGE",
    "FIXED_FEE",
    "PRICING_RULE_UPDATE",
    "PRICING_RULE_ADDITION",
    "ADJUSTMENT",
    "MINIMUM_COMMITMENT_TRUE_UP",
    "CREDIT",
]
LINE_TYPES: tuple[LineType, ...] = (
    "USAGE",
    "FIXED_FEE",
    "PRICING_RULE_UPDATE",
    "PRICING_RULE_ADDITION",
    "ADJUSTMENT",
    "MINIMUM_COMMITMENT_TRUE_UP",
    "CREDIT",
)
# The lines the subtotal adds up (SEMANTICS 12); the true-up and credits come after it.
SUBTOTAL_LINES = frozenset(
    {"USAGE", "FIXED_FEE", "PRICING_RULE_UPDATE", "PRICING_RULE_ADDITION", "ADJUSTMENT"}
)


def utc(moment: datetime, name: str = "timestamp") -> datetime:
    """The same instant in UTC; a naive datetime is refused (its zone would be a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} {moment!r} has no timezone")
    return moment.astimezone(UTC)


def _text(value: Decimal) -> str:
    return format(value, "f")


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class UsageLineInput:
    """A rated usage card: its usage this period, its unrounded amount, its slabs for re-rating."""

    rate_card_id: str
    meter_id: str
    quantity: Decimal
    amount: Decimal  # unrounded, from rating
    pricing: UsagePricing

    def __post_init__(self) -> None:
        object.__setattr__(self, "quantity", to_decimal(self.quantity, "quantity"))
        object.__setattr__(self, "amount", to_decimal(self.amount, "amount"))


@dataclass(frozen=True)
class FixedFeeLineInput:
    """A fixed fee: quantity 1, or the piece's share when prorated; amount = quantity × unit."""

    rate_card_id: str
    quantity: Decimal
    unit_amount: Decimal
    amount: Decimal  # unrounded

    def __post_init__(self) -> None:
        for name in ("quantity", "unit_amount", "amount"):
            object.__setattr__(self, name, to_decimal(getattr(self, name), name))


@dataclass(frozen=True)
class InvoiceInput:
    """One invoice period (a cycle, or the piece of a cut cycle) with everything rated on it."""

    invoice_id: str
    account_id: str
    customer_id: str
    plan_id: str
    assignment_id: str
    currency: str
    period_start: datetime  # inclusive, UTC
    period_end: datetime  # exclusive, UTC
    cycle_days: Decimal  # the piece's length in days (rule variable cycle.days)
    share: Decimal  # the piece's share of its cycle; 1 when uncut
    finalizes_at: datetime  # period_end's local day + grace; DUE from this instant
    usage_lines: tuple[UsageLineInput, ...] = ()
    fixed_fee_lines: tuple[FixedFeeLineInput, ...] = ()
    commitment_amount: Decimal | None = None  # MINIMUM_COMMITMENT amount × share, unrounded
    commitment_rate_card_id: str | None = None  # shown on the true-up line
    rules: tuple[CompiledRule, ...] = ()  # the plan's rules, compiled once per plan

    def __post_init__(self) -> None:
        minor_units(self.currency)  # an unknown currency fails here, not at the first rounding
        for name in ("period_start", "period_end", "finalizes_at"):
            object.__setattr__(self, name, utc(getattr(self, name), name))
        if self.period_end <= self.period_start:
            raise ValueError(f"invoice {self.invoice_id}: period_end is not after period_start")
        for name in ("cycle_days", "share"):
            object.__setattr__(self, name, to_decimal(getattr(self, name), name))
        if self.commitment_amount is not None:
            object.__setattr__(
                self, "commitment_amount", to_decimal(self.commitment_amount, "commitment_amount")
            )
        for name in ("usage_lines", "fixed_fee_lines", "rules"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        cards = [line.rate_card_id for line in (*self.usage_lines, *self.fixed_fee_lines)]
        repeated = sorted({card for card in cards if cards.count(card) > 1})
        if repeated:
            raise ValueError(f"invoice {self.invoice_id}: rate card(s) {repeated} have two lines")


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True)
class InvoiceLine:
    """One line of an invoice, its amount already rounded to the currency's minor unit."""

    line_type: LineType
    amount: Decimal
    rate_card_id: str | None = None
    meter_id: str | None = None
    rule_id: str | None = None
    credit_id: str | None = None
    code: str | None = None
    quantity: Decimal | None = None
    unit_amount: Decimal | None = None
    description: str | None = None


@dataclass(frozen=True)
class PricedInvoice:
    """An invoice up to its true-up: the lines before credits, the rule trace, review flags."""

    invoice: InvoiceInput
    lines: tuple[InvoiceLine, ...]  # USAGE, FIXED_FEE, PRICING_RULE_*, ADJUSTMENT, TRUE_UP
    subtotal: Decimal  # sum of the rounded USAGE, FIXED_FEE, PRICING_RULE_* and ADJUSTMENT lines
    minimum_commitment_true_up: Decimal
    rule_logs: tuple[RuleLog, ...]
    review_reasons: tuple[str, ...] = field(default=())

    @property
    def invoice_id(self) -> str:
        return self.invoice.invoice_id

    @property
    def needs_review(self) -> bool:
        return bool(self.review_reasons)

    @exact
    def creditable_amounts(self) -> dict[str, Decimal]:
        """What credits may cover per rate card, in line order (usage cards, then fixed fees).

        A card's net amount: its rounded line plus the rounded PRICING_RULE_UPDATE lines that
        target it, floored at zero (SEMANTICS 14), so a discounted card is covered only for
        what the customer still pays on it.
        """
        net: dict[str, Decimal] = {}
        for line in self.lines:
            if line.line_type in ("USAGE", "FIXED_FEE") and line.rate_card_id is not None:
                net[line.rate_card_id] = line.amount
        for line in self.lines:
            if line.line_type == "PRICING_RULE_UPDATE" and line.rate_card_id in net:
                net[line.rate_card_id] += line.amount
        return {card: max(amount, ZERO) for card, amount in net.items()}


# ---------------------------------------------------------------- pricing


@exact
def price_invoice(inp: InvoiceInput) -> PricedInvoice:
    """Rules, then lines rounded once each, ADJUSTMENT below zero, the commitment true-up."""
    currency = inp.currency
    usage = sorted(inp.usage_lines, key=lambda line: line.rate_card_id)
    fixed = sorted(inp.fixed_fee_lines, key=lambda line: line.rate_card_id)
    pricing = {line.rate_card_id: line.pricing for line in usage}

    def rerate(rate_card_id: str, units: Decimal) -> Decimal:
        return rate_usage(units, pricing[rate_card_id])

    facts = InvoiceFacts(
        account_id=inp.account_id,
        currency=currency,
        cycle_start=inp.period_start.isoformat(),
        cycle_end=inp.period_end.isoformat(),
        cycle_days=inp.cycle_days,
    )
    card_lines = [PricedLine(u.rate_card_id, "USAGE", u.quantity, u.amount) for u in usage]
    card_lines += [PricedLine(f.rate_card_id, "FIXED_FEE", f.quantity, f.amount) for f in fixed]
    applied = apply_pricing_rules(list(inp.rules), card_lines, facts, rerate)

    reasons = [
        reason
        for line in usage
        if (reason := negative_usage_reason(line.rate_card_id, line.quantity)) is not None
    ]
    reasons += applied.review_reasons

    lines: list[InvoiceLine] = []
    for u in usage:
        lines.append(
            InvoiceLine(
                "USAGE",
                round_money(u.amount, currency),
                rate_card_id=u.rate_card_id,
                meter_id=u.meter_id,
                quantity=u.quantity,
                description=f"{u.rate_card_id}: {_text(u.quantity)} units of {u.meter_id}",
            )
        )
    for f in fixed:
        lines.append(
            InvoiceLine(
                "FIXED_FEE",
                round_money(f.amount, currency),
                rate_card_id=f.rate_card_id,
                quantity=f.quantity,
                unit_amount=f.unit_amount,
                description=f"{f.rate_card_id}: {_text(f.quantity)} × {_text(f.unit_amount)}",
            )
        )
    for rule_line in applied.rule_lines:
        # round(new − old) on the delta itself (precise reading "Rounding"), not new − old
        # of two rounded amounts.
        lines.append(
            InvoiceLine(
                rule_line.line_type,
                round_money(rule_line.amount, currency),
                rate_card_id=rule_line.rate_card_id,
                rule_id=rule_line.rule_id,
                code=rule_line.code,
                description=rule_line.description,
            )
        )

    before_adjustment = exact_sum(line.amount for line in lines)
    subtotal = before_adjustment
    if before_adjustment < 0:
        adjustment = -before_adjustment
        lines.append(
            InvoiceLine(
                "ADJUSTMENT",
                adjustment,
                code="negative_subtotal",
                description="Brings a subtotal that pricing rules took below zero up to zero",
            )
        )
        reasons.append(
            f"pricing rules drove the subtotal below zero ({_text(before_adjustment)}): "
            f"an ADJUSTMENT of {_text(adjustment)} brings it to zero"
        )
        subtotal = exact_sum((before_adjustment, adjustment))

    true_up = ZERO
    if inp.commitment_amount is not None:
        # The commitment (already × share) is rounded like any line, then compared with the
        # sum of rounded lines, so the invoice adds up to the cent (precise reading).
        commitment = round_money(inp.commitment_amount, currency)
        true_up = max(ZERO, exact_sum((commitment, -subtotal)))
        if true_up > 0:
            lines.append(
                InvoiceLine(
                    "MINIMUM_COMMITMENT_TRUE_UP",
                    true_up,
                    rate_card_id=inp.commitment_rate_card_id,
                    description=f"Minimum commitment of {_text(commitment)}: true-up",
                )
            )

    return PricedInvoice(
        invoice=inp,
        lines=tuple(lines),
        subtotal=at_scale(subtotal, currency),
        minimum_commitment_true_up=at_scale(true_up, currency),
        rule_logs=applied.logs,
        review_reasons=tuple(reasons),
    )
