"""The Spark engine: the dbt models on Apache Spark (dbt-spark), the Python assets beside it.

On Spark the warehouse is two stores with one owner each:
- the dbt models' tables are Parquet tables in Spark's warehouse
  (<spark_dir>/warehouse/<schema>.db/<table>), built by dbt-spark;
- the Python assets (catalog, ingestion, billing calendar, invoicing, payments) keep their
  tables in an embedded DuckDB file (TALLYHOUSE_WAREHOUSE, their working store) and publish
  them after every step as Parquet (<spark_dir>/sources/<schema>/<table>), which every dbt
  run registers first as the external tables its sources name (macro register_sources).
`spark_store` is the connection the warehouse resource hands to a Python asset on Spark: the
working store, with Spark's model tables attached as views over their Parquet files, and the
source tables published when the step succeeds. The dbt models run unchanged: every
engine-specific piece is an `adapter.dispatch` macro (dbt_project/macros).

A local PySpark keeps its Hive metastore (Derby: one process at a time) and its table files
in `spark_dir` (TALLYHOUSE_SPARK_DIR, read by profiles.yml). See docs/scale-out.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

from dagster_project.lib.dbt import DBT_PROJECT_DIR
from dagster_project.lib.environment import environment

# The schemas the Python assets write (dbt sources, dbt_project/models/staging/_sources.yml).
SOURCE_SCHEMAS = ("raw", "catalog", "billing")
# The schemas of dbt's tables that Python reads (invoicing, checks, the serving snapshot).
MODEL_SCHEMAS = ("intermediate", "marts")


def spark_conf(spark_dir: Path) -> dict[str, str]:
    """The local session's settings; the same as the `spark` output of profiles.yml."""
    spark_dir = Path(spark_dir).resolve()
    return {
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir}",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "4",
        "spark.ui.enabled": "false",
        # No progress bars on stdout: they would break dbt's JSON log lines that Dagster reads.
        "spark.ui.showConsoleProgress": "false",
        # A local session talks to itself only: loopback, never the machine's interfaces.
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        # The exact-money expressions are large: interpreted, not compiled to Java (the
        # generated methods pass the JVM's 64 KB limit and Spark retries each one).
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.codegen.factoryMode": "NO_CODEGEN",
        "spark.driver.memory": os.environ.get("TALLYHOUSE_SPARK_MEMORY", "4g"),
        # dbt-spark forces ANSI off; the money macros are written for either (they never
        # depend on an overflow raising, see money.sql).
        "spark.sql.ansi.enabled": "false",
        # Decimal sums and products keep their scale (or overflow to NULL), never round:
        # DECIMAL(38,12) + DECIMAL(38,12) would otherwise drop to 11 places (SPARK-29123).
        "spark.sql.decimalOperations.allowPrecisionLoss": "false",
        # Instants as Parquet's UTC-adjusted microseconds (not INT96): DuckDB reads them back
        # as TIMESTAMPTZ, as the Python assets expect.
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    }


def spark_session(spark_dir: Path):
    """The process's SparkSession (dbt-spark's session mode reuses it: getOrCreate)."""
    from pyspark.sql import SparkSession

    Path(spark_dir).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master("local[2]").appName("tallyhouse").enableHiveSupport()
    for key, value in spark_conf(spark_dir).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def export_sources(warehouse: Path, parquet_dir: Path) -> list[tuple[str, str]]:
    """Copy every table the Python assets wrote in a DuckDB warehouse to Parquet, one folder
    per table (<parquet_dir>/<schema>/<table>/data.parquet)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return write_sources(con, parquet_dir)
    finally:
        con.close()


def write_sources(con: duckdb.DuckDBPyConnection, parquet_dir: Path) -> list[tuple[str, str]]:
    """Every base table of the source schemas as <parquet_dir>/<schema>/<table>/data.parquet,
    each replaced whole (written beside, then renamed: Spark skips dot-files meanwhile)."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_catalog = current_database() and table_schema in {SOURCE_SCHEMAS} "
        "and table_type = 'BASE TABLE' order by 1, 2"
    ).fetchall()
    for schema, table in tables:
        folder = Path(parquet_dir) / schema / table
        folder.mkdir(parents=True, exist_ok=True)
        query = f'select * from "{schema}"."{table}"'
        if (schema, table) == ("catalog", "usage_meters"):
            query = _meters_in_spark_sql(con)
        partial = folder / ".data.parquet.partial"
        con.execute(f"copy ({query}) to '{partial}' (format parquet)")
        os.replace(partial, folder / "data.parquet")
    return tables


