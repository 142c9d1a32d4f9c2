"""Payment providers: the embedded sandbox (state in the warehouse) and Stripe.

Both speak the same small protocol, in Stripe's terms: customers and payment intents,
amounts in the currency's minor unit, objects found again by their `metadata`. Provider
objects come back as plain dicts (id, status, amount, currency, customer, metadata,
latest_charge, last_error) so the workflow's logs read the same whichever provider ran.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Protocol

import duckdb

# Metadata keys Tallyhouse puts on provider objects to find them again (lookup-before-create).
CUSTOMER_KEY = "tallyhouse_customer_id"
INVOICE_KEY = "tallyhouse_invoice_id"
IDEMPOTENCY_KEY = "tallyhouse_idempotency_key"

# Stripe's test payment methods that attach to a customer and then decline the charge.
DECLINING_PAYMENT_METHODS = frozenset(
    {"pm_card_chargeCustomerFail", "pm_card_visa_chargeDeclined", "pm_card_chargeDeclined"}
)
DEFAULT_PAYMENT_METHOD = "pm_card_visa"


class ProviderError(Exception):
    """A provider call that did not succeed. `transient` ones are retried."""

    transient = False


class TransientProviderError(ProviderError):
    transient = True


class ResponseLost(TransientProviderError):
    """The call may have been performed, but its response never arrived."""


class PaymentDeclined(ProviderError):
    """The customer's bank or card declined the charge (retrying tonight will not help)."""


