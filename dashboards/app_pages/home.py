"""Landing page: sends a token to its pages; without one, says how to get one."""

import streamlit as st

from dagster_project.lib.tokens import TokenError
from dashboards import auth

st.title("Tallyhouse")
try:
    claims = auth.token_claims()
except TokenError as error:
    st.error(str(error), icon=":material/lock:")
    st.markdown(
        "Finance opens the app with a finance token (`tallyhouse token --scope finance`); a "
        "customer opens their portal link (`tallyhouse token --customer ID`); a product "
        "team embeds a widget with a widget token (`--scope widget`)."
    )
    st.stop()

token = {"token": auth.request_token()}
if claims.scope == "finance":
    st.switch_page("app_pages/finance_revenue.py", query_params=token)
if claims.scope == "portal":
    st.switch_page("app_pages/portal.py", query_params=token)
st.markdown("This widget token opens these embeddable pages (add `&embed=true` in an iframe):")
for path, title in [
    ("app_pages/widget_cost.py", "Cost metrics"),
    ("app_pages/widget_credits.py", "Credit balance & history"),
    ("app_pages/widget_usage.py", "Usage metrics"),
]:
    st.page_link(path, label=title, query_params=token)
