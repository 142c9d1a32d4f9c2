"""Views are created again only when their SQL changed (dbt_project/macros/view.sql): the
comment a view carries is the md5 of the SQL it was created from, and decides."""

from __future__ import annotations

from pathlib import Path

import duckdb

from .conftest import dbt_ok, warehouse_copy

KEPT, CHANGED, WAS_TABLE = (
    "stg_catalog__currencies",
    "stg_catalog__customers",
    "stg_catalog__price_plans",
)


def _dbt_run(warehouse: Path, target: Path, *args: str) -> None:
    select = ["--select", KEPT, CHANGED, WAS_TABLE, "--target-path", str(target)]
    dbt_ok("run", *select, *args, TALLYHOUSE_WAREHOUSE=str(warehouse))


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _views(warehouse: Path) -> dict[str, str]:
    return dict(
        _query(
            warehouse,
            "select view_name, comment from duckdb_views() where schema_name = 'staging'",
        )
    )


def _hand_view(con, name: str, comment: str) -> None:
    con.execute(f"create or replace view staging.{name} as select 'by hand' as marker")
    con.execute(f"comment on view staging.{name} is '{comment}'")


def _columns(warehouse: Path, name: str) -> list[str]:
    return [c[0] for c in _query(warehouse, f"describe staging.{name}")]


def test_a_view_is_replaced_only_when_its_sql_changed(rated, tmp_path):
    warehouse = warehouse_copy(rated, tmp_path)
    built = _views(warehouse)
    # The nightly build left each view with the md5 of its SQL.
    assert built[KEPT].startswith("dbt view sql md5 ")
    assert built[KEPT] != built[CHANGED]

    with duckdb.connect(str(warehouse)) as con:
        # Same fingerprint, other SQL: the materialization must trust the fingerprint.
        _hand_view(con, KEPT, built[KEPT])
        # Another fingerprint (the model's SQL changed since): replaced.
        _hand_view(con, CHANGED, "dbt view sql md5 of an older release")
        # A table where the view belongs (the model was a table): replaced by the view.
        con.execute(f"drop view staging.{WAS_TABLE}")
        con.execute(f"create table staging.{WAS_TABLE} as select 1 as marker")

    target = tmp_path / "target"
    _dbt_run(warehouse, target)
    after = _views(warehouse)
    assert _columns(warehouse, KEPT) == ["marker"]
    assert "marker" not in _columns(warehouse, CHANGED)
    assert after[CHANGED] == built[CHANGED]
    assert after[WAS_TABLE] == built[WAS_TABLE]
    assert "marker" not in _columns(warehouse, WAS_TABLE)

    # A full refresh creates every view again, whatever its fingerprint.
    _dbt_run(warehouse, target, "--full-refresh")
    assert "marker" not in _columns(warehouse, KEPT)
    assert _views(warehouse)[KEPT] == built[KEPT]
