"""Finance: payment workflow runs (collect_payment) and their action logs."""

import streamlit as st

from dashboards import auth, data, ui

auth.require("finance")
st.title("Payment workflows")
auth.snapshot_caption()

if not data.has_table("marts", "fct_workflow_runs"):
    st.info(
        "No payment workflow runs are published in this snapshot yet: they appear here once "
        "the payment workflow has run and the next snapshot is published."
    )
    st.stop()

statuses = st.multiselect("Run status", ["IN_PROGRESS", "SUCCEEDED", "FAILED"], key="statuses")
runs = data.workflow_runs(tuple(statuses))
if runs.empty:
    st.caption("No workflow runs.")
    st.stop()
counts = runs.groupby("status").size().reset_index(name="runs")
ui.bar_chart(counts, "status", "runs", title="Runs by status")
ui.table(runs)

run_id = st.selectbox("Open a run", runs["run_id"].tolist(), key="run")
if data.has_table("marts", "fct_workflow_action_logs"):
    st.markdown("**Action log**")
    ui.table(data.workflow_actions(run_id))