def schema_dir(spark_dir: Path, schema: str) -> Path:
    """The folder of a schema's tables in Spark's warehouse (one subfolder per table)."""
    return Path(spark_dir).resolve() / "warehouse" / f"{schema}.db"


def attach_models(con: duckdb.DuckDBPyConnection, spark_dir: Path) -> None:
    """Spark's model tables as views of the same names over their Parquet files; a view whose
    table is gone is dropped. An incremental model's files sit in its rating_window
    partitions and its _schema folder (macros/incremental.sql); the partition column is
    Spark's bookkeeping and stays out of the view."""
    for schema in MODEL_SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
        present = {
            folder.name: folder
            for folder in schema_dir(spark_dir, schema).glob("*")
            if folder.is_dir() and any(folder.rglob("*.parquet"))
        }
        views = con.execute(
            "select table_name from information_schema.tables where table_catalog = "
            "current_database() and table_schema = ? and table_type = 'VIEW'",
            [schema],
        ).fetchall()
        for (name,) in views:
            if name not in present:
                con.execute(f'drop view "{schema}"."{name}"')
        for name, folder in present.items():
            con.execute(
                f'create or replace view "{schema}"."{name}" as '
                f"select * from read_parquet('{folder}/**/*.parquet', hive_partitioning = false)"
            )


@contextmanager
def spark_store(
    path: Path, spark_dir: Path, *, writes: bool = True, **options
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The Python assets' connection on Spark (see the module's docstring): the working store
    with Spark's models attached. A step that writes publishes its source tables when it
    succeeds; a failed step publishes nothing, so dbt never reads a half-written step."""
    from dagster_project.lib.ingestion import ensure_raw_tables
    from dagster_project.lib.invoicing.warehouse import ensure_billing_tables
    from dagster_project.lib.payments import ensure_payment_tables
    from dagster_project.lib.warehouse import connect_warehouse

    con = connect_warehouse(path, **options)
    try:
        # Every source dbt names exists from the first night on (empty until written).
        ensure_raw_tables(con)
        ensure_billing_tables(con)
        ensure_payment_tables(con)
        attach_models(con, spark_dir)
        yield con
        if writes:
            write_sources(con, Path(spark_dir).resolve() / "sources")
    finally:
        con.close()


def _meters_in_spark_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The meters with their filter/value/key SQL compiled again, for Spark, from the same
    JSON Logic (the catalog loader compiles for DuckDB)."""
    import pyarrow as pa

    from rule_engine import compile_filter, compile_key, compile_value, load_logic

    meters = con.sql("select * from catalog.usage_meters").to_arrow_table()
    filters, values, keys = [], [], []
    for filter_json, value_json, duckdb_key in zip(
        meters.column("filter_logic").to_pylist(),
        meters.column("value_logic").to_pylist(),
        meters.column("key_sql").to_pylist(),
        strict=True,
    ):
        flt = load_logic(filter_json) if filter_json is not None else None
        val = load_logic(value_json) if value_json is not None else None
        filters.append(compile_filter(flt, dialect="spark") if flt is not None else "true")
        values.append(compile_value(val, dialect="spark") if val is not None else None)
        # A key where the catalog compiled one (UNIQUE_COUNT meters).
        keys.append(compile_key(val, dialect="spark") if duckdb_key is not None else None)
    for name, column in (("filter_sql", filters), ("value_sql", values), ("key_sql", keys)):
        index = meters.schema.get_field_index(name)
        meters = meters.set_column(index, name, pa.array(column, pa.string()))
    con.register("usage_meters_spark", meters)
    return "select * from usage_meters_spark"


def dbt_on_spark(args: list[str], *, spark_dir: Path, as_of: datetime) -> None:
    """One dbt command against the local Spark session, in this process."""
    from dbt.cli.main import dbtRunner

    spark_dir = Path(spark_dir).resolve()
    env = {
        "TALLYHOUSE_TARGET": "spark",
        "TALLYHOUSE_SPARK_DIR": str(spark_dir),
        "TALLYHOUSE_AS_OF": as_of.isoformat(),
    }
    with environment(env):
        result = dbtRunner().invoke(
            [
                *args,
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target",
                "spark",
                "--target-path",
                str(spark_dir / "dbt_target"),
                "--log-path",
                str(spark_dir / "dbt_logs"),
            ]
        )
    if not result.success:
        failed = []
        for r in getattr(result.result, "results", None) or []:
            if str(r.status) in ("error", "fail"):
                failed.append(f"{r.node.unique_id}: {r.message}")
        raise RuntimeError(
            "dbt on Spark failed: "
            + ("; ".join(failed) or str(result.exception))
            + f" (log: {spark_dir / 'dbt_logs'})"
        )
