"""Every page through streamlit's AppTest on the fixture warehouse, figures worked by hand
in conftest.py's docstring (not read back from the warehouse)."""

from __future__ import annotations

from datetime import date

import pytest

from .conftest import LATE_EVENT_ID, TRICKY_EVENT_ID, metrics, open_page, shown_text, token

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def finance(app_env) -> str:
    return token("finance")


def test_home_sends_a_finance_token_to_revenue(app_env, finance):
    at = open_page(None, finance)
    assert [t.value for t in at.title] == ["Revenue"]
    # All five invoices: 9.39 + 10.50 + 10.30 + 11.50 + 40.00. Due: the two October invoices
    # were collected by the sandbox payment run, acc_b1's November draft would draw 40.00
    # from its wallet: 10.50 + 10.30 remain.
    assert metrics(at) == {
        "Invoiced (USD)": "81.69 USD",
        "Amount due (USD)": "20.80 USD",
        "Invoices": "5",
    }


def test_revenue_by_plan_customer_and_meter(app_env, finance):
    at = open_page("app_pages/finance_revenue.py", finance)
    by_plan = at.dataframe[0].value.set_index("plan")
    assert str(by_plan.loc["starter", "total"]) == "41.69 USD"
    assert str(by_plan.loc["growth", "total"]) == "40.00 USD"
    assert str(by_plan.loc["growth", "true_up"]) == "8.92 USD"
    usage = at.dataframe[1].value.set_index("meter_id")["units"].to_dict()
    assert usage == {"api_calls": "42", "storage_gb": "7"}  # 21 + 21 calls, 3 + 4 GB

    at.segmented_control(key="by").set_value("customer").run()
    by_customer = at.dataframe[0].value.set_index("customer")
    assert by_customer["total"].to_dict() == {"cust_b": "51.50 USD", "cust_a": "30.19 USD"}

    at.segmented_control(key="by").set_value("meter").run()
    by_meter = at.dataframe[0].value.set_index("meter_id")
    # Usage lines: calls 1.10 + 0.50 + 0.30 + 1.50 + 0.08; storage 6.00 + 6.00.
    assert by_meter["amount"].to_dict() == {"storage_gb": "12.00 USD", "api_calls": "3.48 USD"}

    # November cycles only: 10.50 + 10.30 + 40.00; November usage: 5 + 3 + 1 calls, 4 GB.
    at.date_input(key="period").set_value((date(2026, 11, 1), date(2026, 11, 30))).run()
    assert metrics(at)["Invoiced (USD)"] == "60.80 USD"
    usage = at.dataframe[1].value.set_index("meter_id")["units"].to_dict()
    assert usage == {"api_calls": "9", "storage_gb": "4"}


def test_invoice_drills_down_to_lines_events_and_rules(app_env, finance):
    at = open_page("app_pages/finance_invoices.py", finance)
    picker = at.selectbox(key="invoice")
    label = "acc_a1 · 2026-10-01 · PAID · 9.39 USD"
    assert label in picker.options
    picker.select_index(picker.options.index(label)).run()
    assert metrics(at) == {
        "Subtotal": "15.39 USD",
        "True-up": "0.00 USD",
        "Credits": "6.00 USD",
        "Total": "9.39 USD",
        "Amount due": "0.00 USD",  # 9.39 - 4.00 wallet - 5.39 collected by the payment run
    }
    lines = at.dataframe[1].value.set_index("rate_card_id")
    usage = lines[lines["line_type"] == "USAGE"]["amount"].to_dict()
    assert usage == {"calls": "1.10 USD", "storage": "6.00 USD"}
    by_type = dict(
        zip(at.dataframe[1].value["line_type"], at.dataframe[1].value["amount"], strict=False)
    )
    assert by_type["PRICING_RULE_ADDITION"] == "-1.71 USD"
    assert by_type["CREDIT"] == "-6.00 USD"

    line = at.selectbox(key="line")
    line.select_index(line.options.index("USAGE · calls")).run()
    events = at.dataframe[2].value
    # 12 October calls billed; the late one (received after finalization) is not among them.
    assert len(events) == 12 and LATE_EVENT_ID not in set(events["event_id"])
    # Graduated: calls 1-10 pay 0.10, calls 11 and 12 pay 0.05 (in event order).
    shares = [float(x) for x in events.sort_values("event_timestamp")["attributed_amount"]]
    assert shares == [0.10] * 10 + [0.05, 0.05]

    assert "No pricing rule targets this line." in shown_text(at)
    rules = at.dataframe[3].value
    assert rules["rule_id"].tolist() == ["loyalty"]
    assert rules["outcome"].tolist() == ["CONDITION_TRUE"]

    # The loyalty line leads to the rule that wrote it: 10% of 17.10, negated.
    line = at.selectbox(key="line")
    line.select_index(line.options.index("PRICING_RULE_ADDITION · loyalty")).run()
    touched = at.dataframe[2].value
    assert touched["rule_id"].tolist() == ["loyalty"]
    assert [float(x) for x in touched["computation_result"]] == [-1.71]


