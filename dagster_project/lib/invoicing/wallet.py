"""The prepaid wallet (SEMANTICS 16): what each invoice draws when it falls due, and the ledger."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from .invoice import utc
from .money import ZERO, exact, exact_sum, round_money, stable_id, to_decimal

__all__ = [
    "WalletClaim",
    "WalletLedgerEntry",
    "WalletResult",
    "WalletState",
    "WalletTransaction",
    "apply_wallet",
]

WalletEntryType = Literal["TOPUP", "ADJUSTMENT", "APPLIED"]


@dataclass(frozen=True)
class WalletTransaction:
    """A wallet_transactions.csv row: TOPUP (positive) or ADJUSTMENT (signed)."""

    transaction_id: str
    account_id: str
    type: Literal["TOPUP", "ADJUSTMENT"]
    amount: Decimal
    currency: str
    occurred_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", str(self.type))  # accepts the catalog's StrEnum
        if self.type not in ("TOPUP", "ADJUSTMENT"):
            raise ValueError(f"wallet transaction {self.transaction_id}: type {self.type!r}")
        object.__setattr__(self, "amount", to_decimal(self.amount, "amount"))
        object.__setattr__(self, "occurred_at", utc(self.occurred_at, "occurred_at"))


@dataclass(frozen=True)
class WalletClaim:
    """An invoice's claim on its account's wallet: its total and the moment it falls due."""

    invoice_id: str
    account_id: str
    period_start: datetime
    finalizes_at: datetime
    total: Decimal


@dataclass(frozen=True)
class WalletState:
    """An account's wallet as its ledger stands after a run; what the next run starts from."""

    balance: Decimal = ZERO  # the last balance_after
    drawn: Decimal = ZERO  # what finalized invoices drew, in all
    recorded: frozenset[str] = frozenset()  # transaction ids already in the ledger


@dataclass(frozen=True)
class WalletLedgerEntry:
    """One fct_wallet_ledger movement; amount is signed (APPLIED is negative)."""

    entry_id: str
    account_id: str
    entry_type: WalletEntryType
    transaction_id: str | None  # TOPUP / ADJUSTMENT
    invoice_id: str | None  # APPLIED
    amount: Decimal
    balance_after: Decimal
    occurred_at: datetime

    def to_row(self) -> dict[str, object]:
        return {
            "entry_id": self.entry_id,
            "account_id": self.account_id,
            "entry_type": self.entry_type,
            "transaction_id": self.transaction_id,
            "invoice_id": self.invoice_id,
            "amount": self.amount,
            "balance_after": self.balance_after,
            "occurred_at": self.occurred_at,
        }


@dataclass(frozen=True)
class WalletResult:
    """wallet_applied per invoice (DRAFT ones: what they would draw), new entries, state after."""

    applied: Mapping[str, Decimal]
    entries: tuple[WalletLedgerEntry, ...]
    state: Mapping[str, WalletState] = field(default_factory=dict)


@exact
def apply_wallet(
    claims: Sequence[WalletClaim],
    transactions: Sequence[WalletTransaction],
    *,
    prior: Mapping[str, WalletState],
    as_of: datetime,
) -> WalletResult:
    """Draw each account's wallet for its invoices in order of the moment they fall due.

    An invoice's balance is every transaction with occurred_at before its finalizes_at, minus
    what earlier invoices drew; it draws min(max(balance, 0), total). A DRAFT's draw is shown
    and held back from later DRAFTs of this run but not written. Transactions enter the
    ledger once their moment has come (occurred_at <= as_of).
    """
    as_of = utc(as_of, "as_of")
    claims_of: dict[str, list[WalletClaim]] = defaultdict(list)
    for claim in claims:
        claims_of[claim.account_id].append(claim)
    moves_of: dict[str, list[WalletTransaction]] = defaultdict(list)
    for transaction in transactions:
        moves_of[transaction.account_id].append(transaction)

    applied: dict[str, Decimal] = {}
    entries: list[WalletLedgerEntry] = []
    state_after: dict[str, WalletState] = dict(prior)
    for account_id in sorted(set(claims_of) | set(moves_of)):
        state = prior.get(account_id, WalletState())
        # Each transaction is money: rounded once to its currency's minor unit.
        moves = sorted(
            ((t, round_money(t.amount, t.currency)) for t in moves_of.get(account_id, ())),
            key=lambda move: (move[0].occurred_at, move[0].transaction_id),
        )
        drawn = state.drawn  # grows with DRAFT draws too, so two DRAFTs never share money
        draws: list[tuple[WalletClaim, Decimal]] = []
        ordered = sorted(
            claims_of.get(account_id, ()),
            key=lambda c: (c.finalizes_at, c.period_start, c.invoice_id),
        )
        for claim in ordered:
            funded = exact_sum(amount for t, amount in moves if t.occurred_at < claim.finalizes_at)
            balance = exact_sum((funded, -drawn))
            take = min(max(balance, ZERO), claim.total)
            applied[claim.invoice_id] = take
            drawn = exact_sum((drawn, take))
            if claim.finalizes_at <= as_of and take > 0:
                draws.append((claim, take))

        # (moment, rank, ...): at one instant the draw goes first, because a transaction at
        # exactly finalizes_at is not "before" it and belongs to the next invoice.
        events: list[tuple[datetime, int, str, WalletEntryType, Decimal]] = [
            (claim.finalizes_at, 0, claim.invoice_id, "APPLIED", -take) for claim, take in draws
        ]
        events += [
            (t.occurred_at, 1, t.transaction_id, t.type, amount)
            for t, amount in moves
            if t.transaction_id not in state.recorded and t.occurred_at <= as_of
        ]
        balance = state.balance
        recorded = set(state.recorded)
        for moment, _, ref, entry_type, amount in sorted(events):
            balance = exact_sum((balance, amount))
            is_draw = entry_type == "APPLIED"
            entries.append(
                WalletLedgerEntry(
                    entry_id=stable_id("wle", account_id, entry_type, ref),
                    account_id=account_id,
                    entry_type=entry_type,
                    transaction_id=None if is_draw else ref,
                    invoice_id=ref if is_draw else None,
                    amount=amount,
                    balance_after=balance,
                    occurred_at=moment,
                )
            )
            if not is_draw:
                recorded.add(ref)
        if not events and account_id not in prior:
            continue  # no entry yet, no state (as when the state is rebuilt from the ledger)
        state_after[account_id] = WalletState(
            balance=balance,
            drawn=exact_sum((state.drawn, *(take for _, take in draws))),
            recorded=frozenset(recorded),
        )
    return WalletResult(applied=applied, entries=tuple(entries), state=state_after)
