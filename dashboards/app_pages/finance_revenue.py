"""Finance: revenue by plan, meter, customer, account and cycle, for a period."""

import streamlit as st

from dashboards import auth, data, ui

auth.require("finance")
st.title("Revenue")
auth.snapshot_caption()

start, end = ui.date_range("Billing periods starting", data.invoice_period_bounds(), key="period")
overall = data.revenue_by("cycle", start, end)
if overall.empty:
    st.info("No invoices start in this period.")
    st.stop()

totals = overall.groupby("currency")[["total", "amount_due", "invoices"]].sum()
columns = st.columns(2 * len(totals) + 1)
for i, (currency, row) in enumerate(totals.iterrows()):
    columns[2 * i].metric(f"Invoiced ({currency})", ui.money(row["total"], currency))
    columns[2 * i + 1].metric(f"Amount due ({currency})", ui.money(row["amount_due"], currency))
columns[-1].metric("Invoices", f"{int(totals['invoices'].sum()):,}")

by = (
    st.segmented_control(
        "Revenue by", ["plan", "meter", "customer", "account", "cycle"], default="plan", key="by"
    )
    or "plan"
)
if by == "meter":
    frame = data.revenue_by_meter(start, end)
    ui.bar_chart(frame, "meter_id", "amount", color="currency", title="Usage revenue by meter")
    ui.table(ui.money_columns(frame, ["amount"]))
else:
    frame = data.revenue_by(by, start, end)
    ui.bar_chart(
        frame,
        by,
        "total",
        color="currency",
        title=f"Invoiced by {by}",
        sort="ascending" if by == "cycle" else "-y",
    )
    ui.table(ui.money_columns(frame, ["subtotal", "true_up", "credits", "total", "amount_due"]))
st.caption(
    "Invoiced = subtotal + minimum-commitment true-up − credits (drafts included, as computed "
    "by the last run). Meter revenue is the sum of the rounded usage lines."
)

st.subheader("Usage")
st.caption("Every account's metered usage on the days of the period above (local days).")
usage = data.usage_by_meter(None, start, end)
if usage.empty:
    st.caption("No metered usage in this period.")
else:
    ui.line_chart(
        data.usage_daily(None, start, end),
        "usage_date",
        "units",
        color="meter_name",
        title="Usage per day, every account",
    )
    ui.table(usage.assign(units=usage["units"].map(ui.number)))
