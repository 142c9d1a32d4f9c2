"""The collect_payment fault matrix against both providers (the sandbox, and localstripe
through the real stripe SDK). After every pattern the provider's own list of payment
intents, not our logs, must hold exactly one succeeded payment per collectable invoice."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal

import duckdb
import stripe

from dagster_project.lib.payments import CRASH_EXIT_CODE

from .conftest import DECLINING, EXPECTED_MINOR
from .drill import API_KEY, night, provider_for

S, F, K = "SUCCEEDED", "FAILED", "SKIPPED_ALREADY_DONE"
ENSURE, CREATE, CONFIRM, RECORD = (
    "ensure_customer",
    "create_payment_intent",
    "confirm_payment_intent",
    "record_payment",
)


def rows(con, sql, params=()):
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def logs(con, invoice_id):
    return [
        (r["attempt"], r["action"], r["try_number"], r["status"])
        for r in rows(
            con,
            """select l.* from billing.workflow_action_logs l
               join billing.workflow_runs r using (run_id) where r.invoice_id = ?
               order by l.attempt, l.action_order, l.try_number""",
            [invoice_id],
        )
    ]


def responses(con, invoice_id, action):
    return [
        json.loads(r["response"]) if r["response"] else None
        for r in rows(
            con,
            """select l.response from billing.workflow_action_logs l
               join billing.workflow_runs r using (run_id)
               where r.invoice_id = ? and l.action = ? order by l.attempt, l.try_number""",
            [invoice_id, action],
        )
    ]


def run_of(con, invoice_id):
    found = rows(con, "select * from billing.workflow_runs where invoice_id = ?", [invoice_id])
    return found[0] if found else None


def payments(con):
    return {
        r["invoice_id"]: r["amount"]
        for r in rows(con, "select invoice_id, amount from billing.invoice_payments")
    }


def intents(provider):
    """The provider's own payment intents per Tallyhouse invoice: [(status, amount)]."""
    found = defaultdict(list)
    for intent in provider.list_payment_intents():
        found[intent["metadata"]["tallyhouse_invoice_id"]].append(
            (intent["status"], intent["amount"])
        )
    return dict(found)


def charged_once(provider, declined_too: bool = True):
    expected = {inv: [("succeeded", amount)] for inv, amount in EXPECTED_MINOR.items()}
    if declined_too:
        expected["inv_decl"] = [("requires_payment_method", 4000)]
    assert intents(provider) == expected


def provider_customers(con, name, url):
    """Tallyhouse customer ids of the provider's customers (one entry per provider object)."""
    if name == "sandbox":
        return sorted(
            json.loads(m)["tallyhouse_customer_id"]
            for (m,) in con.execute("select metadata from payment_sandbox.customers").fetchall()
        )
    client = stripe.StripeClient(API_KEY, base_addresses={"api": url})
    return sorted(
        c.to_dict()["metadata"]["tallyhouse_customer_id"]
        for c in client.v1.customers.list({"limit": 100}).auto_paging_iter()
    )


def all_done(attempt):
    return [(attempt, a, 1, S) for a in (ENSURE, CREATE, CONFIRM, RECORD)]


def test_clean_night_and_a_declined_card(warehouse, provider_name, localstripe_url):
    con = duckdb.connect(str(warehouse))
    provider = provider_for(con, provider_name, localstripe_url)
    summary = night(con, provider, methods=DECLINING)
    assert (summary.collected, summary.failed, summary.pending) == (3, 1, 1)
    charged_once(provider)
    assert payments(con) == {
        "inv_usd": Decimal("120.50"),
        "inv_jpy": Decimal("1976"),
        "inv_kwd": Decimal("11.005"),
    }
    assert run_of(con, "inv_zero") is None  # PAID when it fell due: no run
    assert logs(con, "inv_usd") == all_done(1)
    # inv_jpy's customer (cus_a) was created for inv_usd a moment before: found, not re-created
    first = responses(con, "inv_usd", ENSURE)[0]
    assert responses(con, "inv_jpy", ENSURE) == [
        {"provider_customer": first["provider_customer"], "found_by_lookup": True}
    ]
    assert provider_customers(con, provider_name, localstripe_url) == [
        "cus_a",
        "cus_decline",
        "cus_k",
    ]
    declined = run_of(con, "inv_decl")
    assert (declined["status"], declined["attempts"], declined["failed_action"]) == (
        F,
        1,
        CONFIRM,
    )
    assert "card_declined" in declined["failure_reason"]
    assert logs(con, "inv_decl") == [(1, ENSURE, 1, S), (1, CREATE, 1, S), (1, CONFIRM, 1, F)]

    # The next night resumes only the declined run, at confirmation; nothing is charged again.
    summary = night(con, provider, methods=DECLINING)
    assert (summary.collected, summary.failed, summary.attempted) == (0, 1, 1)
    assert logs(con, "inv_decl")[3:] == [(2, ENSURE, 0, K), (2, CREATE, 0, K), (2, CONFIRM, 1, F)]
    assert run_of(con, "inv_decl")["attempts"] == 2
    assert run_of(con, "inv_usd")["attempts"] == 1
    charged_once(provider)


