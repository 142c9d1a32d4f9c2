"""One hand-worked billed warehouse (tiny_billing) shared by the orchestration and
re-rating tests: billed once per session, copied before any test changes it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from dagster_project.cli import run_nightly
from dagster_project.settings import Settings
from tests.orchestration.tiny_billing import AS_OF, write_catalog, write_events

_BILLED: dict[str, TinyWarehouse] = {}


@dataclass(frozen=True)
class TinyWarehouse:
    root: Path
    settings: Settings

    @property
    def warehouse(self) -> Path:
        return self.settings.warehouse

    def copy(self, folder: Path) -> Settings:
        """The same billed state in folder, for a test that changes it."""
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.warehouse, folder / "warehouse.duckdb")
        return self.settings.with_overrides(
            warehouse=folder / "warehouse.duckdb", serving=folder / "serving.duckdb"
        )


def tiny_settings(root: Path) -> Settings:
    catalog = write_catalog(root / "catalog")
    write_events(root / "landing")
    return Settings.from_env({}).with_overrides(
        catalog=catalog,
        landing=root / "landing",
        warehouse=root / "warehouse.duckdb",
        serving=root / "serving.duckdb",
        as_of=AS_OF,
    )


def billed_tiny(tmp_path_factory) -> TinyWarehouse:
    # Cached per session whichever test folder asks first (orchestration or rerating).
    if "tiny" not in _BILLED:
        root = tmp_path_factory.mktemp("tiny_billed")
        settings = tiny_settings(root)
        run_nightly(settings)
        _BILLED["tiny"] = TinyWarehouse(root, settings)
    return _BILLED["tiny"]


@pytest.fixture(scope="session")
def tiny_billed(tmp_path_factory) -> TinyWarehouse:
    return billed_tiny(tmp_path_factory)
