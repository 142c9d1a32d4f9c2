"""The serving snapshot (CONTRACT §2): the marts copied into their own DuckDB file, switched in
atomically, so the dashboards never read a half-built run nor hold the warehouse's lock.

Publishing writes a complete new file next to the old one and renames it over the old one
(`os.replace`, atomic on one filesystem). A reader that already opened the old file keeps
reading the old version until it reconnects; a run that fails before this step, or while
copying, leaves the served file untouched.

The new file starts as a copy of the served one, and only the tables whose columns or rows
changed since are copied again from the warehouse (`main.snapshot_tables` keeps the hash of
each served table's rows): a night with nothing new rewrites nothing but the run's row in
`snapshot_info`. A served file without those hashes (an older release's), or with as much
free space as data (tables copied again leave their old blocks free), is rewritten whole.
A log that only gains rows (APPEND_ONLY) gets only its new rows when the served copy is
exactly its rows up to the copy's last time.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dagster_project.lib.warehouse import table_rows_hash

MARTS_SCHEMA = "marts"
# Lineage below the marts that the finance drill-down reads (invoice line → its events with
# the share of the line each one carries, SEMANTICS 18-19), served under the same name.
LINEAGE_TABLES = (("intermediate", "int_event_revenue_attributions"),)
INFO_TABLE = "snapshot_info"  # main.snapshot_info: one row describing the published run
# main.snapshot_tables: each served table with the hash of its columns and rows as copied.
TABLES_TABLE = "snapshot_tables"
# Logs that only gain rows, with the column their new rows come after: a night's payment
# tries append to 240k action logs, whose whole copy was 1.4 s of the night's 2.3 s publish.
APPEND_ONLY = {(MARTS_SCHEMA, "fct_workflow_action_logs"): "started_at"}


class ServingError(Exception):
    """The snapshot could not be published; the previous one is still served."""


@dataclass(frozen=True)
class PublishedSnapshot:
    path: Path
    tables: tuple[str, ...]
    published_at: datetime
    copied: tuple[str, ...]  # the tables copied whole from the warehouse
    appended: tuple[str, ...] = ()  # the logs given only their new rows; the others were kept


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def served_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, name) of every table and view to serve: all of `marts`, plus the lineage."""
    rows = con.execute(
        """select table_schema, table_name from information_schema.tables
           where table_catalog = current_database() and table_schema = ?
           order by table_name""",
        [MARTS_SCHEMA],
    ).fetchall()
    present = {
        (schema, name)
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database()"
        ).fetchall()
    }
    return [tuple(row) for row in rows] + [t for t in LINEAGE_TABLES if t in present]


def publish_snapshot(
    con: duckdb.DuckDBPyConnection,
    serving_path: Path | str,
    *,
    run_clock: datetime,
    append_only: dict[tuple[str, str], str] = APPEND_ONLY,
) -> PublishedSnapshot:
    """Copy the served tables from the warehouse behind `con` into a new file and switch it in.

    Views (rpt_late_usage) are copied as tables: the snapshot stands alone, with no reference
    back to the warehouse file.
    """
    serving = Path(serving_path)
    serving.parent.mkdir(parents=True, exist_ok=True)
    tables = served_tables(con)
    if not any(schema == MARTS_SCHEMA for schema, _ in tables):
        raise ServingError(
            f"the warehouse has no tables in schema {MARTS_SCHEMA!r}; nothing to publish "
            f"to {serving}"
        )
    # Hidden name in the same folder (one filesystem, so the rename is atomic); unique per
    # attempt so a crashed publish never collides with the next one.
    staging = serving.with_name(f".{serving.name}.{uuid.uuid4().hex[:12]}.tmp")
    alias = "serving_next"
    published_at = datetime.now(UTC)
    attached = False
    try:
        hashes = {table: table_rows_hash(con, _name(table)) for table in tables}
        previous = _previous_hashes(con, serving)
        if previous:
            shutil.copyfile(serving, staging)
        con.execute(f"ATTACH {_literal(str(staging))} AS {alias}")
        attached = True
        kept = {table for table in tables if previous.get(table) == hashes[table]}
        appended = [
            table
            for table in tables
            if table not in kept
            and table in append_only
            and table in previous
            and _served_copy_is_a_beginning(con, alias, table, append_only[table], previous)
        ]
        for schema, name in _served_in(con, alias) if previous else ():
            if (schema, name) not in kept and (schema, name) not in appended:
                con.execute(f"DROP TABLE {alias}.{_name((schema, name))}")
        for schema in sorted({schema for schema, _ in tables}):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {alias}.{_quote(schema)}")
        copied = [table for table in tables if table not in kept and table not in appended]
        for table in copied:
            con.execute(f"CREATE TABLE {alias}.{_name(table)} AS SELECT * FROM {_name(table)}")
        for table in appended:
            con.execute(
                f"INSERT INTO {alias}.{_name(table)} SELECT * FROM {_name(table)} "
                f"WHERE {_after_served(alias, table, append_only[table])}"
            )
        con.execute(
            f"CREATE OR REPLACE TABLE {alias}.main.{INFO_TABLE} AS SELECT "
            "CAST(? AS TIMESTAMPTZ) AS published_at, CAST(? AS TIMESTAMPTZ) AS run_clock, "
            "CAST(? AS INTEGER) AS served_tables",
            [published_at, run_clock, len(tables)],
        )
        con.execute(
            f"CREATE OR REPLACE TABLE {alias}.main.{TABLES_TABLE} "
            "(table_schema VARCHAR, table_name VARCHAR, rows_hash VARCHAR)"
        )
        con.executemany(
            f"INSERT INTO {alias}.main.{TABLES_TABLE} VALUES (?, ?, ?)",
            [[schema, name, hashes[(schema, name)]] for schema, name in tables],
        )
        con.execute(f"CHECKPOINT {alias}")
        con.execute(f"DETACH {alias}")
        attached = False
        _fsync(staging)
        os.replace(staging, serving)
    except Exception as error:
        if attached:
            con.execute(f"DETACH {alias}")
        for leftover in (staging, staging.with_name(staging.name + ".wal")):
            leftover.unlink(missing_ok=True)
        if isinstance(error, ServingError):
            raise
        raise ServingError(
            f"publishing the serving snapshot {serving} failed ({type(error).__name__}: "
            f"{error}); the previous snapshot is still served"
        ) from error
    return PublishedSnapshot(
        path=serving,
        tables=tuple(f"{schema}.{name}" for schema, name in tables),
        published_at=published_at,
        copied=tuple(f"{schema}.{name}" for schema, name in copied),
        appended=tuple(f"{schema}.{name}" for schema, name in appended),
    )


