"""Payment collection: the collect_payment workflow, its providers and fault injection."""

from .collect import CollectionSummary, collect_due_invoices, due_invoices, parse_payment_methods
from .engine import (
    WORKFLOW,
    DueInvoice,
    Outcome,
    PaymentWorkflow,
    RetryPolicy,
    idempotency_key,
    minor_amount,
    run_id_of,
)
from .faults import ACTIONS, CRASH_EXIT_CODE, Fault, FaultInjector, FaultSpecError, parse_faults
from .providers import (
    DECLINING_PAYMENT_METHODS,
    DEFAULT_PAYMENT_METHOD,
    PaymentDeclined,
    PaymentProvider,
    ProviderError,
    ResponseLost,
    SandboxProvider,
    StripeProvider,
    TransientProviderError,
)
from .store import PAYMENT_TABLES, WorkflowStore, ensure_payment_tables

__all__ = [
    "ACTIONS",
    "CRASH_EXIT_CODE",
    "DECLINING_PAYMENT_METHODS",
    "DEFAULT_PAYMENT_METHOD",
    "PAYMENT_TABLES",
    "WORKFLOW",
    "CollectionSummary",
    "DueInvoice",
    "Fault",
    "FaultInjector",
    "FaultSpecError",
    "Outcome",
    "PaymentDeclined",
    "PaymentProvider",
    "PaymentWorkflow",
    "ProviderError",
    "ResponseLost",
    "RetryPolicy",
    "SandboxProvider",
    "StripeProvider",
    "TransientProviderError",
    "WorkflowStore",
    "collect_due_invoices",
    "due_invoices",
    "ensure_payment_tables",
    "idempotency_key",
    "minor_amount",
    "parse_faults",
    "parse_payment_methods",
    "run_id_of",
]
