"""Tokens: every bad token is refused with its own reason; accounts are checked server-side."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from dagster_project.lib.tokens import (
    Tenancy,
    TokenError,
    issue_token,
    resolve_accounts,
    verify_token,
)

from .conftest import SECRET

TENANCY = Tenancy(
    customers=frozenset({"cust_a", "cust_b"}),
    account_owners={"acc_a1": "cust_a", "acc_a2": "cust_a", "acc_b1": "cust_b"},
)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _payload(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_a_genuine_portal_token_sees_all_or_named_accounts():
    claims = verify_token(
        issue_token(SECRET, scope="portal", customer_id="cust_a"), SECRET, scope="portal"
    )
    assert resolve_accounts(claims, TENANCY) == ("acc_a1", "acc_a2")
    named = issue_token(SECRET, scope="widget", customer_id="cust_a", accounts=["acc_a2"])
    assert resolve_accounts(verify_token(named, SECRET, scope="widget"), TENANCY) == ("acc_a2",)
    finance = verify_token(issue_token(SECRET, scope="finance"), SECRET, scope="finance")
    assert finance.customer_id is None and finance.scope == "finance"


def test_missing_token():
    with pytest.raises(TokenError, match="needs a portal token"):
        verify_token(None, SECRET, scope="portal")


def test_forged_signature():
    forged = issue_token(
        "another-secret-that-is-long-enough-0123", scope="portal", customer_id="cust_a"
    )
    with pytest.raises(TokenError, match="signature does not match"):
        verify_token(forged, SECRET, scope="portal")


def test_alg_none_is_refused():
    genuine = _payload(issue_token(SECRET, scope="finance"))
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(genuine)}."
    with pytest.raises(TokenError, match="not signed with HS256"):
        verify_token(unsigned, SECRET, scope="finance")


def test_expired():
    old = issue_token(
        SECRET,
        scope="portal",
        customer_id="cust_a",
        ttl_seconds=60,
        now=datetime.now(UTC) - timedelta(hours=2),
    )
    with pytest.raises(TokenError, match="expired"):
        verify_token(old, SECRET, scope="portal")


def test_future_not_before():
    early = issue_token(
        SECRET, scope="portal", customer_id="cust_a", now=datetime.now(UTC) + timedelta(hours=1)
    )
    with pytest.raises(TokenError, match="not valid yet"):
        verify_token(early, SECRET, scope="portal")


def test_accounts_of_another_customer_added_to_the_payload():
    header, payload, signature = issue_token(
        SECRET, scope="portal", customer_id="cust_a", accounts=["acc_a1"]
    ).split(".")
    claims = _payload(f"{header}.{payload}.{signature}")
    claims["accounts"] = ["acc_a1", "acc_b1"]
    tampered = f"{header}.{_b64(claims)}.{signature}"
    with pytest.raises(TokenError, match="signature does not match"):
        verify_token(tampered, SECRET, scope="portal")


def test_a_signed_token_naming_someone_elses_account_still_shows_nothing():
    # Signed with the real secret (say, by a script that skipped `tallyhouse token`'s check):
    # the accounts are checked against dim_accounts anyway.
    crossed = issue_token(
        SECRET, scope="portal", customer_id="cust_a", accounts=["acc_a1", "acc_b1"]
    )
    with pytest.raises(TokenError, match="acc_b1 does not belong to customer cust_a"):
        resolve_accounts(verify_token(crossed, SECRET, scope="portal"), TENANCY)


def test_a_deleted_account_or_customer():
    gone = issue_token(SECRET, scope="widget", customer_id="cust_a", accounts=["acc_a9"])
    with pytest.raises(TokenError, match="acc_a9 no longer exists"):
        resolve_accounts(verify_token(gone, SECRET, scope="widget"), TENANCY)
    gone = issue_token(SECRET, scope="widget", customer_id="cust_z")
    with pytest.raises(TokenError, match="cust_z no longer exists"):
        resolve_accounts(verify_token(gone, SECRET, scope="widget"), TENANCY)


def test_wrong_scope():
    portal = issue_token(SECRET, scope="portal", customer_id="cust_a")
    with pytest.raises(TokenError, match="for the portal pages; this page needs a finance token"):
        verify_token(portal, SECRET, scope="finance")
    with pytest.raises(TokenError, match="needs a widget token"):
        verify_token(portal, SECRET, scope="widget")


def test_issuing_refuses_what_it_cannot_sign_safely():
    with pytest.raises(TokenError, match="TALLYHOUSE_PORTAL_SECRET is not set"):
        issue_token(None, scope="finance")
    with pytest.raises(TokenError, match="needs at least 32"):
        issue_token("short", scope="finance")
    with pytest.raises(TokenError, match="at most 5 accounts"):
        issue_token(SECRET, scope="portal", customer_id="c", accounts=[f"a{i}" for i in range(6)])
    with pytest.raises(TokenError, match="needs --customer"):
        issue_token(SECRET, scope="widget")
    with pytest.raises(TokenError, match="covers every customer"):
        issue_token(SECRET, scope="finance", customer_id="cust_a")
    payload = _payload(issue_token(SECRET, scope="portal", customer_id="cust_a", ttl_seconds=120))
    assert payload["exp"] - payload["iat"] == 120
    assert payload["accounts"] == "*"
