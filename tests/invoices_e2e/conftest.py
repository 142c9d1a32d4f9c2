"""One catalog, two landing files, two nights on one warehouse (see cases.py).

The real pipeline (dagster_project.cli.run_nightly: Dagster in-process → dbt on DuckDB → the
invoicing asset → the invoice marts) bills every case. The warehouse is copied after RUN_1
so the tests can read both nights: the DRAFTs of RUN_1, the finalized invoices of RUN_2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml

from dagster_project.cli import run_nightly
from dagster_project.lib.warehouse import copy_warehouse
from dagster_project.settings import Settings, parse_as_of

from .cases import (
    EVENTS,
    RUN_1,
    RUN_2,
    account_rows,
    assignment_rows,
    credit_rows,
    pricing,
    wallet_rows,
)


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _landing(path: Path, landing: int) -> None:
    with path.open("w", encoding="utf-8") as stream:
        for event in EVENTS:
            if event.landing == landing:
                stream.write(json.dumps(event.record()) + "\n")


@dataclass(frozen=True)
class Nights:
    run1: Path  # a copy of the warehouse as RUN_1 left it
    run2: Path  # the warehouse after RUN_2


@pytest.fixture(scope="session")
def nights(tmp_path_factory) -> Nights:
    root = tmp_path_factory.mktemp("invoices_e2e")
    catalog = root / "catalog"
    catalog.mkdir()
    (catalog / "pricing.yaml").write_text(yaml.safe_dump(pricing(), sort_keys=False))
    _csv(catalog / "customers.csv", ["customer_id", "name", "email"], [["cus_inv", "Cases", ""]])
    _csv(
        catalog / "accounts.csv",
        ["account_id", "customer_id", "name", "currency", "timezone", "aliases"],
        account_rows(),
    )
    _csv(
        catalog / "plan_assignments.csv",
        ["assignment_id", "account_id", "plan_id", "effective_from", "effective_until"],
        assignment_rows(),
    )
    _csv(
        catalog / "credit_grants.csv",
        [
            "credit_id",
            "account_id",
            "amount",
            "currency",
            "priority",
            "effective_from",
            "effective_until",
            "applies_to",
        ],
        credit_rows(),
    )
    _csv(
        catalog / "wallet_transactions.csv",
        ["transaction_id", "account_id", "type", "amount", "currency", "occurred_at"],
        wallet_rows(),
    )
    landing = root / "landing"
    landing.mkdir()
    _landing(landing / "01-november.jsonl", 1)
    warehouse = root / "warehouse.duckdb"
    settings = Settings.from_env({}).with_overrides(
        catalog=catalog,
        landing=landing,
        warehouse=warehouse,
        serving=root / "serving.duckdb",
        as_of=parse_as_of(RUN_1),
        # These cases check invoices as finalized (DUE); payments have their own tests, so
        # the customer's card declines and nothing moves an invoice on to PAID here.
        payment_methods="cus_inv=pm_card_chargeCustomerFail",
    )
    run_nightly(settings)
    run1 = root / "warehouse-run1.duckdb"
    copy_warehouse(warehouse, run1)

    _landing(landing / "02-december.jsonl", 2)
    run_nightly(settings.with_overrides(as_of=parse_as_of(RUN_2)))
    return Nights(run1=run1, run2=warehouse)


@pytest.fixture(scope="session")
def run1(nights):
    with duckdb.connect(str(nights.run1), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        yield con


@pytest.fixture(scope="session")
def run2(nights):
    with duckdb.connect(str(nights.run2), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        yield con
