"""The hand-worked rating cases (tests/rating/cases.py) give their golden values on Spark.

`make test-spark` only. The cases are billed once on DuckDB by the real nightly job (for
the Python assets' tables); every dbt model then runs again on the local Spark session and
the rating tests of tests/rating/test_rating.py run unchanged against Spark's tables: the
same expected quantities, exact amounts, rounded amounts, attributions to each event, fixed
fees, commitments and daily usage, worked out by hand.
"""

from __future__ import annotations

import os
import re
import time

import pytest

pytest.importorskip("pyspark")
pytest.importorskip("dbt.adapters.spark")

from dagster_project.lib.engines.spark import (  # noqa: E402
    dbt_on_spark,
    export_sources,
    spark_session,
)
from tests.rating.conftest import bill_rating_cases  # noqa: E402
from tests.rating.test_rating import (  # noqa: E402, F401 - collected here, against Spark
    test_a_plan_changing_twice_in_a_cycle_gives_three_invoices,
    test_event_attributions,
    test_every_line_is_attributed_exactly,
    test_fixed_fee_and_commitment,
    test_invoices_exist_at_zero_and_future_ones_only_with_usage,
    test_usage_daily_aggregates_per_local_day,
    test_usage_line_amount,
)

pytestmark = [pytest.mark.spark, pytest.mark.slow]


class SparkQueries:
    """The slice of DuckDB's connection API the rating tests use (`execute(sql, params)`
    then `fetchall()` / `fetchone()`), over Spark SQL. The tests' few DuckDB spellings are
    rewritten: `timestamptz` is Spark's `timestamp`, `varchar` its `string`, and a `+00`
    offset is written `Z`."""

    def __init__(self, spark):
        self.spark = spark
        self.rows: list[tuple] = []

    def execute(self, sql: str, params: list | None = None) -> SparkQueries:
        sql = re.sub(r"\btimestamptz\b", "timestamp", sql)
        sql = re.sub(r"\bas varchar\b", "as string", sql)
        sql = re.sub(r"\+00'", "Z'", sql)
        args = [re.sub(r"\+00$", "Z", p) if isinstance(p, str) else p for p in params or []]
        self.rows = [tuple(row) for row in self.spark.sql(sql, args=args or None).collect()]
        return self

    def fetchall(self) -> list[tuple]:
        return self.rows

    def fetchone(self) -> tuple | None:
        return self.rows[0] if self.rows else None


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    os.environ["TZ"] = "UTC"
    time.tzset()
    root = tmp_path_factory.mktemp("rating_on_spark")
    settings = bill_rating_cases(root)
    spark_dir = root / "spark"
    export_sources(settings.warehouse, spark_dir / "sources")
    # One Spark session per process: another module's tables may exist, so rebuild them all
    # (dbt's on-run-start registers the exported sources).
    spark = spark_session(spark_dir)
    dbt_on_spark(["run", "--full-refresh"], spark_dir=spark_dir, as_of=settings.as_of)
    return SparkQueries(spark)


def test_the_cases_were_rated_on_spark(warehouse):
    # Not DuckDB's tables read back: Spark's catalog holds the rated lines it computed.
    tables = {r[1] for r in warehouse.execute("show tables in intermediate").fetchall()}
    assert {"int_rated_usage", "int_event_revenue_attributions"} <= tables
    (lines,) = warehouse.execute("select count(*) from intermediate.int_rated_usage").fetchone()
    assert lines > 50
