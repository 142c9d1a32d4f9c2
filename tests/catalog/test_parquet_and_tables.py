"""Parquet variants of the catalog tables, and the warehouse loader's exact types."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.lib.catalog import (
    CATALOG_TABLES,
    DEMO_CATALOG,
    MINOR_UNITS,
    load_catalog,
    logic_json,
    write_catalog_tables,
)
from dagster_project.lib.catalog import tables as tables_module

from .conftest import messages

TABLE_STEMS = ("customers", "accounts", "plan_assignments", "credit_grants", "wallet_transactions")
ENTITY_FIELDS = (
    "customers",
    "accounts",
    "plan_assignments",
    "credit_grants",
    "wallet_transactions",
)


def _to_parquet_as_strings(catalog_dir, stem):
    frame = pl.read_csv(catalog_dir / f"{stem}.csv", infer_schema=False)
    frame.write_parquet(catalog_dir / f"{stem}.parquet")
    (catalog_dir / f"{stem}.csv").unlink()


def test_parquet_tables_of_strings_load_like_csv(catalog_dir):
    for stem in TABLE_STEMS:
        _to_parquet_as_strings(catalog_dir, stem)
    from_parquet = load_catalog(catalog_dir)
    from_csv = load_catalog(DEMO_CATALOG)
    for name in ENTITY_FIELDS:
        assert getattr(from_parquet, name) == getattr(from_csv, name), name
    assert from_parquet.version != from_csv.version  # different files, different version


def test_typed_parquet_tables_load_exactly(catalog_dir):
    csv_catalog = load_catalog(DEMO_CATALOG)
    accounts = csv_catalog.accounts
    pq.write_table(
        pa.table(
            {
                "account_id": [a.account_id for a in accounts],
                "customer_id": [a.customer_id for a in accounts],
                "name": [a.name for a in accounts],
                "currency": [a.currency for a in accounts],
                "timezone": [a.timezone for a in accounts],
                "aliases": pa.array([list(a.aliases) for a in accounts], pa.list_(pa.string())),
            }
        ),
        catalog_dir / "accounts.parquet",
    )
    grants = csv_catalog.credit_grants
    pq.write_table(
        pa.table(
            {
                "credit_id": [g.credit_id for g in grants],
                "account_id": [g.account_id for g in grants],
                "amount": pa.array([g.amount for g in grants], pa.decimal128(38, 12)),
                "currency": [g.currency for g in grants],
                "priority": pa.array([g.priority for g in grants], pa.int32()),
                "effective_from": pa.array([g.effective_from for g in grants], pa.date32()),
                "effective_until": pa.array([g.effective_until for g in grants], pa.date32()),
                "applies_to": pa.array([list(g.applies_to) for g in grants], pa.list_(pa.string())),
            }
        ),
        catalog_dir / "credit_grants.parquet",
    )
    wallet = csv_catalog.wallet_transactions
    pq.write_table(
        pa.table(
            {
                "transaction_id": [t.transaction_id for t in wallet],
                "account_id": [t.account_id for t in wallet],
                "type": [str(t.type) for t in wallet],
                "amount": pa.array([t.amount for t in wallet], pa.decimal128(18, 2)),
                "currency": [t.currency for t in wallet],
                "occurred_at": pa.array(
                    [t.occurred_at for t in wallet], pa.timestamp("us", tz="UTC")
                ),
            }
        ),
        catalog_dir / "wallet_transactions.parquet",
    )
    for stem in ("accounts", "credit_grants", "wallet_transactions"):
        (catalog_dir / f"{stem}.csv").unlink()
    catalog = load_catalog(catalog_dir)
    for name in ENTITY_FIELDS:
        assert getattr(catalog, name) == getattr(csv_catalog, name), name
    promo = catalog.credit_grants[0]
    assert promo.amount == Decimal("100.00") and promo.effective_until == date(2026, 12, 31)


def test_float_parquet_column_is_refused(catalog_dir):
    frame = pl.read_csv(catalog_dir / "wallet_transactions.csv", infer_schema=False)
    frame = frame.with_columns(pl.col("amount").cast(pl.Float64))
    frame.write_parquet(catalog_dir / "wallet_transactions.parquet")
    (catalog_dir / "wallet_transactions.csv").unlink()
    found = messages(catalog_dir)
    assert (
        "wallet_transactions.parquet: wallet_transaction 'wt_0001': amount: floating-point value "
        "1000.0; store it as a decimal or a string" in found
    )


def test_csv_and_parquet_of_one_table_is_a_problem(catalog_dir):
    pl.read_csv(catalog_dir / "customers.csv", infer_schema=False).write_parquet(
        catalog_dir / "customers.parquet"
    )
    assert "customers.csv: both customers.csv and customers.parquet exist; keep one" in messages(
        catalog_dir
    )


# --- write_catalog_tables -----------------------------------------------------------------

EXPECTED_COLUMNS = {
    "event_schemas": ["schema_name"],
    "event_schema_attributes": ["schema_name", "attribute_name", "unit"],
    "event_schema_dimensions": ["schema_name", "dimension_name"],
    "usage_meters": [
        "meter_id",
        "meter_name",
        "schema_name",
        "aggregation",
        "value_logic",
        "filter_logic",
        "filter_sql",
        "value_sql",
        "key_sql",
    ],
    "price_plans": [
        "plan_id",
        "plan_name",
        "currency",
        "billing_interval",
        "anchor_day",
        "anchor_month",
        "anchor_weekday",
        "grace_period_days",
        "catalog_version",
    ],
    "rate_cards": [
        "plan_id",
        "rate_card_id",
        "rate_card_type",
        "meter_id",
        "pricing_model",
        "amount",
        "proration",
        "minimum_amount",
        "maximum_amount",
        "card_position",
        "catalog_version",
    ],
    "rate_card_slabs": [
        "plan_id",
        "rate_card_id",
        "slab_index",
        "start_after",
        "rate",
        "flat_fee",
        "package_size",
    ],
    "pricing_rules": [
        "plan_id",
        "rule_id",
        "rule_name",
        "rule_order",
        "condition_logic",
        "computation_logic",
        "action_type",
        "target",
        "code",
        "description",
    ],
    "customers": ["customer_id", "customer_name", "email"],
    "accounts": ["account_id", "customer_id", "account_name", "currency", "timezone"],
    "account_aliases": ["alias", "account_id"],
    "plan_assignments": [
        "assignment_id",
        "account_id",
        "plan_id",
        "effective_from",
        "effective_until",
    ],
    "credit_grants": [
        "credit_id",
        "account_id",
        "amount",
        "currency",
        "priority",
        "effective_from",
        "effective_until",
        "applies_to",
    ],
    "wallet_transactions": [
        "transaction_id",
        "account_id",
        "transaction_type",
        "amount",
        "currency",
        "occurred_at",
    ],
    "currencies": ["currency", "minor_units"],
    "catalog_versions": ["catalog_version", "loaded_at"],
    "loaded_catalog": ["catalog_version", "code_version", "tables_hash"],
}


@pytest.fixture
def warehouse():
    con = duckdb.connect(":memory:")
    yield con
    con.close()


def _types(con, table):
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE catalog.{table}").fetchall()}


def test_tables_and_columns_are_exactly_the_contract(warehouse):
    write_catalog_tables(warehouse, load_catalog(DEMO_CATALOG))
    tables = {
        row[0]
        for row in warehouse.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'catalog'"
        ).fetchall()
    }
    assert tables == set(EXPECTED_COLUMNS)
    for table, columns in EXPECTED_COLUMNS.items():
        assert list(_types(warehouse, table)) == columns, table


def test_column_types_are_exact(warehouse):
    write_catalog_tables(warehouse, load_catalog(DEMO_CATALOG))
    money = "DECIMAL(38,12)"
    slabs = _types(warehouse, "rate_card_slabs")
    assert [slabs[c] for c in ("start_after", "rate", "flat_fee", "package_size")] == [money] * 4
    cards = _types(warehouse, "rate_cards")
    assert [cards[c] for c in ("amount", "minimum_amount", "maximum_amount")] == [money] * 3
    assert cards["proration"] == "BOOLEAN"
    grants = _types(warehouse, "credit_grants")
    assert grants["amount"] == money and grants["applies_to"] == "VARCHAR[]"
    assert grants["effective_from"] == "DATE" and grants["effective_until"] == "DATE"
    assignments = _types(warehouse, "plan_assignments")
    assert assignments["effective_from"] == "DATE" and assignments["effective_until"] == "DATE"
    wallet = _types(warehouse, "wallet_transactions")
    assert wallet["amount"] == money and wallet["occurred_at"] == "TIMESTAMP WITH TIME ZONE"
    assert _types(warehouse, "catalog_versions")["loaded_at"] == "TIMESTAMP WITH TIME ZONE"


def test_values_round_trip_exactly(warehouse):
    catalog = load_catalog(DEMO_CATALOG)
    write_catalog_tables(warehouse, catalog)
    rate = warehouse.execute(
        "SELECT rate FROM catalog.rate_card_slabs "
        "WHERE plan_id = 'growth' AND rate_card_id = 'opus_input' AND slab_index = 1"
    ).fetchone()[0]
    assert rate == Decimal("0.000015")
    package = warehouse.execute(
        "SELECT rate, flat_fee, package_size FROM catalog.rate_card_slabs "
        "WHERE plan_id = 'growth' AND rate_card_id = 'opus_input' AND slab_index = 3"
    ).fetchone()
    assert package == (Decimal("9"), None, Decimal("1000000"))
    assert warehouse.execute(
        "SELECT count(*) FROM catalog.rate_card_slabs WHERE flat_fee = 5"
    ).fetchone() == (1,)
    plan = warehouse.execute(
        "SELECT billing_interval, anchor_day, anchor_month, anchor_weekday, catalog_version "
        "FROM catalog.price_plans WHERE plan_id = 'payg_weekly'"
    ).fetchone()
    assert plan == ("WEEKLY", None, None, 1, catalog.version)
    card_versions = warehouse.execute(
        "SELECT DISTINCT catalog_version FROM catalog.rate_cards"
    ).fetchall()
    assert card_versions == [(catalog.version,)]
    # JSON Logic is stored as JSON text whose numbers read back as the same Decimals.
    for meter_id, value_text, filter_text in warehouse.execute(
        "SELECT meter_id, value_logic, filter_logic FROM catalog.usage_meters"
    ).fetchall():
        meter = catalog.usage_meters_by_id[meter_id]
        for text, logic in ((value_text, meter.value), (filter_text, meter.filter)):
            if logic is None:
                assert text is None
            else:
                assert json.loads(text, parse_float=Decimal, parse_int=Decimal) == logic
    rule = warehouse.execute(
        "SELECT computation_logic, target FROM catalog.pricing_rules WHERE rule_id = 'volume_discount'"
    ).fetchone()
    assert rule == ('{"*":[{"var":"revenue.opus_input"},"0.9"]}', "revenue.opus_input")
    applies = warehouse.execute(
        "SELECT credit_id, applies_to FROM catalog.credit_grants ORDER BY credit_id"
    ).fetchall()
    assert ("cr_acme_promo", ["opus_input", "opus_output"]) in applies
    assert ("cr_acme_goodwill", []) in applies  # empty = every usage and fixed-fee line
    occurred = warehouse.execute(
        "SELECT occurred_at FROM catalog.wallet_transactions WHERE transaction_id = 'wt_0002'"
    ).fetchone()[0]
    assert occurred == datetime(2026, 11, 2, 20, 30, tzinfo=UTC)
    aliases = dict(
        warehouse.execute("SELECT alias, account_id FROM catalog.account_aliases").fetchall()
    )
    assert aliases["acme-prod"] == "acc_acme_prod"
    currencies = dict(
        warehouse.execute("SELECT currency, minor_units FROM catalog.currencies").fetchall()
    )
    assert currencies == MINOR_UNITS


def test_logic_json_keeps_numbers_exact():
    logic = {"*": [{"var": "revenue.x"}, Decimal("0.000015"), Decimal("1E+6"), True, None]}
    assert logic_json(logic) == '{"*":[{"var":"revenue.x"},0.000015,1000000,true,null]}'


def test_rewrite_replaces_contents_and_keeps_version_history(warehouse, catalog_dir):
    write_catalog_tables(
        warehouse, load_catalog(DEMO_CATALOG), loaded_at=datetime(2026, 11, 1, tzinfo=UTC)
    )
    write_catalog_tables(
        warehouse, load_catalog(DEMO_CATALOG), loaded_at=datetime(2026, 11, 2, tzinfo=UTC)
    )
    assert warehouse.execute("SELECT count(*) FROM catalog.accounts").fetchone() == (10,)
    # Same version twice: one history row, first load time kept.
    assert warehouse.execute(
        "SELECT count(*), min(loaded_at) FROM catalog.catalog_versions"
    ).fetchone() == (
        1,
        datetime(2026, 11, 1, tzinfo=UTC),
    )
    (catalog_dir / "credit_grants.csv").write_text(
        "credit_id,account_id,amount,currency,priority,effective_from,effective_until,applies_to\n"
    )
    changed = load_catalog(catalog_dir)
    write_catalog_tables(warehouse, changed)
    assert warehouse.execute("SELECT count(*) FROM catalog.credit_grants").fetchone() == (0,)
    assert warehouse.execute("SELECT count(*) FROM catalog.catalog_versions").fetchone() == (2,)
    assert warehouse.execute(
        "SELECT DISTINCT catalog_version FROM catalog.price_plans"
    ).fetchone() == (changed.version,)


def test_failed_write_leaves_previous_catalog(warehouse, catalog_dir, monkeypatch):
    original = load_catalog(DEMO_CATALOG)
    write_catalog_tables(warehouse, original)
    real_arrow = tables_module._arrow

    def failing_arrow(columns, rows):
        if columns == CATALOG_TABLES["wallet_transactions"]:
            raise RuntimeError("disk full")
        return real_arrow(columns, rows)

    monkeypatch.setattr(tables_module, "_arrow", failing_arrow)
    (catalog_dir / "customers.csv").write_text(
        (catalog_dir / "customers.csv").read_text().replace("Acme Robotics Inc.", "Renamed")
    )
    with pytest.raises(RuntimeError, match="disk full"):
        write_catalog_tables(warehouse, load_catalog(catalog_dir))
    name = warehouse.execute(
        "SELECT customer_name FROM catalog.customers WHERE customer_id = 'cus_acme'"
    ).fetchone()
    assert name == ("Acme Robotics Inc.",)
    assert warehouse.execute("SELECT count(*) FROM catalog.wallet_transactions").fetchone() == (6,)
    assert warehouse.execute("SELECT catalog_version FROM catalog.catalog_versions").fetchall() == [
        (original.version,)
    ]
