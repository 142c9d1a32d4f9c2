"""A night skips parsing and rewriting the catalog only when the warehouse's catalog tables
already hold exactly what the files would load (catalog_is_loaded)."""

from __future__ import annotations

import duckdb
import pytest

import dagster_project.lib.catalog.tables as tables_module
from dagster_project.lib.catalog import catalog_is_loaded, load_catalog, write_catalog_tables

from .conftest import edit


@pytest.fixture
def warehouse():
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    yield con
    con.close()


def test_an_empty_warehouse_needs_the_catalog(warehouse, catalog_dir):
    assert not catalog_is_loaded(warehouse, catalog_dir)


def test_unchanged_files_code_and_tables_are_loaded(warehouse, catalog_dir):
    write_catalog_tables(warehouse, load_catalog(catalog_dir))
    assert catalog_is_loaded(warehouse, catalog_dir)


def test_an_edited_file_needs_a_reload(warehouse, catalog_dir):
    write_catalog_tables(warehouse, load_catalog(catalog_dir))
    edit(catalog_dir, "accounts.csv", "Acme production", "Acme Production Inc")
    assert not catalog_is_loaded(warehouse, catalog_dir)
    write_catalog_tables(warehouse, load_catalog(catalog_dir))
    assert catalog_is_loaded(warehouse, catalog_dir)
    (name,) = warehouse.execute(
        "SELECT account_name FROM catalog.accounts WHERE account_id = 'acc_acme_prod'"
    ).fetchone()
    assert name == "Acme Production Inc"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE catalog.price_plans SET grace_period_days = grace_period_days + 1",
        "DELETE FROM catalog.plan_assignments WHERE assignment_id = 'asg_acme_prod'",
        "INSERT INTO catalog.currencies VALUES ('XTS', 2)",
    ],
)
def test_a_table_changed_in_the_warehouse_needs_a_reload(warehouse, catalog_dir, statement):
    """Edited by hand (or by a test): the files are the truth, so the next night reloads."""
    write_catalog_tables(warehouse, load_catalog(catalog_dir))
    warehouse.execute(statement)
    assert not catalog_is_loaded(warehouse, catalog_dir)


def test_a_new_release_reloads(warehouse, catalog_dir, monkeypatch):
    write_catalog_tables(warehouse, load_catalog(catalog_dir))
    monkeypatch.setattr(tables_module, "code_version", lambda: "another release")
    assert not catalog_is_loaded(warehouse, catalog_dir)


def test_a_missing_folder_is_never_loaded(warehouse, catalog_dir, tmp_path):
    write_catalog_tables(warehouse, load_catalog(catalog_dir))
    assert not catalog_is_loaded(warehouse, tmp_path / "nowhere")
