"""Re-rating finalized cycles with a (possibly new) catalog, beside the stored invoices.

The warehouse is copied into its own DuckDB file; there the catalog is replaced, the chosen
finalized invoices are taken out of the finalized tables, and the normal pipeline pieces
(the dbt rating models, fully refreshed, then the invoicing builder) bill them again from
exactly the records they billed. The stored invoices are never opened for writing. The
comparison lands in schema `rerate` of the copy (docs/rerating.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from dagster_project.lib.catalog import load_catalog, write_catalog_tables
from dagster_project.lib.dbt import DBT_PROJECT_DIR
from dagster_project.lib.invoicing.warehouse import write_invoices
from dagster_project.lib.run_lock import warehouse_run_lock
from dagster_project.lib.warehouse import copy_warehouse, warehouse_connection

# The models the invoicing step reads, and everything upstream of them.
RATING_SELECTION = ["+int_rated_usage", "+int_fixed_fee_lines", "+int_invoices"]


class RerateError(Exception):
    """A re-rating request that cannot be carried out (named range, catalog, warehouse)."""


@dataclass(frozen=True)
class InvoiceDifference:
    invoice_id: str
    account_id: str
    currency: str
    period_start: datetime
    stored_total: Decimal
    rerated_total: Decimal

    @property
    def difference(self) -> Decimal:
        return self.rerated_total - self.stored_total


@dataclass(frozen=True)
class RerateReport:
    database: Path
    catalog: Path
    invoices: list[InvoiceDifference]

    def totals(self) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        """Per currency: stored, re-rated and the difference."""
        sums: dict[str, list[Decimal]] = {}
        for inv in self.invoices:
            row = sums.setdefault(inv.currency, [Decimal(0), Decimal(0), Decimal(0)])
            row[0] += inv.stored_total
            row[1] += inv.rerated_total
            row[2] += inv.difference
        return {currency: (a, b, c) for currency, (a, b, c) in sorted(sums.items())}


# Finalized invoices whose period starts, on the account's own calendar, within the range.
TARGETS_SQL = """
select f.invoice_id
from billing.finalized_invoices f
join catalog.accounts a using (account_id)
where cast(timezone(a.timezone, f.period_start) as date) between ? and ?
"""


def _run_dbt(database: Path, as_of: datetime, target_path: Path) -> None:
    env = {
        **os.environ,
        "TALLYHOUSE_WAREHOUSE": str(database),
        "TALLYHOUSE_AS_OF": as_of.isoformat(),
        "TALLYHOUSE_TARGET": "duckdb",
    }
    dbt = shutil.which("dbt", path=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}")
    command = [
        dbt or "dbt",
        "run",
        "--full-refresh",  # every cycle recomputed, finalized ones included
        "--select",
        *RATING_SELECTION,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path / "logs"),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-15:])
        raise RerateError(f"dbt failed while re-rating into {database}:\n{tail}")


def rerate(
    warehouse: Path,
    catalog_dir: Path,
    date_from: date,
    date_to: date,
    *,
    out_dir: Path | None = None,
) -> RerateReport:
    """Re-rate the finalized invoices whose period starts between the two dates (inclusive,
    account-local) with the catalog in catalog_dir; the stored warehouse is only read."""
    warehouse = Path(warehouse)
    if date_to < date_from:
        raise RerateError(f"--to {date_to} is before --from {date_from}")
    if not warehouse.exists():
        raise RerateError(f"No warehouse at {warehouse}: run `tallyhouse run` first.")
    # Validate the catalog before copying anything (CatalogError lists every problem).
    catalog = load_catalog(catalog_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    out_dir = Path(out_dir) if out_dir else warehouse.parent / "rerate"
    database = out_dir / f"rerate-{stamp}.duckdb"
    # The copy is taken while no run writes: never a half-written night.
    with warehouse_run_lock(warehouse, purpose="tallyhouse rerate (copying)"):
        copy_warehouse(warehouse, database)

    with warehouse_connection(database) as con:
        targets = [r[0] for r in con.execute(TARGETS_SQL, [date_from, date_to]).fetchall()]
        if not targets:
            raise RerateError(
                f"No finalized invoice starts between {date_from} and {date_to} in {warehouse}."
            )
        con.execute("create or replace temp table rerate_targets (invoice_id varchar)")
        con.executemany("insert into rerate_targets values (?)", [[t] for t in targets])
        con.execute("create schema rerate")
        con.execute(
            """create table rerate.stored_invoices as
               select * from billing.finalized_invoices
               where invoice_id in (select invoice_id from rerate_targets)"""
        )
        # The run that finalized them: at its clock they are all due again.
        as_of = con.execute("select max(finalized_at) from rerate.stored_invoices").fetchall()[0][0]
        # Taken out of the finalized tables (of the copy) so the invoicing step bills them
        # again; their credit and wallet draws are returned to the balances they came from.
        for table in (
            "finalized_invoices",
            "finalized_invoice_line_items",
            "finalized_pricing_rule_log",
            "credit_ledger",
            "wallet_ledger",
        ):
            con.execute(
                f"delete from billing.{table} "
                "where invoice_id in (select invoice_id from rerate_targets)"
            )
        write_catalog_tables(con, catalog)

    # billing.invoice_periods keeps each period's finalized_through_record_seq, so the
    # models bill exactly the records the stored invoice billed (later ones stay late).
    _run_dbt(database, as_of, out_dir / f"dbt-{stamp}")

    with warehouse_connection(database) as con:
        write_invoices(con, as_of)
        con.execute(
            """create table rerate.rerated_invoices as
               select * from billing.finalized_invoices
               where invoice_id in (select invoice_id from rerate.stored_invoices)
               union all by name
               select * from billing.draft_invoices
               where invoice_id in (select invoice_id from rerate.stored_invoices)"""
        )
        con.execute(
            """create table rerate.invoice_differences as
               select s.invoice_id, s.account_id, s.currency, s.period_start, s.period_end,
                      s.subtotal as stored_subtotal, r.subtotal as rerated_subtotal,
                      s.total as stored_total, r.total as rerated_total,
                      r.total - s.total as difference
               from rerate.stored_invoices s
               join rerate.rerated_invoices r using (invoice_id)
               order by s.account_id, s.period_start"""
        )
        rows = con.execute(
            """select invoice_id, account_id, currency, period_start, stored_total,
                      rerated_total
               from rerate.invoice_differences order by account_id, period_start"""
        ).fetchall()
    return RerateReport(
        database=database,
        catalog=Path(catalog_dir),
        invoices=[InvoiceDifference(*row) for row in rows],
    )
