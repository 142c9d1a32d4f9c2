"""Write a loaded catalog into the warehouse's `catalog` schema: exact types, one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from dagster_project.lib.code_version import code_version
from dagster_project.lib.warehouse import table_rows_hash
from rule_engine import compile_filter, compile_key, compile_value

from .currencies import MINOR_UNITS
from .load import catalog_version
from .models import (
    Aggregation,
    Catalog,
    FixedFeeRateCard,
    MinimumCommitmentRateCard,
    UpdateAction,
    UsageRateCard,
)

SCHEMA = "catalog"
MONEY = "DECIMAL(38,12)"  # money and quantities: 26 integer digits, 12 decimal places

# The dbt project reads these names: the column lists are part of the pipeline's interface.
CATALOG_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "event_schemas": (("schema_name", "VARCHAR"),),
    "event_schema_attributes": (
        ("schema_name", "VARCHAR"),
        ("attribute_name", "VARCHAR"),
        ("unit", "VARCHAR"),
    ),
    "event_schema_dimensions": (("schema_name", "VARCHAR"), ("dimension_name", "VARCHAR")),
    "usage_meters": (
        ("meter_id", "VARCHAR"),
        ("meter_name", "VARCHAR"),
        ("schema_name", "VARCHAR"),
        ("aggregation", "VARCHAR"),
        ("value_logic", "VARCHAR"),
        ("filter_logic", "VARCHAR"),
        ("filter_sql", "VARCHAR"),
        ("value_sql", "VARCHAR"),
        ("key_sql", "VARCHAR"),
    ),
    "price_plans": (
        ("plan_id", "VARCHAR"),
        ("plan_name", "VARCHAR"),
        ("currency", "VARCHAR"),
        ("billing_interval", "VARCHAR"),
        ("anchor_day", "INTEGER"),
        ("anchor_month", "INTEGER"),
        ("anchor_weekday", "INTEGER"),
        ("grace_period_days", "INTEGER"),
        ("catalog_version", "VARCHAR"),
    ),
    "rate_cards": (
        ("plan_id", "VARCHAR"),
        ("rate_card_id", "VARCHAR"),
        ("rate_card_type", "VARCHAR"),
        ("meter_id", "VARCHAR"),
        ("pricing_model", "VARCHAR"),
        ("amount", MONEY),
        ("proration", "BOOLEAN"),
        ("minimum_amount", MONEY),
        ("maximum_amount", MONEY),
        ("card_position", "INTEGER"),
        ("catalog_version", "VARCHAR"),
    ),
    "rate_card_slabs": (
        ("plan_id", "VARCHAR"),
        ("rate_card_id", "VARCHAR"),
        ("slab_index", "INTEGER"),
        ("start_after", MONEY),
        ("rate", MONEY),
        ("flat_fee", MONEY),
        ("package_size", MONEY),
    ),
    "pricing_rules": (
        ("plan_id", "VARCHAR"),
        ("rule_id", "VARCHAR"),
        ("rule_name", "VARCHAR"),
        ("rule_order", "INTEGER"),
        ("condition_logic", "VARCHAR"),
        ("computation_logic", "VARCHAR"),
        ("action_type", "VARCHAR"),
        ("target", "VARCHAR"),
        ("code", "VARCHAR"),
        ("description", "VARCHAR"),
    ),
    "customers": (
        ("customer_id", "VARCHAR"),
        ("customer_name", "VARCHAR"),
        ("email", "VARCHAR"),
    ),
    "accounts": (
        ("account_id", "VARCHAR"),
        ("customer_id", "VARCHAR"),
        ("account_name", "VARCHAR"),
        ("currency", "VARCHAR"),
        ("timezone", "VARCHAR"),
    ),
    "account_aliases": (("alias", "VARCHAR"), ("account_id", "VARCHAR")),
    "plan_assignments": (
        ("assignment_id", "VARCHAR"),
        ("account_id", "VARCHAR"),
        ("plan_id", "VARCHAR"),
        ("effective_from", "DATE"),
        ("effective_until", "DATE"),
    ),
    "credit_grants": (
        ("credit_id", "VARCHAR"),
        ("account_id", "VARCHAR"),
        ("amount", MONEY),
        ("currency", "VARCHAR"),
        ("priority", "INTEGER"),
        ("effective_from", "DATE"),
        ("effective_until", "DATE"),
        ("applies_to", "VARCHAR[]"),
    ),
    "wallet_transactions": (
        ("transaction_id", "VARCHAR"),
        ("account_id", "VARCHAR"),
        ("transaction_type", "VARCHAR"),
        ("amount", MONEY),
        ("currency", "VARCHAR"),
        ("occurred_at", "TIMESTAMPTZ"),
    ),
    "currencies": (("currency", "VARCHAR"), ("minor_units", "INTEGER")),
}
# Kept across loads (one row per catalog version ever loaded), so lineage written under an
# older version can still name it.
VERSIONS_TABLE = "catalog_versions"
VERSIONS_COLUMNS = (("catalog_version", "VARCHAR"), ("loaded_at", "TIMESTAMPTZ"))
# Bookkeeping: one row, what the catalog tables now hold was loaded from (the files' version,
# the loading code's version) and a hash of their rows as written, so a night whose files,
# code and tables are all unchanged skips parsing and rewriting them (catalog_is_loaded).
LOADED_TABLE = "loaded_catalog"
LOADED_COLUMNS = (
    ("catalog_version", "VARCHAR"),
    ("code_version", "VARCHAR"),
    ("tables_hash", "VARCHAR"),
)

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    MONEY: pa.decimal128(38, 12),
    "VARCHAR[]": pa.list_(pa.string()),
}


def logic_json(logic: Any) -> str | None:
    """JSON text of a JSON Logic expression with every Decimal written exactly as a number.

    json.dumps would need floats; `format(d, 'f')` keeps 0.000015 as 0.000015. Readers parse
    it back with `json.loads(text, parse_float=Decimal, parse_int=Decimal)`.
    """
    if logic is None:
        return None
    return _json(logic)


def _json(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Decimal | int):
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    raise TypeError(f"{value!r} is not JSON")


def catalog_rows(catalog: Catalog) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of every `catalog.*` table (except catalog_versions), as Python values."""
    version = catalog.version
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in CATALOG_TABLES}
    for schema in catalog.event_schemas:
        rows["event_schemas"].append((schema.name,))
        for attribute in schema.attributes:
            rows["event_schema_attributes"].append((schema.name, attribute.name, attribute.unit))
        for dimension in schema.dimensions:
            rows["event_schema_dimensions"].append((schema.name, dimension))
    for meter in catalog.usage_meters:
        rows["usage_meters"].append(
            (
                meter.id,
                meter.name,
                meter.event_schema,
                str(meter.aggregation),
                logic_json(meter.value),
                logic_json(meter.filter),
                # The SQL the metering models run, compiled once from the JSON Logic. The key
                # (a value's identity for counting distinct values) only for UNIQUE_COUNT: no
                # other aggregation reads it, and at 10M events it was 18M strings to build,
                # store and count.
                compile_filter(meter.filter) if meter.filter is not None else "true",
                compile_value(meter.value) if meter.value is not None else None,
                compile_key(meter.value)
                if meter.value is not None and meter.aggregation is Aggregation.UNIQUE_COUNT
                else None,
            )
        )
    for plan in catalog.price_plans:
        cycle = plan.billing_cycle
        rows["price_plans"].append(
            (
                plan.id,
                plan.name,
                plan.currency,
                str(cycle.interval),
                cycle.effective_anchor_day,
                cycle.effective_anchor_month,
                cycle.effective_anchor_weekday,
                cycle.grace_period_days,
                version,
            )
        )
        for position, card in enumerate(plan.rate_cards, start=1):
            usage = card if isinstance(card, UsageRateCard) else None
            fee = card if isinstance(card, FixedFeeRateCard | MinimumCommitmentRateCard) else None
            rows["rate_cards"].append(
                (
                    plan.id,
                    card.id,
                    card.type,
                    usage.meter if usage else None,
                    str(usage.pricing_model) if usage else None,
                    fee.amount if fee else None,
                    card.proration if isinstance(card, FixedFeeRateCard) else None,
                    usage.minimum if usage else None,
                    usage.maximum if usage else None,
                    position,
                    version,
                )
            )
            for index, slab in enumerate(usage.slabs if usage else (), start=1):
                rows["rate_card_slabs"].append(
                    (
                        plan.id,
                        card.id,
                        index,
                        slab.start_after,
                        slab.rate,
                        slab.flat_fee,
                        slab.package_size,
                    )
                )
        for rule in plan.pricing_rules:
            action = rule.action
            update = isinstance(action, UpdateAction)
            rows["pricing_rules"].append(
                (
                    plan.id,
                    rule.id,
                    rule.name,
                    rule.order,
                    logic_json(rule.condition),
                    logic_json(rule.computation),
                    action.type,
                    action.target if update else None,
                    None if update else action.code,
                    None if update else action.description,
                )
            )
    for customer in catalog.customers:
        rows["customers"].append((customer.customer_id, customer.name, customer.email))
    for account in catalog.accounts:
        rows["accounts"].append(
            (
                account.account_id,
                account.customer_id,
                account.name,
                account.currency,
                account.timezone,
            )
        )
        rows["account_aliases"].extend((alias, account.account_id) for alias in account.aliases)
    for a in catalog.plan_assignments:
        rows["plan_assignments"].append(
            (a.assignment_id, a.account_id, a.plan_id, a.effective_from, a.effective_until)
        )
    for g in catalog.credit_grants:
        rows["credit_grants"].append(
            (
                g.credit_id,
                g.account_id,
                g.amount,
                g.currency,
                g.priority,
                g.effective_from,
                g.effective_until,
                list(g.applies_to),  # empty list = every usage and fixed-fee line
            )
        )
    for t in catalog.wallet_transactions:
        rows["wallet_transactions"].append(
            (t.transaction_id, t.account_id, str(t.type), t.amount, t.currency, t.occurred_at)
        )
    rows["currencies"] = sorted(MINOR_UNITS.items())
    return rows


