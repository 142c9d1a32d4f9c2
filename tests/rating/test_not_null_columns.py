"""The not_null_columns generic test (one test per model over its not-null columns): a null in
any listed column fails it, one failure per row, and only the model that has one."""

from __future__ import annotations

import duckdb

from .conftest import dbt_test, declared_tests, warehouse_copy


def test_a_null_in_any_listed_column_fails_its_models_test(rated, tmp_path):
    warehouse = warehouse_copy(rated, tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        # Two rows, each with a null in a different listed column (the first and the last).
        for column, row in (("invoice_id", "min"), ("rounded_amount", "max")):
            con.execute(
                f"update intermediate.int_rated_usage set {column} = null "
                f"where rowid = (select {row}(rowid) from intermediate.int_rated_usage)"
            )
    done, results = dbt_test(warehouse, tmp_path, "test_name:not_null_columns")
    assert done.returncode == 1, done.stdout[-3000:]
    failed = {r["unique_id"].split(".")[2]: r["failures"] for r in results if r["status"] != "pass"}
    assert failed == {
        "not_null_columns_int_rated_usage_invoice_id__rate_card_id__account_id__plan_id__meter_id__quantity__slab_amount__amount__rounded_amount": 2  # noqa: E501
    }
    # Every model that folds its not-null columns ran its test, and the others passed.
    declared = declared_tests("not_null_columns")
    assert len(declared) == 16
    assert {r["unique_id"].split(".")[2] for r in results} == declared
