"""Exact slab rating of one usage rate card (SEMANTICS rule 9): TIERED and VOLUME, packages, clamps."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from fractions import Fraction
from typing import Literal, NamedTuple

__all__ = [
    "PRICING_MODELS",
    "Slab",
    "SlabCharge",
    "UsagePricing",
    "negative_usage_reason",
    "rate_usage",
    "slab_breakdown",
]

PRICING_MODELS = ("TIERED", "VOLUME")

# Rating only adds and multiplies finite decimals, so with unbounded precision it never rounds
# (the caller's context, e.g. the default 28 digits, must not cut 10^9 × 10.00 or a 40-digit
# sum). Rounding to the currency's minor unit happens once per invoice line, elsewhere.
EXACT = Context(
    prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, DivisionByZero, Overflow]
)

_ZERO = Decimal(0)


def _decimal(value: object, name: str) -> Decimal:
    # Floats are refused: 0.1 as a float is not 0.1, and money must stay exact.
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, int or numeric string, not {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(f"{name} {value!r} is not a number") from exc
    else:
        raise TypeError(f"{name} must be a Decimal, int or numeric string, not {value!r}")
    if not result.is_finite():
        raise ValueError(f"{name} {value!r} is not a finite number")
    return result


@dataclass(frozen=True)
class Slab:
    """One slab: covers units in (start_after, next slab's start_after]."""

    start_after: Decimal
    rate: Decimal
    flat_fee: Decimal = _ZERO
    package_size: Decimal | None = None

    def __post_init__(self) -> None:
        # Coerce ints/strings once here so the rating code only ever sees Decimals.
        object.__setattr__(self, "start_after", _decimal(self.start_after, "start_after"))
        object.__setattr__(self, "rate", _decimal(self.rate, "rate"))
        fee = _ZERO if self.flat_fee is None else _decimal(self.flat_fee, "flat_fee")
        object.__setattr__(self, "flat_fee", fee)
        if self.package_size is not None:
            size = _decimal(self.package_size, "package_size")
            if size <= 0:
                raise ValueError(f"package_size {size} must be greater than 0")
            object.__setattr__(self, "package_size", size)


@dataclass(frozen=True)
class UsagePricing:
    """A usage rate card's pricing: model, slabs sorted by start_after, optional clamps."""

    pricing_model: Literal["TIERED", "VOLUME"]
    slabs: tuple[Slab, ...]
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def __post_init__(self) -> None:
        model = str(self.pricing_model)  # accepts the catalog's StrEnum as well
        if model not in PRICING_MODELS:
            raise ValueError(f"pricing_model {model!r} is not TIERED or VOLUME")
        object.__setattr__(self, "pricing_model", model)
        slabs = tuple(self.slabs)
        if not slabs:
            raise ValueError("a usage pricing needs at least one slab")
        for before, after in zip(slabs, slabs[1:], strict=False):
            if after.start_after <= before.start_after:
                raise ValueError(
                    f"slabs are not strictly increasing: start_after {after.start_after} "
                    f"follows {before.start_after}"
                )
        object.__setattr__(self, "slabs", slabs)
        for name in ("minimum", "maximum"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _decimal(value, name))
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum} is greater than maximum {self.maximum}")


class SlabCharge(NamedTuple):
    """What one slab charges: its units, packages (None without package_size), amount."""

    slab_index: int
    units: Decimal
    packages: Decimal | None
    amount: Decimal  # rate × units (or × packages) + flat_fee, unrounded


def _packages(units: Decimal, package_size: Decimal) -> Decimal:
    # Fractions are exact: Decimal division would round at the context precision, and a
    # float ceil gives 2051022 packages for 2051.021 / 0.001 (SEMANTICS, DuckDB traps).
    return Decimal(math.ceil(Fraction(units) / Fraction(package_size)))


def _charge(index: int, slab: Slab, units: Decimal) -> SlabCharge:
    if slab.package_size is None:
        return SlabCharge(index, units, None, slab.rate * units + slab.flat_fee)
    packages = _packages(units, slab.package_size)
    return SlabCharge(index, units, packages, slab.rate * packages + slab.flat_fee)


def slab_breakdown(units: Decimal, pricing: UsagePricing) -> list[SlabCharge]:
    """The slabs that charge for `units`, in slab order, before min/max clamps.

    TIERED: one entry per slab holding at least one unit. VOLUME: one entry, the slab that
    contains the total, charging for every unit above the first slab's start_after.
    No usage, negative usage or usage within the first slab's start_after: [].
    """
    units = _decimal(units, "units")
    slabs = pricing.slabs
    with localcontext(EXACT):
        if units <= slabs[0].start_after:
            return []  # free allowance (and 0 / negative usage): nothing charges
        if pricing.pricing_model == "VOLUME":
            index = max(i for i, slab in enumerate(slabs) if slab.start_after < units)
            # Units up to the first start_after are free in both models (precise reading
            # "first slab"); the containing slab's rate applies to all the others.
            return [_charge(index, slabs[index], units - slabs[0].start_after)]
        charges = []
        for index, slab in enumerate(slabs):
            if units <= slab.start_after:
                break
            upper = slabs[index + 1].start_after if index + 1 < len(slabs) else None
            top = units if upper is None else min(units, upper)
            charges.append(_charge(index, slab, top - slab.start_after))
        return charges


def rate_usage(units: Decimal, pricing: UsagePricing) -> Decimal:
    """The exact, unrounded amount of `units` under `pricing` (SEMANTICS rule 9).

    0 or negative units rate as 0 and are not clamped (there is no usage to charge);
    `negative_usage_reason` tells the caller to flag a negative total for review.
    """
    units = _decimal(units, "units")
    if units <= 0:
        return _ZERO
    with localcontext(EXACT):
        amount = sum((charge.amount for charge in slab_breakdown(units, pricing)), _ZERO)
        if pricing.minimum is not None and amount < pricing.minimum:
            amount = pricing.minimum
        if pricing.maximum is not None and amount > pricing.maximum:
            amount = pricing.maximum
        return amount


def negative_usage_reason(rate_card_id: str, units: Decimal) -> str | None:
    """A review reason when a usage total is negative (corrections outweigh usage), else None."""
    units = _decimal(units, "units")
    if units >= 0:
        return None
    return (
        f"usage of rate card '{rate_card_id}' is negative ({format(units, 'f')}): "
        "rated as 0, please review the corrections"
    )