def _arrow(columns: Sequence[tuple[str, str]], rows: Iterable[tuple[Any, ...]]) -> pa.Table:
    rows = list(rows)
    arrays = [
        pa.array([row[i] for row in rows], type=_ARROW_TYPES[sql_type])
        for i, (_, sql_type) in enumerate(columns)
    ]
    return pa.Table.from_arrays(arrays, names=[name for name, _ in columns])


def _create(con: Any, table: str, columns: Sequence[tuple[str, str]], replace: bool) -> None:
    verb = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
    body = ", ".join(f"{name} {sql_type}" for name, sql_type in columns)
    con.execute(f"{verb} {SCHEMA}.{table} ({body})")


def write_catalog_tables(con: Any, catalog: Catalog, *, loaded_at: datetime | None = None) -> None:
    """(Re)create the `catalog` schema's tables from `catalog` in one DuckDB transaction.

    Readers see either the previous catalog or this one, never a mix. `loaded_at` (default:
    now) is recorded in catalog.catalog_versions the first time a version is loaded.
    """
    loaded_at = loaded_at or datetime.now(UTC)
    rows = catalog_rows(catalog)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        for table, columns in CATALOG_TABLES.items():
            _create(con, table, columns, replace=True)
            if not rows[table]:
                continue
            view = f"_tallyhouse_catalog_{table}"
            con.register(view, _arrow(columns, rows[table]))
            try:
                con.execute(f"INSERT INTO {SCHEMA}.{table} SELECT * FROM {view}")
            finally:
                con.unregister(view)
        _create(con, VERSIONS_TABLE, VERSIONS_COLUMNS, replace=False)
        con.execute(
            f"INSERT INTO {SCHEMA}.{VERSIONS_TABLE} SELECT ?, ? WHERE NOT EXISTS "
            f"(SELECT 1 FROM {SCHEMA}.{VERSIONS_TABLE} WHERE catalog_version = ?)",
            [catalog.version, loaded_at, catalog.version],
        )
        _create(con, LOADED_TABLE, LOADED_COLUMNS, replace=True)
        con.execute(
            f"INSERT INTO {SCHEMA}.{LOADED_TABLE} VALUES (?, ?, ?)",
            [catalog.version, code_version(), _tables_hash(con)],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _tables_hash(con: Any) -> str:
    return ";".join(table_rows_hash(con, f"{SCHEMA}.{table}") for table in CATALOG_TABLES)


def catalog_is_loaded(con: Any, catalog_dir: str | Path) -> bool:
    """Whether the warehouse's catalog tables already hold the catalog at `catalog_dir`:
    loaded from files with the same version by this code, and not changed since."""
    root = Path(catalog_dir)
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [SCHEMA, LOADED_TABLE],
    ).fetchone()[0]
    if not exists or not root.is_dir():
        return False
    loaded = con.execute(
        f"SELECT catalog_version, code_version, tables_hash FROM {SCHEMA}.{LOADED_TABLE}"
    ).fetchall()
    return loaded == [(catalog_version(root), code_version(), _tables_hash(con))]
