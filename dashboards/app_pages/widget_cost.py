"""Widget: cost incurred by the token's accounts over a chosen range (embeddable)."""

import streamlit as st

from dashboards import auth, data, ui

access = auth.require("widget")
st.subheader("Cost metrics")
start, end = ui.date_range(
    "Billing cycles starting", data.invoice_period_bounds(access.accounts), key="range"
)
cost = data.cost_by_cycle(access.accounts, start, end)
if cost.empty:
    st.caption("No cost in this range.")
    st.stop()
for currency, rows in cost.groupby("currency"):
    st.metric(f"Cost incurred ({currency})", ui.money(rows["total"].sum(), currency))
ui.bar_chart(
    cost.assign(cycle=cost["cycle_start"].astype(str)),
    "cycle",
    "total",
    color="currency",
    title="Cost per billing cycle",
    sort="ascending",
)
ui.table(ui.money_columns(cost, ["subtotal", "true_up", "credits", "total"]))
if cost["open_cycle"].any():
    st.caption("An open cycle shows its cost so far; it is final once the cycle closes.")
