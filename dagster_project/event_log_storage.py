"""The embedded instance's event log (dagster.yaml): Dagster's run-sharded SQLite storage,
without rebuilding its database plumbing for every event.

Dagster's `SqliteEventLogStorage` creates a SQLAlchemy engine, opens a connection and commits
with an fsync for every event it stores, and an asset event writes to the run's shard and the
cross-run index shard. A night stores ~700 events, most of them dbt's asset checks and outputs:
that plumbing cost several seconds of a night with nothing to bill (bench/profile.md). Here:

- one engine per shard is kept, so SQLAlchemy sets up its dialect once, and each keeps its
  connection in a pool between events (no file opened and closed per event);
- a run shard checkpoints its write-ahead log into `<run_id>.db` after every use (a passive
  checkpoint: nothing to do after a read): the webserver streams a running job's events by
  watching that file change, which Dagster's class got from closing its last connection;
- commits use `synchronous=NORMAL`, which in WAL mode skips the fsync of each commit. A power
  cut can lose a run's last events, never corrupt the file; billing's record is the warehouse.

Files, schema and layout are Dagster's own: a stock instance reads the same `history/runs`.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from dagster._config import StringSource
from dagster._core.storage.event_log.sqlite import sqlite_event_log as dagster_sqlite
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# Engines kept per storage: the running job's shard and the index, plus the runs a webserver
# has open; older ones are disposed.
KEPT_ENGINES = 32


def _synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class SqliteEventLogStorage(dagster_sqlite.SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._tables_present: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls) -> dict:
        return {"dagster_home": StringSource}

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict
    ) -> SqliteEventLogStorage:
        # Where Dagster's default storage keeps event logs: DAGSTER_HOME/history/runs.
        base_dir = os.path.join(config_value["dagster_home"], "history", "runs")
        return cls(base_dir, inst_data=inst_data)

    def engine_for_shard(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = sa.create_engine(
            self.conn_string_for_shard(shard),
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=2,
        )
        sa.event.listen(engine, "connect", _synchronous_normal)
        self._engines[shard] = engine
        while len(self._engines) > KEPT_ENGINES:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self.engine_for_shard(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn
                if shard != dagster_sqlite.INDEX_SHARD_NAME:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def has_table(self, table_name: str) -> bool:
        # Asked before every asset-check event (~300 a night, ~1 ms each). Index tables are
        # not dropped while this storage lives (wipe deletes rows; it forgets anyway, to be
        # safe); an absent one is asked again, as a migration may add it.
        if table_name in self._tables_present:
            return True
        engine = self.engine_for_shard(dagster_sqlite.INDEX_SHARD_NAME)
        with engine.connect() as conn:
            present = bool(engine.dialect.has_table(conn, table_name))
        if present:
            self._tables_present.add(table_name)
        return present

    def wipe(self) -> None:
        self._dispose_engines()
        self._tables_present.clear()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()

    def _dispose_engines(self) -> None:
        while self._engines:
            _, engine = self._engines.popitem()
            engine.dispose()
