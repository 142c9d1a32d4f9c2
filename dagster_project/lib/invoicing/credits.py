"""Credit grants on invoices (SEMANTICS 14): who may use what, in which order, and the ledger."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from dagster_project.lib.billing_cycles import local_midnight

from .invoice import InvoiceLine, PricedInvoice, utc
from .money import ZERO, exact, exact_sum, round_money, stable_id, to_decimal

__all__ = [
    "CreditAllocation",
    "CreditGrant",
    "CreditLedgerEntry",
    "CreditState",
    "allocate_credits",
    "credit_order",
]

CreditEntryType = Literal["GRANTED", "APPLIED", "EXPIRED"]


@dataclass(frozen=True)
class CreditGrant:
    """A credit as credit_grants.csv states it; dates are local days of the account's timezone."""

    credit_id: str
    account_id: str
    amount: Decimal
    currency: str
    priority: int  # lower is used first
    effective_from: date  # first local day covered
    effective_until: date | None = None  # last local day covered (inclusive); None = open
    applies_to: tuple[str, ...] = ()  # rate-card ids; empty = every usage and fixed-fee line
    timezone: str = "UTC"  # the account's timezone, in which the effective days are read

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount, "amount"))
        object.__setattr__(self, "applies_to", tuple(self.applies_to))

    @property
    def starts_at(self) -> datetime:
        """The grant time: local midnight of effective_from, in UTC."""
        return local_midnight(self.effective_from, self.timezone)

    @property
    def ends_at(self) -> datetime | None:
        """The first instant no longer covered: local midnight after effective_until (UTC)."""
        if self.effective_until is None:
            return None
        return local_midnight(self.effective_until + timedelta(days=1), self.timezone)

    def covers(self, period_start: datetime, period_end: datetime) -> bool:
        """Whether an invoice period [start, end) overlaps the credit's effective range."""
        ends_at = self.ends_at
        return self.starts_at < period_end and (ends_at is None or period_start < ends_at)

    def applies_to_card(self, rate_card_id: str) -> bool:
        return not self.applies_to or rate_card_id in self.applies_to


def credit_order(grant: CreditGrant) -> tuple[object, ...]:
    """Priority (lower first), then the earliest effective_until (open-ended last), then id."""
    until = grant.effective_until
    return (grant.priority, until is None, until or date.max, grant.credit_id)


@dataclass(frozen=True)
class CreditState:
    """A credit as its ledger stands after a run; what the next run starts from."""

    granted: Decimal | None = None  # None until the GRANTED entry is written
    applied: Decimal = ZERO  # by finalized invoices
    expired: Decimal = ZERO
    last_entry_at: datetime | None = None

    @property
    def balance(self) -> Decimal:
        return exact_sum((self.granted or ZERO, -self.applied, -self.expired))


@dataclass(frozen=True)
class CreditLedgerEntry:
    """One fct_credit_ledger movement; amount is signed (GRANTED +, APPLIED and EXPIRED −)."""

    entry_id: str
    credit_id: str
    account_id: str
    entry_type: CreditEntryType
    invoice_id: str | None
    amount: Decimal
    balance_after: Decimal
    occurred_at: datetime

    def to_row(self) -> dict[str, object]:
        return {
            "entry_id": self.entry_id,
            "credit_id": self.credit_id,
            "account_id": self.account_id,
            "entry_type": self.entry_type,
            "invoice_id": self.invoice_id,
            "amount": self.amount,
            "balance_after": self.balance_after,
            "occurred_at": self.occurred_at,
        }


@dataclass(frozen=True)
class CreditAllocation:
    """CREDIT lines per invoice (DRAFT ones included), new ledger entries, the state after."""

    lines: Mapping[str, tuple[InvoiceLine, ...]]  # invoice_id → its CREDIT lines
    entries: tuple[CreditLedgerEntry, ...]
    state: Mapping[str, CreditState] = field(default_factory=dict)

    def credits_applied(self, invoice_id: str) -> Decimal:
        """The invoice's credits as a positive amount (its CREDIT lines are negative)."""
        return -exact_sum(line.amount for line in self.lines.get(invoice_id, ()))


def _chronological(invoice: PricedInvoice) -> tuple[datetime, str]:
    return invoice.invoice.period_start, invoice.invoice_id