def _after_served(alias: str, table: tuple[str, str], column: str) -> str:
    """The rows after the served copy's last value of `column` (its new rows)."""
    return f"{_quote(column)} > (SELECT max({_quote(column)}) FROM {alias}.{_name(table)})"


def _served_copy_is_a_beginning(
    con: duckdb.DuckDBPyConnection,
    alias: str,
    table: tuple[str, str],
    column: str,
    previous: dict[tuple[str, str], str],
) -> bool:
    """The served copy (in the new file, copied from the served one) holds exactly the
    warehouse's rows that are not after it, with the same columns: the rest are new rows.
    Rows with a null `column` count among the served ones, so none is ever left out."""
    try:
        beginning = table_rows_hash(
            con, _name(table), where=f"not coalesce({_after_served(alias, table, column)}, false)"
        )
    except duckdb.Error:  # no such column any more: copied whole
        return False
    return beginning == previous[table]


def _name(table: tuple[str, str]) -> str:
    schema, name = table
    return f"{_quote(schema)}.{_quote(name)}"


def _served_in(con: duckdb.DuckDBPyConnection, alias: str) -> list[tuple[str, str]]:
    """The served tables a snapshot file holds (not its own two `main` tables)."""
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? "
        "and schema_name <> 'main'",
        [alias],
    ).fetchall()
    return [tuple(row) for row in rows]


def _previous_hashes(con: duckdb.DuckDBPyConnection, serving: Path) -> dict[tuple[str, str], str]:
    """The served file's table hashes, when it is one this release can build on; else {}
    (no file, an older release's, unreadable, or half free space: rewritten whole)."""
    if not serving.exists():
        return {}
    alias = "serving_previous"
    try:
        con.execute(f"ATTACH {_literal(str(serving))} AS {alias} (READ_ONLY)")
    except duckdb.Error:
        return {}
    try:
        free, total = con.execute(
            "select free_blocks, total_blocks from pragma_database_size() where database_name = ?",
            [alias],
        ).fetchone()
        if free * 2 > total:
            return {}
        rows = con.execute(
            f"select table_schema, table_name, rows_hash from {alias}.main.{TABLES_TABLE}"
        ).fetchall()
    except duckdb.Error:
        return {}
    finally:
        con.execute(f"DETACH {alias}")
    return {(schema, name): rows_hash for schema, name, rows_hash in rows}


def _fsync(path: Path) -> None:
    """The new file is on disk before it replaces the old one."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def snapshot_version(serving_path: Path | str) -> str | None:
    """A fingerprint that changes whenever a new snapshot is switched in (None: none yet).

    The rename gives the served path a new inode each time, so readers notice a new version
    without opening the file.
    """
    try:
        stat = Path(serving_path).stat()
    except FileNotFoundError:
        return None
    return f"{stat.st_ino}-{stat.st_mtime_ns}-{stat.st_size}"
