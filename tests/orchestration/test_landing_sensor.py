"""The landing sensor launches ingestion once per batch of complete files."""

from __future__ import annotations

import dagster as dg
import pytest

from dagster_project.defs.orchestration.sensors import landing_files_sensor


@pytest.fixture
def landing(tmp_path, monkeypatch):
    folder = tmp_path / "landing"
    folder.mkdir()
    monkeypatch.setenv("TALLYHOUSE_LANDING", str(folder))
    return folder


def evaluate(cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor)
    result = landing_files_sensor(context)
    return result, context.cursor


def test_an_empty_folder_launches_nothing(landing):
    result, _ = evaluate(None)
    assert isinstance(result, dg.SkipReason)


def test_files_still_being_written_are_not_a_batch(landing):
    (landing / "events-1.jsonl.tmp").write_text("{}\n")
    (landing / "events-2.jsonl.partial").write_text("{}\n")
    (landing / ".events-3.jsonl").write_text("{}\n")
    result, _ = evaluate(None)
    assert isinstance(result, dg.SkipReason)


def test_one_run_key_per_batch_never_twice(landing):
    (landing / "events-1.jsonl").write_text('{"id": "a"}\n')
    first, cursor = evaluate(None)
    assert isinstance(first, dg.RunRequest)
    assert first.run_key.startswith("landing-")
    # The same batch again: skipped, and the run key would be the same anyway.
    again, same_cursor = evaluate(cursor)
    assert isinstance(again, dg.SkipReason)
    assert same_cursor == cursor
    # A renamed upload completes the next batch: a new run key.
    (landing / "events-2.jsonl.partial").write_text('{"id": "b"}\n')
    (landing / "events-2.jsonl.partial").rename(landing / "events-2.jsonl")
    second, _ = evaluate(cursor)
    assert isinstance(second, dg.RunRequest)
    assert second.run_key != first.run_key


def test_the_nightly_schedule_runs_the_billing_job_at_two_utc():
    from dagster_project.defs.orchestration.schedules import nightly_billing_schedule

    assert nightly_billing_schedule.job_name == "nightly_billing_job"
    assert nightly_billing_schedule.cron_schedule == "0 2 * * *"
    assert nightly_billing_schedule.execution_timezone == "UTC"
