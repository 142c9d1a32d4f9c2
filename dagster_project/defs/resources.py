"""Dagster resources: the one warehouse connection, the run's billing settings, and dbt."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliInvocation, DbtCliResource
from packaging import version
from pydantic import PrivateAttr

from dagster_project.lib.dbt_in_process import in_process_invocations
from dagster_project.lib.run_lock import acquire_run_lock, release_run_lock
from dagster_project.lib.warehouse import connect_warehouse
from dagster_project.settings import Settings, parse_as_of


class BillingSettingsResource(dg.ConfigurableResource):
    """TALLYHOUSE_* settings, overridable per run from the launchpad.

    The clock is read once per run, so every step of one run bills at the same instant.
    """

    catalog: str | None = None
    landing: str | None = None
    as_of: str | None = None
    _run_clock: datetime | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._run_clock = self.settings().clock()

    def settings(self) -> Settings:
        base = Settings.from_env()
        return base.with_overrides(
            catalog=Path(self.catalog) if self.catalog else None,
            landing=Path(self.landing) if self.landing else None,
            as_of=parse_as_of(self.as_of) if self.as_of else None,
        )

    def clock(self) -> datetime:
        return self._run_clock or self.settings().clock()


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse; every Python asset reads and writes through it, on either engine
    (TALLYHOUSE_TARGET): the DuckDB file dbt also builds in, or, on Spark, the assets' working
    store with Spark's tables attached and their own published as Parquet
    (lib/engines/spark.py). The Dagster graph is the same on both."""

    path: str | None = None
    _run_lock: int | None = PrivateAttr(default=None)

    def warehouse_path(self) -> Path:
        return Path(self.path) if self.path else Settings.from_env().warehouse

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # One run at a time per warehouse, whoever launched it (CLI, schedule, UI): a second
        # run refuses here, before any step, with the holder's pid (lib/run_lock.py).
        run_id = context.run_id or "no run id"
        self._run_lock = acquire_run_lock(self.warehouse_path(), purpose=f"Dagster run {run_id}")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._run_lock is not None:
            release_run_lock(self._run_lock)
            self._run_lock = None

    @contextmanager
    def connect(self, writes: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """`writes=False` for a step that only reads (checks, the serving copy): on Spark it
        then publishes nothing."""
        settings = Settings.from_env()
        limits = {
            "memory_limit": settings.memory_limit,
            "threads": settings.threads,
            "temp_dir": settings.temp_dir,
        }
        if settings.target == "spark":
            from dagster_project.lib.engines.spark import spark_store

            with spark_store(
                self.warehouse_path(), settings.spark_dir, writes=writes, **limits
            ) as con:
                yield con
            return
        con = connect_warehouse(self.warehouse_path(), **limits)
        try:
            yield con
        finally:
            con.close()


class TallyhouseDbtResource(DbtCliResource):
    """dagster-dbt's dbt resource, its commands run in this process on DuckDB
    (lib/dbt_in_process.py: no dbt process to start, import and load per step), and without
    two costs it pays before every dbt step:
    - a `dbt --version` subprocess (a Python start-up and a dbt import, ~2 s): the dbt that
      runs is the dbt-core installed next to us, so its version is read from the package;
    - a dbt adapter built in this process (dbt's profile, project and macros, ~0.9 s): it
      serves only row counts and column metadata, which we never fetch."""

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 - dagster-dbt's signature
        return None

    def cli(self, args, **kwargs) -> DbtCliInvocation:
        settings = Settings.from_env()
        if settings.target != "duckdb":
            return super().cli(args, **kwargs)
        # dbt opens the file the Python steps open: in this process the profile's relative
        # default would resolve from the run's directory, not from dbt_project/.
        os.environ["TALLYHOUSE_WAREHOUSE"] = str(settings.warehouse.resolve())
        with in_process_invocations():
            return super().cli(args, **kwargs)