def test_provider_error_at_every_action(warehouse, provider_name, localstripe_url):
    con = duckdb.connect(str(warehouse))
    provider = provider_for(con, provider_name, localstripe_url)
    faults = ",".join(f"{a}:error:2" for a in (ENSURE, CREATE, CONFIRM, RECORD))
    summary = night(con, provider, faults, DECLINING)
    assert (summary.collected, summary.failed) == (3, 1)
    assert logs(con, "inv_kwd") == [
        (1, action, n, F if n < 3 else S)
        for action in (ENSURE, CREATE, CONFIRM, RECORD)
        for n in (1, 2, 3)
    ]
    errors = [
        r["error"]
        for r in rows(
            con,
            "select error from billing.workflow_action_logs where status = 'FAILED' "
            "and action = 'create_payment_intent' order by log_id limit 1",
        )
    ]
    assert errors == ["injected provider error before create_payment_intent"]
    charged_once(provider)
    assert len(payments(con)) == 3


def test_too_many_errors_fail_the_run_and_the_next_night_resumes(
    warehouse, provider_name, localstripe_url
):
    con = duckdb.connect(str(warehouse))
    provider = provider_for(con, provider_name, localstripe_url)
    summary = night(con, provider, f"{CONFIRM}:error:3", DECLINING)
    assert (summary.collected, summary.failed, summary.pending) == (0, 4, 4)
    run = run_of(con, "inv_usd")
    assert (run["status"], run["failed_action"], run["failure_reason"]) == (
        F,
        CONFIRM,
        "confirm_payment_intent failed 3 times; last error: "
        "injected provider error before confirm_payment_intent",
    )
    # Created but never confirmed: one intent each, nothing charged, nothing recorded.
    assert {inv: [s for s, _ in found] for inv, found in intents(provider).items()} == {
        inv: ["requires_confirmation"] for inv in ("inv_usd", "inv_jpy", "inv_kwd", "inv_decl")
    }
    assert payments(con) == {}

    summary = night(con, provider, methods=DECLINING)
    assert (summary.collected, summary.failed, summary.pending) == (3, 1, 1)
    assert logs(con, "inv_usd")[5:] == [
        (2, ENSURE, 0, K),
        (2, CREATE, 0, K),
        (2, CONFIRM, 1, S),
        (2, RECORD, 1, S),
    ]
    assert run_of(con, "inv_usd")["attempts"] == 2
    # The resumed run reused the intent created on the first night.
    assert (
        responses(con, "inv_usd", CONFIRM)[-1]["id"] == responses(con, "inv_usd", CREATE)[0]["id"]
    )
    charged_once(provider)


def test_lost_responses_are_found_again_not_repeated(warehouse, provider_name, localstripe_url):
    con = duckdb.connect(str(warehouse))
    provider = provider_for(con, provider_name, localstripe_url)
    faults = ",".join(f"{a}:lost_response:1" for a in (ENSURE, CREATE, CONFIRM, RECORD))
    summary = night(con, provider, faults, DECLINING)
    assert (summary.collected, summary.failed) == (3, 1)
    assert logs(con, "inv_usd") == [
        (1, action, n, F if n == 1 else S)
        for action in (ENSURE, CREATE, CONFIRM, RECORD)
        for n in (1, 2)
    ]
    for action in (ENSURE, CREATE, CONFIRM):
        assert responses(con, "inv_usd", action)[1]["found_by_lookup"] is True, action
    assert responses(con, "inv_usd", RECORD)[1]["already_recorded"] is True
    # localstripe ignores Idempotency-Key: only the lookup kept these to one each.
    charged_once(provider)
    assert provider_customers(con, provider_name, localstripe_url) == [
        "cus_a",
        "cus_decline",
        "cus_k",
    ]
    assert payments(con) == {
        "inv_usd": Decimal("120.50"),
        "inv_jpy": Decimal("1976"),
        "inv_kwd": Decimal("11.005"),
    }