class PaymentProvider(Protocol):
    name: str

    def find_customer(self, customer_id: str, email: str | None) -> dict | None: ...

    def create_customer(
        self, customer_id: str, name: str | None, email: str | None, idempotency_key: str
    ) -> dict: ...

    def find_payment_intent(self, provider_customer: str, idempotency_key: str) -> dict | None: ...

    def create_payment_intent(
        self,
        *,
        provider_customer: str,
        amount: int,
        currency: str,
        payment_method: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> dict: ...

    def retrieve_payment_intent(self, payment_intent_id: str) -> dict: ...

    def confirm_payment_intent(self, payment_intent_id: str, idempotency_key: str) -> dict: ...

    def list_payment_intents(self) -> list[dict]: ...


def _intent(obj) -> dict:
    """A payment intent as the workflow logs it (Stripe object or sandbox row)."""
    charge = obj.get("latest_charge")
    if charge is not None and not isinstance(charge, str):
        charge = charge.get("id")  # localstripe expands it; Stripe returns the id
    error = obj.get("last_payment_error") or obj.get("last_error")
    if error is not None and not isinstance(error, str):
        error = f"{error.get('code')}: {error.get('message')}"
    return {
        "id": obj["id"],
        "status": obj["status"],
        "amount": int(obj["amount"]),
        "currency": obj["currency"],
        "customer": obj.get("customer"),
        "metadata": dict(obj.get("metadata") or {}),
        "latest_charge": charge,
        "last_error": error,
    }


# ---------------------------------------------------------------- sandbox

SANDBOX_SCHEMA = "payment_sandbox"


class SandboxProvider:
    """An in-process provider whose state lives in the warehouse (schema payment_sandbox).

    It behaves like Stripe where the workflow relies on it: every create honours its
    Idempotency-Key, lists are strongly consistent, declining test payment methods decline
    at confirmation, confirming a succeeded intent is an error. Each call commits at once,
    as a remote provider would, so a crash after it leaves its effect behind.
    """

    name = "sandbox"

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con
        con.execute(f"create schema if not exists {SANDBOX_SCHEMA}")
        con.execute(
            f"""create table if not exists {SANDBOX_SCHEMA}.customers (
                id varchar, name varchar, email varchar, metadata varchar, created_at timestamptz)"""
        )
        con.execute(
            f"""create table if not exists {SANDBOX_SCHEMA}.payment_intents (
                id varchar, customer varchar, amount bigint, currency varchar,
                payment_method varchar, status varchar, metadata varchar, latest_charge varchar,
                last_error varchar, created_at timestamptz)"""
        )
        con.execute(
            f"""create table if not exists {SANDBOX_SCHEMA}.idempotency_keys (
                idempotency_key varchar, object_id varchar)"""
        )

    def _rows(self, sql: str, params=()) -> list[dict]:
        cursor = self._con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _replayed(self, idempotency_key: str) -> str | None:
        rows = self._rows(
            f"select object_id from {SANDBOX_SCHEMA}.idempotency_keys where idempotency_key = ?",
            [idempotency_key],
        )
        return rows[0]["object_id"] if rows else None

    def _customer(self, row: dict) -> dict:
        return {"id": row["id"], "metadata": json.loads(row["metadata"]), "email": row["email"]}

    def find_customer(self, customer_id: str, email: str | None) -> dict | None:
        for row in self._rows(f"select * from {SANDBOX_SCHEMA}.customers order by created_at"):
            if json.loads(row["metadata"]).get(CUSTOMER_KEY) == customer_id:
                return self._customer(row)
        return None

    def create_customer(self, customer_id, name, email, idempotency_key) -> dict:
        replayed = self._replayed(idempotency_key)
        if replayed is None:
            replayed = f"cus_sbx_{uuid.uuid4().hex[:16]}"
            self._con.execute("begin transaction")
            self._con.execute(
                f"insert into {SANDBOX_SCHEMA}.customers values (?, ?, ?, ?, ?)",
                [replayed, name, email, json.dumps({CUSTOMER_KEY: customer_id}), datetime.now(UTC)],
            )
            self._con.execute(
                f"insert into {SANDBOX_SCHEMA}.idempotency_keys values (?, ?)",
                [idempotency_key, replayed],
            )
            self._con.execute("commit")
        row = self._rows(f"select * from {SANDBOX_SCHEMA}.customers where id = ?", [replayed])
        return self._customer(row[0])

    def _intent_row(self, payment_intent_id: str) -> dict:
        rows = self._rows(
            f"select * from {SANDBOX_SCHEMA}.payment_intents where id = ?", [payment_intent_id]
        )
        if not rows:
            raise ProviderError(f"sandbox: no such payment intent {payment_intent_id!r}")
        row = rows[0]
        row["metadata"] = json.loads(row["metadata"])
        return row

    def find_payment_intent(self, provider_customer, idempotency_key) -> dict | None:
        for row in self._rows(
            f"""select id from {SANDBOX_SCHEMA}.payment_intents where customer = ?
                order by created_at""",
            [provider_customer],
        ):
            intent = self._intent_row(row["id"])
            if intent["metadata"].get(IDEMPOTENCY_KEY) == idempotency_key:
                return _intent(intent)
        return None

    def create_payment_intent(
        self, *, provider_customer, amount, currency, payment_method, metadata, idempotency_key
    ) -> dict:
        replayed = self._replayed(idempotency_key)
        if replayed is None:
            if amount <= 0:
                raise ProviderError(f"sandbox: amount must be positive, got {amount}")
            replayed = f"pi_sbx_{uuid.uuid4().hex[:16]}"
            self._con.execute("begin transaction")
            self._con.execute(
                f"""insert into {SANDBOX_SCHEMA}.payment_intents
                    values (?, ?, ?, ?, ?, 'requires_confirmation', ?, null, null, ?)""",
                [
                    replayed,
                    provider_customer,
                    amount,
                    currency.lower(),
                    payment_method,
                    json.dumps(metadata, sort_keys=True),
                    datetime.now(UTC),
                ],
            )
            self._con.execute(
                f"insert into {SANDBOX_SCHEMA}.idempotency_keys values (?, ?)",
                [idempotency_key, replayed],
            )
            self._con.execute("commit")
        return _intent(self._intent_row(replayed))

    def retrieve_payment_intent(self, payment_intent_id) -> dict:
        return _intent(self._intent_row(payment_intent_id))

    def confirm_payment_intent(self, payment_intent_id, idempotency_key) -> dict:
        intent = self._intent_row(payment_intent_id)
        if intent["status"] != "requires_confirmation":
            raise ProviderError(
                f"sandbox: payment intent {payment_intent_id} cannot be confirmed "
                f"in status {intent['status']}"
            )
        if intent["payment_method"] in DECLINING_PAYMENT_METHODS:
            error = "card_declined: Your card was declined."
            self._con.execute(
                f"""update {SANDBOX_SCHEMA}.payment_intents
                    set status = 'requires_payment_method', last_error = ? where id = ?""",
                [error, payment_intent_id],
            )
            raise PaymentDeclined(error)
        self._con.execute(
            f"""update {SANDBOX_SCHEMA}.payment_intents
                set status = 'succeeded', latest_charge = ?, last_error = null where id = ?""",
            [f"ch_sbx_{uuid.uuid4().hex[:16]}", payment_intent_id],
        )
        return _intent(self._intent_row(payment_intent_id))

    def list_payment_intents(self) -> list[dict]:
        return [
            _intent(self._intent_row(r["id"]))
            for r in self._rows(
                f"select id from {SANDBOX_SCHEMA}.payment_intents order by created_at, id"
            )
        ]


# ---------------------------------------------------------------- Stripe


class StripeProvider:
    """Stripe through its official SDK; `api_base` points it elsewhere (localstripe, a
    proxy). The SDK's own retries are off: the workflow retries, and logs every try."""

    name = "stripe"

    def __init__(self, api_key: str, api_base: str | None = None):
        import stripe

        if not api_key:
            raise ValueError(
                "the stripe payment provider needs an API key (TALLYHOUSE_STRIPE_API_KEY)"
            )
        self._stripe = stripe
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=0,
        )
        self._lists_filter_by_customer = True

    def _call(self, fn):
        """Stripe's errors in the workflow's terms: declined, transient, or not."""
        stripe = self._stripe
        try:
            return fn()
        except stripe.CardError as error:
            raise PaymentDeclined(f"{error.code}: {error.user_message or error}") from error
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
            raise TransientProviderError(f"{type(error).__name__}: {error}") from error
        except stripe.StripeError as error:
            status = getattr(error, "http_status", None)
            kind = TransientProviderError if status and status >= 500 else ProviderError
            raise kind(f"{type(error).__name__} (HTTP {status}): {error}") from error

    @property
    def _v1(self):
        return self._client.v1

    def find_customer(self, customer_id, email) -> dict | None:
        params = {"limit": 100}
        if email:
            params["email"] = email  # a strongly consistent list (search is not)
        for found in self._call(lambda: self._v1.customers.list(params)).auto_paging_iter():
            customer = found.to_dict()
            metadata = customer.get("metadata") or {}
            if metadata.get(CUSTOMER_KEY) == customer_id:
                return {"id": customer["id"], "metadata": metadata, "email": customer.get("email")}
        return None

    def create_customer(self, customer_id, name, email, idempotency_key) -> dict:
        params = {"metadata": {CUSTOMER_KEY: customer_id}}
        if name:
            params["name"] = name
        if email:
            params["email"] = email
        customer = self._call(
            lambda: self._v1.customers.create(params, {"idempotency_key": idempotency_key})
        ).to_dict()
        return {"id": customer["id"], "metadata": customer.get("metadata") or {}, "email": email}

    def _intents(self, provider_customer: str | None):
        params = {"limit": 100}
        if provider_customer and self._lists_filter_by_customer:
            try:
                listed = self._call(
                    lambda: self._v1.payment_intents.list({**params, "customer": provider_customer})
                )
                return [i.to_dict() for i in listed.auto_paging_iter()]
            except ProviderError as error:
                # localstripe cannot filter lists: read them whole and filter here.
                if "Unexpected customer" not in str(error):
                    raise
                self._lists_filter_by_customer = False
        listed = self._call(lambda: self._v1.payment_intents.list(params))
        return [i.to_dict() for i in listed.auto_paging_iter()]

    def find_payment_intent(self, provider_customer, idempotency_key) -> dict | None:
        for intent in self._intents(provider_customer):
            if intent.get("customer") != provider_customer:
                continue
            if (intent.get("metadata") or {}).get(IDEMPOTENCY_KEY) == idempotency_key:
                return _intent(intent)
        return None

    def create_payment_intent(
        self, *, provider_customer, amount, currency, payment_method, metadata, idempotency_key
    ) -> dict:
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "customer": provider_customer,
            "payment_method": payment_method,
            "payment_method_types": ["card"],
            "metadata": metadata,
        }
        return _intent(
            self._call(
                lambda: self._v1.payment_intents.create(
                    params, {"idempotency_key": idempotency_key}
                )
            ).to_dict()
        )

    def retrieve_payment_intent(self, payment_intent_id) -> dict:
        return _intent(
            self._call(lambda: self._v1.payment_intents.retrieve(payment_intent_id)).to_dict()
        )

    def confirm_payment_intent(self, payment_intent_id, idempotency_key) -> dict:
        return _intent(
            self._call(
                lambda: self._v1.payment_intents.confirm(
                    payment_intent_id, None, {"idempotency_key": idempotency_key}
                )
            ).to_dict()
        )

    def list_payment_intents(self) -> list[dict]:
        return [_intent(i) for i in self._intents(None)]
