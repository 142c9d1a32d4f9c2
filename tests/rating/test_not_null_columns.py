"""The not_null_columns generic test (one test per model over its not-null columns): a null in
any listed column fails it, one failure per row, and only the model that has one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import duckdb

from dagster_project.lib.dbt import DBT_PROJECT_DIR, tallyhouse_dbt


def test_a_null_in_any_listed_column_fails_its_models_test(rated, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(rated.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        lines = [
            row
            for (row,) in con.execute(
                "select invoice_id || '/' || rate_card_id from intermediate.int_rated_usage "
                "order by all limit 2"
            ).fetchall()
        ]
        # Two rows, each with a null in a different listed column (the first and the last).
        for line, column in zip(lines, ("invoice_id", "rounded_amount"), strict=True):
            con.execute(
                f"update intermediate.int_rated_usage set {column} = null "
                "where invoice_id || '/' || rate_card_id = ?",
                [line],
            )
    target = tmp_path / "target"
    done = subprocess.run(
        ["dbt", "test", "--select", "test_name:not_null_columns", "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR,
        env=dict(os.environ, TALLYHOUSE_WAREHOUSE=str(warehouse)),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stdout[-3000:]
    results = [
        r
        for r in json.loads((target / "run_results.json").read_text())["results"]
        if r["unique_id"].startswith("test.")  # not the on-run-start hook
    ]
    failed = {r["unique_id"].split(".")[2]: r["failures"] for r in results if r["status"] != "pass"}
    assert failed == {
        "not_null_columns_int_rated_usage_invoice_id__rate_card_id__account_id__plan_id__meter_id__quantity__slab_amount__amount__rounded_amount": 2  # noqa: E501
    }
    # Every model that folds its not-null columns ran its test, and the others passed.
    manifest = json.loads(tallyhouse_dbt.manifest_path.read_text())
    declared = {
        node["name"]
        for node in manifest["nodes"].values()
        if (node.get("test_metadata") or {}).get("name") == "not_null_columns"
    }
    assert len(declared) == 16
    assert {r["unique_id"].split(".")[2] for r in results} == declared