def test_event_explorer_explains_a_late_event_and_finds_a_tricky_id(app_env, finance):
    at = open_page("app_pages/finance_events.py", finance)
    at.text_input(key="event_id").input(LATE_EVENT_ID).run()
    assert "PAST_GRACE_PERIOD" in at.info[0].value
    assert "Not billed" in at.info[0].value
    # SQL metacharacters are a value like any other: the one event, billed.
    at.text_input(key="event_id").input(TRICKY_EVENT_ID).run()
    frame = at.dataframe[0].value
    assert frame["event_id"].tolist() == [TRICKY_EVENT_ID]
    assert frame["status"].tolist() == ["METERED"]
    at.text_input(key="event_id").input("").run()
    at.text_input(key="account_id").input("acc_a2' or '1'='1").run()
    assert at.dataframe[0].value.empty
    at.text_input(key="account_id").input("acc_a2").run()
    assert len(at.dataframe[0].value) == 3


def test_late_usage_and_data_quality_counts(app_env, finance):
    at = open_page("app_pages/finance_quality.py", finance)
    assert metrics(at) == {
        "Records received": "47",
        "Metered": "43",
        "Late (not billed)": "1",
        "Rejected or unbilled": "3",  # a duplicate, an unknown account, no timestamp
    }
    counts = at.dataframe[0].value.set_index("status")["records"].to_dict()
    assert counts == {
        "METERED": 43,
        "PAST_GRACE_PERIOD": 1,
        "ACCOUNT_NOT_FOUND": 1,
        "DUPLICATE": 1,
        "INVALID": 1,
    }
    late = at.dataframe[1].value
    assert late["event_id"].tolist() == [LATE_EVENT_ID]
    assert late["account_id"].tolist() == ["acc_a1"]


def test_payment_workflow_runs(app_env, finance):
    at = open_page("app_pages/finance_payments.py", finance)
    if at.info and "No payment workflow runs" in at.info[0].value:
        pytest.skip("the payment marts are not in this build")
    runs = at.dataframe[0].value
    # Two invoices fell due with an amount due: acc_a1 October (5.39) and acc_b1 October.
    assert sorted(runs["status"]) == ["SUCCEEDED", "SUCCEEDED"]
    assert set(runs["workflow"]) == {"collect_payment"}
    assert len(at.dataframe[1].value) >= 4  # ensure_customer … record_payment


def test_credit_and_wallet_ledgers(app_env, finance):
    at = open_page("app_pages/finance_ledgers.py", finance)
    credits = at.dataframe[0].value
    assert credits["entry_type"].tolist() == ["GRANTED", "APPLIED"]
    assert credits["balance_after"].tolist() == ["8.00 USD", "2.00 USD"]
    wallets = at.dataframe[1].value
    assert wallets[["account_id", "entry_type", "amount"]].values.tolist() == [
        ["acc_a1", "TOPUP", "4.00 USD"],
        ["acc_a1", "APPLIED", "-4.00 USD"],
        ["acc_b1", "TOPUP", "50.00 USD"],
    ]
    at.text_input(key="account").input("acc_b1").run()
    assert "No credit movements." in shown_text(at)
    assert [f.value["amount"].tolist() for f in at.dataframe] == [["50.00 USD"]]


