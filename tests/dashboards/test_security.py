"""Every page refuses bad tokens with a clear message and no data; tenants never mix."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from .conftest import metrics, open_page, shown_text, token

pytestmark = pytest.mark.slow

FINANCE_PAGES = [
    "app_pages/finance_revenue.py",
    "app_pages/finance_invoices.py",
    "app_pages/finance_events.py",
    "app_pages/finance_quality.py",
    "app_pages/finance_payments.py",
    "app_pages/finance_ledgers.py",
]
WIDGET_PAGES = [
    "app_pages/widget_cost.py",
    "app_pages/widget_credits.py",
    "app_pages/widget_usage.py",
]
PORTAL_PAGE = "app_pages/portal.py"
# What only customer B's data would show (its account, name, and invoice figures).
B_ONLY = ["acc_b1", "cust_b", "Brightside", "11.50 USD", "31.08", "50.00 USD"]


def _refused(at, reason: str) -> None:
    errors = [e.value for e in at.error]
    assert errors and reason in errors[0], errors
    assert not at.dataframe and not metrics(at), "a refused token must show no data"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("page", "wrong_scope", "reason"),
    [(page, "portal", "needs a finance token") for page in FINANCE_PAGES]
    + [(PORTAL_PAGE, "widget", "needs a portal token")]
    + [(page, "portal", "needs a widget token") for page in WIDGET_PAGES],
)
def test_every_page_refuses_a_token_of_another_scope(app_env, page, wrong_scope, reason):
    _refused(open_page(page, token(wrong_scope, "cust_a")), reason)


@pytest.mark.parametrize("page", [FINANCE_PAGES[1], PORTAL_PAGE, WIDGET_PAGES[0]])
def test_no_token_no_data(app_env, page):
    _refused(open_page(page, None), "token")


def _tampered() -> str:
    header, payload, signature = token("portal", "cust_a", accounts=["acc_a1"]).split(".")
    claims = jwt.decode(f"{header}.{payload}.{signature}", options={"verify_signature": False})
    claims["accounts"] = ["acc_a1", "acc_b1"]
    return f"{header}.{_b64(claims)}.{signature}"


def _unsigned() -> str:
    claims = jwt.decode(token("portal", "cust_a"), options={"verify_signature": False})
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


BAD_TOKENS = {
    "forged": (
        lambda: jwt.encode(
            jwt.decode(token("portal", "cust_a"), options={"verify_signature": False}),
            "not-the-secret-but-long-enough-0123456789",
            algorithm="HS256",
        ),
        "signature does not match",
    ),
    "alg none": (_unsigned, "not signed with HS256"),
    "expired": (
        lambda: token(
            "portal", "cust_a", ttl_seconds=60, now=datetime.now(UTC) - timedelta(days=1)
        ),
        "expired",
    ),
    "future nbf": (
        lambda: token("portal", "cust_a", now=datetime.now(UTC) + timedelta(hours=2)),
        "not valid yet",
    ),
    "other customer's account added": (_tampered, "signature does not match"),
    "other customer's account, signed": (
        lambda: token("portal", "cust_a", accounts=["acc_a1", "acc_b1"]),
        "acc_b1 does not belong to customer cust_a",
    ),
    "deleted account": (
        lambda: token("portal", "cust_a", accounts=["acc_a_closed"]),
        "acc_a_closed no longer exists",
    ),
    "garbage": (lambda: "not.a.token", "not a valid token"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_portal_refuses_bad_tokens(app_env, case):
    make, reason = BAD_TOKENS[case]
    _refused(open_page(PORTAL_PAGE, make()), reason)


def test_a_widget_refuses_an_other_customer_widget_token(app_env):
    crossed = token("widget", "cust_b", accounts=["acc_a1"])
    _refused(open_page(WIDGET_PAGES[1], crossed), "acc_a1 does not belong to customer cust_b")


@pytest.mark.parametrize("page", [PORTAL_PAGE, *WIDGET_PAGES])
def test_customer_a_never_sees_a_row_of_b(app_env, page):
    scope = "portal" if page == PORTAL_PAGE else "widget"
    at = open_page(page, token(scope, "cust_a"))
    text = shown_text(at)
    options = [o for box in at.selectbox for o in box.options]
    assert metrics(at), "the page shows cust_a's figures"
    for marker in B_ONLY:
        assert marker not in text and not any(marker in o for o in options), marker


def test_an_empty_warehouse_gets_a_friendly_page(app_env, tmp_path, monkeypatch):
    monkeypatch.setenv("TALLYHOUSE_SERVING", str(tmp_path / "not-yet" / "serving.duckdb"))
    for page, scoped in [
        (FINANCE_PAGES[0], token("finance")),
        (WIDGET_PAGES[2], token("widget", "cust_a")),
    ]:
        at = open_page(page, scoped)
        assert "No billing run has been published yet" in at.info[0].value
        assert not at.error and not at.dataframe


def test_an_app_without_a_secret_says_so(app_env, monkeypatch):
    signed = token("finance")
    monkeypatch.delenv("TALLYHOUSE_PORTAL_SECRET")
    _refused(open_page(FINANCE_PAGES[0], signed), "TALLYHOUSE_PORTAL_SECRET is not set")


def test_every_customer_query_is_filtered_by_the_token_accounts(app_env):
    from datetime import date

    from dashboards import data

    window = (date(2026, 10, 1), date(2026, 11, 30))

    def customer_frames(accounts):
        return {
            "invoices": data.customer_invoices(accounts),
            "credit ledger": data.credit_ledger(accounts),
            "credit summary": data.credit_summary(accounts),
            "wallet ledger": data.wallet_ledger(accounts),
            "wallet balances": data.wallet_balances(accounts),
            "accounts": data.accounts(accounts),
            "schedule": data.plan_schedule(accounts, date(2026, 11, 21)),
            "usage by meter": data.usage_by_meter(accounts, *window),
            "usage daily": data.usage_daily(accounts, *window),
            "cost": data.cost_by_cycle(accounts, *window),
        }

    only_a2 = customer_frames(("acc_a2",))
    for name, frame in only_a2.items():
        if "account_id" in frame.columns:
            assert set(frame["account_id"]) <= {"acc_a2"}, name
    # acc_a2 alone: 3 calls in November, one invoice of 10.30, no credit, no wallet.
    assert only_a2["usage by meter"]["units"].tolist() == [3]
    assert [str(t) for t in only_a2["cost"]["total"]] == ["10.300000000000"]
    assert only_a2["credit ledger"].empty and only_a2["wallet ledger"].empty
    # An account filter full of SQL is one (unknown) account id: nothing, and nothing broken.
    injected = customer_frames(("acc_a2') or ('1'='1", "x' or 1=1 --"))
    assert {name for name, frame in injected.items() if not frame.empty} == set()
    assert len(data.customer_invoices(("acc_a1", "acc_a2"))) == 3
    with pytest.raises(ValueError, match="needs the token's accounts"):
        data.customer_invoices(())
