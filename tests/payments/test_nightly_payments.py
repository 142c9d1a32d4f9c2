"""The whole path through Dagster and dbt: `tallyhouse run` collects the DUE invoices, a real
crash ends the process mid-workflow, the next `tallyhouse run` resumes it, and
fct_invoices shows PAID. Once against localstripe (stripe SDK), once with the sandbox.

The catalog, worked by hand (all accounts UTC, November 2026, grace 3 days, billed at
2026-12-15T02:00Z so November is finalized and December is a DRAFT):
- acc_a  (cus_a, USD): platform 120.50 + 2 calls × 0.25 = 121.00 → collected, PAID
- acc_j  (cus_a, JPY): platform 1976 → collected, PAID
- acc_d  (cus_decline, USD): 120.50, its card declines → run FAILED, stays DUE
- acc_w  (cus_w, USD): 120.50 drawn from a 500.00 wallet → amount_due 0, PAID with no run
"""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from dagster_project.cli import run_nightly
from dagster_project.lib.payments import CRASH_EXIT_CODE, SandboxProvider
from dagster_project.lib.payments.engine import run_id_of
from dagster_project.settings import Settings, parse_as_of
from tests.commands import tallyhouse_run

from .drill import API_KEY, provider_for
from .test_workflow import intents, logs

pytestmark = pytest.mark.slow

AS_OF = "2026-12-15T02:00:00Z"
NOV = "2026-11-01"
PLATFORM = {"id": "platform", "type": "FIXED_FEE", "proration": False}
PRICING = {
    "event_schemas": [{"name": "api_call", "attributes": [{"name": "n", "unit": "calls"}]}],
    "usage_meters": [
        {"id": "calls", "name": "API calls", "event_schema": "api_call", "aggregation": "COUNT"}
    ],
    "price_plans": [
        {
            "id": plan,
            "name": plan,
            "currency": currency,
            "billing_cycle": {"interval": "MONTHLY", "anchor_day": 1, "grace_period_days": 3},
            "rate_cards": [
                {
                    "id": "calls",
                    "type": "USAGE",
                    "meter": "calls",
                    "pricing_model": "TIERED",
                    "slabs": [{"start_after": "0", "rate": rate}],
                },
                {**PLATFORM, "amount": fee},
            ],
        }
        for plan, currency, rate, fee in (
            ("basic", "USD", "0.25", "120.50"),
            ("basic_jpy", "JPY", "1", "1976"),
        )
    ],
}
ACCOUNTS = {"acc_a": ("cus_a", "USD"), "acc_j": ("cus_a", "JPY"), "acc_d": ("cus_decline", "USD")}
ACCOUNTS["acc_w"] = ("cus_w", "USD")
DECLINING = "cus_decline=pm_card_chargeCustomerFail"


