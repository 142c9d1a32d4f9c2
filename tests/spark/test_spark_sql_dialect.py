"""The meter compiler's Spark dialect gives the hand-worked results of the DuckDB one.

Every hand case of tests/rule_engine/test_sql.py (expected values worked out by hand) is
compiled with dialect="spark" and evaluated by a local Spark session.
"""

from __future__ import annotations

import os
import time
from decimal import Decimal

import pytest

pytest.importorskip("pyspark")

from dagster_project.lib.engines.spark import spark_session  # noqa: E402
from rule_engine import load_logic  # noqa: E402
from rule_engine.sql import SqlCompileError, compile_filter, compile_value  # noqa: E402
from tests.rule_engine.test_sql import HAND_CASES  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    os.environ["TZ"] = "UTC"
    time.tzset()
    return spark_session(tmp_path_factory.mktemp("spark_dialect"))


def _evaluate(spark, logic, attrs: dict, dims: dict):
    logic = load_logic([logic])[0]
    frame = spark.createDataFrame(
        [({k: Decimal(str(v)) for k, v in attrs.items()}, dict(dims))],
        "attributes map<string, decimal(38,12)>, dimensions map<string, string>",
    )
    frame.createOrReplaceTempView("events")
    sql = (
        f"select {compile_filter(logic, dialect='spark')} as f, "
        f"{compile_value(logic, dialect='spark')} as v from events"
    )
    row = spark.sql(sql).collect()[0]
    return (row.f, row.v)


def test_spark_dialect_matches_the_hand_cases(spark):
    mismatches = []
    compiled = 0
    for logic, attrs, dims, expected in HAND_CASES:
        try:
            got = _evaluate(spark, logic, attrs, dims)
        except SqlCompileError:
            continue  # not compilable on either engine (the DuckDB test says so too)
        compiled += 1
        if got != expected:
            mismatches.append((logic, attrs, dims, expected, got))
    assert compiled >= 80
    assert not mismatches, "\n".join(map(repr, mismatches))
