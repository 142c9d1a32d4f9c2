"""Tests of exact slab rating: hand-worked golden cases, breakdowns, clamps and properties."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rule_engine.slabs import (
    Slab,
    SlabCharge,
    UsagePricing,
    negative_usage_reason,
    rate_usage,
    slab_breakdown,
)

D = Decimal

# The CONTRACT §1.2 example: 0..1M at 0.000015, 1M..10M at 0.000012 + 5.00 flat, then 9.00 per
# package of 1M.
CONTRACT_SLABS = (
    Slab(D("0"), D("0.000015")),
    Slab(D("1000000"), D("0.000012"), flat_fee=D("5.00")),
    Slab(D("10000000"), D("9.00"), package_size=D("1000000")),
)
CONTRACT_TIERED = UsagePricing("TIERED", CONTRACT_SLABS)
CONTRACT_VOLUME = UsagePricing("VOLUME", CONTRACT_SLABS)
# A free allowance: the first 100 units cost nothing.
FREE_TIERED = UsagePricing("TIERED", (Slab(D("100"), D("0.5")),))
FREE_VOLUME = UsagePricing("VOLUME", (Slab(D("100"), D("1")), Slab(D("1000"), D("0.5"))))
PER_MILLI_PACKAGE = UsagePricing("TIERED", (Slab(D("0"), D("1"), package_size=D("0.001")),))
MILLI_PACKAGE_AT_MILLI = UsagePricing(
    "TIERED", (Slab(D("0"), D("0.001"), package_size=D("0.001")),)
)
TEN_DOLLARS = UsagePricing("TIERED", (Slab(D("0"), D("10.00")),))
CLAMPED = UsagePricing("TIERED", (Slab(D("0"), D("2")),), minimum=D("10"), maximum=D("100"))
CLAMPED_FREE = UsagePricing("TIERED", (Slab(D("100"), D("1")),), minimum=D("5"))
VOLUME_PACKAGES = UsagePricing(
    "VOLUME",
    (
        Slab(D("0"), D("0.30"), package_size=D("1000")),
        Slab(D("10000000"), D("0.20"), package_size=D("1000")),
    ),
)
FRACTIONAL = UsagePricing(
    "TIERED", (Slab(D("0"), D("0.12")), Slab(D("2.5"), D("0.10"), flat_fee=D("1")))
)

GOLDEN = [
    # (pricing, units, expected)  # arithmetic
    (CONTRACT_TIERED, "0", "0"),  # no usage
    (CONTRACT_TIERED, "1", "0.000015"),  # 1 × 0.000015
    (CONTRACT_TIERED, "0.5", "0.0000075"),  # 0.5 × 0.000015
    (CONTRACT_TIERED, "1000000", "15"),  # 1M × 0.000015; on the boundary: no slab-2 flat fee
    (CONTRACT_TIERED, "1000001", "20.000012"),  # 15 + 1 × 0.000012 + 5
    (CONTRACT_TIERED, "1000000.5", "20.000006"),  # 15 + 0.5 × 0.000012 + 5
    (CONTRACT_TIERED, "10000000", "128"),  # 15 + 9M × 0.000012 (108) + 5
    (CONTRACT_TIERED, "10000001", "137"),  # 128 + 9 × ceil(1 / 1M) = 128 + 9 × 1
    (CONTRACT_TIERED, "25000000", "263"),  # 128 + 9 × ceil(15M / 1M) = 128 + 135
    (CONTRACT_TIERED, "25000001", "272"),  # 128 + 9 × ceil(15000001 / 1M) = 128 + 9 × 16
    (CONTRACT_VOLUME, "0", "0"),  # no usage
    (CONTRACT_VOLUME, "1000000", "15"),  # slab 1 holds the total: 1M × 0.000015
    (CONTRACT_VOLUME, "1000001", "17.000012"),  # slab 2: 1000001 × 0.000012 + 5
    (CONTRACT_VOLUME, "10000000", "125"),  # slab 2: 10M × 0.000012 + 5 = 120 + 5
    (CONTRACT_VOLUME, "10000001", "99"),  # slab 3: 9 × ceil(10000001 / 1M) = 9 × 11 (drops)
    (CONTRACT_VOLUME, "25000000", "225"),  # 9 × ceil(25M / 1M) = 9 × 25
    (CONTRACT_VOLUME, "25000000.5", "234"),  # 9 × ceil(25.0000005) = 9 × 26
    (FREE_TIERED, "0", "0"),  # no usage
    (FREE_TIERED, "100", "0"),  # at the first start_after: free
    (FREE_TIERED, "100.5", "0.25"),  # 0.5 × 0.5
    (FREE_TIERED, "150", "25"),  # 50 × 0.5
    (FREE_VOLUME, "100", "0"),  # within the allowance
    (FREE_VOLUME, "1000", "900"),  # slab 1 holds 1000: (1000 − 100) × 1
    (FREE_VOLUME, "1001", "450.5"),  # slab 2 holds 1001: (1001 − 100) × 0.5
    (PER_MILLI_PACKAGE, "2051.021", "2051021"),  # ceil(2051.021 / 0.001) = 2051021 packages × 1
    (MILLI_PACKAGE_AT_MILLI, "2051.021", "2051.021"),  # 2051021 packages × 0.001
    (MILLI_PACKAGE_AT_MILLI, "2051.0211", "2051.022"),  # ceil(2051021.1) = 2051022 × 0.001
    (TEN_DOLLARS, "1000000000", "10000000000.00"),  # 10^9 × 10.00
    (CLAMPED, "0", "0"),  # no usage: the minimum does not apply
    (CLAMPED, "1", "10"),  # 1 × 2 = 2, raised to the minimum 10
    (CLAMPED, "5", "10"),  # 5 × 2 = 10, the minimum itself
    (CLAMPED, "20", "40"),  # 20 × 2, within the clamps
    (CLAMPED, "50", "100"),  # 50 × 2 = 100, the maximum itself
    (CLAMPED, "1000", "100"),  # 1000 × 2 = 2000, cut to the maximum 100
    (CLAMPED_FREE, "50", "5"),  # free units are still usage: 0 raised to the minimum 5
    (CLAMPED_FREE, "0", "0"),  # no usage: no minimum
    (VOLUME_PACKAGES, "1", "0.30"),  # ceil(1 / 1000) = 1 package × 0.30
    (VOLUME_PACKAGES, "1000", "0.30"),  # exactly one package
    (VOLUME_PACKAGES, "1001", "0.60"),  # 2 packages × 0.30
    (VOLUME_PACKAGES, "10000000", "3000"),  # 10000 packages × 0.30
    (VOLUME_PACKAGES, "10000001", "2000.20"),  # slab 2: ceil(10000.001) = 10001 × 0.20
    (FRACTIONAL, "2.5", "0.3"),  # 2.5 × 0.12 = 0.300, the boundary: no flat fee
    (FRACTIONAL, "2.75", "1.325"),  # 0.3 + 0.25 × 0.10 + 1
    (CONTRACT_TIERED, "-5", "0"),  # negative total: rated as 0 (flagged separately)
    (CLAMPED, "-5", "0"),  # negative total: not clamped up to the minimum
]


@pytest.mark.parametrize(("pricing", "units", "expected"), GOLDEN)
def test_golden(pricing: UsagePricing, units: str, expected: str) -> None:
    amount = rate_usage(D(units), pricing)
    assert isinstance(amount, Decimal)
    assert amount == D(expected)


def test_golden_table_is_large_enough() -> None:
    assert len(GOLDEN) >= 30


def test_billion_units_keep_every_digit() -> None:
    # The default 28-digit context would be fine here, but the scale must survive untouched.
    assert str(rate_usage(D(10) ** 9, TEN_DOLLARS)) == "10000000000.00"


def test_milli_packages_are_counted_exactly() -> None:
    (charge,) = slab_breakdown(D("2051.021"), PER_MILLI_PACKAGE)
    assert charge.packages == 2051021  # a float ceil gives 2051022


def test_caller_context_does_not_round() -> None:
    huge = UsagePricing("TIERED", (Slab(D("0"), D("0.000000000001")),))
    units = D("123456789012345678901234567890.123456789")
    expected = D("123456789012345678.901234567890123456789")
    with localcontext() as ctx:
        ctx.prec = 5
        assert rate_usage(units, huge) == expected
    assert rate_usage(units, huge) == expected


def test_breakdown_tiered() -> None:
    assert slab_breakdown(D("10000001"), CONTRACT_TIERED) == [
        SlabCharge(0, D("1000000"), None, D("15")),
        SlabCharge(1, D("9000000"), None, D("113")),  # 108 + 5 flat
        SlabCharge(2, D("1"), D("1"), D("9")),
    ]
    # Exactly on a boundary: the next slab holds no unit and is not listed.
    assert [c.slab_index for c in slab_breakdown(D("1000000"), CONTRACT_TIERED)] == [0]


def test_breakdown_volume_is_one_slab() -> None:
    assert slab_breakdown(D("10000001"), CONTRACT_VOLUME) == [
        SlabCharge(2, D("10000001"), D("11"), D("99"))
    ]
    assert slab_breakdown(D("1001"), FREE_VOLUME) == [SlabCharge(1, D("901"), None, D("450.5"))]


@pytest.mark.parametrize("units", ["0", "-1", "100"])
def test_breakdown_empty_without_billable_units(units: str) -> None:
    assert slab_breakdown(D(units), FREE_TIERED) == []


def test_volume_jumps_at_boundaries() -> None:
    # VOLUME can cost less for more units: the whole quantity moves to the cheaper slab.
    assert rate_usage(D("10000000"), CONTRACT_VOLUME) > rate_usage(D("10000001"), CONTRACT_VOLUME)
    # ... and more at a slab with a flat fee.
    assert rate_usage(D("1000001"), CONTRACT_VOLUME) - rate_usage(
        D("1000000"), CONTRACT_VOLUME
    ) == D("2.000012")


def test_negative_usage_reason() -> None:
    assert negative_usage_reason("opus_input", D("5")) is None
    assert negative_usage_reason("opus_input", D("0")) is None
    reason = negative_usage_reason("opus_input", D("-2.50"))
    assert reason is not None and "opus_input" in reason and "-2.50" in reason


def test_inputs_are_coerced_and_floats_refused() -> None:
    slab = Slab(0, "0.000015", None, "1000")
    assert slab == Slab(D(0), D("0.000015"), D(0), D(1000))
    assert UsagePricing("TIERED", [slab]).slabs == (slab,)
    with pytest.raises(TypeError):
        Slab(0, 0.1)
    with pytest.raises(TypeError):
        rate_usage(1.5, CLAMPED)  # type: ignore[arg-type]
    assert rate_usage(3, CLAMPED) == 10  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Slab(0, 1, package_size=0), "package_size"),
        (lambda: Slab("x", 1), "not a number"),
        (lambda: Slab(0, "NaN"), "finite"),
        (lambda: UsagePricing("GRADUATED", (Slab(0, 1),)), "TIERED or VOLUME"),
        (lambda: UsagePricing("TIERED", ()), "at least one slab"),
        (lambda: UsagePricing("TIERED", (Slab(10, 1), Slab(10, 2))), "strictly increasing"),
        (lambda: UsagePricing("TIERED", (Slab(0, 1),), minimum=5, maximum=4), "greater than"),
    ],
)
def test_invalid_pricing(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_catalog_enum_is_accepted() -> None:
    from enum import StrEnum

    class Model(StrEnum):
        VOLUME = "VOLUME"

    assert UsagePricing(Model.VOLUME, CONTRACT_SLABS).pricing_model == "VOLUME"


# ---------------------------------------------------------------- properties


def _reference(units: Decimal, pricing: UsagePricing) -> Fraction:
    """An independent rating in Fractions, straight from SEMANTICS rule 9."""
    u = Fraction(units)
    slabs = pricing.slabs
    first = Fraction(slabs[0].start_after)

    def charge(slab: Slab, n: Fraction) -> Fraction:
        if slab.package_size is None:
            base = Fraction(slab.rate) * n
        else:
            base = Fraction(slab.rate) * math.ceil(n / Fraction(slab.package_size))
        return base + Fraction(slab.flat_fee)

    total = Fraction(0)
    if u > first:
        bounds = [Fraction(s.start_after) for s in slabs] + [None]
        if pricing.pricing_model == "TIERED":
            for slab, low, high in zip(slabs, bounds, bounds[1:], strict=False):
                inside = (u if high is None else min(u, high)) - low
                if inside > 0:
                    total += charge(slab, inside)
        else:
            containing = [s for s, low in zip(slabs, bounds, strict=False) if u > low][-1]
            total = charge(containing, u - first)
    if u > 0:
        if pricing.minimum is not None:
            total = max(total, Fraction(pricing.minimum))
        if pricing.maximum is not None:
            total = min(total, Fraction(pricing.maximum))
    return total


def _decimals(low: str, high: str, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=D(low), max_value=D(high), places=places, allow_nan=False, allow_infinity=False
    )


@st.composite
def pricings(draw, clamps: bool = True, model: str | None = None) -> UsagePricing:
    starts = sorted(set(draw(st.lists(_decimals("0", "100000", 2), min_size=1, max_size=4))))
    slabs = tuple(
        Slab(
            start,
            draw(_decimals("0", "50", 6)),
            draw(st.one_of(st.just(D(0)), _decimals("0", "20", 2))),
            draw(st.one_of(st.none(), _decimals("0.001", "5000", 3).filter(lambda d: d > 0))),
        )
        for start in starts
    )
    minimum = maximum = None
    if clamps:
        minimum = draw(st.one_of(st.none(), _decimals("0", "1000", 2)))
        maximum = draw(st.one_of(st.none(), _decimals("0", "100000", 2)))
        if minimum is not None and maximum is not None and minimum > maximum:
            minimum, maximum = maximum, minimum
    return UsagePricing(
        model or draw(st.sampled_from(["TIERED", "VOLUME"])), slabs, minimum, maximum
    )


UNITS = _decimals("-100", "1000000", 3)


@settings(max_examples=300, deadline=None)
@given(pricings(), UNITS)
def test_matches_fraction_reference(pricing: UsagePricing, units: Decimal) -> None:
    assert Fraction(rate_usage(units, pricing)) == _reference(units, pricing)


@settings(max_examples=300, deadline=None)
@given(pricings(clamps=False), UNITS)
def test_equals_sum_of_breakdown_without_clamps(pricing: UsagePricing, units: Decimal) -> None:
    breakdown = slab_breakdown(units, pricing)
    assert rate_usage(units, pricing) == sum((c.amount for c in breakdown), D(0))
    if pricing.pricing_model == "VOLUME":
        assert len(breakdown) <= 1
    assert all(c.units > 0 for c in breakdown)


@settings(max_examples=300, deadline=None)
@given(pricings(model="TIERED"), UNITS, UNITS)
def test_tiered_is_monotone(pricing: UsagePricing, a: Decimal, b: Decimal) -> None:
    # True for TIERED with non-negative rates, fees and clamps (what the catalog allows): each
    # slab's units, packages and flat fee only grow, and clamping keeps the order. Not for
    # VOLUME (test_volume_jumps_at_boundaries).
    assume(a != b)
    low, high = min(a, b), max(a, b)
    assert rate_usage(low, pricing) <= rate_usage(high, pricing)


@settings(max_examples=200, deadline=None)
@given(pricings(), _decimals("0.001", "1000000", 3))
def test_tiered_breakdown_units_add_up(pricing: UsagePricing, units: Decimal) -> None:
    billable = max(units - pricing.slabs[0].start_after, D(0))
    assert sum((c.units for c in slab_breakdown(units, pricing)), D(0)) == billable
