"""`tallyhouse ui`: the Dagster webserver on 127.0.0.1 launches nightly_billing_job through
its GraphQL API, as the UI's Materialize button does, and the run bills the hand-worked
fixture (schedules and sensors stay stopped; the clock is pinned with --as-of)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from decimal import Decimal

import duckdb
import pytest

from tests.orchestration.conftest import tiny_settings
from tests.orchestration.processes import free_port, graphql, killpg, wait_for

LOCATIONS = """
query { workspaceOrError { __typename ... on Workspace { locationEntries {
  name locationOrLoadError { __typename ... on RepositoryLocation { repositories { name } } }
} } } }
"""
LAUNCH = """
mutation Launch($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
RUN_STATUS = "query Status($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
DONE = {"SUCCESS", "FAILURE", "CANCELED"}


def loaded_location(port: int) -> str | None:
    try:
        data = graphql(port, LOCATIONS)
    except OSError:  # the webserver is not up yet
        return None
    for entry in data["workspaceOrError"].get("locationEntries", []):
        if (entry["locationOrLoadError"] or {}).get("__typename") == "RepositoryLocation":
            return entry["name"]
    return None


@pytest.mark.slow
def test_the_ui_launches_the_nightly_job_over_graphql(tmp_path):
    settings = tiny_settings(tmp_path / "data")
    port = free_port()
    ui = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_project.cli",
            "ui",
            "--no-app",
            "--port",
            str(port),
            "--dagster-home",
            str(tmp_path / "dagster_home"),
            "--catalog",
            str(settings.catalog),
            "--landing",
            str(settings.landing),
            "--warehouse",
            str(settings.warehouse),
            "--as-of",
            settings.as_of.isoformat(),
        ],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        location = wait_for(
            lambda: loaded_location(port), timeout=600, interval=2, what="the Dagster UI"
        )
        launched = graphql(
            port,
            LAUNCH,
            {
                "executionParams": {
                    "selector": {
                        "repositoryLocationName": location,
                        "repositoryName": "__repository__",
                        "pipelineName": "nightly_billing_job",
                    },
                    "mode": "default",
                    "runConfigData": {},
                }
            },
        )["launchPipelineExecution"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        status = wait_for(
            lambda: (
                s
                if (s := graphql(port, RUN_STATUS, {"id": run_id})["runOrError"]["status"]) in DONE
                else None
            ),
            timeout=900,
            interval=3,
            what=f"run {run_id}",
        )
        assert status == "SUCCESS"
    finally:
        # tallyhouse ui stops its children (dagster dev, the app) on SIGTERM.
        ui.send_signal(signal.SIGTERM)
        try:
            ui.wait(timeout=60)
        except subprocess.TimeoutExpired:
            killpg(ui.pid, signal.SIGKILL)
            ui.wait()
        time.sleep(1)

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    totals = con.execute(
        "select account_id, cast(total as decimal(18,2)) from marts.fct_invoices order by 1, 2"
    ).fetchall()
    con.close()
    # tiny_billing: acc_a 22.34 (Oct), 13.00 (Nov), 10.00 (Dec draft); acc_b 15.00, 10.00, 10.00.
    assert totals == [
        ("acc_a", Decimal("10.00")),
        ("acc_a", Decimal("13.00")),
        ("acc_a", Decimal("22.34")),
        ("acc_b", Decimal("10.00")),
        ("acc_b", Decimal("10.00")),
        ("acc_b", Decimal("15.00")),
    ]
