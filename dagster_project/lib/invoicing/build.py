"""One invoicing run: price, credit, total, wallet and status every open invoice, as table rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .credits import CreditGrant, CreditState, allocate_credits
from .invoice import InvoiceInput, InvoiceLine, price_invoice, utc
from .money import ZERO, at_scale, exact, exact_sum, stable_id, to_decimal
from .wallet import WalletClaim, WalletState, WalletTransaction, apply_wallet

__all__ = [
    "InvoiceRun",
    "PriorState",
    "build_invoices",
    "invoice_status",
    "prior_state_from_ledgers",
]


@dataclass(frozen=True)
class PriorState:
    """What finalized invoices of earlier runs left behind: per credit, per account's wallet."""

    credits: Mapping[str, CreditState] = field(default_factory=dict)
    wallets: Mapping[str, WalletState] = field(default_factory=dict)


@dataclass(frozen=True)
class InvoiceRun:
    """Rows for the marts (fct_invoices, fct_invoice_line_items, fct_pricing_rule_log, the
    two ledgers: this run's new entries only) and the state to persist for the next run."""

    invoices: tuple[dict[str, object], ...]
    line_items: tuple[dict[str, object], ...]
    rule_logs: tuple[dict[str, object], ...]
    credit_ledger: tuple[dict[str, object], ...]
    wallet_ledger: tuple[dict[str, object], ...]
    prior_state: PriorState


def invoice_status(amount_due: Decimal, finalizes_at: datetime, as_of: datetime) -> str:
    """DRAFT before it falls due; then DUE, or PAID at once when nothing is left to pay."""
    if as_of < finalizes_at:
        return "DRAFT"
    return "PAID" if amount_due == 0 else "DUE"


@exact
def build_invoices(
    invoices: Sequence[InvoiceInput],
    credits: Sequence[CreditGrant],
    wallet_transactions: Sequence[WalletTransaction],
    prior_state: PriorState,
    as_of: datetime,
) -> InvoiceRun:
    """Every invoice not finalized before this run, end to end (SEMANTICS 11-17, 20)."""
    as_of = utc(as_of, "as_of")
    ids = [inp.invoice_id for inp in invoices]
    if len(set(ids)) != len(ids):
        raise ValueError("an invoice_id appears twice in one run")
    order = sorted(invoices, key=lambda inp: (inp.account_id, inp.period_start, inp.invoice_id))
    priced = [price_invoice(inp) for inp in order]

    allocation = allocate_credits(priced, credits, prior=prior_state.credits, as_of=as_of)
    totals: dict[str, Decimal] = {}
    for invoice in priced:
        total = exact_sum(
            (
                invoice.subtotal,
                invoice.minimum_commitment_true_up,
                -allocation.credits_applied(invoice.invoice_id),
            )
        )
        # Credits are capped at the subtotal, so this holds by construction (SEMANTICS 15).
        assert total >= 0, f"invoice {invoice.invoice_id} total {total} is negative"
        totals[invoice.invoice_id] = total

    wallet = apply_wallet(
        [
            WalletClaim(
                p.invoice_id,
                p.invoice.account_id,
                p.invoice.period_start,
                p.invoice.finalizes_at,
                totals[p.invoice_id],
            )
            for p in priced
        ],
        wallet_transactions,
        prior=prior_state.wallets,
        as_of=as_of,
    )

    invoice_rows: list[dict[str, object]] = []
    line_rows: list[dict[str, object]] = []
    log_rows: list[dict[str, object]] = []
    for invoice in priced:
        inp = invoice.invoice
        currency = inp.currency
        total = at_scale(totals[inp.invoice_id], currency)
        wallet_applied = at_scale(wallet.applied[inp.invoice_id], currency)
        # Payments are recorded by the collect_payment workflow, later.
        amount_paid = at_scale(ZERO, currency)
        amount_due = at_scale(exact_sum((total, -wallet_applied, -amount_paid)), currency)
        status = invoice_status(amount_due, inp.finalizes_at, as_of)
        invoice_rows.append(
            {
                "invoice_id": inp.invoice_id,
                "account_id": inp.account_id,
                "customer_id": inp.customer_id,
                "plan_id": inp.plan_id,
                "assignment_id": inp.assignment_id,
                "currency": inp.currency,
                "period_start": inp.period_start,
                "period_end": inp.period_end,
                "status": status,
                "subtotal": invoice.subtotal,
                "minimum_commitment_true_up": invoice.minimum_commitment_true_up,
                "credits_applied": at_scale(allocation.credits_applied(inp.invoice_id), currency),
                "total": total,
                "wallet_applied": wallet_applied,
                "amount_paid": amount_paid,
                "amount_due": amount_due,
                # The moment it fell due (period end + grace), whichever run noticed it first.
                "finalized_at": None if status == "DRAFT" else inp.finalizes_at,
                "needs_review": invoice.needs_review,
                "review_reasons": list(invoice.review_reasons),
            }
        )
        lines = (*invoice.lines, *allocation.lines.get(inp.invoice_id, ()))
        line_rows.extend(_line_row(inp.invoice_id, n, line) for n, line in enumerate(lines, 1))
        log_rows.extend(
            {
                "log_id": stable_id("rl", inp.invoice_id, log.rule_id),
                "invoice_id": inp.invoice_id,
                **log.to_row(),
            }
            for log in invoice.rule_logs
        )

    return InvoiceRun(
        invoices=tuple(invoice_rows),
        line_items=tuple(line_rows),
        rule_logs=tuple(log_rows),
        credit_ledger=tuple(entry.to_row() for entry in allocation.entries),
        wallet_ledger=tuple(entry.to_row() for entry in wallet.entries),
        prior_state=PriorState(credits=dict(allocation.state), wallets=dict(wallet.state)),
    )


