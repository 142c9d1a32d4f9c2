"""dbt run inside the Dagster process (dagster_project/lib/dbt_in_process.py): the same events,
statuses and warehouse as the `dbt` process dagster-dbt would start, and nothing of the run left
behind in this process (the DuckDB file, the environment, the working directory)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DbtCliResource

from dagster_project.defs.resources import TallyhouseDbtResource
from dagster_project.lib.dbt import ensure_manifest, tallyhouse_dbt
from dagster_project.lib.dbt_in_process import InProcessDbt

# The invoice marts and their tests: the nightly run's second dbt step, small and quick.
INVOICE_MARTS = ["build", "--select", "tag:invoicing", "--exclude", "tag:audit"]


@pytest.fixture
def warehouse(tiny_billed, tmp_path, monkeypatch):
    """A copy of the billed tiny warehouse, as the environment dbt reads names it."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(tiny_billed.warehouse, path)
    monkeypatch.setenv("TALLYHOUSE_WAREHOUSE", str(path))
    monkeypatch.setenv("TALLYHOUSE_AS_OF", tiny_billed.settings.as_of.isoformat())
    monkeypatch.setenv("TALLYHOUSE_TARGET", "duckdb")
    return path


def _events(invocation) -> list[tuple]:
    """What Dagster records of a dbt command: each materialization and check evaluation."""
    seen = []
    for event in invocation.stream():
        if isinstance(event, dg.AssetMaterialization):
            seen.append(("materialized", event.asset_key.to_user_string()))
        elif isinstance(event, dg.AssetCheckEvaluation):
            seen.append(("checked", event.check_name, event.passed))
    return sorted(seen)


def _marts(path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "select invoice_id, status, cast(total as varchar) from marts.fct_invoices "
            "union all select invoice_id, line_type, cast(amount as varchar) "
            "from marts.fct_invoice_line_items order by all"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_a_build_in_process_gives_what_the_dbt_process_gives(warehouse, tmp_path, monkeypatch):
    manifest = ensure_manifest()
    in_process = TallyhouseDbtResource(project_dir=tallyhouse_dbt).cli(
        INVOICE_MARTS, manifest=manifest, target_path=tmp_path / "in_process"
    )
    assert isinstance(in_process.process, InProcessDbt)
    ours = _events(in_process)
    ours_marts = _marts(warehouse)

    # The same command in a dbt process, on a second copy of the same warehouse.
    process_copy = tmp_path / "process.duckdb"
    shutil.copyfile(warehouse, process_copy)
    monkeypatch.setenv("TALLYHOUSE_WAREHOUSE", str(process_copy))
    by_process = DbtCliResource(project_dir=tallyhouse_dbt).cli(
        INVOICE_MARTS, manifest=manifest, target_path=tmp_path / "process"
    )
    assert isinstance(by_process.process, subprocess.Popen)
    theirs = _events(by_process)

    assert ours == theirs
    assert ("materialized", "marts/fct_invoices") in ours
    assert sum(1 for e in ours if e[0] == "checked") >= 10
    assert all(e[2] for e in ours if e[0] == "checked")
    assert in_process.process.returncode == by_process.process.returncode == 0
    assert ours_marts == _marts(process_copy) != []


def test_the_warehouse_environment_and_directory_are_released(warehouse, tmp_path):
    before_env, before_dir = dict(os.environ), os.getcwd()
    invocation = TallyhouseDbtResource(project_dir=tallyhouse_dbt).cli(
        ["run", "--select", "stg_catalog__accounts"], target_path=tmp_path / "target"
    )
    assert invocation.wait().is_successful()
    # dbt-duckdb keeps its database open between commands: it must be closed, or this
    # process could not open the file with a configuration of its own.
    con = duckdb.connect(str(warehouse), config={"memory_limit": "1GiB"})
    try:
        assert con.execute("select count(*) from staging.stg_catalog__accounts").fetchone()[0] == 2
    finally:
        con.close()
    assert dict(os.environ) == before_env
    assert os.getcwd() == before_dir


def test_dbt_events_reach_dagster_while_dbt_still_runs(warehouse, tmp_path):
    invocation = TallyhouseDbtResource(project_dir=tallyhouse_dbt).cli(
        ["run", "--select", "stg_catalog__accounts"], target_path=tmp_path / "target"
    )
    events = invocation.stream_raw_events()
    first = next(events)
    assert first.raw_event["info"]["name"] == "MainReportVersion"
    assert invocation.process.poll() is None  # dbt has not finished when its first event arrives
    rest = [event.raw_event["info"]["name"] for event in events]
    assert "LogModelResult" in rest  # the event dagster-dbt turns into a materialization
    assert invocation.process.returncode == 0


def test_a_failing_model_fails_the_command_naming_it(tmp_path, monkeypatch):
    # An empty warehouse: the model's catalog source does not exist.
    monkeypatch.setenv("TALLYHOUSE_WAREHOUSE", str(tmp_path / "empty.duckdb"))
    invocation = TallyhouseDbtResource(project_dir=tallyhouse_dbt).cli(
        ["run", "--select", "stg_catalog__accounts"],
        target_path=tmp_path / "target",
        raise_on_error=False,
    )
    assert not invocation.is_successful()
    assert invocation.process.returncode == 1
    error = str(invocation.get_error())
    assert "stg_catalog__accounts" in error
    assert "exit code `1`" in error


def test_a_command_dbt_cannot_parse_fails_with_dbts_message(tmp_path, capsys):
    invocation = TallyhouseDbtResource(project_dir=tallyhouse_dbt).cli(
        ["build", "--no-such-option"], target_path=tmp_path / "target", raise_on_error=False
    )
    invocation.wait()
    assert not invocation.is_successful()
    assert invocation.process.returncode == 2
    assert "no-such-option" in capsys.readouterr().out


def test_dbts_own_console_stays_quiet(warehouse, tmp_path, capsys):
    invocation = TallyhouseDbtResource(project_dir=tallyhouse_dbt).cli(
        ["run", "--select", "stg_catalog__accounts"], target_path=tmp_path / "target"
    )
    invocation.wait()
    printed = capsys.readouterr().out.splitlines()
    # dagster-dbt prints each event's message once; dbt's JSON console lines never appear.
    assert any("1 of 1 OK created sql view model" in line for line in printed)
    assert not [line for line in printed if line.lstrip().startswith("{")]
    assert not any("Began running node" in line for line in printed)  # a debug event
    assert sum("Running with dbt=" in line for line in printed) == 1
    # dbt's file log keeps the debug events the console leaves out.
    assert '"level": "debug"' in (tmp_path / "target" / "dbt.log").read_text()


def test_dbts_folders_given_relative_to_the_project_stay_there(warehouse, tmp_path, monkeypatch):
    # The nightly run names dbt's target folder relative to the project (dbt_project/target);
    # a dbt process ran from there, this process runs from wherever it was started.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    target = tmp_path / "dbt_target"
    relative = Path(os.path.relpath(target, tallyhouse_dbt.project_dir))
    invocation = TallyhouseDbtResource(project_dir=tallyhouse_dbt).cli(
        ["run", "--select", "stg_catalog__accounts"], target_path=relative
    )
    assert invocation.wait().is_successful()
    assert "stg_catalog__accounts" in (target / "dbt.log").read_text()
    assert list(target.rglob("stg_catalog__accounts.sql"))  # the compiled model
    assert not any(elsewhere.iterdir())
