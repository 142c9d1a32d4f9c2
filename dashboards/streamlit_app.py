"""Tallyhouse dashboards: `streamlit run dashboards/streamlit_app.py`, opened with `?token=…`.

The router registers every page (so each has its own URL: /portal, /cost-metrics, …) and
draws links only to the pages the request's token may open, carrying the token along. Each
page checks its own scope again before it queries anything.
"""

from __future__ import annotations

import streamlit as st

from dagster_project.lib.tokens import TokenError
from dashboards import auth

FINANCE = [
    st.Page(
        "app_pages/finance_revenue.py",
        title="Revenue",
        url_path="revenue",
        icon=":material/payments:",
    ),
    st.Page(
        "app_pages/finance_invoices.py",
        title="Invoices",
        url_path="invoices",
        icon=":material/receipt_long:",
    ),
    st.Page(
        "app_pages/finance_events.py",
        title="Event explorer",
        url_path="events",
        icon=":material/search:",
    ),
    st.Page(
        "app_pages/finance_quality.py",
        title="Late usage & data quality",
        url_path="data-quality",
        icon=":material/rule:",
    ),
    st.Page(
        "app_pages/finance_payments.py",
        title="Payment workflows",
        url_path="payments",
        icon=":material/account_balance:",
    ),
    st.Page(
        "app_pages/finance_ledgers.py",
        title="Credit & wallet ledgers",
        url_path="ledgers",
        icon=":material/account_balance_wallet:",
    ),
]
PORTAL = [
    st.Page(
        "app_pages/portal.py", title="Customer portal", url_path="portal", icon=":material/person:"
    ),
]
WIDGETS = [
    st.Page(
        "app_pages/widget_cost.py",
        title="Cost metrics",
        url_path="cost-metrics",
        icon=":material/paid:",
    ),
    st.Page(
        "app_pages/widget_credits.py",
        title="Credit balance & history",
        url_path="credit-balance",
        icon=":material/toll:",
    ),
    st.Page(
        "app_pages/widget_usage.py",
        title="Usage metrics",
        url_path="usage-metrics",
        icon=":material/bar_chart:",
    ),
]
HOME = st.Page("app_pages/home.py", title="Tallyhouse", icon=":material/home:", default=True)
PAGES_BY_SCOPE = {"finance": FINANCE, "portal": PORTAL, "widget": WIDGETS}

st.set_page_config(page_title="Tallyhouse", page_icon=":material/receipt_long:", layout="wide")
page = st.navigation([HOME, *FINANCE, *PORTAL, *WIDGETS], position="hidden")

# Links for the token's scope, in the sidebar (widgets render alone, for iframes).
try:
    scope = auth.token_claims().scope
except TokenError:
    scope = None
if scope in ("finance", "portal"):
    with st.sidebar:
        st.markdown("### Tallyhouse")
        for target in PAGES_BY_SCOPE[scope]:
            st.page_link(target, query_params={"token": auth.request_token()})

page.run()
