"""Widget: credit balance & history of the token's accounts (embeddable)."""

import streamlit as st

from dashboards import auth, data, ui

access = auth.require("widget")
st.subheader("Credit balance & history")
summary = data.credit_summary(access.accounts)
if summary.empty:
    st.caption("No credits.")
    st.stop()
for row in summary.itertuples():
    cells = st.columns(3)
    cells[0].metric(f"Granted ({row.currency})", ui.money(row.granted, row.currency))
    cells[1].metric(f"Available ({row.currency})", ui.money(row.available, row.currency))
    cells[2].metric(f"Used ({row.currency})", ui.money(row.applied, row.currency))
ledger = data.credit_ledger(access.accounts)
ui.line_chart(ledger, "occurred_at", "running_balance", color="currency", title="Running balance")
ui.table(ui.money_columns(ledger, ["amount", "balance_after", "running_balance"]))
