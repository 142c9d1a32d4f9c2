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


@dataclass
class PaymentWorkflow:
    """Runs the workflow for a batch of invoices action by action ("waves"): every invoice
    of the batch does its first action, the tries are logged in one transaction, then the
    second action, and so on. A crash drill fires right after an action's wave is logged."""

    store: WorkflowStore
    provider: PaymentProvider
    faults: FaultInjector = field(default_factory=FaultInjector)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    paid_at: datetime | None = None  # the billing clock of the night that collects
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    batch_size: int = 10_000
    _recorded: set[str] = field(default_factory=set)  # runs whose payment is stored

    def collect(self, invoice: DueInvoice) -> Outcome:
        return self.collect_all([invoice])[0]

    def collect_all(self, invoices: list[DueInvoice]) -> list[Outcome]:
        """One attempt of each invoice's run; never raises for a provider's failure."""
        outcomes = []
        for start in range(0, len(invoices), self.batch_size):
            batch = invoices[start : start + self.batch_size]
            open_runs, succeeded = self.store.runs_of([run_id_of(i.invoice_id) for i in batch])
            outcomes.extend(self._batch(batch, open_runs, succeeded))
        return outcomes

    def _batch(self, invoices, open_runs, succeeded) -> list[Outcome]:
        contexts, outcomes, new_runs, resumed = [], {}, [], []
        for invoice in invoices:
            run_id = run_id_of(invoice.invoice_id)
            if run_id in succeeded:
                outcomes[run_id] = Outcome(
                    run_id, invoice.invoice_id, "SUCCEEDED", succeeded[run_id]
                )
                continue
            key = idempotency_key(invoice.invoice_id, invoice.amount_due, invoice.currency)
            run = {
                "run_id": run_id,
                "workflow": WORKFLOW,
                "invoice_id": invoice.invoice_id,
                "account_id": invoice.account_id,
                "customer_id": invoice.customer_id,
                "idempotency_key": key,
                "amount": invoice.amount_due,
                "currency": invoice.currency,
                "provider": self.provider.name,
                "status": "IN_PROGRESS",
                "started_at": self.now(),
            }
            existing = open_runs.get(run_id)
            if existing is None:
                new_runs.append({**run, "attempts": 1})
                context = _Context(invoice, run_id, key, 1, {})
            else:
                resumed.append({**run, "attempts": existing["attempts"] + 1})
                context = _Context(invoice, run_id, key, existing["attempts"] + 1, existing["done"])
            contexts.append(context)
        self.store.begin_attempts(new_runs, resumed)

        active = contexts
        for order, action in enumerate(ACTIONS, start=1):
            logs: list[dict] = []
            for context in active:
                if action in context.done:
                    stamp = self.now()
                    logs.append(
                        context.log(
                            order,
                            action,
                            0,
                            "SKIPPED_ALREADY_DONE",
                            stamp,
                            stamp,
                            response=context.done[action],
                        )
                    )
                    context.results[action] = context.done[action]
            todo = [c for c in active if action not in c.done]
            performed = self._wave(todo, order, action, logs)
            with self.store.transaction():
                self.store.append_logs(logs)
                if action == "record_payment":
                    self._record(performed)
            if performed:
                self.faults.after_logged(action)
            active = [c for c in active if c.failure is None]

        finished_at = self.now()
        finished = []
        for context in contexts:
            status = "FAILED" if context.failure else "SUCCEEDED"
            failed_action, reason = context.failure or (None, None)
            finished.append(
                {
                    "run_id": context.run_id,
                    "status": status,
                    "finished_at": finished_at,
                    "failed_action": failed_action,
                    "failure_reason": reason,
                }
            )
            outcomes[context.run_id] = Outcome(
                context.run_id,
                context.invoice.invoice_id,
                status,
                context.attempt,
                failed_action,
                reason,
            )
        self.store.finish_runs(finished)
        return [outcomes[run_id_of(i.invoice_id)] for i in invoices]

    def _wave(self, todo: list[_Context], order: int, action: str, logs: list[dict]):
        """Perform `action` for every run in `todo`, retrying transient errors in rounds;
        returns the runs for which it succeeded."""
        step = getattr(self, f"_{action}")
        performed, pending = [], todo
        if action == "record_payment":
            self._recorded = self.store.recorded_runs([c.run_id for c in todo])
        elif todo:  # the provider reads what the wave looks up in one go
            self.provider.prepare(action, [c.request(action) for c in todo])
        for try_number in range(1, self.retry.max_tries + 1):
            retry = []
            for context in pending:
                started = self.now()
                request = context.request(action)
                try:
                    self.faults.before_call(context.run_id, action)
                    response = step(context, request)
                    if self.faults.lose_response(context.run_id, action):
                        if action == "record_payment":  # performed: written, then "lost"
                            with self.store.transaction():
                                self._record([context])
                            self._recorded.add(context.run_id)
                        raise ResponseLost(
                            f"response of {action} lost after it was performed (injected)"
                        )
                except Exception as error:  # noqa: BLE001 - one invoice's failure stays its own
                    transient = isinstance(error, InjectedError | TransientProviderError)
                    message = (
                        str(error)
                        if transient or isinstance(error, PaymentDeclined)
                        else f"{type(error).__name__}: {error}"
                    )
                    logs.append(
                        context.log(
                            order,
                            action,
                            try_number,
                            "FAILED",
                            started,
                            self.now(),
                            request=request,
                            error=message,
                        )
                    )
                    if isinstance(error, PaymentDeclined):
                        context.failure = (action, f"payment declined: {error}")
                    elif not transient:
                        context.failure = (action, message)
                    elif try_number == self.retry.max_tries:
                        context.failure = (
                            action,
                            f"{action} failed {try_number} times; last error: {error}",
                        )
                    else:
                        retry.append(context)
                    continue
                logs.append(
                    context.log(
                        order,
                        action,
                        try_number,
                        "SUCCEEDED",
                        started,
                        self.now(),
                        request=request,
                        response=response,
                    )
                )
                context.results[action] = response
                performed.append(context)
            self.provider.flush()
            if not retry:
                break
            self.retry.sleep(self.retry.backoff_seconds * 2 ** (try_number - 1))
            pending = retry
        return performed

    def _record(self, performed: list[_Context]) -> None:
        """record_payment's write, in the transaction of its log rows."""
        already = self.store.recorded_runs([c.run_id for c in performed])
        self.store.record_payments(
            [
                {
                    "invoice_id": c.invoice.invoice_id,
                    "run_id": c.run_id,
                    "amount": c.invoice.amount_due,
                    "currency": c.invoice.currency,
                    "provider": self.provider.name,
                    "provider_payment_id": c.results["confirm_payment_intent"]["id"],
                    "paid_at": self.paid_at or self.now(),
                }
                for c in performed
                if c.run_id not in already
            ]
        )

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
        # The write itself happens with the wave's log rows (one transaction, _record);
        # a payment already recorded by an earlier attempt is not written twice.
        already = context.run_id in self._recorded
        return {
            "invoice_id": context.invoice.invoice_id,
            "amount_paid": format(context.invoice.amount_due, "f"),
            "already_recorded": already,
        }


@dataclass
class _Context:
    invoice: DueInvoice
    run_id: str
    key: str
    attempt: int
    done: dict[str, dict]  # results of actions that succeeded in earlier attempts
    results: dict[str, dict] = field(default_factory=dict)
    failure: tuple[str, str] | None = None  # (action, reason)
    # Each action's request, built once: the wave's prepare() and every try send the same
    # one (it depends only on the invoice and the results of the actions before).
    requests: dict[str, dict] = field(default_factory=dict)

    def log(self, order, action, try_number, status, started, finished, **fields):
        """One action log row; `fields` are request, response and error."""
        return {
            "run_id": self.run_id,
            "attempt": self.attempt,
            "action_order": order,
            "action": action,
            "try_number": try_number,
            "status": status,
            "request": fields.get("request"),
            "response": fields.get("response"),
            "error": fields.get("error"),
            "started_at": started,
            "finished_at": finished,
        }

    def request(self, action: str) -> dict:
        """What the action sends, from the invoice and the results of the actions before."""
        request = self.requests.get(action)
        if request is None:
            request = self.requests[action] = self._request(action)
        return request

    def _request(self, action: str) -> dict:
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
