"""The `collect_payment` workflow (SEMANTICS rule 20), independent of Dagster.

One run per DUE invoice with something to pay: ensure_customer → create_payment_intent →
confirm_payment_intent → record_payment. Each night a run that has not succeeded gets a new
attempt, which skips the actions already done (logged SKIPPED_ALREADY_DONE, their recorded
results reused) and resumes at the first one that is not. Inside an attempt, a transient
provider error is retried a bounded number of times with backoff; anything else, or too
many transient errors, marks the run FAILED with its reason until the next night.

Why no failure pattern charges twice: a payment intent carries the run's idempotency key
(a hash of invoice id, amount due and currency) in its metadata and as Idempotency-Key;
before creating one the workflow looks it up at the provider, so an intent whose creation
response was lost, or whose success was never logged, is found and reused; confirmation
first reads the intent's status and never confirms a succeeded one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from dagster_project.lib.catalog import minor_units

from .faults import ACTIONS, FaultInjector, InjectedError
from .providers import (
    IDEMPOTENCY_KEY,
    INVOICE_KEY,
    PaymentDeclined,
    PaymentProvider,
    ProviderError,
    ResponseLost,
    TransientProviderError,
)
from .store import WorkflowStore

WORKFLOW = "collect_payment"


@dataclass(frozen=True)
class DueInvoice:
    invoice_id: str
    account_id: str
    customer_id: str
    customer_name: str | None
    customer_email: str | None
    currency: str
    amount_due: Decimal
    payment_method: str


@dataclass(frozen=True)
class RetryPolicy:
    """Tries per action per attempt, and the backoff between them (doubling)."""

    max_tries: int = 3
    backoff_seconds: float = 0.5
    sleep: Callable[[float], None] = time.sleep


@dataclass
class Outcome:
    run_id: str
    invoice_id: str
    status: str  # SUCCEEDED, FAILED, or IN_PROGRESS only if the process died meanwhile
    attempt: int
    failed_action: str | None = None
    reason: str | None = None


def idempotency_key(invoice_id: str, amount_due: Decimal, currency: str) -> str:
    """A hash of (invoice_id, amount_due, currency); the amount at its minor unit, so 12.5
    and 12.50 are one key."""
    amount = amount_due.quantize(Decimal(1).scaleb(-minor_units(currency)))
    text = f"{invoice_id}|{amount}|{currency}"
    return "th_" + hashlib.sha256(text.encode()).hexdigest()[:40]


def run_id_of(invoice_id: str) -> str:
    """One collect_payment run per invoice."""
    return "wr_" + hashlib.sha256(f"{WORKFLOW}|{invoice_id}".encode()).hexdigest()[:24]


def minor_amount(amount: Decimal, currency: str) -> int:
    """An amount in the currency's minor unit (Stripe's integer amounts): 12.34 USD → 1234."""
    scaled = amount.scaleb(minor_units(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return int(scaled)


class _Failed(Exception):
    def __init__(self, action: str, reason: str):
        super().__init__(reason)
        self.action = action
        self.reason = reason


@dataclass
class PaymentWorkflow:
    store: WorkflowStore
    provider: PaymentProvider
    faults: FaultInjector = field(default_factory=FaultInjector)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    paid_at: datetime | None = None  # the billing clock of the night that collects
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def collect(self, invoice: DueInvoice) -> Outcome:
        """One attempt of the invoice's run; never raises for a provider's failure."""
        key = idempotency_key(invoice.invoice_id, invoice.amount_due, invoice.currency)
        run_id = run_id_of(invoice.invoice_id)
        existing = self.store.run(run_id)
        if existing is not None and existing["status"] == "SUCCEEDED":
            return Outcome(run_id, invoice.invoice_id, "SUCCEEDED", existing["attempts"])
        attempt = self.store.begin_attempt(
            {
                "run_id": run_id,
                "workflow": WORKFLOW,
                "invoice_id": invoice.invoice_id,
                "account_id": invoice.account_id,
                "customer_id": invoice.customer_id,
                "idempotency_key": key,
                "amount": invoice.amount_due,
                "currency": invoice.currency,
                "provider": self.provider.name,
            },
            self.now(),
        )
        done = self.store.done_actions(run_id)
        context = _Context(invoice, run_id, key, attempt)
        try:
            for order, action in enumerate(ACTIONS, start=1):
                if action in done:
                    stamp = self.now()
                    self.store.log_action(
                        run_id=run_id,
                        attempt=attempt,
                        action_order=order,
                        action=action,
                        try_number=0,
                        status="SKIPPED_ALREADY_DONE",
                        request=None,
                        response=done[action],
                        error=None,
                        started_at=stamp,
                        finished_at=stamp,
                    )
                    context.results[action] = done[action]
                    continue
                self._perform(context, order, action)
        except _Failed as failure:
            self.store.finish_run(run_id, "FAILED", self.now(), failure.action, failure.reason)
            return Outcome(
                run_id, invoice.invoice_id, "FAILED", attempt, failure.action, failure.reason
            )
        self.store.finish_run(run_id, "SUCCEEDED", self.now())
        return Outcome(run_id, invoice.invoice_id, "SUCCEEDED", attempt)

    def _perform(self, context: _Context, order: int, action: str) -> None:
        step = getattr(self, f"_{action}")
        for try_number in range(1, self.retry.max_tries + 1):
            started = self.now()
            request = context.request(action)

            def log(status, response=None, error=None, n=try_number, sent=request, at=started):
                self.store.log_action(
                    run_id=context.run_id,
                    attempt=context.attempt,
                    action_order=order,
                    action=action,
                    try_number=n,
                    status=status,
                    request=sent,
                    response=response,
                    error=error,
                    started_at=at,
                    finished_at=self.now(),
                )

            try:
                self.faults.before_call(context.run_id, action)
                if action == "record_payment":
                    # A local write: the payment and its log commit together (unless a drill
                    # loses the "response": then the write stands and the log says FAILED).
                    with self.store.transaction():
                        response = step(context, request)
                        lost = self.faults.lose_response(context.run_id, action)
                        if not lost:
                            log("SUCCEEDED", response)
                else:
                    response = step(context, request)
                    lost = self.faults.lose_response(context.run_id, action)
                    if not lost:
                        log("SUCCEEDED", response)
                if lost:
                    raise ResponseLost(
                        f"response of {action} lost after it was performed (injected)"
                    )
            except (InjectedError, TransientProviderError) as error:
                log("FAILED", error=str(error))
                if try_number == self.retry.max_tries:
                    raise _Failed(
                        action, f"{action} failed {try_number} times; last error: {error}"
                    ) from error
                self.retry.sleep(self.retry.backoff_seconds * 2 ** (try_number - 1))
                continue
            except PaymentDeclined as error:
                log("FAILED", error=str(error))
                raise _Failed(action, f"payment declined: {error}") from error
            except Exception as error:  # noqa: BLE001 - one invoice's failure stays its own
                message = f"{type(error).__name__}: {error}"
                log("FAILED", error=message)
                raise _Failed(action, message) from error
            context.results[action] = response
            self.faults.after_logged(action)
            return

    # ------------------------------------------------------------ the actions

    def _ensure_customer(self, context: _Context, request: dict) -> dict:
        inv = context.invoice
        found = self.provider.find_customer(inv.customer_id, inv.customer_email)
        if found is not None:
            return {"provider_customer": found["id"], "found_by_lookup": True}
        created = self.provider.create_customer(
            inv.customer_id, inv.customer_name, inv.customer_email, request["idempotency_key"]
        )
        return {"provider_customer": created["id"], "found_by_lookup": False}

    def _create_payment_intent(self, context: _Context, request: dict) -> dict:
        found = self.provider.find_payment_intent(request["customer"], context.key)
        if found is not None:
            return {**found, "found_by_lookup": True}
        created = self.provider.create_payment_intent(
            provider_customer=request["customer"],
            amount=request["amount"],
            currency=request["currency"],
            payment_method=request["payment_method"],
            metadata=request["metadata"],
            idempotency_key=request["idempotency_key"],
        )
        return {**created, "found_by_lookup": False}

    def _confirm_payment_intent(self, context: _Context, request: dict) -> dict:
        intent_id = request["payment_intent"]
        # Look first: a confirmation whose response was lost may already have charged.
        current = self.provider.retrieve_payment_intent(intent_id)
        if current["status"] == "succeeded":
            return {**current, "found_by_lookup": True}
        if current["status"] == "requires_payment_method" and current["last_error"]:
            raise PaymentDeclined(current["last_error"])
        if current["status"] == "processing":
            raise TransientProviderError(f"payment intent {intent_id} is still processing")
        if current["status"] != "requires_confirmation":
            raise ProviderError(f"payment intent {intent_id} is {current['status']}")
        confirmed = self.provider.confirm_payment_intent(intent_id, request["idempotency_key"])
        if confirmed["status"] == "processing":
            raise TransientProviderError(f"payment intent {intent_id} is still processing")
        if confirmed["status"] != "succeeded":
            raise ProviderError(
                f"payment intent {intent_id} is {confirmed['status']} after confirmation"
            )
        return {**confirmed, "found_by_lookup": False}

    def _record_payment(self, context: _Context, request: dict) -> dict:
        inv = context.invoice
        inserted = self.store.record_payment(
            invoice_id=inv.invoice_id,
            run_id=context.run_id,
            amount=inv.amount_due,
            currency=inv.currency,
            provider=self.provider.name,
            provider_payment_id=request["payment_intent"],
            paid_at=self.paid_at or self.now(),
        )
        return {
            "invoice_id": inv.invoice_id,
            "amount_paid": format(inv.amount_due, "f"),
            "already_recorded": not inserted,
        }


@dataclass
class _Context:
    invoice: DueInvoice
    run_id: str
    key: str
    attempt: int
    results: dict[str, dict] = field(default_factory=dict)

    def request(self, action: str) -> dict:
        """What the action sends, from the invoice and the results of the actions before."""
        inv = self.invoice
        if action == "ensure_customer":
            return {
                "customer_id": inv.customer_id,
                "name": inv.customer_name,
                "email": inv.customer_email,
                "idempotency_key": f"{self.key}-customer",
            }
        customer = self.results["ensure_customer"]["provider_customer"]
        if action == "create_payment_intent":
            return {
                "customer": customer,
                "amount": minor_amount(inv.amount_due, inv.currency),
                "currency": inv.currency.lower(),
                "payment_method": inv.payment_method,
                "metadata": {INVOICE_KEY: inv.invoice_id, IDEMPOTENCY_KEY: self.key},
                "idempotency_key": f"{self.key}-intent",
            }
        intent = self.results["create_payment_intent"]["id"]
        if action == "confirm_payment_intent":
            return {"payment_intent": intent, "idempotency_key": f"{self.key}-confirm"}
        return {
            "invoice_id": inv.invoice_id,
            "payment_intent": intent,
            "amount": format(inv.amount_due, "f"),
            "currency": inv.currency,
        }
