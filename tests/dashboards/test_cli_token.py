"""`tallyhouse token`: a JWT alone on stdout, its customer and accounts checked first."""

from __future__ import annotations

import jwt
import pytest

from dagster_project.cli import main

from .conftest import SECRET

pytestmark = pytest.mark.slow


def _run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["token", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_portal_token_for_named_accounts(app_env, capsys):
    status, out, _ = _run(capsys, "--customer", "cust_a", "--accounts", "acc_a2", "--ttl", "600")
    assert status == 0
    claims = jwt.decode(out.strip(), SECRET, algorithms=["HS256"])
    assert (claims["scope"], claims["customer"], claims["accounts"]) == (
        "portal",
        "cust_a",
        ["acc_a2"],
    )
    assert claims["exp"] - claims["iat"] == 600
    assert out.count("\n") == 1  # the token alone


def test_finance_and_widget_tokens(app_env, capsys):
    status, out, _ = _run(capsys, "--scope", "finance")
    assert (
        status == 0 and jwt.decode(out.strip(), SECRET, algorithms=["HS256"])["scope"] == "finance"
    )
    status, out, _ = _run(capsys, "--scope", "widget", "--customer", "cust_b")
    claims = jwt.decode(out.strip(), SECRET, algorithms=["HS256"])
    assert status == 0 and (claims["scope"], claims["accounts"]) == ("widget", "*")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (
            ["--customer", "cust_a", "--accounts", "acc_a1,acc_b1"],
            "acc_b1 does not belong to customer cust_a",
        ),
        (["--customer", "cust_nobody"], "cust_nobody no longer exists"),
        (["--customer", "cust_a", "--accounts", "a,b,c,d,e,f"], "at most 5 accounts"),
        (["--scope", "finance", "--customer", "cust_a"], "covers every customer"),
    ],
)
def test_refused_requests_print_no_token(app_env, capsys, args, reason):
    status, out, err = _run(capsys, *args)
    assert status == 1 and out == ""
    assert reason in " ".join(err.split())


def test_no_secret_no_token(app_env, capsys, monkeypatch):
    monkeypatch.delenv("TALLYHOUSE_PORTAL_SECRET")
    status, out, err = _run(capsys, "--scope", "finance")
    assert (
        status == 1 and out == "" and "TALLYHOUSE_PORTAL_SECRET is not set" in " ".join(err.split())
    )