def test_portal_shows_the_customers_plans_invoices_wallet_credits_and_usage(app_env):
    at = open_page(None, token("portal", "cust_a"))
    assert [t.value for t in at.title] == ["Acme Analytics"]
    text = shown_text(at)
    assert (
        "**calls** (API calls): graduated; up to 10: 0.10 USD per unit; above 10: 0.05 USD per unit."
        in text
    )
    assert "**commitment**: a minimum of 40.00 USD per billing cycle" in text

    frames = [f.value for f in at.dataframe]
    current, upcoming = frames[0], frames[1]
    # As of the run (2026-11-21): acc_a1 and acc_a2 on Starter now, acc_a1 moves to Growth on Dec 1.
    assert sorted(current["account_id"]) == ["acc_a1", "acc_a2"]
    assert upcoming[["account_id", "plan_name"]].values.tolist() == [["acc_a1", "Growth"]]
    assert "No past plans." in text

    invoices = frames[2]
    assert sorted(invoices["total"]) == ["10.30 USD", "10.50 USD", "9.39 USD"]
    picker = at.selectbox(key="invoice")
    picker.select_index(picker.options.index("acc_a1 · 2026-10-01 · PAID · 9.39 USD")).run()
    shown = metrics(at)
    assert shown["Invoice total"] == "9.39 USD"
    assert shown["Wallet · acc_a1"] == "0.00 USD"  # 4.00 topped up, 4.00 drawn
    assert shown["Credit available (USD)"] == "2.00 USD"
    assert shown["Credit granted (USD)"] == "8.00 USD"

    usage = [f.value for f in at.dataframe if "meter_id" in f.value.columns][0]
    assert usage.set_index("meter_id")["units"].to_dict() == {"api_calls": "21", "storage_gb": "3"}
    # November only: acc_a1's 5 calls and acc_a2's 3.
    at.date_input(key="usage").set_value((date(2026, 11, 1), date(2026, 11, 30))).run()
    usage = [f.value for f in at.dataframe if "meter_id" in f.value.columns][0]
    assert usage.set_index("meter_id")["units"].to_dict() == {"api_calls": "8"}


def test_cost_metrics_widget(app_env):
    at = open_page("app_pages/widget_cost.py", token("widget", "cust_a"))
    assert metrics(at) == {"Cost incurred (USD)": "30.19 USD"}
    at.date_input(key="range").set_value((date(2026, 10, 1), date(2026, 10, 31))).run()
    assert metrics(at) == {"Cost incurred (USD)": "9.39 USD"}
    # A token for one account sees that account only.
    at = open_page("app_pages/widget_cost.py", token("widget", "cust_a", accounts=["acc_a2"]))
    assert metrics(at) == {"Cost incurred (USD)": "10.30 USD"}


def test_credit_balance_widget(app_env):
    at = open_page("app_pages/widget_credits.py", token("widget", "cust_a"))
    assert metrics(at) == {
        "Granted (USD)": "8.00 USD",
        "Available (USD)": "2.00 USD",
        "Used (USD)": "6.00 USD",
    }
    ledger = at.dataframe[0].value
    assert ledger["running_balance"].tolist() == ["8.00 USD", "2.00 USD"]
    at = open_page("app_pages/widget_credits.py", token("widget", "cust_b"))
    assert metrics(at) == {} and "No credits." in shown_text(at)


def test_usage_metrics_widget(app_env):
    at = open_page("app_pages/widget_usage.py", token("widget", "cust_b"))
    assert metrics(at) == {"API calls": "21", "Storage (GB)": "4"}
    at.date_input(key="range").set_value((date(2026, 11, 1), date(2026, 11, 30))).run()
    assert metrics(at) == {"API calls": "1", "Storage (GB)": "4"}
