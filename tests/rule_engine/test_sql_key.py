"""compile_key: the distinct-value key UNIQUE_COUNT meters count, checked against the reference."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from rule_engine import LogicError, compile_key, evaluate, load_logic

EVENTS = [
    ({"n": Decimal("5")}, {"user": "u1"}),
    ({"n": Decimal("5.000")}, {"user": "u1"}),
    ({"n": Decimal("6")}, {"user": "u2"}),
    ({}, {"user": "5"}),
    ({"n": Decimal("0")}, {}),
]


def reference_key(logic, attributes, dimensions):
    """Type-tagged identity of the reference result, as a JavaScript Set would see it."""
    try:
        value = evaluate(logic, {"attributes": attributes, "dimensions": dimensions})
    except LogicError:
        return None
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, Decimal):
        return ("n", value.normalize())
    if isinstance(value, str):
        return ("s", value)
    return None


def sql_keys(logic) -> list[str | None]:
    con = duckdb.connect()
    table = pa.table(
        {
            "i": list(range(len(EVENTS))),
            "attributes": pa.array(
                [list(a.items()) for a, _ in EVENTS], pa.map_(pa.string(), pa.decimal128(38, 12))
            ),
            "dimensions": pa.array(
                [list(d.items()) for _, d in EVENTS], pa.map_(pa.string(), pa.string())
            ),
        }
    )
    con.register("events", table)
    sql = f"select {compile_key(logic)} from events order by i"
    return [row[0] for row in con.execute(sql).fetchall()]


@pytest.mark.parametrize(
    "text",
    [
        '{"var": "dimensions.user"}',
        '{"var": "attributes.n"}',
        '{"if": [{"var": "attributes.n"}, {"var": "attributes.n"}, {"var": "dimensions.user"}]}',
        '{">": [{"var": "attributes.n"}, 5]}',
        '{"/": [1, {"var": "attributes.n"}]}',
        '{"cat": [{"var": "dimensions.user"}, "-", {"var": "attributes.n"}]}',
    ],
)
def test_keys_are_equal_exactly_when_reference_values_are(text):
    logic = load_logic(text)
    reference = [reference_key(logic, a, d) for a, d in EVENTS]
    got = sql_keys(logic)
    assert [k is None for k in got] == [r is None for r in reference], (got, reference)
    for i in range(len(EVENTS)):
        for j in range(len(EVENTS)):
            if reference[i] is not None and reference[j] is not None:
                assert (got[i] == got[j]) == (reference[i] == reference[j]), (i, j, got, reference)


def test_a_number_and_its_string_are_distinct_values():
    keys = sql_keys(
        load_logic(
            '{"if": [{"var": "attributes.n"}, {"var": "attributes.n"}, {"var": "dimensions.user"}]}'
        )
    )
    assert keys[0] == keys[1]  # 5 and 5.000 are one number
    assert keys[3] != keys[0]  # "5" (a string) is not the number 5
