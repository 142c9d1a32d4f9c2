"""The one cached dbt project; its manifest is built on first use (fresh clones have none)."""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

tallyhouse_dbt = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest() -> Path:
    """`dbt parse` once when the manifest is missing, so Definitions load from a fresh clone."""
    if not tallyhouse_dbt.manifest_path.exists():
        tallyhouse_dbt.preparer.prepare(tallyhouse_dbt)
    return tallyhouse_dbt.manifest_path
