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
