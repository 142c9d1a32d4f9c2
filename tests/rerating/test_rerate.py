"""Re-rating finalized cycles: same catalog → no difference; a new price → the difference
worked out by hand; the stored warehouse is byte-identical afterwards."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from dagster_project.cli import main
from dagster_project.lib.rerate import RerateError, rerate
from tests.orchestration.tiny_billing import write_catalog


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def stored(tiny_billed, tmp_path):
    return tiny_billed.copy(tmp_path / "stored")


@pytest.mark.slow
def test_the_same_catalog_rerates_to_the_same_invoices(stored, tmp_path):
    before = sha256(stored.warehouse)
    report = rerate(stored.warehouse, stored.catalog, date(2026, 10, 1), date(2026, 11, 30))
    # October and November of both accounts; December is a draft, not re-rated.
    assert sorted((i.account_id, f"{i.period_start:%m}") for i in report.invoices) == [
        ("acc_a", "10"),
        ("acc_a", "11"),
        ("acc_b", "10"),
        ("acc_b", "11"),
    ]
    assert [i.difference for i in report.invoices] == [Decimal(0)] * 4
    assert report.totals()["USD"] == (Decimal("60.34"), Decimal("60.34"), Decimal(0))
    assert sha256(stored.warehouse) == before
    assert report.database.parent == stored.warehouse.parent / "rerate"


@pytest.mark.slow
def test_a_new_price_gives_the_hand_computed_difference(stored, tmp_path, capsys):
    # token_usage 0.01 → 0.015 per token, October only:
    #   acc_a 1,234 tokens: 12.34 → 18.51 (+6.17); acc_b 500 tokens: 5.00 → 7.50 (+2.50).
    new_catalog = write_catalog(tmp_path / "new_catalog", rate="0.015")
    before = sha256(stored.warehouse)
    exit_code = main(
        [
            "rerate",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
            "--catalog",
            str(new_catalog),
            "--warehouse",
            str(stored.warehouse),
        ]
    )
    assert exit_code == 0
    assert sha256(stored.warehouse) == before
    database = next((stored.warehouse.parent / "rerate").glob("rerate-*.duckdb"))
    con = duckdb.connect(str(database), read_only=True)
    rows = con.execute(
        """select account_id, cast(stored_total as decimal(18,2)),
                  cast(rerated_total as decimal(18,2)), cast(difference as decimal(18,2))
           from rerate.invoice_differences order by account_id"""
    ).fetchall()
    con.close()
    assert rows == [
        ("acc_a", Decimal("22.34"), Decimal("28.51"), Decimal("6.17")),
        ("acc_b", Decimal("15.00"), Decimal("17.50"), Decimal("2.50")),
    ]
    printed = capsys.readouterr().out
    assert "8.67 USD" in printed  # the total difference: 6.17 + 2.50


def test_a_range_without_finalized_invoices_is_refused(stored):
    with pytest.raises(RerateError, match="No finalized invoice starts between 2027-01-01"):
        rerate(stored.warehouse, stored.catalog, date(2027, 1, 1), date(2027, 1, 31))


def test_a_reversed_range_is_refused(stored):
    with pytest.raises(RerateError, match="before --from"):
        rerate(stored.warehouse, stored.catalog, date(2026, 11, 1), date(2026, 10, 1))