def test_a_crash_after_every_action_resumes_next_run(warehouse, provider_name, localstripe_url):
    """Each drill process really ends (os._exit) right after the action is logged; the next
    process resumes the run one action further."""

    def drill(faults):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.payments.drill",
                str(warehouse),
                provider_name,
                localstripe_url,
                faults,
                DECLINING,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )

    for action in (ENSURE, CREATE, CONFIRM, RECORD):
        result = drill(f"{action}:crash:1")
        assert result.returncode == CRASH_EXIT_CODE, result.stderr
    result = drill("")
    assert result.returncode == 0, result.stderr

    con = duckdb.connect(str(warehouse))
    # Runs move in waves (every invoice does an action, then the next), so each crash
    # stopped all three collectable runs at the same boundary.
    for invoice in EXPECTED_MINOR:
        assert logs(con, invoice) == CRASHED_FOUR_TIMES, invoice
        assert (run_of(con, invoice)["status"], run_of(con, invoice)["attempts"]) == (S, 5)
    # The declined run failed at confirmation in the third process and again after.
    assert [a for a in logs(con, "inv_decl") if a[1] == CONFIRM] == [
        (3, CONFIRM, 1, F),
        (4, CONFIRM, 1, F),
        (5, CONFIRM, 1, F),
    ]
    charged_once(provider_for(con, provider_name, localstripe_url))
    assert len(payments(con)) == 3


CRASHED_FOUR_TIMES = [
    (1, ENSURE, 1, S),
    (2, ENSURE, 0, K),
    (2, CREATE, 1, S),
    (3, ENSURE, 0, K),
    (3, CREATE, 0, K),
    (3, CONFIRM, 1, S),
    (4, ENSURE, 0, K),
    (4, CREATE, 0, K),
    (4, CONFIRM, 0, K),
    (4, RECORD, 1, S),
    (5, ENSURE, 0, K),
    (5, CREATE, 0, K),
    (5, CONFIRM, 0, K),
    (5, RECORD, 0, K),
]


def test_customer_already_at_the_provider(warehouse, provider_name, localstripe_url):
    con = duckdb.connect(str(warehouse))
    provider = provider_for(con, provider_name, localstripe_url)
    earlier = provider.create_customer("cus_a", "Acme", "billing@acme.example", "earlier-try")
    night(con, provider, methods=DECLINING)
    assert responses(con, "inv_usd", ENSURE) == [
        {"provider_customer": earlier["id"], "found_by_lookup": True}
    ]
    assert provider_customers(con, provider_name, localstripe_url) == [
        "cus_a",
        "cus_decline",
        "cus_k",
    ]
    charged_once(provider)


def test_every_stripe_create_sends_its_idempotency_key(
    warehouse, localstripe_url, localstripe_requests
):
    from .conftest import flush_localstripe

    flush_localstripe(localstripe_url)
    localstripe_requests.write_text("")
    con = duckdb.connect(str(warehouse))
    night(con, provider_for(con, "stripe", localstripe_url), methods=DECLINING)
    key = rows(
        con, "select idempotency_key from billing.workflow_runs where invoice_id = 'inv_kwd'"
    )[0]["idempotency_key"]
    sent = localstripe_requests.read_text().splitlines()
    intent = [line for line in sent if line.endswith(f"{key}-intent")]
    assert intent == [f"/v1/payment_intents {key}-intent"]
    assert [line for line in sent if line.endswith(f"{key}-customer")] == [
        f"/v1/customers {key}-customer"
    ]
    assert [line for line in sent if line.endswith(f"{key}-confirm")] == [
        f"/v1/payment_intents/{responses(con, 'inv_kwd', CREATE)[0]['id']}/confirm {key}-confirm"
    ]
    # Every POST carried a key: 3 customers, 4 intents, 4 confirmations.
    assert len(sent) == 11 and not any(line.endswith(" -") for line in sent)
