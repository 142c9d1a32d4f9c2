"""Pure invoice builder: pricing rules, rounded lines, true-up, credits, wallet and status."""

from .build import (
    InvoiceRun,
    PriorState,
    build_invoices,
    invoice_status,
    prior_state_from_ledgers,
)
from .credits import (
    CreditAllocation,
    CreditGrant,
    CreditLedgerEntry,
    CreditState,
    allocate_credits,
    credit_order,
)
from .invoice import (
    LINE_TYPES,
    FixedFeeLineInput,
    InvoiceInput,
    InvoiceLine,
    PricedInvoice,
    UsageLineInput,
    price_invoice,
)
from .money import exact_sum, round_money, stable_id
from .wallet import (
    WalletClaim,
    WalletLedgerEntry,
    WalletResult,
    WalletState,
    WalletTransaction,
    apply_wallet,
)

__all__ = [
    "LINE_TYPES",
    "CreditAllocation",
    "CreditGrant",
    "CreditLedgerEntry",
    "CreditState",
    "FixedFeeLineInput",
    "InvoiceInput",
    "InvoiceLine",
    "InvoiceRun",
    "PricedInvoice",
    "PriorState",
    "UsageLineInput",
    "WalletClaim",
    "WalletLedgerEntry",
    "WalletResult",
    "WalletState",
    "WalletTransaction",
    "allocate_credits",
    "apply_wallet",
    "build_invoices",
    "credit_order",
    "exact_sum",
    "invoice_status",
    "price_invoice",
    "prior_state_from_ledgers",
    "round_money",
    "stable_id",
]