@exact
def allocate_credits(
    invoices: Sequence[PricedInvoice],
    grants: Sequence[CreditGrant],
    *,
    prior: Mapping[str, CreditState],
    as_of: datetime,
) -> CreditAllocation:
    """Spread each account's credits over its open invoices, in chronological order.

    `invoices` are the ones not finalized before this run (finalized ones are never
    recomputed); what finalized invoices already took is in `prior`. Invoices with
    `finalizes_at <= as_of` are finalized now and write APPLIED entries; DRAFT invoices show
    the credits they would use, and those uses hold the credit back from later invoices of
    this run, but nothing is written for them.
    """
    as_of = utc(as_of, "as_of")
    grant_amount: dict[str, Decimal] = {}
    available: dict[str, Decimal] = {}
    for grant in grants:
        state = prior.get(grant.credit_id, CreditState())
        # Once GRANTED is written the ledger's amount is the credit's amount, so a later edit
        # of the catalog row cannot unbalance the ledger.
        amount = (
            round_money(grant.amount, grant.currency) if state.granted is None else state.granted
        )
        grant_amount[grant.credit_id] = amount
        available[grant.credit_id] = max(ZERO, exact_sum((amount, -state.applied, -state.expired)))

    grants_of: dict[str, list[CreditGrant]] = defaultdict(list)
    for grant in sorted(grants, key=credit_order):
        grants_of[grant.account_id].append(grant)
    invoices_of: dict[str, list[PricedInvoice]] = defaultdict(list)
    for invoice in sorted(invoices, key=_chronological):
        invoices_of[invoice.invoice.account_id].append(invoice)

    lines: dict[str, tuple[InvoiceLine, ...]] = {}
    uses: dict[str, list[tuple[PricedInvoice, Decimal]]] = defaultdict(list)
    for account_id in sorted(invoices_of):
        for invoice in invoices_of[account_id]:
            inp = invoice.invoice
            usable = [
                grant
                for grant in grants_of.get(account_id, ())
                if grant.currency == inp.currency and grant.covers(inp.period_start, inp.period_end)
            ]
            room = invoice.creditable_amounts()
            # Credits never exceed the subtotal in all: it also nets discount ADD lines.
            cap = invoice.subtotal
            credit_lines: list[InvoiceLine] = []
            for grant in usable:
                used = ZERO
                for card, card_room in room.items():
                    if not grant.applies_to_card(card):
                        continue
                    take = min(available[grant.credit_id] - used, card_room, cap)
                    if take <= 0:
                        continue
                    room[card] = card_room - take
                    cap -= take
                    used += take
                if used <= 0:
                    continue
                available[grant.credit_id] -= used
                credit_lines.append(
                    InvoiceLine(
                        "CREDIT",
                        -used,
                        credit_id=grant.credit_id,
                        description=f"Credit {grant.credit_id}",
                    )
                )
                if inp.finalizes_at <= as_of:
                    uses[grant.credit_id].append((invoice, used))
            lines[invoice.invoice_id] = tuple(credit_lines)

    entries: list[CreditLedgerEntry] = []
    state_after: dict[str, CreditState] = dict(prior)
    for grant in sorted(grants, key=lambda g: (g.account_id, g.credit_id)):
        new_entries, state = _ledger(
            grant,
            grant_amount[grant.credit_id],
            prior.get(grant.credit_id, CreditState()),
            uses.get(grant.credit_id, []),
            still_open=any(
                invoice.invoice.finalizes_at > as_of
                and invoice.invoice.currency == grant.currency
                and grant.covers(invoice.invoice.period_start, invoice.invoice.period_end)
                for invoice in invoices_of.get(grant.account_id, ())
            ),
            as_of=as_of,
        )
        entries.extend(new_entries)
        # A credit with no entry yet has no state, as when the state is rebuilt from the ledger.
        if new_entries or grant.credit_id in prior:
            state_after[grant.credit_id] = state
    return CreditAllocation(lines=lines, entries=tuple(entries), state=state_after)


@exact
def _ledger(
    grant: CreditGrant,
    amount: Decimal,
    state: CreditState,
    uses: list[tuple[PricedInvoice, Decimal]],
    *,
    still_open: bool,
    as_of: datetime,
) -> tuple[list[CreditLedgerEntry], CreditState]:
    """This run's entries of one credit, with balance_after running on from the prior state."""
    entries: list[CreditLedgerEntry] = []
    granted, applied, expired = state.granted, state.applied, state.expired
    last = state.last_entry_at

    def write(
        entry_type: CreditEntryType, invoice_id: str | None, signed: Decimal, occurred_at: datetime
    ) -> None:
        nonlocal last
        balance = exact_sum((granted or ZERO, -applied, -expired))
        entries.append(
            CreditLedgerEntry(
                entry_id=stable_id("cle", grant.credit_id, entry_type, invoice_id),
                credit_id=grant.credit_id,
                account_id=grant.account_id,
                entry_type=entry_type,
                invoice_id=invoice_id,
                amount=signed,
                balance_after=balance,
                occurred_at=occurred_at,
            )
        )
        last = occurred_at if last is None else max(last, occurred_at)

    # A credit is granted when its first day begins, not when the catalog first lists it.
    if granted is None and grant.starts_at <= as_of:
        granted = amount
        write("GRANTED", None, amount, grant.starts_at)
    for invoice, used in sorted(
        uses, key=lambda u: (u[0].invoice.finalizes_at, *_chronological(u[0]))
    ):
        applied = exact_sum((applied, used))
        write("APPLIED", invoice.invoice_id, -used, invoice.invoice.finalizes_at)
    ends_at = grant.ends_at
    left = exact_sum((granted or ZERO, -applied, -expired))
    # Expired once its range is over and every invoice that could use it is finalized: a
    # range that ended by the as-of has all its invoices in existence (periods begun).
    over = ends_at is not None and ends_at <= as_of and not still_open
    if granted is not None and left > 0 and over:
        expired = exact_sum((expired, left))
        assert ends_at is not None
        write("EXPIRED", None, -left, ends_at if last is None else max(ends_at, last))
    return entries, CreditState(
        granted=granted, applied=applied, expired=expired, last_entry_at=last
    )
