"""dbt's unit tests (fixed inputs → expected rows), which the nightly build leaves out: run
once here against a copy of the rating warehouse, whose relations give dbt the input types."""

from __future__ import annotations

import json

from dagster_project.lib.dbt import tallyhouse_dbt

from .conftest import dbt_test, warehouse_copy


def test_every_dbt_unit_test_passes(rated, tmp_path):
    manifest = json.loads(tallyhouse_dbt.manifest_path.read_text())
    declared = {t["name"] for t in manifest["unit_tests"].values()}
    assert len(declared) >= 3

    done, results = dbt_test(warehouse_copy(rated, tmp_path), tmp_path, "test_type:unit")
    assert done.returncode == 0, done.stdout[-3000:]
    passed = {r["unique_id"].split(".")[-1] for r in results if r["status"] == "pass"}
    assert passed == declared
