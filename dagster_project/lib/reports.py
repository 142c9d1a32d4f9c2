"""Summaries the CLI prints after a run, read from the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dagster_project.lib.warehouse import warehouse_connection


@dataclass(frozen=True)
class IngestionReport:
    files: list[tuple[str, int, int]]  # (file status, files, records)
    statuses: list[tuple[str, int, str | None]]  # (pipeline status, records, an example reason)

    @property
    def total_records(self) -> int:
        return sum(count for _, count, _ in self.statuses)


def ingestion_summary(warehouse: Path) -> IngestionReport:
    with warehouse_connection(warehouse, read_only=True) as con:
        files = con.execute(
            """
            select file_status, count(*), sum(records)::bigint
            from raw.landing_files group by all order by 1
            """
        ).fetchall()
        statuses = con.execute(
            """
            select status, count(*), min(status_reason)
            from intermediate.int_event_records_resolved
            group by all order by count(*) desc, status
            """
        ).fetchall()
    return IngestionReport(files=files, statuses=statuses)
