"""The one way Python code opens the DuckDB warehouse, with the operator's resource limits."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


def connect_warehouse(
    path: Path | str,
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    temp_dir: Path | str | None = None,
    read_only: bool = False,
) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    # Billing clocks are UTC; naive event timestamps are read as UTC (CONTRACT §1.1).
    con.execute("SET TimeZone = 'UTC'")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if temp_dir:
        Path(temp_dir).mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{Path(temp_dir)}'")
    return con


@contextmanager
def warehouse_connection(path: Path | str, **options) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect_warehouse(path, **options)
    try:
        yield con
    finally:
        con.close()


def copy_warehouse(warehouse: Path | str, target: Path | str) -> None:
    """A copy of a closed warehouse file, with its write-ahead log when it has one."""
    warehouse, target = Path(warehouse), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(warehouse, target)
    wal = warehouse.with_name(warehouse.name + ".wal")
    if wal.exists():  # a run that crashed leaves its last transactions in the WAL
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))


def table_rows_hash(con: duckdb.DuckDBPyConnection, table: str, where: str = "true") -> str:
    """A hash of a table's columns and rows whatever the rows' order: the same columns and
    rows, the same hash. The rows' part is the count and the sum of each row's hash, so no
    sort (a tenth of the time of hashing the sorted rows); DuckDB's `hash`, so only within one
    DuckDB version: a new one merely recomputes what it guards. `where` hashes only the rows
    it keeps, with the table's columns (is this table's beginning an earlier copy of it?)."""
    columns = con.execute(f"describe {table}").fetchall()
    rows, total = con.execute(
        f"select count(*), sum(hash(r)::hugeint) from {table} r where {where}"
    ).fetchone()
    described = ",".join(f"{name} {type_}" for name, type_, *_ in columns)
    return hashlib.sha256(f"{described}|{rows}|{total}".encode()).hexdigest()
