"""The primary_key generic test (dbt's unique and not_null in one query): a key value that is
null or held by more than one row fails it, once per key value, and only on its model."""

from __future__ import annotations

import duckdb

from .conftest import dbt_test, declared_tests, warehouse_copy


def test_a_null_or_repeated_key_fails_its_models_test_once_per_key(rated, tmp_path):
    warehouse = warehouse_copy(rated, tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        ids = [r[0] for r in con.execute("select invoice_id from marts.fct_invoices").fetchall()]
        assert len(ids) >= 3
        # One row loses its key (a single null: not a repeated value), another takes a third's.
        con.execute("update marts.fct_invoices set invoice_id = null where invoice_id = ?", ids[:1])
        con.execute(
            "update marts.fct_invoices set invoice_id = ? where invoice_id = ?", [ids[2], ids[1]]
        )
    done, results = dbt_test(warehouse, tmp_path, "test_name:primary_key")
    assert done.returncode == 1, done.stdout[-3000:]
    failed = {r["unique_id"].split(".")[2]: r["failures"] for r in results if r["status"] != "pass"}
    assert failed == {"primary_key_fct_invoices_invoice_id": 2}
    # Every key folded this way ran its test, and the others passed.
    declared = declared_tests("primary_key")
    assert len(declared) == 14
    assert {r["unique_id"].split(".")[2] for r in results} == declared
