"""One billed warehouse shared by the end-to-end tests: real Dagster, real dbt, real DuckDB."""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

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
    root: Path, *, accounts: int, events: int, seed: int, fmt: str, target: str = "duckdb"
) -> BilledWarehouse:
    catalog_dir = generate_catalog(root, accounts=accounts, seed=seed, start=START)
    manifest = generate_events(
        catalog_dir, root, events=events, days=30, seed=seed, start=START, fmt=fmt
    )
    settings = Settings.from_env({}).with_overrides(
        catalog=catalog_dir,
        landing=root / "landing",
        warehouse=root / "warehouse.duckdb",
        serving=root / "serving.duckdb",
        as_of=parse_as_of(manifest.recommended_as_of),
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
