"""Two runs launched at once on one warehouse: one refuses clearly. The other, killed
(SIGKILL) while dbt runs and started again, bills exactly what an uninterrupted run bills."""

from __future__ import annotations

import os
import signal
import subprocess

import duckdb
import pytest

from dagster_project.cli import run_nightly
from tests.commands import tallyhouse_run
from tests.orchestration.conftest import tiny_settings
from tests.orchestration.processes import killpg, wait_for

INVOICE_COLUMNS = """invoice_id, account_id, period_start, status,
    cast(subtotal as varchar), cast(total as varchar), cast(amount_due as varchar), finalized_at"""


def invoices(warehouse) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        head = con.execute(
            f"select {INVOICE_COLUMNS} from marts.fct_invoices order by 1"
        ).fetchall()
        lines = con.execute(
            "select invoice_id, line_type, cast(amount as varchar) "
            "from marts.fct_invoice_line_items order by 1, 2"
        ).fetchall()
        return head + lines
    finally:
        con.close()


@pytest.mark.slow
def test_two_runs_at_once_then_a_kill_during_dbt_and_a_rerun(tiny_billed, tmp_path):
    settings = tiny_settings(tmp_path)
    command = tallyhouse_run(
        settings.catalog, settings.landing, settings.warehouse, settings.as_of.isoformat()
    )
    # dbt runs inside the run's process: its own log, in a target folder of this test's,
    # says when it is building.
    dbt_log = tmp_path / "dbt_target" / "dbt.log"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "DBT_TARGET_PATH": str(dbt_log.parent),
    }
    runs = [
        subprocess.Popen(
            command,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        # Whichever takes the warehouse first: the other refuses, naming the holder.
        loser = wait_for(
            lambda: next((r for r in runs if r.poll() is not None), None),
            timeout=600,
            what="one of the two runs to refuse",
        )
        assert loser.returncode == 1
        # The message is wrapped to the terminal's width: compare it with spaces normalized.
        message = " ".join(loser.stderr.read().split())
        assert "Another run is using the warehouse" in message
        assert "Nothing was changed by this one" in message
        (winner,) = [r for r in runs if r is not loser]
        # Kill the winner while dbt builds a model.
        wait_for(
            lambda: dbt_log.exists() and " START sql " in dbt_log.read_text(errors="replace"),
            timeout=600,
            interval=0.2,
            what="dbt to start building",
        )
        killpg(winner.pid, signal.SIGKILL)
        winner.wait(timeout=60)
        assert winner.returncode == -signal.SIGKILL
    finally:
        for run in runs:
            killpg(run.pid, signal.SIGKILL)
            run.wait(timeout=60)

    # Started again (the lock died with the killed run): the same invoices as a run that
    # was never interrupted (tiny_billed: same catalog, events and clock).
    run_nightly(settings)
    assert invoices(settings.warehouse) == invoices(tiny_billed.warehouse)
