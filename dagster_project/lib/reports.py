"""Summaries the CLI prints after a run, read from the warehouse's marts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from dagster_project.lib.warehouse import warehouse_connection


@dataclass(frozen=True)
class RunReport:
    files: list[tuple[str, int, int]]  # (file status, files, records)
    statuses: list[tuple[str, int, str | None]]  # (pipeline status, records, an example reason)
    invoices: list[tuple[str, str, int, Decimal, Decimal]]  # (currency, status, n, total, due)
    largest: list[tuple[str, str, str, str, Decimal, str]]  # id, account, plan, ccy, total, status
    needs_review: int

    @property
    def total_records(self) -> int:
        return sum(count for _, count, _ in self.statuses)


def run_report(warehouse: Path, largest: int = 3) -> RunReport:
    with warehouse_connection(warehouse, read_only=True) as con:
        files = con.execute(
            """select file_status, count(*), sum(records)::bigint
               from raw.landing_files group by all order by 1"""
        ).fetchall()
        statuses = con.execute(
            """select status, count(*), min(status_reason)
               from marts.fct_event_pipeline_log
               group by all order by count(*) desc, status"""
        ).fetchall()
        invoices = con.execute(
            """select currency, status, count(*), sum(total), sum(amount_due)
               from marts.fct_invoices group by all order by currency, status"""
        ).fetchall()
        top = con.execute(
            """select invoice_id, account_id, plan_id, currency, total, status
               from marts.fct_invoices
               qualify row_number() over (partition by currency
                                          order by total desc, invoice_id) <= ?
               order by currency, total desc, invoice_id""",
            [largest],
        ).fetchall()
        review = con.execute(
            "select count(*) from marts.fct_invoices where needs_review"
        ).fetchall()[0][0]
    return RunReport(files, statuses, invoices, top, review)
