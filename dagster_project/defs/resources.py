"""Dagster resources: the one warehouse connection and the run's billing settings."""

from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

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
    """The DuckDB warehouse; every Python asset reads and writes through it."""

    path: str | None = None

    @contextmanager
    def connect(self):
        settings = Settings.from_env()
        con: duckdb.DuckDBPyConnection = connect_warehouse(
            self.path or settings.warehouse,
            memory_limit=settings.memory_limit,
            threads=settings.threads,
            temp_dir=settings.temp_dir,
        )
        try:
            yield con
        finally:
            con.close()
