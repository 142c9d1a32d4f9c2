"""The bundled demo catalog loads cleanly and covers the catalog's features; numbers stay exact."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dagster_project.lib.catalog import (
    DEMO_CATALOG,
    MINOR_UNITS,
    Aggregation,
    CatalogError,
    CatalogProblem,
    FixedFeeRateCard,
    MinimumCommitmentRateCard,
    UpdateAction,
    UsageRateCard,
    catalog_version,
    check_catalog,
    load_catalog,
    load_yaml_exact,
    minor_units,
)

from .conftest import edit, messages


def test_demo_catalog_loads_cleanly():
    assert check_catalog(DEMO_CATALOG) == []
    catalog = load_catalog(DEMO_CATALOG)
    assert catalog.version == catalog_version(DEMO_CATALOG)
    assert len(catalog.version) == 64
    assert 8 <= len(catalog.accounts) <= 12
    assert len(catalog.customers) == 6


def test_demo_catalog_exercises_every_feature():
    catalog = load_catalog(DEMO_CATALOG)
    assert len(catalog.event_schemas) >= 2
    aggregations = {m.aggregation for m in catalog.usage_meters}
    assert aggregations == set(Aggregation)
    assert any(m.filter is None for m in catalog.usage_meters)
    assert any(m.filter is not None for m in catalog.usage_meters)

    plans = catalog.price_plans
    assert len(plans) >= 3
    assert {p.currency for p in plans} >= {"USD", "EUR"}
    assert {str(p.billing_cycle.interval) for p in plans} >= {"MONTHLY", "WEEKLY", "QUARTERLY"}
    cards = [card for plan in plans for card in plan.rate_cards]
    usage = [c for c in cards if isinstance(c, UsageRateCard)]
    fees = [c for c in cards if isinstance(c, FixedFeeRateCard)]
    assert {str(c.pricing_model) for c in usage} == {"TIERED", "VOLUME"}
    assert {c.proration for c in fees} == {True, False}
    assert any(isinstance(c, MinimumCommitmentRateCard) for c in cards)
    slabs = [slab for card in usage for slab in card.slabs]
    assert any(s.package_size for s in slabs) and any(s.flat_fee for s in slabs)
    assert any(c.minimum is not None for c in usage) and any(c.maximum is not None for c in usage)

    rules = [rule for plan in plans for rule in plan.pricing_rules]
    targets = {r.action.target.split(".")[0] for r in rules if isinstance(r.action, UpdateAction)}
    assert targets == {"revenue", "usage"}
    assert any(r.action.type == "ADD" for r in rules)
    assert any(r.condition is not None for r in rules)

    assert len({a.timezone for a in catalog.accounts}) >= 3
    assert any(a.aliases for a in catalog.accounts)
    # The mid-November plan change: A until X-1, B from X.
    initech = catalog.assignments_of("acc_initech")
    assert [a.plan_id for a in initech] == ["starter", "growth"]
    assert initech[0].effective_until == date(2026, 11, 14)
    assert initech[1].effective_from == date(2026, 11, 15)

    credits = catalog.credit_grants
    assert len({c.priority for c in credits}) >= 2
    assert any(c.effective_until and c.effective_until < date(2026, 11, 30) for c in credits)
    assert any(c.applies_to for c in credits) and any(not c.applies_to for c in credits)
    assert {str(t.type) for t in catalog.wallet_transactions} == {"TOPUP", "ADJUSTMENT"}


def test_demo_catalog_lookups():
    catalog = load_catalog(DEMO_CATALOG)
    assert catalog.resolve_account("acme-prod").account_id == "acc_acme_prod"
    assert catalog.resolve_account("acc_acme_prod").account_id == "acc_acme_prod"
    assert catalog.resolve_account("nobody") is None
    assert catalog.price_plans_by_id["growth"].rate_card("commitment").amount == Decimal("500.00")
    stark_trial = catalog.accounts_by_id["acc_stark_trial"]
    assert stark_trial.timezone == "UTC"  # empty timezone column = UTC


def test_quoted_decimal_stays_exact():
    catalog = load_catalog(DEMO_CATALOG)
    slab = catalog.price_plans_by_id["growth"].rate_card("opus_input").slabs[0]
    assert slab.rate == Decimal("0.000015")
    assert str(slab.rate) == "0.000015"


def test_unquoted_yaml_numbers_are_read_as_decimals():
    document, duplicates = load_yaml_exact("a: 0.1\nb: 1000000\nc: 1_000.50\nd: '0.000015'\n")
    assert document == {
        "a": Decimal("0.1"),
        "b": Decimal("1000000"),
        "c": Decimal("1000.50"),
        "d": "0.000015",
    }
    assert isinstance(document["a"], Decimal) and duplicates == []


def test_unquoted_rate_in_pricing_yaml_is_exact(catalog_dir):
    edit(catalog_dir, "pricing.yaml", 'rate: "0.000015"}', "rate: 0.1}")
    edit(catalog_dir, "pricing.yaml", '"0.9"]}', "0.9]}")
    catalog = load_catalog(catalog_dir)
    growth = catalog.price_plans_by_id["growth"]
    assert catalog.price_plans_by_id["starter"].rate_card("opus_input").slabs[0].rate == Decimal(
        "0.1"
    )
    computation = growth.pricing_rules[0].computation
    assert computation == {"*": [{"var": "revenue.opus_input"}, Decimal("0.9")]}
    assert str(computation["*"][1]) == "0.9"


def test_csv_amounts_and_timestamps_are_exact():
    catalog = load_catalog(DEMO_CATALOG)
    grant = next(g for g in catalog.credit_grants if g.credit_id == "cr_acme_promo")
    assert grant.amount == Decimal("100.00") and str(grant.amount) == "100.00"
    topup = next(t for t in catalog.wallet_transactions if t.transaction_id == "wt_0002")
    assert topup.occurred_at == datetime(2026, 11, 2, 20, 30, tzinfo=UTC)


def test_more_than_twelve_decimal_places_is_a_problem(catalog_dir):
    edit(catalog_dir, "pricing.yaml", 'rate: "0.000075"}', 'rate: "0.0000750000000001"}')
    assert (
        "pricing.yaml: rate_card 'starter.opus_output': slabs[0].rate: 0.0000750000000001 "
        "has more than 12 decimal places" in messages(catalog_dir)
    )


def test_trailing_zeros_beyond_twelve_places_are_fine(catalog_dir):
    edit(catalog_dir, "pricing.yaml", 'rate: "0.000075"}', 'rate: "0.0000750000000000000"}')
    assert messages(catalog_dir) == []


def test_catalog_version_changes_with_content(catalog_dir):
    before = catalog_version(catalog_dir)
    assert before == catalog_version(DEMO_CATALOG)
    edit(catalog_dir, "customers.csv", "Acme Robotics Inc.", "Acme Robotics Incorporated")
    assert catalog_version(catalog_dir) != before


def test_minor_units():
    assert minor_units("USD") == 2 and minor_units("JPY") == 0 and minor_units("KWD") == 3
    assert MINOR_UNITS["EUR"] == 2 and MINOR_UNITS["BHD"] == 3
    assert len(MINOR_UNITS) >= 30
    with pytest.raises(KeyError):
        minor_units("XXX")


def test_catalog_error_lists_one_problem_per_line():
    error = CatalogError(
        [
            CatalogProblem(
                "pricing.yaml", "opus_input_tokens", "unknown event_schema 'x'", "usage_meter"
            ),
            CatalogProblem("accounts.csv", "line 3", "has 2 fields, the header has 6"),
            CatalogProblem("customers.csv", "", "file not found (CSV or Parquet)"),
        ]
    )
    assert str(error).splitlines() == [
        "pricing.yaml: usage_meter 'opus_input_tokens': unknown event_schema 'x'",
        "accounts.csv: line 3: has 2 fields, the header has 6",
        "customers.csv: file not found (CSV or Parquet)",
    ]


def test_missing_catalog_folder(tmp_path):
    with pytest.raises(CatalogError, match="catalog folder not found"):
        load_catalog(tmp_path / "nope")


def test_assignment_in_force_on_a_local_day():
    catalog = load_catalog(DEMO_CATALOG)
    assert catalog.assignment_on("acc_initech", date(2026, 11, 14)).plan_id == "starter"
    assert catalog.assignment_on("acc_initech", date(2026, 11, 15)).plan_id == "growth"
    assert catalog.assignment_on("acc_stark_trial", date(2026, 11, 1)) is None
    assert catalog.assignment_on("acc_stark", date(2026, 11, 9)) is None


def test_csv_quoted_fields_keep_commas_and_line_breaks(catalog_dir):
    (catalog_dir / "customers.csv").write_text(
        (catalog_dir / "customers.csv")
        .read_text()
        .replace("Acme Robotics Inc.", '"Acme Robotics, Inc.\nRobotics division"')
    )
    catalog = load_catalog(catalog_dir)
    assert catalog.customers_by_id["cus_acme"].name == "Acme Robotics, Inc.\nRobotics division"
