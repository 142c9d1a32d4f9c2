"""Finance: the credit and wallet ledgers, every movement with the balance after it."""

import streamlit as st

from dashboards import auth, data, ui

auth.require("finance")
st.title("Credit & wallet ledgers")
auth.snapshot_caption()

account = st.text_input("Account (empty: every account)", key="account").strip()
accounts = (account,) if account else None

st.subheader("Credits")
credits = data.credit_ledger(accounts)
if credits.empty:
    st.caption("No credit movements.")
else:
    ui.table(ui.money_columns(credits, ["amount", "balance_after"]))

st.subheader("Wallets")
wallets = data.wallet_ledger(accounts)
if wallets.empty:
    st.caption("No wallet movements.")
else:
    ui.table(ui.money_columns(wallets, ["amount", "balance_after"]))
