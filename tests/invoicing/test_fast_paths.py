"""The invoicing writer's fast paths give exactly what their plain definitions give."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal

from dagster_project.lib.invoicing.money import round_money, stable_id
from dagster_project.lib.invoicing.warehouse import _table


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def test_stable_id_hashes_the_json_list_of_its_parts():
    # The id's definition: sha256 of json.dumps([str(part) or null, ...]), 32 hex digits.
    assert stable_id("li", "inv_1", None, "USAGE") == "li_" + _sha('["inv_1", null, "USAGE"]')
    assert stable_id("cle") == "cle_" + _sha("[]")
    tricky = ('quote"back\\slash', "café €", "tab\tnew\nline", "\u2028", "😀", 7, None, "")
    assert stable_id("x", *tricky) == "x_" + _sha(
        json.dumps([None if p is None else str(p) for p in tricky])
    )
    # The separator stays inside the JSON: these two never share an id.
    assert stable_id("x", "a|b", "c") != stable_id("x", "a", "b|c")


def test_round_money_quantum_per_currency():
    assert round_money(Decimal("2.345"), "USD") == Decimal("2.35")
    assert round_money(Decimal("2.5"), "JPY") == Decimal("3")
    assert round_money(Decimal("-0.0004"), "KWD") == Decimal("0.000")
    assert str(round_money(Decimal("-0.0004"), "KWD")) == "0.000"


def test_table_cells_are_what_the_insert_expects():
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    rows = [
        {"a": "x", "m": Decimal("1.50"), "t": moment, "n": 3, "r": ["why"]},
        {"a": {"k": 1, "b": Decimal("2")}, "m": "0.10", "t": None, "n": None, "r": []},
        {"a": None, "m": None},  # missing keys are nulls
    ]
    columns = {"a": "varchar", "m": "decimal(38, 12)", "t": "timestamptz", "n": "integer"}
    table = _table(rows, {**columns, "r": "varchar[]"})
    assert table.column("a").to_pylist() == ["x", '{"b": "2", "k": 1}', None]
    assert table.column("m").to_pylist() == ["1.50", "0.10", None]
    assert table.column("t").to_pylist() == [moment, None, None]
    assert table.column("n").to_pylist() == [3, None, None]
    assert table.column("r").to_pylist() == [["why"], [], None]
    # A text column holding something else than text is inferred, as before: 7 stays 7.
    assert _table([{"a": 7}], {"a": "varchar"}).column("a").to_pylist() == [7]


def test_trimmed_text_equals_trimmed_decimal():
    import random

    from dagster_project.lib.invoicing.warehouse import _trimmed, _trimmed_text

    rnd = random.Random(8)
    cases = [
        "0.000000000000",
        "-0.000000000000",
        "1000.100000000000",
        "1000",
        "-1000.000",
        # More digits than the 28-digit context: _trimmed rounds them, and so must the fast path.
        "123456789012345678901234567.123456789012",
    ]
    for _ in range(2000):
        whole = str(rnd.randint(0, 10 ** rnd.randint(0, 26)))
        fraction = "".join(rnd.choice("0000000123456789") for _ in range(12))
        cases.append(("-" if rnd.random() < 0.3 else "") + whole + "." + fraction)
    for text in cases:
        assert _trimmed_text(text).as_tuple() == _trimmed(Decimal(text)).as_tuple(), text
    assert str(_trimmed_text("1000.100000000000")) == "1000.1"
    assert str(_trimmed_text("1000.000000000000")) == "1000"
    assert _trimmed_text(None) is None
