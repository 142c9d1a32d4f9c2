"""The serving snapshot (CONTRACT §2): the marts copied into their own DuckDB file, switched in
atomically, so the dashboards never read a half-built run nor hold the warehouse's lock.

Publishing writes a complete new file next to the old one and renames it over the old one
(`os.replace`, atomic on one filesystem). A reader that already opened the old file keeps
reading the old version until it reconnects; a run that fails before this step, or while
copying, leaves the served file untouched.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

MARTS_SCHEMA = "marts"
# Lineage below the marts that the finance drill-down reads (invoice line → its events with
# the share of the line each one carries, SEMANTICS 18-19), served under the same name.
LINEAGE_TABLES = (("intermediate", "int_event_revenue_attributions"),)
INFO_TABLE = "snapshot_info"  # main.snapshot_info: one row describing the published run


class ServingError(Exception):
    """The snapshot could not be published; the previous one is still served."""


@dataclass(frozen=True)
class PublishedSnapshot:
    path: Path
    tables: tuple[str, ...]
    published_at: datetime


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
    con: duckdb.DuckDBPyConnection, serving_path: Path | str, *, run_clock: datetime
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
        con.execute(f"ATTACH {_literal(str(staging))} AS {alias}")
        attached = True
        for schema in sorted({schema for schema, _ in tables}):
            con.execute(f"CREATE SCHEMA {alias}.{_quote(schema)}")
        for schema, name in tables:
            con.execute(
                f"CREATE TABLE {alias}.{_quote(schema)}.{_quote(name)} AS "
                f"SELECT * FROM {_quote(schema)}.{_quote(name)}"
            )
        con.execute(
            f"CREATE TABLE {alias}.main.{INFO_TABLE} AS SELECT "
            "CAST(? AS TIMESTAMPTZ) AS published_at, CAST(? AS TIMESTAMPTZ) AS run_clock, "
            "CAST(? AS INTEGER) AS served_tables",
            [published_at, run_clock, len(tables)],
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
    )


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
