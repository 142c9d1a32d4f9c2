"""Finance: the event explorer (why was, or wasn't, this event billed?)."""

import streamlit as st

from dashboards import auth, data, ui

auth.require("finance")
st.title("Event explorer")
auth.snapshot_caption()

event_id = st.text_input("Event id", key="event_id", placeholder="paste an event id").strip()
left, right = st.columns(2)
account_id = left.text_input("Account", key="account_id").strip()
statuses = right.multiselect("Status", data.PIPELINE_STATUSES, key="statuses")

if event_id:
    paragraphs = data.explain(event_id)
    if not paragraphs:
        st.warning(f"No record with event id {event_id!r} in the published snapshot.")
    for paragraph in paragraphs:
        st.info(paragraph)

frame = data.events(event_id or None, account_id or None, tuple(statuses))
if not (event_id or account_id or statuses):
    st.caption("The latest records received (up to 200); filter by id, account or status.")
ui.table(frame)