def _line_row(invoice_id: str, line_number: int, line: InvoiceLine) -> dict[str, object]:
    return {
        "line_item_id": stable_id(
            "li",
            invoice_id,
            line.line_type,
            line.rate_card_id,
            line.rule_id,
            line.credit_id,
            line.code,
        ),
        "invoice_id": invoice_id,
        "line_number": line_number,  # display order: cards, rule lines, adjustment, true-up, credits
        "line_type": line.line_type,
        "rate_card_id": line.rate_card_id,
        "meter_id": line.meter_id,
        "rule_id": line.rule_id,
        "credit_id": line.credit_id,
        "code": line.code,
        "quantity": line.quantity,
        "unit_amount": line.unit_amount,
        "amount": line.amount,
        "description": line.description,
    }


@exact
def prior_state_from_ledgers(
    credit_ledger: Iterable[Mapping[str, object]],
    wallet_ledger: Iterable[Mapping[str, object]],
) -> PriorState:
    """The state a run starts from, rebuilt from every ledger row written so far.

    Equal to the previous run's `InvoiceRun.prior_state`, so the caller may persist either.
    """
    credit_sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    credit_last: dict[str, datetime] = {}
    for row in credit_ledger:
        credit_id, moment = str(row["credit_id"]), row["occurred_at"]
        sums = credit_sums[credit_id]
        kind = str(row["entry_type"])
        sums[kind] = exact_sum((sums[kind], to_decimal(row["amount"], "amount")))
        assert isinstance(moment, datetime)
        moment = utc(moment, "occurred_at")
        credit_last[credit_id] = max(credit_last.get(credit_id, moment), moment)
    credits = {
        credit_id: CreditState(
            granted=sums.get("GRANTED"),
            applied=-sums["APPLIED"],
            expired=-sums["EXPIRED"],
            last_entry_at=credit_last[credit_id],
        )
        for credit_id, sums in credit_sums.items()
    }

    balance: dict[str, Decimal] = defaultdict(lambda: ZERO)
    drawn: dict[str, Decimal] = defaultdict(lambda: ZERO)
    recorded: dict[str, set[str]] = defaultdict(set)
    for row in wallet_ledger:
        account_id, amount = str(row["account_id"]), to_decimal(row["amount"], "amount")
        balance[account_id] = exact_sum((balance[account_id], amount))
        if row["entry_type"] == "APPLIED":
            drawn[account_id] = exact_sum((drawn[account_id], -amount))
        else:
            recorded[account_id].add(str(row["transaction_id"]))
    wallets = {
        account_id: WalletState(
            balance=balance[account_id],
            drawn=drawn[account_id],
            recorded=frozenset(recorded[account_id]),
        )
        for account_id in balance
    }
    return PriorState(credits=credits, wallets=wallets)
