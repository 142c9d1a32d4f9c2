"""The marts that pass a stored table through are views in the warehouse (no nightly copy of
a growing table) and tables in the serving snapshot (it never points back into the warehouse).
"""

from __future__ import annotations

import duckdb

PASS_THROUGH = (
    "fct_credit_ledger",
    "fct_invoice_line_items",
    "fct_pricing_rule_log",
    "fct_wallet_ledger",
    "fct_workflow_action_logs",
    "fct_workflow_runs",
    "rpt_late_usage",
)


def _kinds(con) -> dict[str, str]:
    return dict(
        con.execute(
            """select table_name, table_type from information_schema.tables
               where table_schema = 'marts' and list_contains(?, table_name) order by 1""",
            [list(PASS_THROUGH)],
        ).fetchall()
    )


def test_pass_through_marts_are_views_in_the_warehouse_and_tables_when_served(tiny_billed):
    warehouse = duckdb.connect(str(tiny_billed.warehouse), read_only=True)
    served = duckdb.connect(str(tiny_billed.settings.serving), read_only=True)
    try:
        assert _kinds(warehouse) == dict.fromkeys(PASS_THROUGH, "VIEW")
        assert _kinds(served) == dict.fromkeys(PASS_THROUGH, "BASE TABLE")
        # The view is the stored lines, finalized and draft; the snapshot holds the same rows.
        lines = "select line_item_id, invoice_id, amount from marts.fct_invoice_line_items"
        stored = warehouse.execute(
            """select line_item_id, invoice_id, amount from billing.finalized_invoice_line_items
               union all
               select line_item_id, invoice_id, amount from billing.draft_invoice_line_items"""
        ).fetchall()
        assert len(stored) > 4
        assert sorted(warehouse.execute(lines).fetchall()) == sorted(stored)
        assert sorted(served.execute(lines).fetchall()) == sorted(stored)
    finally:
        warehouse.close()
        served.close()
