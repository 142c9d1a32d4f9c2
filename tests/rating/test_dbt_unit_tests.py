"""dbt's unit tests (fixed inputs → expected rows), which the nightly build leaves out: run
once here against a copy of the rating warehouse, whose relations give dbt the input types."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from dagster_project.lib.dbt import DBT_PROJECT_DIR, tallyhouse_dbt


def test_every_dbt_unit_test_passes(rated, tmp_path):
    manifest = json.loads(tallyhouse_dbt.manifest_path.read_text())
    declared = {t["name"] for t in manifest["unit_tests"].values()}
    assert len(declared) >= 3

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(rated.warehouse, warehouse)
    target = tmp_path / "target"
    env = dict(os.environ, TALLYHOUSE_WAREHOUSE=str(warehouse))
    done = subprocess.run(
        ["dbt", "test", "--select", "test_type:unit", "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    results = json.loads((target / "run_results.json").read_text())["results"]
    passed = {r["unique_id"].split(".")[-1] for r in results if r["status"] == "pass"}
    assert passed == declared
