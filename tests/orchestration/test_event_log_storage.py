"""The embedded instance's event log (dagster_project/event_log_storage.py): Dagster's SQLite
files, readable by a stock instance, with engines kept and a running job still watchable."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events.log import EventLogEntry
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SqliteEventLogStorage as StockSqliteEventLogStorage,
)

import dagster_project
from dagster_project.event_log_storage import KEPT_ENGINES, SqliteEventLogStorage


@dg.asset
def metered_units() -> int:
    return 7


@dg.asset_check(asset=metered_units)
def metered_units_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _project_instance(home: Path, monkeypatch) -> dg.DagsterInstance:
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    shutil.copy(Path(dagster_project.__file__).parent / "dagster.yaml", home / "dagster.yaml")
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def _log_entry(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(
        error_info=None,
        level="INFO",
        user_message=message,
        run_id=run_id,
        timestamp=time.time(),
        step_key=None,
        job_name="nightly_billing_job",
        dagster_event=None,
    )


def test_a_run_on_the_project_instance_reads_back_through_stock_dagster(tmp_path, monkeypatch):
    instance = _project_instance(tmp_path / "home", monkeypatch)
    storage = instance.event_log_storage
    assert type(storage) is SqliteEventLogStorage
    result = dg.materialize([metered_units, metered_units_positive], instance=instance)
    assert result.success
    run_id = result.run_id

    ours = [entry.dagster_event_type for entry in instance.all_logs(run_id)]
    stock = StockSqliteEventLogStorage(str(tmp_path / "home" / "history" / "runs"))
    theirs = [
        record.event_log_entry.dagster_event_type
        for record in stock.get_records_for_run(run_id).records
    ]
    assert theirs == ours
    assert dg.DagsterEventType.ASSET_MATERIALIZATION in theirs
    assert dg.DagsterEventType.ASSET_CHECK_EVALUATION in theirs
    # The cross-run index (index.db) has the latest materialization and the check's result.
    latest = stock.get_latest_materialization_events([dg.AssetKey("metered_units")])
    assert latest[dg.AssetKey("metered_units")].run_id == run_id
    check_key = dg.AssetCheckKey(dg.AssetKey("metered_units"), "metered_units_positive")
    executions = stock.get_asset_check_execution_history(check_key, limit=5)
    assert [execution.run_id for execution in executions] == [run_id]
    assert executions[0].status.value == "SUCCEEDED"


def test_engines_are_kept_per_shard_and_bounded(tmp_path):
    storage = SqliteEventLogStorage(str(tmp_path / "runs"))
    storage.store_event(_log_entry("run_a", "first"))
    kept = dict(storage._engines)
    for index in range(20):
        storage.store_event(_log_entry("run_a", f"event {index}"))
    assert storage._engines == kept  # no engine built per event
    assert len(storage.get_records_for_run("run_a").records) == 21

    for index in range(KEPT_ENGINES + 5):
        storage.store_event(_log_entry(f"run_{index}", "one"))
    assert len(storage._engines) == KEPT_ENGINES
    # An engine dropped from the cache is rebuilt on demand, and its run still reads back.
    assert [r.event_log_entry.user_message for r in storage.get_records_for_run("run_a").records][
        -1
    ] == "event 19"


# Each schema question the storage remembers: how to ask it, how a migration makes the
# answer yes, and how to make it no again behind the storage's back.
SCHEMA_QUESTIONS = {
    "table": (
        lambda storage: storage.has_table("tallyhouse_table"),
        "create table tallyhouse_table (id integer)",
        "drop table tallyhouse_table",
    ),
    "asset_keys column": (
        lambda storage: storage.has_asset_key_col("tallyhouse_column"),
        "alter table asset_keys add column tallyhouse_column text",
        "alter table asset_keys drop column tallyhouse_column",
    ),
    "secondary index": (
        lambda storage: storage.has_secondary_index("tallyhouse_index"),
        "insert into secondary_indexes (name, create_timestamp, migration_completed)"
        " values ('tallyhouse_index', current_timestamp, current_timestamp)",
        "delete from secondary_indexes where name = 'tallyhouse_index'",
    ),
}


@pytest.mark.parametrize("question", sorted(SCHEMA_QUESTIONS))
def test_a_schema_answer_is_asked_until_yes_then_remembered_until_wipe(tmp_path, question):
    ask, add, remove = SCHEMA_QUESTIONS[question]
    storage = SqliteEventLogStorage(str(tmp_path / "runs"))

    def index_sql(sql: str) -> None:
        with storage.engine_for_shard("index").begin() as conn:
            conn.exec_driver_sql(sql)

    assert not ask(storage)
    index_sql(add)  # a migration: seen at the next question
    assert ask(storage)
    index_sql(remove)  # behind the storage's back: the yes is remembered, not asked again
    assert ask(storage)
    storage.wipe()  # ...until a wipe, after which it asks again
    assert not ask(storage)


def test_a_watcher_sees_a_running_jobs_events_as_they_are_stored(tmp_path):
    """The webserver's live view watches a running job's shard: each event must wake it."""
    base = str(tmp_path / "runs")
    writer = SqliteEventLogStorage(base)  # the run's process
    watcher = SqliteEventLogStorage(base)  # the webserver's
    writer.store_event(_log_entry("run_live", "started"))
    seen: list[str] = []

    def on_event(entry: EventLogEntry, _cursor: str) -> None:
        seen.append(entry.user_message)

    watcher.watch("run_live", None, on_event)
    try:
        for index in range(5):
            writer.store_event(_log_entry("run_live", f"step {index}"))
            deadline = time.monotonic() + 20
            while f"step {index}" not in seen and time.monotonic() < deadline:
                time.sleep(0.05)
            assert f"step {index}" in seen, f"the watcher missed step {index}; saw {seen}"
    finally:
        watcher.end_watch("run_live", on_event)
        watcher.dispose()
        writer.dispose()
