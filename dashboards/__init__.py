"""Tallyhouse dashboards: finance pages, the customer portal and embeddable widgets (Streamlit)."""
