"""Presentation helpers shared by the pages: money, prices in words, charts, empty states."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import altair as alt
import pandas as pd
import streamlit as st

from dagster_project.lib.catalog import minor_units


def money(amount, currency: str) -> str:
    """An amount at its currency's minor unit, thousands grouped: `9.39 USD`."""
    value = Decimal(str(amount if amount is not None else 0))
    return f"{value:,.{minor_units(currency)}f} {currency}"


def number(value) -> str:
    """A quantity without trailing zeros: 12, 3.5, 0.000015."""
    text = format(Decimal(str(value)).normalize(), "f")
    return text


def rate(value, currency: str) -> str:
    """A unit price: at least the currency's minor unit, more places only when it has them."""
    value = Decimal(str(value)).normalize()
    places = max(minor_units(currency), -value.as_tuple().exponent)
    return f"{value:,.{places}f} {currency}"


def _present(value) -> bool:
    return value is not None and not pd.isna(value)


def or_none(value):
    """A cell as a query parameter: pandas' missing values (NaN, NA) become None."""
    return value if _present(value) else None


def describe_rate_card(card: dict, slabs: list[dict], currency: str) -> str:
    """One rate card in words, as a customer reads their price."""
    name = card["rate_card_id"]
    if card["rate_card_type"] == "FIXED_FEE":
        text = f"**{name}**: {money(card['amount'], currency)} per billing cycle"
        if card.get("proration"):
            text += ", prorated when the plan starts or ends mid-cycle"
        return text + "."
    if card["rate_card_type"] == "MINIMUM_COMMITMENT":
        return (
            f"**{name}**: a minimum of {money(card['amount'], currency)} per billing cycle; "
            "any shortfall is billed as a true-up."
        )
    parts = []
    for i, slab in enumerate(slabs):
        start = Decimal(str(slab["start_after"]))
        upper = Decimal(str(slabs[i + 1]["start_after"])) if i + 1 < len(slabs) else None
        if i == 0 and start > 0:
            parts.append(f"the first {number(start)} free")
        if upper is not None:
            span = (
                f"{number(start)} to {number(upper)}: " if start > 0 else f"up to {number(upper)}: "
            )
        else:
            span = f"above {number(start)}: " if start > 0 else ""
        package = slab.get("package_size")
        price = rate(slab["rate"], currency) + (
            f" per {number(package)}" if _present(package) else " per unit"
        )
        if _present(slab.get("flat_fee")) and Decimal(str(slab["flat_fee"])) != 0:
            price += f" plus {money(slab['flat_fee'], currency)} once reached"
        parts.append(span + price)
    if len(slabs) > 1:
        how = (
            "every unit at the rate of the tier the cycle's total falls in; "
            if card.get("pricing_model") == "VOLUME"
            else "graduated; "
        )
    else:
        how = ""
    text = f"**{name}** ({card.get('meter_name') or card.get('meter_id')}): {how}" + "; ".join(
        parts
    )
    bounds = []
    if _present(card.get("minimum_amount")) and Decimal(str(card["minimum_amount"])) > 0:
        bounds.append(f"at least {money(card['minimum_amount'], currency)}")
    if _present(card.get("maximum_amount")):
        bounds.append(f"at most {money(card['maximum_amount'], currency)}")
    if bounds:
        text += f" ({' and '.join(bounds)} per cycle when used)"
    return text + "."


def money_columns(frame: pd.DataFrame, columns: list[str], currency_column="currency"):
    """Money columns as display strings at each row's currency's minor unit."""
    shown = frame.copy()
    for column in columns:
        shown[column] = [
            money(value, currency) if value is not None and not pd.isna(value) else ""
            for value, currency in zip(shown[column], shown[currency_column], strict=True)
        ]
    return shown


def floats(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Charts draw floats (every Decimal column); the figures shown as text stay exact."""
    drawn = frame.copy()
    for column in drawn.columns:
        values = drawn[column].dropna()
        if column in columns or (len(values) and isinstance(values.iloc[0], Decimal)):
            drawn[column] = drawn[column].astype(float)
    return drawn


def bar_chart(
    frame: pd.DataFrame,
    x: str,
    y: str,
    color: str | None = None,
    title: str = "",
    sort: str = "-y",
):
    """Bars, largest first (sort="ascending" keeps cycles in time order)."""
    chart = (
        alt.Chart(floats(frame, [y]), title=title)
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:N", sort=sort, title=x.replace("_", " ")),
            y=alt.Y(f"{y}:Q", title=y.replace("_", " ")),
            tooltip=[c for c in frame.columns if frame[c].dtype.kind != "M"],
        )
    )
    if color:
        chart = chart.encode(color=alt.Color(f"{color}:N"))
    st.altair_chart(chart, width="stretch")


def line_chart(frame: pd.DataFrame, x: str, y: str, color: str | None = None, title: str = ""):
    chart = (
        alt.Chart(floats(frame, [y]), title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:T", title=x.replace("_", " ")),
            y=alt.Y(f"{y}:Q", title=y.replace("_", " ")),
        )
    )
    if color:
        chart = chart.encode(color=alt.Color(f"{color}:N"))
    st.altair_chart(chart, width="stretch")


def date_range(
    label: str, bounds: tuple[date | None, date | None], key: str
) -> tuple[date | None, date | None]:
    """A from–to picker over the data's dates; a half-picked range counts as one day."""
    lo, hi = bounds
    if lo is None or hi is None:
        return None, None
    picked = st.date_input(label, value=(lo, hi), key=key)
    if isinstance(picked, tuple | list):
        if len(picked) == 2:
            return picked[0], picked[1]
        if len(picked) == 1:
            return picked[0], picked[0]
        return None, None
    return picked, picked


def table(frame: pd.DataFrame, **options) -> None:
    st.dataframe(frame, hide_index=True, width="stretch", **options)


def invoice_picker(invoices: pd.DataFrame, label: str):
    """A select box over invoices (account · period · status · total); the chosen row."""
    rows = {row.invoice_id: row for row in invoices.itertuples()}
    invoice_id = st.selectbox(
        label,
        list(rows),
        format_func=lambda i: (
            f"{rows[i].account_id} · {rows[i].period_start:%Y-%m-%d} · "
            f"{rows[i].status} · {money(rows[i].total, rows[i].currency)}"
        ),
        key="invoice",
    )
    return rows[invoice_id]
