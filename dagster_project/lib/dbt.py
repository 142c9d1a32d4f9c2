"""The one cached dbt project; its manifest is rebuilt whenever the dbt sources are newer."""

from __future__ import annotations

import os
from pathlib import Path

from dagster_dbt import DbtProject

from dagster_project.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
DBT_SOURCE_DIRS = ("models", "macros", "tests")
DBT_SOURCE_FILES = ("dbt_project.yml", "profiles.yml")

tallyhouse_dbt = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _newest_source_mtime() -> float:
    paths = [DBT_PROJECT_DIR / name for name in DBT_SOURCE_FILES]
    for folder in DBT_SOURCE_DIRS:
        paths.extend(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in paths if p.exists())


def ensure_manifest() -> Path:
    """`dbt parse` when the manifest is missing (a fresh clone) or older than a model or
    macro, so the Dagster asset graph always matches the dbt project it runs."""
    manifest = tallyhouse_dbt.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime():
        tallyhouse_dbt.preparer.prepare(tallyhouse_dbt)
    return manifest


def dbt_target_path() -> Path:
    """Where dbt keeps its parse cache and run artifacts: on Spark, beside Spark's tables (a
    parse for another target would invalidate DuckDB's cache); else `DBT_TARGET_PATH` when set
    (the test suite gives each worker its own, as two dbt processes must not write one target
    folder at once), else the project's `target/`, kept between runs for partial parsing."""
    settings = Settings.from_env()
    if settings.target == "spark":
        return settings.spark_dir.resolve() / "dbt_target"
    return Path(os.environ.get("DBT_TARGET_PATH") or tallyhouse_dbt.target_path)
