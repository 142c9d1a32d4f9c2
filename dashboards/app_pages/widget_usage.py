"""Widget: usage per meter of the token's accounts over a chosen range (embeddable)."""

import streamlit as st

from dashboards import auth, data, ui

access = auth.require("widget")
st.subheader("Usage metrics")
start, end = ui.date_range("Usage between", data.usage_bounds(access.accounts), key="range")
usage = data.usage_by_meter(access.accounts, start, end)
if usage.empty:
    st.caption("No usage in this range.")
    st.stop()
cells = st.columns(len(usage))
for cell, row in zip(cells, usage.itertuples(), strict=True):
    cell.metric(row.meter_name, ui.number(row.units))
ui.line_chart(
    data.usage_daily(access.accounts, start, end),
    "usage_date",
    "units",
    color="meter_name",
    title="Usage per day",
)
