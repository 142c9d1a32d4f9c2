"""A hand-made warehouse of DUE invoices (no dbt) and a localstripe server on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.invoicing.warehouse import INVOICE_COLUMNS, ensure_billing_tables

from .drill import API_KEY

HERE = Path(__file__).parent

# (invoice_id, account_id, customer_id, currency, status, amount_due, finalized_at)
INVOICES = [
    ("inv_usd", "acc_a", "cus_a", "USD", "DUE", "120.50", "2026-12-04 00:00:00+00"),
    ("inv_jpy", "acc_a2", "cus_a", "JPY", "DUE", "1976", "2026-12-04 00:00:01+00"),
    ("inv_kwd", "acc_k", "cus_k", "KWD", "DUE", "11.005", "2026-12-04 00:00:02+00"),
    ("inv_decl", "acc_d", "cus_decline", "USD", "DUE", "40.00", "2026-12-04 00:00:03+00"),
    # amount_due 0 when it fell due: PAID by invoicing, never a workflow run
    ("inv_zero", "acc_z", "cus_a", "USD", "PAID", "0.00", "2026-12-04 00:00:04+00"),
]
# What each collectable invoice must be charged, in minor units, worked out by hand.
EXPECTED_MINOR = {"inv_usd": 12050, "inv_jpy": 1976, "inv_kwd": 11005}
DECLINING = "cus_decline=pm_card_chargeCustomerFail"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe_requests(tmp_path_factory) -> Path:
    """The file where the localstripe server logs each POST's path and Idempotency-Key."""
    return tmp_path_factory.mktemp("localstripe") / "requests.log"


@pytest.fixture(scope="session")
def localstripe_url(localstripe_requests):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(HERE / "localstripe_server.py"), str(port), str(localstripe_requests)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    f"localstripe did not start: {process.stderr.read()!r}"
                ) from None
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def flush_localstripe(url: str) -> None:
    request = urllib.request.Request(f"{url}/_config/data", method="DELETE")
    request.add_header("Authorization", f"Bearer {API_KEY}")
    urllib.request.urlopen(request, timeout=10).close()


def make_warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    ensure_billing_tables(con)
    con.execute("create schema catalog")
    con.execute(
        "create table catalog.customers (customer_id varchar, customer_name varchar, email varchar)"
    )
    con.execute(
        "insert into catalog.customers values "
        "('cus_a', 'Acme', 'billing@acme.example'), ('cus_k', 'Kuwait Co', ''), "
        "('cus_decline', 'Declines Ltd', 'ap@declines.example')"
    )
    for invoice_id, account, customer, currency, status, due, finalized in INVOICES:
        row = {name: None for name in INVOICE_COLUMNS}
        row.update(
            invoice_id=invoice_id,
            account_id=account,
            customer_id=customer,
            currency=currency,
            status=status,
            total=due,
            amount_due=due,
            amount_paid="0",
            finalized_at=finalized,
        )
        marks = ", ".join(f"cast(? as {kind})" for kind in INVOICE_COLUMNS.values())
        con.execute(f"insert into billing.finalized_invoices values ({marks})", list(row.values()))
    con.close()
    return path


@pytest.fixture(params=["sandbox", "stripe"])
def provider_name(request, localstripe_url):
    if request.param == "stripe":
        flush_localstripe(localstripe_url)
    return request.param


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return make_warehouse(tmp_path / "warehouse.duckdb")


def D(text: str) -> Decimal:
    return Decimal(text)
