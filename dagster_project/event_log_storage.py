"""The embedded instance's event log (dagster.yaml): Dagster's run-sharded SQLite storage,
without rebuilding its database plumbing for every event.

Dagster's `SqliteEventLogStorage` creates a SQLAlchemy engine, opens a connection and commits
with an fsync for every event it stores, and an asset event writes to the run's shard and the
cross-run index shard. A night stores ~700 events, most of them dbt's asset checks and outputs:
that plumbing cost several seconds of a night with nothing to bill (bench/profile.md). Here:

- one engine per shard is kept, so SQLAlchemy sets up its dialect once, and each keeps its
  connection in a pool between events (no file opened and closed per event);
- the webserver streams a running job's events by watching its shard's files change: Dagster
  watches `<run_id>.db`, which its class changed by closing its last connection after every
  event (SQLite then checkpoints its write-ahead log into it). With connections kept, an
  event changes `<run_id>.db-wal` only, so the watch here wakes on either file
  (`_RunWatchdog`); checkpointing after every event instead cost ~1 ms each, ~0.6 s a night;
- commits use `synchronous=NORMAL`, which in WAL mode skips the fsync of each commit. A power
  cut can lose a run's last events, never corrupt the file; billing's record is the warehouse.

Files, schema and layout are Dagster's own: a stock instance reads the same `history/runs`.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from dagster._config import StringSource
from dagster._core.event_api import EventHandlerFn
from dagster._core.storage.event_log.sqlite import sqlite_event_log as dagster_sqlite
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool
from watchdog.events import FileSystemEvent
from watchdog.observers import Observer

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
        self._present: set[tuple[str, str]] = set()
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

    # Dagster asks the index's schema before every asset event: has_table before each check
    # event, the asset_keys columns and the completed secondary indexes before each asset
    # event (~700 questions a night, 1-3 ms each, ~1 s in all). What is there stays there
    # while this storage lives (migrations only add; wipe forgets anyway, to be safe); what
    # is absent is asked again, as a migration may add it.
    def _remembered(self, question: tuple[str, str], ask: Callable[[], bool]) -> bool:
        if question in self._present:
            return True
        present = bool(ask())
        if present:
            self._present.add(question)
        return present

    def has_table(self, table_name: str) -> bool:
        def ask() -> bool:
            engine = self.engine_for_shard(dagster_sqlite.INDEX_SHARD_NAME)
            with engine.connect() as conn:
                return engine.dialect.has_table(conn, table_name)

        return self._remembered(("table", table_name), ask)

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        return self._remembered(
            ("asset_keys column", column_name),
            lambda: super(SqliteEventLogStorage, self)._has_asset_key_col_on_connection(
                conn, column_name
            ),
        )

    def has_secondary_index(self, name: str) -> bool:
        return self._remembered(
            ("secondary index", name),
            lambda: super(SqliteEventLogStorage, self).has_secondary_index(name),
        )

    def watch(self, run_id: str, cursor: str | None, callback: EventHandlerFn) -> None:
        # Dagster's own, with a watchdog that also wakes on the run's write-ahead log.
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _RunWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (
            watchdog,
            self._obs.schedule(watchdog, self._base_dir, recursive=True),
        )

    def wipe(self) -> None:
        self._dispose_engines()
        self._present.clear()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()

    def _dispose_engines(self) -> None:
        while self._engines:
            _, engine = self._engines.popitem()
            engine.dispose()


class _RunWatchdog(dagster_sqlite.SqliteEventLogStorageWatchdog):
    """Dagster's watcher of one run's events, woken when `<run_id>.db` or its write-ahead log
    `<run_id>.db-wal` (where a commit lands until the next checkpoint) changes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._patterns = [self._log_path, f"{self._log_path}-wal"]

    def on_modified(self, event: FileSystemEvent) -> None:
        self._process_log()
