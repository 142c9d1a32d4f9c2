"""The models built in batches (macros/batches.sql) give the same rows whatever the number of
batches: the rating warehouse's attributions and pipeline log, rebuilt in many small
batches, first from scratch and then as an incremental night, equal the one-batch build."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import duckdb

from .cases import AS_OF
from .conftest import dbt_ok, warehouse_copy

BATCHED = {
    "int_event_revenue_attributions": "intermediate",
    "fct_event_pipeline_log": "marts",
}


def _rows(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            model: sorted(con.execute(f"select * from {schema}.{model}").fetchall(), key=repr)
            for model, schema in BATCHED.items()
        }


def _batches_run(log: Path) -> Counter:
    """How many times each batch number was built, from dbt's debug log of the run."""
    return Counter(re.findall(r"set variable tallyhouse_batch = (\d+);", log.read_text()))


def _scans(node: dict | list) -> dict[str, str]:
    """Table name -> the filters of its scans, from a JSON query plan."""
    found: dict[str, str] = {}
    for op in node if isinstance(node, list) else [node]:
        info = op.get("extra_info", {})
        if op["name"] == "SEQ_SCAN" and "Table" in info:
            filters = info.get("Filters", "")
            table = info["Table"].rsplit(".", 1)[-1]
            found[table] = found.get(table, "") + " ".join(
                filters if isinstance(filters, list) else [filters]
            )
        for table, filters in _scans(op.get("children", [])).items():
            found[table] = found.get(table, "") + filters
    return found


def _build_in_batches(warehouse: Path, models, per_batch: int, *args: str) -> None:
    """`dbt run` of the models on the warehouse, about per_batch meter matches a batch."""
    dbt_ok(
        "run",
        "--select",
        *models,
        "--vars",
        f"{{matches_per_batch: {per_batch}}}",
        *args,
        TALLYHOUSE_WAREHOUSE=str(warehouse),
        TALLYHOUSE_AS_OF=AS_OF,
    )


def test_many_small_batches_build_the_same_rows(rated, tmp_path):
    one_batch = _rows(rated.warehouse)
    with duckdb.connect(str(rated.warehouse), read_only=True) as con:
        [(matches,)] = con.execute(
            "select count(*) from intermediate.int_event_meter_matches"
        ).fetchall()
    assert min(len(rows) for rows in one_batch.values()) > 50  # enough rows to split
    warehouse = warehouse_copy(rated, tmp_path)
    per_batch = 10
    batches = -(-matches // per_batch)  # ceil
    assert batches >= 5

    for run, extra in (("full", ["--full-refresh"]), ("incremental", [])):
        target = tmp_path / f"target-{run}"
        _build_in_batches(
            warehouse,
            BATCHED,
            per_batch,
            *extra,
            "--target-path",
            str(target),
            "--log-path",
            str(target),
            "--log-level-file",
            "debug",
        )
        # Each model built every batch once (both count the same meter matches).
        assert _batches_run(target / "dbt.log") == Counter(
            {str(batch): len(BATCHED) for batch in range(batches)}
        ), run
        assert _rows(warehouse) == one_batch, run

    # A batch is a key range that DuckDB pushes into the scans (zone maps skip the other
    # batches' row groups of a table stored in key order; estimates stay sane), not a test
    # evaluated on every row: in the plan of one batch, the scans filter on the range of the
    # key's first column.
    plans = {
        model: _batch_plan(tmp_path / "target-full", warehouse, model, low=0.4, high=0.6)
        for model in BATCHED
    }
    (low, high), scans = plans["fct_event_pipeline_log"]
    for table in (
        "int_event_records_resolved",
        "int_event_meter_matches",
        "int_event_revenue_attributions",
    ):
        assert f"record_seq >= {low['record_seq']}" in scans[table], (table, scans)
        assert f"record_seq <= {high['record_seq']}" in scans[table], (table, scans)
    # The attributions' key is (meter, invoice): the meter matches, stored meter by meter,
    # are read for the batch's meters only.
    (low, high), scans = plans["int_event_revenue_attributions"]
    for table in ("int_rated_usage", "int_event_meter_matches"):
        assert f"meter_id >= '{low['meter_id']}'" in scans[table], (table, scans)
        assert f"meter_id <= '{high['meter_id']}'" in scans[table], (table, scans)


def _batch_plan(target: Path, warehouse: Path, model: str, low: float, high: float):
    """The bounds (as structs of the model's batch key, read from the run's manifest) and the
    scans' filters of the batch between two quantiles of the meter matches' keys, from the
    compiled model."""
    [sql] = (target / "compiled").rglob(f"{model}.sql")
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    [key] = [n["config"]["batch_key"] for n in nodes.values() if n["name"] == model]
    columns = [key] if isinstance(key, str) else key
    struct = "{" + ", ".join(f"'{c}': {c}" for c in columns) + "}"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(
            f"set variable tallyhouse_batch_from = (select quantile_disc({struct}, {low}) "
            "from intermediate.int_event_meter_matches)"
        )
        con.execute(
            f"set variable tallyhouse_batch_to = (select quantile_disc({struct}, {high}) "
            "from intermediate.int_event_meter_matches)"
        )
        [bounds] = con.execute(
            "select getvariable('tallyhouse_batch_from'), getvariable('tallyhouse_batch_to')"
        ).fetchall()
        [(_, plan)] = con.execute("explain (format json) " + sql.read_text()).fetchall()
    return bounds, _scans(json.loads(plan))


def test_bounds_with_null_columns_still_partition(rated, tmp_path):
    """Keys compare as structs, a null column after every value. With most matches' meter
    null, the upper bounds are structs of a null meter: a batch below such a bound still
    holds every row up to it (a comparison with the null column would drop them), so the
    batched attributions equal the one-batch build of the same matches."""
    warehouse = warehouse_copy(rated, tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update intermediate.int_event_meter_matches set meter_id = null "
            "where hash(record_seq) % 10 < 6"
        )
    built = {}
    for per_batch in (10**9, 10):
        _build_in_batches(
            warehouse, ["int_event_revenue_attributions"], per_batch, "--full-refresh"
        )
        built[per_batch] = _rows(warehouse)["int_event_revenue_attributions"]
    assert len(built[10]) > 20
    assert built[10] == built[10**9]


def test_the_batched_models_compile_on_a_fresh_warehouse(tmp_path):
    """Before any build there are no meter matches to count: one batch, the plain SQL."""
    target = tmp_path / "target"
    dbt_ok(
        "compile",
        "--select",
        *BATCHED,
        "--target-path",
        str(target),
        TALLYHOUSE_WAREHOUSE=str(tmp_path / "fresh.duckdb"),
        TALLYHOUSE_AS_OF=AS_OF,
    )
    for model in BATCHED:
        [sql] = (target / "compiled").rglob(f"{model}.sql")
        assert "tallyhouse_batch" not in sql.read_text(), model
