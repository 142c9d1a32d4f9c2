"""Finance: invoices by status, drilling down to lines, their events and the rules."""

import streamlit as st

from dashboards import auth, data, ui

auth.require("finance")
st.title("Invoices")
auth.snapshot_caption()

counts = data.invoice_status_counts()
ui.bar_chart(counts, "status", "invoices", color="currency", title="Invoices by status")

left, middle, right = st.columns(3)
statuses = left.multiselect(
    "Status", data.INVOICE_STATUSES, default=list(data.INVOICE_STATUSES), key="statuses"
)
customer = middle.selectbox(
    "Customer",
    [None, *data.customer_ids()],
    format_func=lambda c: c or "every customer",
    key="customer",
)
with right:
    start, end = ui.date_range("Period starts", data.invoice_period_bounds(), key="period")
invoices = data.invoices(tuple(statuses), customer, start, end)
ui.table(
    ui.money_columns(
        invoices,
        [
            "subtotal",
            "minimum_commitment_true_up",
            "credits_applied",
            "total",
            "wallet_applied",
            "amount_paid",
            "amount_due",
        ],
    )
)
if invoices.empty:
    st.stop()

invoice = ui.invoice_picker(invoices, "Open an invoice")
invoice_id = invoice.invoice_id
currency = invoice.currency
st.subheader(f"Invoice {invoice_id}")
cells = st.columns(5)
cells[0].metric("Subtotal", ui.money(invoice.subtotal, currency))
cells[1].metric("True-up", ui.money(invoice.minimum_commitment_true_up, currency))
cells[2].metric("Credits", ui.money(invoice.credits_applied, currency))
cells[3].metric("Total", ui.money(invoice.total, currency))
cells[4].metric("Amount due", ui.money(invoice.amount_due, currency))
if invoice.needs_review:
    st.warning(f"Needs review: {invoice.review_reasons}")

lines = data.invoice_lines(invoice_id)
lines["currency"] = currency
st.markdown("**Line items**")
ui.table(ui.money_columns(lines, ["unit_amount", "amount"]).drop(columns=["currency"]))

# One label per line (its type and the ids that name it), the line's id behind it.
line_ids = {
    " · ".join(
        [row.line_type]
        + [v for v in (row.rate_card_id, row.rule_id, row.credit_id) if ui.or_none(v)]
    ): row.line_item_id
    for row in lines.itertuples()
}
picked = st.selectbox("Drill into a line", list(line_ids), key="line")
line = lines.set_index("line_item_id").loc[line_ids[picked]]
if line["line_type"] == "USAGE":
    events = data.line_events(invoice_id, line["rate_card_id"])
    st.markdown(f"**Events behind {line['rate_card_id']}**")
    st.caption(
        f"{len(events)} event(s); their attributed amounts (unrounded) add up to the line "
        "before rounding."
    )
    ui.table(events)
touched = data.line_rules(invoice_id, ui.or_none(line["rate_card_id"]), ui.or_none(line["rule_id"]))
st.markdown("**Rules that changed this line**")
if touched.empty:
    st.caption("No pricing rule targets this line.")
else:
    ui.table(touched)

st.markdown("**Pricing rules evaluated on this invoice**")
rules = data.rule_log(invoice_id)
if rules.empty:
    st.caption("The plan has no pricing rules.")
else:
    ui.table(rules)
