"""ISO 4217 currencies the catalog accepts, with their minor units (decimal places)."""

from __future__ import annotations

# A deliberate allow-list rather than the full ISO table: a typo such as "USF" must fail
# validation, and every currency here has been checked for its minor unit (rule 17 rounds
# each invoice line to it).
MINOR_UNITS: dict[str, int] = {
    "AED": 2,
    "ARS": 2,
    "AUD": 2,
    "BHD": 3,
    "BRL": 2,
    "CAD": 2,
    "CHF": 2,
    "CLP": 0,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "ILS": 2,
    "INR": 2,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "MXN": 2,
    "MYR": 2,
    "NOK": 2,
    "NZD": 2,
    "OMR": 3,
    "PHP": 2,
    "PLN": 2,
    "SAR": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TND": 3,
    "TRY": 2,
    "TWD": 2,
    "UGX": 0,
    "USD": 2,
    "VND": 0,
    "ZAR": 2,
}


def minor_units(currency: str) -> int:
    """Decimal places of `currency` (2 for USD, 0 for JPY, 3 for KWD); KeyError if unknown."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise KeyError(f"unknown currency {currency!r}") from None
