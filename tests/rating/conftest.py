"""One billed warehouse for every rating case: a hand-written catalog and landing file,
billed once by the real nightly job (Dagster in-process → dbt build on DuckDB)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml

from dagster_project.cli import run_nightly
from dagster_project.lib.dbt import DBT_PROJECT_DIR, tallyhouse_dbt
from dagster_project.settings import Settings, parse_as_of

from .cases import AS_OF, account_rows, assignment_rows, events, pricing


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def rated(tmp_path_factory) -> Settings:
    """The settings of a warehouse in which every case of cases.py has been billed."""
    return bill_rating_cases(tmp_path_factory.mktemp("rating"))


def warehouse_copy(rated: Settings, folder: Path) -> Path:
    """A copy of the rating warehouse to run dbt against (or break) without touching it."""
    warehouse = folder / "warehouse.duckdb"
    shutil.copyfile(rated.warehouse, warehouse)
    return warehouse


def dbt(*args: str, **env: str) -> subprocess.CompletedProcess:
    """A `dbt` command in the project, with these environment variables added (the warehouse,
    the clock), its output captured."""
    return subprocess.run(
        ["dbt", *args],
        cwd=DBT_PROJECT_DIR,
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
    )


def dbt_ok(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`dbt(...)` that must succeed; its output's end otherwise."""
    done = dbt(*args, **env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return done


def dbt_test(
    warehouse: Path, folder: Path, select: str
) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """`dbt test --select <select>` against warehouse: the finished process and the results of
    its tests (data and unit tests, not the on-run-start hook) from run_results.json."""
    target = folder / "target"
    done = dbt(
        "test",
        "--select",
        select,
        "--target-path",
        str(target),
        TALLYHOUSE_WAREHOUSE=str(warehouse),
    )
    run_results = target / "run_results.json"
    results = json.loads(run_results.read_text())["results"] if run_results.exists() else []
    return done, [r for r in results if r["unique_id"].startswith(("test.", "unit_test."))]


def declared_tests(generic_test: str) -> set[str]:
    """The names of the project's tests that use one generic test, from the manifest."""
    manifest = json.loads(tallyhouse_dbt.manifest_path.read_text())
    return {
        node["name"]
        for node in manifest["nodes"].values()
        if (node.get("test_metadata") or {}).get("name") == generic_test
    }


def bill_rating_cases(root: Path) -> Settings:
    """Every case of cases.py billed by one real nightly run in root (also run on Spark:
    tests/spark/test_rating_cases_on_spark.py)."""
    catalog = root / "catalog"
    catalog.mkdir()
    (catalog / "pricing.yaml").write_text(yaml.safe_dump(pricing(), sort_keys=False))
    _csv(
        catalog / "customers.csv",
        ["customer_id", "name", "email"],
        [["cus_rating", "Rating cases", "rating@example.com"]],
    )
    _csv(
        catalog / "accounts.csv",
        ["account_id", "customer_id", "name", "currency", "timezone", "aliases"],
        account_rows(),
    )
    _csv(
        catalog / "plan_assignments.csv",
        ["assignment_id", "account_id", "plan_id", "effective_from", "effective_until"],
        assignment_rows(),
    )
    landing = root / "landing"
    landing.mkdir()
    with (landing / "rating-cases.jsonl").open("w", encoding="utf-8") as stream:
        for event in events():
            stream.write(json.dumps(event) + "\n")
    settings = Settings.from_env({}).with_overrides(
        catalog=catalog,
        landing=landing,
        warehouse=root / "warehouse.duckdb",
        serving=root / "serving.duckdb",
        as_of=parse_as_of(AS_OF),
    )
    run_nightly(settings)
    return settings


@pytest.fixture(scope="session")
def warehouse(rated):
    with duckdb.connect(str(rated.warehouse), read_only=True) as con:
        yield con
