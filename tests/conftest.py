"""Test-wide environment: the venv's executables (dagster-dbt calls `dbt`), a throwaway
Dagster instance and, under pytest-xdist, a dbt target folder per worker, whichever way
pytest is started; and the grouping that keeps each billed warehouse on one worker."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

VENV_BIN = Path(__file__).resolve().parents[1] / ".venv" / "bin"
os.environ["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"

# Session fixtures that bill a warehouse (a real nightly run, ~40 s): every test using one
# runs on the same xdist worker, so each is billed once per suite, not once per worker.
BILLED_WAREHOUSES = {
    "tiny_billed": "tiny_billing",
    "billed_jsonl": "billed_jsonl",
    "rated": "rating_cases",
    "nights": "worked_invoices",
    "dashboard_warehouse": "dashboards",
}


def pytest_configure(config):
    # Parse the dbt project once, before xdist starts its workers: two workers importing the
    # definitions on a fresh clone would otherwise both run `dbt parse` into one folder.
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        from dagster_project.lib.dbt import ensure_manifest

        ensure_manifest()


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config, items):
    """`--dist loadgroup`: tests sharing a billed warehouse (or any module-scoped fixture)
    form one group; every other test is scheduled on its own."""
    for item in items:
        group = _xdist_group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


def _xdist_group(item) -> str | None:
    names = set(getattr(item, "fixturenames", ()))
    for fixture, group in BILLED_WAREHOUSES.items():
        if fixture in names:
            return group
    info = getattr(item, "_fixtureinfo", None)
    for fixture in names:
        definitions = info.name2fixturedefs.get(fixture, ()) if info else ()
        if any(d.scope == "module" for d in definitions):
            return item.nodeid.split("::")[0]
    return None


@pytest.fixture(autouse=True)
def settings_restored():
    """A nightly run in the test process sets its settings as TALLYHOUSE_* variables (dbt and
    Dagster read them there). Restored after each test: a later test's `dbt` subprocess
    inherited one test's warehouse, still locked by this worker, and failed to open it."""
    saved = {name: value for name, value in os.environ.items() if name.startswith("TALLYHOUSE_")}
    yield
    for name in [name for name in os.environ if name.startswith("TALLYHOUSE_")]:
        if name not in saved:
            del os.environ[name]
    os.environ.update(saved)


@pytest.fixture(scope="session", autouse=True)
def project_environment(tmp_path_factory):
    os.environ["DAGSTER_HOME"] = str(tmp_path_factory.mktemp("dagster_home"))
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # dbt writes its artifacts and parse cache into the target folder: one per worker,
        # seeded with the project's parse cache so the first build still parses partially.
        from dagster_project.lib.dbt import tallyhouse_dbt

        target = tmp_path_factory.mktemp("dbt_target")
        cache = tallyhouse_dbt.target_path / "partial_parse.msgpack"
        if cache.exists():
            shutil.copy(cache, target / cache.name)
        os.environ["DBT_TARGET_PATH"] = str(target)
    yield
