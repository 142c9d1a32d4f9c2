"""The synthetic catalog parses and every cross reference in it holds (checked by hand)."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from dagster_project.lib.generator import generate_catalog

ALLOWED_OPS = {
    "var", "==", "!=", "===", "!==", "<", "<=", ">", ">=", "and", "or", "!", "!!", "in",
    "if", "+", "-", "*", "/", "%", "min", "max", "cat", "missing",
}  # fmt: skip
START = date(2026, 11, 1)


def _rows(catalog: Path, name: str) -> list[dict[str, str]]:
    with (catalog / f"{name}.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _ops_and_vars(node, ops: set, variables: set) -> None:
    if isinstance(node, dict):
        for op, args in node.items():
            ops.add(op)
            if op == "var":
                variables.add(args if isinstance(args, str) else args[0])
            else:
                _ops_and_vars(args, ops, variables)
    elif isinstance(node, list):
        for item in node:
            _ops_and_vars(item, ops, variables)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    return generate_catalog(tmp_path_factory.mktemp("cat"), accounts=200, seed=11, start=START)


def test_pricing_cross_references(catalog: Path) -> None:
    pricing = yaml.safe_load((catalog / "pricing.yaml").read_text())
    schemas = {s["name"]: s for s in pricing["event_schemas"]}
    assert 2 <= len(schemas) <= 3
    meters = {m["id"]: m for m in pricing["usage_meters"]}
    assert {m["aggregation"] for m in meters.values()} == {
        "COUNT", "SUM", "MAX", "UNIQUE_COUNT", "LATEST",
    }  # fmt: skip
    for meter in meters.values():
        schema = schemas[meter["event_schema"]]
        declared = {f"attributes.{a['name']}" for a in schema["attributes"]}
        declared |= {f"dimensions.{d}" for d in schema["dimensions"]}
        assert ("value" in meter) == (meter["aggregation"] != "COUNT"), meter["id"]
        ops: set = set()
        variables: set = set()
        _ops_and_vars([meter.get("value"), meter.get("filter")], ops, variables)
        assert ops <= ALLOWED_OPS and variables <= declared, meter["id"]

    plans = pricing["price_plans"]
    assert [p["currency"] for p in plans].count("USD") == 2 and len(plans) == 3
    card_ids: list[str] = []
    models = set()
    for plan in plans:
        cards = {c["id"]: c for c in plan["rate_cards"]}
        card_ids += list(cards)
        for card in cards.values():
            if card["type"] == "USAGE":
                assert card["meter"] in meters
                models.add(card["pricing_model"])
                starts = [s["start_after"] for s in card["slabs"]]
                assert starts == sorted(starts)
                for slab in card["slabs"]:
                    for key in ("rate", "flat_fee"):
                        if key in slab:
                            assert isinstance(slab[key], str)
                            Decimal(slab[key])
            else:
                assert isinstance(card["amount"], str)
        allowed_vars = {"subtotal", "account.id", "account.currency"}
        allowed_vars |= {"cycle.start", "cycle.end", "cycle.days"}
        allowed_vars |= {f"{k}.{c}" for c in cards for k in ("usage", "revenue")}
        for rule in plan.get("pricing_rules", []):
            ops: set = set()
            variables: set = set()
            _ops_and_vars([rule.get("condition"), rule["computation"]], ops, variables)
            assert ops <= ALLOWED_OPS, rule["id"]
            assert variables <= allowed_vars, rule["id"]
            assert set(rule) <= {"id", "name", "order", "condition", "computation", "action"}
            assert set(rule["action"]) <= {"type", "target", "code", "description"}, rule["id"]
            if rule["action"]["type"] == "UPDATE":
                assert rule["action"]["target"] in allowed_vars
    assert models == {"TIERED", "VOLUME"}
    assert len(card_ids) == len(set(card_ids))
    types = {c["type"] for p in plans for c in p["rate_cards"]}
    assert types == {"USAGE", "FIXED_FEE", "MINIMUM_COMMITMENT"}
    assert any(
        "package_size" in s for p in plans for c in p["rate_cards"] for s in c.get("slabs", [])
    )


def test_entities_cross_references(catalog: Path) -> None:
    pricing = yaml.safe_load((catalog / "pricing.yaml").read_text())
    plan_currency = {p["id"]: p["currency"] for p in pricing["price_plans"]}
    all_cards = {c["id"] for p in pricing["price_plans"] for c in p["rate_cards"]}
    customers = {r["customer_id"] for r in _rows(catalog, "customers")}
    accounts = {r["account_id"]: r for r in _rows(catalog, "accounts")}
    assert len(accounts) == 200
    aliases = [a for r in accounts.values() for a in r["aliases"].split(";") if a]
    assert len(aliases) == len(set(aliases)) and not set(aliases) & set(accounts)
    aliased = sum(1 for r in accounts.values() if r["aliases"])
    assert 0.04 * len(accounts) <= aliased <= 0.2 * len(accounts)
    zones = {r["timezone"] for r in accounts.values()}
    assert {"UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo"} <= zones
    for row in accounts.values():
        assert row["customer_id"] in customers
        ZoneInfo(row["timezone"])

    by_account: dict[str, list[tuple[date, date]]] = {}
    for row in _rows(catalog, "plan_assignments"):
        acc = accounts[row["account_id"]]
        assert plan_currency[row["plan_id"]] == acc["currency"]
        lo = date.fromisoformat(row["effective_from"])
        hi = date.fromisoformat(row["effective_until"]) if row["effective_until"] else date.max
        assert lo <= hi
        by_account.setdefault(row["account_id"], []).append((lo, hi))
    assert set(by_account) == set(accounts)
    for spans in by_account.values():
        spans.sort()
        for (_, a_hi), (b_lo, _) in zip(spans, spans[1:], strict=False):
            assert a_hi < b_lo  # no overlap (inclusive dates)
    changes = [s for s in by_account.values() if len(s) > 1]
    assert changes and all(s[0][1].toordinal() + 1 == s[1][0].toordinal() for s in changes)
    assert any(s[0][0] > START for s in by_account.values())  # onboarding mid-period

    credits = _rows(catalog, "credit_grants")
    assert credits
    for row in credits:
        assert row["currency"] == accounts[row["account_id"]]["currency"]
        assert Decimal(row["amount"]) > 0 and "." in row["amount"]
        assert set(filter(None, row["applies_to"].split(";"))) <= all_cards
        assert row["effective_from"] <= row["effective_until"]
    wallet = _rows(catalog, "wallet_transactions")
    assert {r["type"] for r in wallet} == {"TOPUP", "ADJUSTMENT"}
    for row in wallet:
        assert row["currency"] == accounts[row["account_id"]]["currency"]
        if row["type"] == "TOPUP":
            assert Decimal(row["amount"]) > 0
        assert row["occurred_at"].endswith("Z")


def test_catalog_is_deterministic(tmp_path: Path) -> None:
    def digest(folder: Path) -> str:
        h = hashlib.sha256()
        for path in sorted(folder.iterdir()):
            h.update(path.name.encode() + path.read_bytes())
        return h.hexdigest()

    a = generate_catalog(tmp_path / "a", accounts=40, seed=5, start=START)
    b = generate_catalog(tmp_path / "b", accounts=40, seed=5, start=START)
    c = generate_catalog(tmp_path / "c", accounts=40, seed=6, start=START)
    assert digest(a) == digest(b) != digest(c)
