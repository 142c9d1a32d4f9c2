"""The sandbox finds stored objects by their lookup columns, also in a warehouse whose
sandbox tables were made before those columns existed (filled from the metadata)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import duckdb

from dagster_project.lib.payments import SandboxProvider
from dagster_project.lib.payments.collect import collect_due_invoices, parse_payment_methods
from dagster_project.lib.payments.engine import idempotency_key

from .conftest import DECLINING
from .test_workflow import charged_once, provider_customers, responses


def test_an_older_sandbox_is_migrated_and_its_objects_found_not_created_again(warehouse):
    con = duckdb.connect(str(warehouse))
    # The sandbox tables as they were before customer_ref / idempotency_key columns, with
    # cus_a already a customer and inv_usd's intent already charged (12050 cents).
    con.execute("create schema payment_sandbox")
    con.execute(
        "create table payment_sandbox.customers (id varchar, name varchar, email varchar, "
        "metadata varchar, created_at timestamptz)"
    )
    con.execute(
        "create table payment_sandbox.payment_intents (id varchar, customer varchar, "
        "amount bigint, currency varchar, payment_method varchar, status varchar, "
        "metadata varchar, latest_charge varchar, last_error varchar, created_at timestamptz)"
    )
    con.execute(
        "create table payment_sandbox.idempotency_keys (idempotency_key varchar, object_id varchar)"
    )
    con.execute(
        "insert into payment_sandbox.customers values ('cus_old', 'Acme', "
        "'billing@acme.example', ?, '2026-12-01 00:00:00+00')",
        [json.dumps({"tallyhouse_customer_id": "cus_a"})],
    )
    key = idempotency_key("inv_usd", Decimal("120.50"), "USD")
    metadata = {"tallyhouse_invoice_id": "inv_usd", "tallyhouse_idempotency_key": key}
    con.execute(
        "insert into payment_sandbox.payment_intents values ('pi_old', 'cus_old', 12050, "
        "'usd', 'pm_card_visa', 'succeeded', ?, 'ch_old', null, '2026-12-01 00:00:00+00')",
        [json.dumps(metadata)],
    )

    provider = SandboxProvider(con)
    summary = collect_due_invoices(
        con,
        provider,
        paid_at=datetime(2026, 12, 5, tzinfo=UTC),
        payment_methods=parse_payment_methods(DECLINING),
    )

    assert (summary.collected, summary.failed) == (3, 1)
    # cus_a is the stored customer, inv_usd's intent the stored one: found, not created.
    assert provider_customers(con, "sandbox", None) == ["cus_a", "cus_decline", "cus_k"]
    assert responses(con, "inv_usd", "ensure_customer")[0]["provider_customer"] == "cus_old"
    created = responses(con, "inv_usd", "create_payment_intent")[0]
    assert (created["id"], created["found_by_lookup"]) == ("pi_old", True)
    assert responses(con, "inv_usd", "confirm_payment_intent")[0]["found_by_lookup"] is True
    # The provider's own list (a fresh reader of the stored rows): one charge per invoice.
    charged_once(SandboxProvider(con))
    assert con.execute(
        "select customer_ref from payment_sandbox.customers where id = 'cus_old'"
    ).fetchall() == [("cus_a",)]


def test_a_flush_stores_each_object_once_with_its_latest_state():
    # Rows created since the last flush are inserted without a delete; rows stored before
    # are replaced. Either way one row per object, as the provider last left it.
    con = duckdb.connect(":memory:")
    provider = SandboxProvider(con)
    customer = provider.create_customer("cus_a", "Acme", None, "k-customer")
    first = provider.create_payment_intent(
        provider_customer=customer["id"],
        amount=1250,
        currency="USD",
        payment_method="pm_card_visa",
        metadata={"tallyhouse_idempotency_key": "k1"},
        idempotency_key="k1-intent",
    )
    provider.flush()
    provider.confirm_payment_intent(first["id"], "k1-confirm")  # stored before: replaced
    second = provider.create_payment_intent(
        provider_customer=customer["id"],
        amount=700,
        currency="USD",
        payment_method="pm_card_visa",
        metadata={"tallyhouse_idempotency_key": "k2"},
        idempotency_key="k2-intent",
    )
    provider.confirm_payment_intent(second["id"], "k2-confirm")  # created and confirmed
    provider.flush()
    intents = con.execute(
        "select id, amount, status from payment_sandbox.payment_intents order by amount"
    ).fetchall()
    assert intents == [(second["id"], 700, "succeeded"), (first["id"], 1250, "succeeded")]
    assert con.execute("select count(*) from payment_sandbox.customers").fetchall() == [(1,)]
    assert con.execute(
        "select idempotency_key from payment_sandbox.idempotency_keys order by 1"
    ).fetchall() == [("k-customer",), ("k1-intent",), ("k2-intent",)]
