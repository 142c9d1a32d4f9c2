"""Customer portal (token scope `portal`): only the token's accounts, nothing else."""

from datetime import UTC, datetime

import streamlit as st

from dashboards import auth, data, ui

access = auth.require("portal")
customer = data.customer(access.customer_id)
st.title(customer.get("customer_name") or access.customer_id)
auth.snapshot_caption()
accounts = data.accounts(access.accounts)
st.caption(
    "Accounts: " + ", ".join(f"{a.account_name} ({a.account_id})" for a in accounts.itertuples())
)

plans_tab, schedule_tab, invoices_tab, wallet_tab, credits_tab, usage_tab = st.tabs(
    ["Price plans", "Plan schedule", "Invoices", "Wallet", "Credits", "Usage"]
)
# Past, current and upcoming as of the billing run the figures come from.
info = data.snapshot_info()
today = (info.get("run_clock") or datetime.now(UTC)).date()
schedule = data.plan_schedule(access.accounts, today)

with plans_tab:
    plan_ids = tuple(sorted(set(schedule["plan_id"])))
    cards = data.rate_cards(plan_ids)
    slabs = data.rate_card_slabs(plan_ids)
    for plan in data.price_plans(plan_ids).itertuples():
        st.subheader(f"{plan.plan_name} ({plan.currency})")
        st.caption(
            f"Billed {plan.billing_interval.lower()}; invoices are final "
            f"{plan.grace_period_days} day(s) after each cycle ends."
        )
        for card in cards[cards["plan_id"] == plan.plan_id].to_dict("records"):
            card_slabs = slabs[
                (slabs["plan_id"] == plan.plan_id) & (slabs["rate_card_id"] == card["rate_card_id"])
            ].to_dict("records")
            st.markdown("- " + ui.describe_rate_card(card, card_slabs, plan.currency))

with schedule_tab:
    for timing in ("current", "upcoming", "past"):
        rows = schedule[schedule["timing"] == timing]
        st.markdown(f"**{timing.capitalize()}**")
        if rows.empty:
            st.caption(f"No {timing} plans.")
        else:
            ui.table(rows[["account_id", "plan_name", "effective_from", "effective_until"]])

with invoices_tab:
    invoices = data.customer_invoices(access.accounts)
    if invoices.empty:
        st.caption("No invoices yet.")
    else:
        ui.table(
            ui.money_columns(
                invoices[
                    [
                        "invoice_id",
                        "account_id",
                        "period_start",
                        "period_end",
                        "status",
                        "currency",
                        "subtotal",
                        "credits_applied",
                        "total",
                        "wallet_applied",
                        "amount_due",
                    ]
                ],
                ["subtotal", "credits_applied", "total", "wallet_applied", "amount_due"],
            )
        )
        invoice = ui.invoice_picker(invoices, "Invoice")
        invoice_id = invoice.invoice_id
        st.metric("Invoice total", ui.money(invoice.total, invoice.currency))
        lines = data.invoice_lines(invoice_id, access.accounts)
        lines["currency"] = invoice.currency
        ui.table(
            ui.money_columns(
                lines[
                    ["line_type", "rate_card_id", "description", "quantity", "amount", "currency"]
                ],
                ["amount"],
            ).drop(columns=["currency"])
        )

with wallet_tab:
    balances = data.wallet_balances(access.accounts)
    cells = st.columns(max(len(balances), 1))
    for cell, row in zip(cells, balances.itertuples(), strict=False):
        cell.metric(f"Wallet · {row.account_id}", ui.money(row.balance, row.currency))
    ledger = data.wallet_ledger(access.accounts)
    if ledger.empty:
        st.caption("No wallet movements.")
    else:
        ui.table(ui.money_columns(ledger, ["amount", "balance_after"]))

with credits_tab:
    summary = data.credit_summary(access.accounts)
    if summary.empty:
        st.caption("No credits.")
    for row in summary.itertuples():
        cells = st.columns(3)
        cells[0].metric(f"Credit granted ({row.currency})", ui.money(row.granted, row.currency))
        cells[1].metric(f"Credit used ({row.currency})", ui.money(row.applied, row.currency))
        cells[2].metric(f"Credit available ({row.currency})", ui.money(row.available, row.currency))
    ledger = data.credit_ledger(access.accounts)
    if not ledger.empty:
        ui.table(ui.money_columns(ledger, ["amount", "balance_after"]))

with usage_tab:
    start, end = ui.date_range("Usage between", data.usage_bounds(access.accounts), key="usage")
    usage = data.usage_by_meter(access.accounts, start, end)
    if usage.empty:
        st.caption("No usage in this range.")
    else:
        ui.table(usage.assign(units=usage["units"].map(ui.number)))
        ui.line_chart(
            data.usage_daily(access.accounts, start, end),
            "usage_date",
            "units",
            color="meter_name",
            title="Usage per day",
        )
