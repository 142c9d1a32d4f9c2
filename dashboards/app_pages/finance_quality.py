"""Finance: late usage (PAST_GRACE_PERIOD) and what happened to every record."""

import streamlit as st

from dashboards import auth, data, ui

auth.require("finance")
st.title("Late usage & data quality")
auth.snapshot_caption()

counts = data.pipeline_status_counts()
late = data.late_usage()
by_status = dict(zip(counts["status"], counts["records"], strict=True))
total = int(counts["records"].sum())
cells = st.columns(4)
cells[0].metric("Records received", f"{total:,}")
cells[1].metric("Metered", f"{int(by_status.get('METERED', 0)):,}")
cells[2].metric("Late (not billed)", f"{len(late):,}")
cells[3].metric("Rejected or unbilled", f"{total - int(by_status.get('METERED', 0)) - len(late):,}")

ui.bar_chart(counts, "status", "records", title="Records by pipeline status")
ui.table(counts)

st.subheader("Late usage")
st.caption(
    "Received after their cycle's invoice was finalized: kept and logged, never billed "
    "(the invoice they would have joined is named)."
)
if late.empty:
    st.caption("No late usage.")
else:
    ui.table(late)
