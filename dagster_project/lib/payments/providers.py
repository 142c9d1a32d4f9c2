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
# json.dumps(metadata, sort_keys=True), one encoder for every stored object.
_METADATA_JSON = json.JSONEncoder(sort_keys=True)


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

    def prepare(self, action: str, requests: list[dict]) -> None:
        """Before a wave of `action` calls: fetch what they will look up, in one go (the
        sandbox reads its rows for the whole wave with one query per table)."""

    def flush(self) -> None:
        """Make the calls so far durable (a no-op for a remote provider)."""


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
    Idempotency-Key, lookups are strongly consistent, declining test payment methods decline
    at confirmation, confirming a succeeded intent is an error. Calls work on its state in
    memory; `flush()` (after every wave of calls, before the workflow logs them) makes them
    durable in one transaction, so a crash after a logged action leaves the effect behind,
    and a crash before it leaves neither the effect nor its log: never one without the other.
    """

    name = "sandbox"

    # customer_ref and idempotency_key copy the metadata keys the lookups filter on, so a
    # lookup is `column in (...)` over the wave, never a parse of every stored object.
    COLUMNS = {
        "customers": ("id", "name", "email", "metadata", "created_at", "customer_ref"),
        "payment_intents": (
            "id",
            "customer",
            "amount",
            "currency",
            "payment_method",
            "status",
            "metadata",
            "latest_charge",
            "last_error",
            "created_at",
            "idempotency_key",
        ),
        "idempotency_keys": ("idempotency_key", "object_id"),
    }
    # Where each lookup column comes from in an older warehouse (tables made before the
    # columns existed): filled once from the metadata JSON.
    LOOKUP_COLUMNS = {
        "customers": ("customer_ref", CUSTOMER_KEY),
        "payment_intents": ("idempotency_key", IDEMPOTENCY_KEY),
    }

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con
        con.execute(f"create schema if not exists {SANDBOX_SCHEMA}")
        con.execute(
            f"""create table if not exists {SANDBOX_SCHEMA}.customers (
                id varchar, name varchar, email varchar, metadata varchar, created_at timestamptz,
                customer_ref varchar)"""
        )
        con.execute(
            f"""create table if not exists {SANDBOX_SCHEMA}.payment_intents (
                id varchar, customer varchar, amount bigint, currency varchar,
                payment_method varchar, status varchar, metadata varchar, latest_charge varchar,
                last_error varchar, created_at timestamptz, idempotency_key varchar)"""
        )
        con.execute(
            f"""create table if not exists {SANDBOX_SCHEMA}.idempotency_keys (
                idempotency_key varchar, object_id varchar)"""
        )
        for table, (column, key) in self.LOOKUP_COLUMNS.items():
            has = con.execute(
                "select count(*) from information_schema.columns "
                "where table_schema = ? and table_name = ? and column_name = ?",
                [SANDBOX_SCHEMA, table, column],
            ).fetchall()[0][0]
            if not has:
                con.execute(f"alter table {SANDBOX_SCHEMA}.{table} add column {column} varchar")
                con.execute(
                    f"update {SANDBOX_SCHEMA}.{table} "
                    f"set {column} = json_extract_string(metadata, '$.{key}')"
                )
        # Only the rows tonight's calls touch are read (prepare() per wave, or one query per
        # call otherwise): a night's cost follows its due invoices, not the sandbox's history.
        self._customers: dict[str, dict] = {}
        self._customer_by_ref: dict[str, str] = {}
        self._intents: dict[str, dict] = {}
        self._intent_by_key: dict[tuple[str, str], str] = {}
        self._replays: dict[str, str] = {}
        self._looked_up: dict[str, set[str]] = {
            "customer_ref": set(),
            "idempotency_key": set(),
            "replay": set(),
        }
        self._dirty: dict[str, set[str]] = {t: set() for t in self.COLUMNS}
        # The dirty rows created since the last flush: not stored yet, so nothing to delete.
        self._created: dict[str, set[str]] = {t: set() for t in self.COLUMNS}

    def _select(self, table: str, column: str, values, order: str) -> list[dict]:
        """Rows of `table` whose `column` is one of `values`, in `order`."""
        import pyarrow as pa

        self._con.register("wanted", pa.table({"v": pa.array(list(values), pa.string())}))
        try:
            cursor = self._con.execute(
                f"select * from {SANDBOX_SCHEMA}.{table} "
                f"where {column} in (select v from wanted) order by {order}"
            )
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        finally:
            self._con.unregister("wanted")
        for row in rows:
            if "metadata" in row:
                row["metadata"] = json.loads(row["metadata"])
        return rows

    def _fetch(self, lookup: str, values) -> None:
        """Read the stored rows for lookup values not read yet (customer refs, intent
        idempotency keys, or Idempotency-Keys of creates); unsaved calls stay as they are."""
        values = set(values) - self._looked_up[lookup]
        if not values:
            return
        self._looked_up[lookup] |= values
        if lookup == "customer_ref":
            for row in self._select("customers", "customer_ref", values, "created_at, id"):
                if row["id"] not in self._customers:
                    self._put_customer(row)
        elif lookup == "idempotency_key":
            for row in self._select("payment_intents", "idempotency_key", values, "created_at, id"):
                if row["id"] not in self._intents:
                    self._put_intent(row)
        else:
            for row in self._select("idempotency_keys", "idempotency_key", values, "object_id"):
                self._replays.setdefault(row["idempotency_key"], row["object_id"])
            # A replayed create returns its object: read those in the same go.
            ids = {self._replays[v] for v in values if v in self._replays}
            self._fetch_by_id("customers", {i for i in ids if i not in self._customers})
            self._fetch_by_id("payment_intents", {i for i in ids if i not in self._intents})

    def _fetch_by_id(self, table: str, ids) -> None:
        if not ids:
            return
        for row in self._select(table, "id", ids, "created_at, id"):
            if table == "customers" and row["id"] not in self._customers:
                self._put_customer(row)
            elif table == "payment_intents" and row["id"] not in self._intents:
                self._put_intent(row)

    def prepare(self, action: str, requests: list[dict]) -> None:
        if action == "ensure_customer":
            self._fetch("customer_ref", (r["customer_id"] for r in requests))
            self._fetch("replay", (r["idempotency_key"] for r in requests))
        elif action == "create_payment_intent":
            self._fetch("idempotency_key", (r["metadata"][IDEMPOTENCY_KEY] for r in requests))
            self._fetch("replay", (r["idempotency_key"] for r in requests))
        elif action == "confirm_payment_intent":
            self._fetch_by_id(
                "payment_intents",
                {r["payment_intent"] for r in requests} - self._intents.keys(),
            )

    def _put_customer(self, row: dict) -> None:
        row["customer_ref"] = row["metadata"].get(CUSTOMER_KEY)
        self._customers[row["id"]] = row
        self._customer_by_ref.setdefault(row["customer_ref"], row["id"])

    def _put_intent(self, row: dict) -> None:
        row["idempotency_key"] = row["metadata"].get(IDEMPOTENCY_KEY)
        self._intents[row["id"]] = row
        self._intent_by_key.setdefault((row["customer"], row["idempotency_key"]), row["id"])

    def flush(self) -> None:
        """Write what changed since the last flush, in one transaction."""
        import pyarrow as pa

        if not any(self._dirty.values()):
            return
        sources = {
            "customers": self._customers,
            "payment_intents": self._intents,
            "idempotency_keys": {
                k: {"idempotency_key": k, "object_id": self._replays[k]}
                for k in self._dirty["idempotency_keys"]
            },
        }
        self._con.execute("begin transaction")
        try:
            for table, ids in self._dirty.items():
                if not ids:
                    continue
                columns = self.COLUMNS[table]
                rows = [sources[table][i] for i in sorted(ids)]
                data = {
                    c: [_METADATA_JSON.encode(r[c]) if c == "metadata" else r[c] for r in rows]
                    for c in columns
                }
                self._con.register("changed", pa.table(data))
                key = columns[0]
                if ids - self._created[table]:  # rows stored before: replaced, not duplicated
                    self._con.execute(
                        f"delete from {SANDBOX_SCHEMA}.{table} "
                        f"where {key} in (select {key} from changed)"
                    )
                self._con.execute(
                    f"insert into {SANDBOX_SCHEMA}.{table} ({', '.join(columns)}) "
                    f"select {', '.join(columns)} from changed"
                )
                self._con.unregister("changed")
            self._con.execute("commit")
        except BaseException:
            self._con.execute("rollback")
            raise
        self._dirty = {t: set() for t in self.COLUMNS}
        self._created = {t: set() for t in self.COLUMNS}

    def _remember(self, idempotency_key: str, object_id: str) -> None:
        self._replays[idempotency_key] = object_id
        self._looked_up["replay"].add(idempotency_key)
        self._dirty["idempotency_keys"].add(idempotency_key)
        self._created["idempotency_keys"].add(idempotency_key)

    @staticmethod
    def _customer(row: dict) -> dict:
        return {"id": row["id"], "metadata": dict(row["metadata"]), "email": row["email"]}

    def find_customer(self, customer_id: str, email: str | None) -> dict | None:
        self._fetch("customer_ref", [customer_id])
        found = self._customer_by_ref.get(customer_id)
        return self._customer(self._customers[found]) if found else None

    def create_customer(self, customer_id, name, email, idempotency_key) -> dict:
        self._fetch("replay", [idempotency_key])
        replayed = self._replays.get(idempotency_key)
        if replayed is None:
            replayed = f"cus_sbx_{uuid.uuid4().hex[:16]}"
            self._put_customer(
                {
                    "id": replayed,
                    "name": name,
                    "email": email,
                    "metadata": {CUSTOMER_KEY: customer_id},
                    "created_at": datetime.now(UTC),
                }
            )
            self._dirty["customers"].add(replayed)
            self._created["customers"].add(replayed)
            self._remember(idempotency_key, replayed)
        return self._customer(self._customers[replayed])

    def _intent_row(self, payment_intent_id: str) -> dict:
        if payment_intent_id not in self._intents:
            self._fetch_by_id("payment_intents", [payment_intent_id])
        row = self._intents.get(payment_intent_id)
        if row is None:
            raise ProviderError(f"sandbox: no such payment intent {payment_intent_id!r}")
        return row

    def find_payment_intent(self, provider_customer, idempotency_key) -> dict | None:
        self._fetch("idempotency_key", [idempotency_key])
        found = self._intent_by_key.get((provider_customer, idempotency_key))
        return _intent(self._intents[found]) if found else None

    def create_payment_intent(
        self, *, provider_customer, amount, currency, payment_method, metadata, idempotency_key
    ) -> dict:
        self._fetch("replay", [idempotency_key])
        replayed = self._replays.get(idempotency_key)
        if replayed is None:
            if amount <= 0:
                raise ProviderError(f"sandbox: amount must be positive, got {amount}")
            replayed = f"pi_sbx_{uuid.uuid4().hex[:16]}"
            self._put_intent(
                {
                    "id": replayed,
                    "customer": provider_customer,
                    "amount": amount,
                    "currency": currency.lower(),
                    "payment_method": payment_method,
                    "status": "requires_confirmation",
                    "metadata": dict(metadata),
                    "latest_charge": None,
                    "last_error": None,
                    "created_at": datetime.now(UTC),
                }
            )
            self._dirty["payment_intents"].add(replayed)
            self._created["payment_intents"].add(replayed)
            self._remember(idempotency_key, replayed)
        return _intent(self._intents[replayed])

    def retrieve_payment_intent(self, payment_intent_id) -> dict:
        return _intent(self._intent_row(payment_intent_id))

    def confirm_payment_intent(self, payment_intent_id, idempotency_key) -> dict:
        intent = self._intent_row(payment_intent_id)
        if intent["status"] != "requires_confirmation":
            raise ProviderError(
                f"sandbox: payment intent {payment_intent_id} cannot be confirmed "
                f"in status {intent['status']}"
            )
        self._dirty["payment_intents"].add(payment_intent_id)
        if intent["payment_method"] in DECLINING_PAYMENT_METHODS:
            intent["status"] = "requires_payment_method"
            intent["last_error"] = "card_declined: Your card was declined."
            raise PaymentDeclined(intent["last_error"])
        intent["status"] = "succeeded"
        intent["latest_charge"] = f"ch_sbx_{uuid.uuid4().hex[:16]}"
        intent["last_error"] = None
        return _intent(intent)

    def list_payment_intents(self) -> list[dict]:
        stored = self._con.execute(f"select id from {SANDBOX_SCHEMA}.payment_intents").fetchall()
        self._fetch_by_id("payment_intents", {i for (i,) in stored} - self._intents.keys())
        rows = sorted(self._intents.values(), key=lambda r: (r["created_at"], r["id"]))
        return [_intent(row) for row in rows]


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

    def prepare(self, action: str, requests: list[dict]) -> None:
        """Stripe is asked call by call."""

    def flush(self) -> None:
        """Stripe keeps what it did; nothing to write."""
