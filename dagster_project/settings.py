"""Tallyhouse settings: TALLYHOUSE_* environment variables, read alike by the CLI and Dagster."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

DEMO_CATALOG = Path(__file__).parent / "demo_catalog"


def parse_as_of(text: str) -> datetime:
    """One clock for the whole run: an ISO timestamp or date; naive values are UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Settings:
    catalog: Path
    landing: Path
    warehouse: Path
    serving: Path
    as_of: datetime | None
    memory_limit: str | None
    threads: int | None
    temp_dir: Path | None
    payment_provider: str
    # The engine of the dbt models: duckdb (the warehouse file) or spark (docs/scale-out.md).
    target: str
    # Signs portal, widget and finance tokens (CONTRACT §3); no default outside `demo`.
    portal_secret: str | None = None
    # Payments (docs/payments.md): drills' faults, Stripe's endpoint and key, and which test
    # payment method each customer pays with (customer_id=pm_..., comma-separated).
    payment_faults: str = ""
    stripe_api_base: str | None = None
    stripe_api_key: str | None = None
    payment_methods: str = ""
    # On Spark: the local session's metastore and table files, and the Python assets' Parquet
    # tables (docs/scale-out.md). Unused on DuckDB.
    spark_dir: Path = Path("data/spark")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(f"TALLYHOUSE_{name}")
            return value if value not in (None, "") else default

        as_of = get("AS_OF")
        threads = get("THREADS")
        temp_dir = get("TEMP_DIR")
        return cls(
            catalog=Path(get("CATALOG", str(DEMO_CATALOG))),
            landing=Path(get("LANDING", "data/landing")),
            warehouse=Path(get("WAREHOUSE", "data/warehouse.duckdb")),
            serving=Path(get("SERVING", "data/serving.duckdb")),
            as_of=parse_as_of(as_of) if as_of else None,
            memory_limit=get("MEMORY_LIMIT"),
            threads=int(threads) if threads else None,
            temp_dir=Path(temp_dir) if temp_dir else None,
            payment_provider=get("PAYMENT_PROVIDER", "sandbox"),
            target=get("TARGET", "duckdb"),
            portal_secret=get("PORTAL_SECRET"),
            payment_faults=get("PAYMENT_FAULTS", ""),
            stripe_api_base=get("STRIPE_API_BASE"),
            stripe_api_key=get("STRIPE_API_KEY"),
            payment_methods=get("PAYMENT_METHODS", ""),
            spark_dir=Path(get("SPARK_DIR", "data/spark")),
        )

    def with_overrides(self, **changes) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_env(self) -> dict[str, str]:
        """The same settings as environment variables, for child processes (dbt, Dagster)."""
        env = {
            "TALLYHOUSE_CATALOG": str(self.catalog),
            "TALLYHOUSE_LANDING": str(self.landing),
            "TALLYHOUSE_WAREHOUSE": str(self.warehouse),
            "TALLYHOUSE_SERVING": str(self.serving),
            "TALLYHOUSE_PAYMENT_PROVIDER": self.payment_provider,
            "TALLYHOUSE_TARGET": self.target,
            "TALLYHOUSE_SPARK_DIR": str(self.spark_dir),
        }
        if self.as_of is not None:
            env["TALLYHOUSE_AS_OF"] = self.as_of.isoformat()
        if self.memory_limit:
            env["TALLYHOUSE_MEMORY_LIMIT"] = self.memory_limit
        if self.threads:
            env["TALLYHOUSE_THREADS"] = str(self.threads)
        if self.portal_secret:
            env["TALLYHOUSE_PORTAL_SECRET"] = self.portal_secret
        if self.temp_dir:
            env["TALLYHOUSE_TEMP_DIR"] = str(self.temp_dir)
        # Always set (empty = unset), so a run never inherits an earlier run's drill.
        env["TALLYHOUSE_PAYMENT_FAULTS"] = self.payment_faults
        env["TALLYHOUSE_PAYMENT_METHODS"] = self.payment_methods
        env["TALLYHOUSE_STRIPE_API_BASE"] = self.stripe_api_base or ""
        env["TALLYHOUSE_STRIPE_API_KEY"] = self.stripe_api_key or ""
        return env

    def clock(self) -> datetime:
        """The run's 'now': --as-of when given, else the wall clock (UTC)."""
        return self.as_of or datetime.now(UTC)
