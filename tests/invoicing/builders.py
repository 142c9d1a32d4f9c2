"""Small builders for invoicing tests: invoices, cards, rules and credits with readable defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dagster_project.lib.invoicing import (
    CreditGrant,
    FixedFeeLineInput,
    InvoiceInput,
    UsageLineInput,
    WalletTransaction,
)
from rule_engine import RuleSpec, Slab, UsagePricing, compile_rules, rate_usage

D = Decimal

# One cent per unit: 100010 units are 1,000.10, easy to check by hand.
PER_CENT = UsagePricing("TIERED", (Slab(D(0), D("0.01")),))
# CONTRACT §1.2: 0..1M at 0.000015, 1M..10M at 0.000012 + 5.00 flat, 9.00 per 1M package above.
OPUS = UsagePricing(
    "TIERED",
    (
        Slab(D("0"), D("0.000015")),
        Slab(D("1000000"), D("0.000012"), flat_fee=D("5.00")),
        Slab(D("10000000"), D("9.00"), package_size=D("1000000")),
    ),
)


def at(text: str) -> datetime:
    """A UTC instant from 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def usage(
    card: str,
    quantity: object,
    amount: object | None = None,
    pricing: UsagePricing = PER_CENT,
    meter: str | None = None,
) -> UsageLineInput:
    """A usage line; its amount is rated through `pricing` unless given."""
    quantity = D(str(quantity))
    rated = rate_usage(quantity, pricing) if amount is None else D(str(amount))
    return UsageLineInput(card, meter or f"{card}_meter", quantity, rated, pricing)


def fee(card: str, unit_amount: object, quantity: object = 1) -> FixedFeeLineInput:
    unit, share = D(str(unit_amount)), D(str(quantity))
    return FixedFeeLineInput(card, share, unit, unit * share)


def rule(
    rule_id: str,
    order: int,
    computation: object,
    *,
    condition: object = None,
    target: str | None = None,
    code: str | None = None,
    description: str | None = None,
    name: str | None = None,
) -> RuleSpec:
    action = "UPDATE" if target else "ADD"
    return RuleSpec(
        rule_id,
        name,
        order,
        condition,
        computation,
        action,
        target=target,
        code=code or (None if target else rule_id),
        description=description,
    )


def invoice(
    invoice_id: str = "inv_nov",
    *,
    account_id: str = "acc_1",
    currency: str = "USD",
    start: str = "2026-11-01",
    end: str = "2026-12-01",
    grace_days: int = 0,
    usage_lines: tuple[UsageLineInput, ...] = (),
    fixed: tuple[FixedFeeLineInput, ...] = (),
    rules: tuple[RuleSpec, ...] = (),
    commitment: object | None = None,
    share: object = 1,
) -> InvoiceInput:
    """An invoice over [start, end) in UTC; its rules compiled for its cards, as the caller would."""
    compiled = (
        compile_rules(
            list(rules),
            usage_cards={line.rate_card_id for line in usage_lines},
            fixed_fee_cards={line.rate_card_id for line in fixed},
        )
        if rules
        else []
    )
    period_start, period_end = at(start), at(end)
    return InvoiceInput(
        invoice_id=invoice_id,
        account_id=account_id,
        customer_id=f"cus_{account_id}",
        plan_id="growth",
        assignment_id=f"asg_{account_id}",
        currency=currency,
        period_start=period_start,
        period_end=period_end,
        cycle_days=D((period_end - period_start).days),
        share=D(str(share)),
        finalizes_at=period_end + timedelta(days=grace_days),
        usage_lines=usage_lines,
        fixed_fee_lines=fixed,
        commitment_amount=None if commitment is None else D(str(commitment)) * D(str(share)),
        commitment_rate_card_id=None if commitment is None else "commitment",
        rules=tuple(compiled),
    )


def credit(
    credit_id: str,
    amount: object,
    *,
    priority: int = 1,
    account_id: str = "acc_1",
    start: date = date(2026, 1, 1),
    until: date | None = None,
    applies_to: tuple[str, ...] = (),
    currency: str = "USD",
    timezone: str = "UTC",
) -> CreditGrant:
    return CreditGrant(
        credit_id,
        account_id,
        D(str(amount)),
        currency,
        priority,
        start,
        until,
        applies_to,
        timezone,
    )


def topup(
    transaction_id: str,
    amount: object,
    when: str,
    *,
    account_id: str = "acc_1",
    kind: str = "TOPUP",
    currency: str = "USD",
) -> WalletTransaction:
    return WalletTransaction(transaction_id, account_id, kind, D(str(amount)), currency, at(when))
