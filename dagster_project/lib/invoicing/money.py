"""Exact money for invoices: the one rounding rule (half-up to the minor unit) and stable ids."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal, localcontext
from json.encoder import encode_basestring_ascii
from typing import ParamSpec, TypeVar

from dagster_project.lib.catalog.currencies import minor_units
from rule_engine.slabs import EXACT

__all__ = [
    "EXACT",
    "ZERO",
    "at_scale",
    "exact",
    "exact_sum",
    "round_money",
    "stable_id",
    "to_decimal",
]

ZERO = Decimal(0)
P = ParamSpec("P")
R = TypeVar("R")


def to_decimal(value: object, name: str) -> Decimal:
    """A finite Decimal from a Decimal, int or numeric string; floats are refused (not exact)."""
    if isinstance(value, bool | float):
        raise TypeError(f"{name} must be a Decimal, int or numeric string, not {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        result = Decimal(value)
    else:
        raise TypeError(f"{name} must be a Decimal, int or numeric string, not {value!r}")
    if not result.is_finite():
        raise ValueError(f"{name} {value!r} is not a finite number")
    return result


@functools.cache
def _quantum(currency: str) -> Decimal:
    """The currency's minor unit as a quantum (USD → 0.01), built once per currency: a night
    rounds every line of ~80k invoices. An unknown currency raises (and is not cached)."""
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """SEMANTICS 17: half-up to the currency's minor unit; -0.005 USD → -0.01 (away from zero).

    This is the only place an amount is rounded: every invoice line goes through it once.
    """
    rounded = amount.quantize(_quantum(currency), rounding=ROUND_HALF_UP, context=EXACT)
    # A tiny negative amount rounds to -0.00; a signed zero on an invoice only confuses.
    return rounded.copy_abs() if rounded.is_zero() else rounded


def exact(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` with unbounded decimal precision: the caller's context (28 digits by
    default) must never round an amount; only `round_money` rounds."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(EXACT):
            return func(*args, **kwargs)

    return wrapper


def at_scale(amount: Decimal, currency: str) -> Decimal:
    """A sum of rounded lines shown at the currency's scale (0 → 0.00, never -0).

    It is whole minor units already, so nothing is rounded here; a value that would change
    is a bug in the builder and raises.
    """
    scaled = round_money(amount, currency)
    if scaled != amount:
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return scaled


def exact_sum(amounts: Iterable[Decimal]) -> Decimal:
    """Sum without the default 28-digit context ever rounding a large total."""
    with localcontext(EXACT):
        return sum(amounts, ZERO)


def stable_id(prefix: str, *parts: object) -> str:
    """A deterministic id from its parts: the same inputs give the same id on every run."""
    # JSON keeps the parts apart: ("a|b", "c") and ("a", "b|c") never share an id. The text
    # is exactly json.dumps(list) (", " between items, ASCII escapes), built without the
    # encoder's per-call set-up: ids are hashed for every line of every invoice.
    text = (
        "["
        + ", ".join(
            "null" if part is None else encode_basestring_ascii(str(part)) for part in parts
        )
        + "]"
    )
    return f"{prefix}_{hashlib.sha256(text.encode()).hexdigest()[:32]}"