def write_catalog(root: Path) -> tuple[Path, Path]:
    catalog, landing = root / "catalog", root / "landing"
    catalog.mkdir()
    landing.mkdir()
    (catalog / "pricing.yaml").write_text(yaml.safe_dump(PRICING, sort_keys=False))
    tables = {
        "customers.csv": [
            "customer_id,name,email",
            "cus_a,Acme,billing@acme.example",
            "cus_decline,Declines Ltd,ap@declines.example",
            "cus_w,Wallet Co,",
        ],
        "accounts.csv": ["account_id,customer_id,name,currency,timezone,aliases"]
        + [f"{a},{c},{a},{cur},UTC," for a, (c, cur) in ACCOUNTS.items()],
        "plan_assignments.csv": ["assignment_id,account_id,plan_id,effective_from,effective_until"]
        + [
            f"asg_{a},{a},{'basic_jpy' if cur == 'JPY' else 'basic'},{NOV},"
            for a, (_, cur) in ACCOUNTS.items()
        ],
        "credit_grants.csv": [
            "credit_id,account_id,amount,currency,priority,effective_from,effective_until,applies_to"
        ],
        "wallet_transactions.csv": [
            "transaction_id,account_id,type,amount,currency,occurred_at",
            "wt_1,acc_w,TOPUP,500.00,USD,2026-10-15T00:00:00Z",
        ],
    }
    for name, lines in tables.items():
        (catalog / name).write_text("\n".join(lines) + "\n")
    events = [
        {
            "id": f"e{i}",
            "timestamp": f"2026-11-1{i}T10:00:00Z",
            "accountId": "acc_a",
            "schemaName": "api_call",
            "attributes": {"n": 1},
        }
        for i in (1, 2)
    ]
    (landing / "01.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return catalog, landing


def november(con) -> dict[str, dict]:
    cursor = con.execute(
        """select account_id, invoice_id, status, total, wallet_applied, amount_paid, amount_due,
                  finalized_at
           from marts.fct_invoices where period_start < '2026-12-01'"""
    )
    names = [d[0] for d in cursor.description]
    return {r[0]: dict(zip(names, r, strict=True)) for r in cursor.fetchall()}


def amounts(invoices):
    return {
        a: (i["status"], i["total"], i["wallet_applied"], i["amount_paid"], i["amount_due"])
        for a, i in invoices.items()
    }


D = Decimal
PAID_NOVEMBER = {
    "acc_a": ("PAID", D("121.00"), D("0"), D("121.00"), D("0")),
    "acc_j": ("PAID", D("1976"), D("0"), D("1976"), D("0")),
    "acc_d": ("DUE", D("120.50"), D("0"), D("0"), D("120.50")),
    "acc_w": ("PAID", D("120.50"), D("120.50"), D("0"), D("0")),
}


def test_crash_and_resume_through_tallyhouse_run(tmp_path, localstripe_url):
    from .conftest import flush_localstripe

    flush_localstripe(localstripe_url)
    catalog, landing = write_catalog(tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    env = {
        **os.environ,
        "TALLYHOUSE_PAYMENT_PROVIDER": "stripe",
        "TALLYHOUSE_STRIPE_API_BASE": localstripe_url,
        "TALLYHOUSE_STRIPE_API_KEY": API_KEY,
        "TALLYHOUSE_PAYMENT_METHODS": DECLINING,
        "TALLYHOUSE_SERVING": str(tmp_path / "serving.duckdb"),
    }
    command = tallyhouse_run(catalog, landing, warehouse, AS_OF)
    crashed = subprocess.run(
        command,
        env={**env, "TALLYHOUSE_PAYMENT_FAULTS": "confirm_payment_intent:crash:1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr[-3000:]
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    con = duckdb.connect(str(warehouse), read_only=True)
    invoices = november(con)
    assert amounts(invoices) == PAID_NOVEMBER
    runs = {
        r[0]: r[1:]
        for r in con.execute(
            "select invoice_id, status, attempts, provider from marts.fct_workflow_runs"
        ).fetchall()
    }
    ids = {account: invoice["invoice_id"] for account, invoice in invoices.items()}
    # The crash came right after the confirmation wave: both collectable runs had charged and
    # logged it, and the second process resumed them at record_payment.
    assert runs == {
        ids["acc_a"]: ("SUCCEEDED", 2, "stripe"),
        ids["acc_j"]: ("SUCCEEDED", 2, "stripe"),
        ids["acc_d"]: ("FAILED", 2, "stripe"),  # declined on both nights; acc_w: no run
    }
    for account in ("acc_a", "acc_j"):
        assert logs(con, ids[account]) == [
            (1, "ensure_customer", 1, "SUCCEEDED"),
            (1, "create_payment_intent", 1, "SUCCEEDED"),
            (1, "confirm_payment_intent", 1, "SUCCEEDED"),
            (2, "ensure_customer", 0, "SKIPPED_ALREADY_DONE"),
            (2, "create_payment_intent", 0, "SKIPPED_ALREADY_DONE"),
            (2, "confirm_payment_intent", 0, "SKIPPED_ALREADY_DONE"),
            (2, "record_payment", 1, "SUCCEEDED"),
        ], account
    (mart_logs,) = con.execute(
        "select count(*) from marts.fct_workflow_action_logs where run_id = ?",
        [run_id_of(ids["acc_a"])],
    ).fetchall()[0]
    assert mart_logs == 7
    # localstripe's own list: one succeeded intent per collectable invoice, nothing more.
    assert intents(provider_for(None, "stripe", localstripe_url)) == {
        invoices["acc_a"]["invoice_id"]: [("succeeded", 12100)],
        invoices["acc_j"]["invoice_id"]: [("succeeded", 1976)],
        invoices["acc_d"]["invoice_id"]: [("requires_payment_method", 12050)],
    }


def test_sandbox_night_in_process(tmp_path):
    catalog, landing = write_catalog(tmp_path)
    settings = Settings.from_env({}).with_overrides(
        catalog=catalog,
        landing=landing,
        warehouse=tmp_path / "warehouse.duckdb",
        serving=tmp_path / "serving.duckdb",
        as_of=parse_as_of(AS_OF),
        payment_methods=DECLINING,
        payment_faults="create_payment_intent:lost_response:1",
    )
    run_nightly(settings)  # the declined card does not fail the job
    con = duckdb.connect(str(settings.warehouse))
    assert amounts(november(con)) == PAID_NOVEMBER
    sandbox = intents(SandboxProvider(con))
    assert sorted(sandbox.values()) == [
        [("requires_payment_method", 12050)],
        [("succeeded", 1976)],
        [("succeeded", 12100)],
    ]
