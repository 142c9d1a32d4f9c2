"""One billed warehouse shared by the end-to-end tests: real Dagster, real dbt, real DuckDB."""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from dagster_project.cli import run_nightly
from dagster_project.lib.generator import Manifest, generate_catalog, generate_events
from dagster_project.settings import Settings, parse_as_of

START = date(2026, 11, 1)


@dataclass(frozen=True)
class BilledWarehouse:
    root: Path
    settings: Settings
    manifest: Manifest

    def copy(self, folder: Path) -> BilledWarehouse:
        """The same billed state (warehouse, catalog, landing) in folder, for a test that
        changes it; the settings point at the copy."""
        shutil.copytree(self.root, folder)
        moved = {
            name: folder / getattr(self.settings, name).relative_to(self.root)
            for name in ("catalog", "landing", "warehouse", "serving")
        }
        return BilledWarehouse(folder, self.settings.with_overrides(**moved), self.manifest)

    def planted_records(self) -> list[dict[str, str]]:
        """The generator's record-by-record oracle (planted.csv)."""
        with (self.root / self.manifest.planted_records_file).open() as stream:
            return list(csv.DictReader(stream))


def bill(
    root: Path,
    *,
    accounts: int,
    events: int,
    seed: int,
    fmt: str,
    target: str = "duckdb",
    as_of: datetime | None = None,
) -> BilledWarehouse:
    """Generate a catalog and events under root and run the nightly on them, at `as_of`
    (default: the generator's recommended night), on the given engine."""
    catalog_dir = generate_catalog(root, accounts=accounts, seed=seed, start=START)
    manifest = generate_events(
        catalog_dir, root, events=events, days=30, seed=seed, start=START, fmt=fmt
    )
    settings = Settings.from_env({}).with_overrides(
        catalog=catalog_dir,
        landing=root / "landing",
        warehouse=root / "warehouse.duckdb",
        serving=root / "serving.duckdb",
        as_of=as_of or parse_as_of(manifest.recommended_as_of),
        target=target,
        spark_dir=root / "spark",
    )
    run_nightly(settings)
    return BilledWarehouse(root=root, settings=settings, manifest=manifest)


@pytest.fixture(scope="session")
def billed_jsonl(tmp_path_factory) -> BilledWarehouse:
    return bill(
        tmp_path_factory.mktemp("billed_jsonl"), accounts=40, events=6000, seed=11, fmt="jsonl"
    )


def event_like_record(con, record_seq: int, event_id: str, timestamp) -> dict:
    """A landing event with the schema, account, attributes and dimensions of a billed record."""
    schema, account, attributes, dimensions = con.execute(
        "select r.schema_name, e.account_id, r.attributes, r.dimensions "
        "from marts.fct_event_pipeline_log e join raw.event_records r using (record_seq) "
        "where record_seq = ?",
        [record_seq],
    ).fetchall()[0]
    return {
        "id": event_id,
        "schemaName": schema,
        "timestamp": timestamp.isoformat(),
        "accountId": account,
        "attributes": {k: str(v) for k, v in attributes.items()},
        "dimensions": dict(dimensions or {}),
    }


def late_event(warehouse: Path, event_id: str = "late-event-1") -> tuple[dict, str]:
    """An event for the finalized invoice with the most revenue, 12 hours into its period,
    shaped like one of its account's metered records: (the event, that invoice's id)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        account, period_start, invoice_id = con.execute(
            "select account_id, period_start, invoice_id from billing.finalized_invoices "
            "order by total desc, invoice_id limit 1"
        ).fetchall()[0]
        record_seq = con.execute(
            "select record_seq from marts.fct_event_pipeline_log "
            "where account_id = ? and status = 'METERED' order by record_seq limit 1",
            [account],
        ).fetchall()[0][0]
        event = event_like_record(con, record_seq, event_id, period_start + timedelta(hours=12))
    return event, invoice_id
